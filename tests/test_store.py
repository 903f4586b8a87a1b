"""The store on SQLite and PostgreSQL: migrations, whole snapshots, SQL diffs, clear errors."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from store.database import StoreError, mask_url, open_engine, schema_tables
from store.reader import StoreReader
from store.runs import (
    begin_run,
    fail_run,
    latest_healthy_run,
    load_snapshot,
    save_snapshot,
    set_health,
    snapshot_changes,
)
from tests.support import engine_at_revision


def exhibit(cid: str, title: str, hours: int = 3) -> dict:
    return {
        "cid": cid,
        "ace_id": f"GOOG-{cid[-4:]}",
        "organization": "Google",
        "title": title,
        "url": f"https://www.acenet.edu/National-Guide/Pages/Course.aspx?org=Google&cid={cid}",
        "periods": [
            {
                "start": "2024-10-01",
                "end": "2034-09-30",
                "credits": [
                    {
                        "level": "Lower-Division Baccalaureate/Associate Degree",
                        "hours": hours,
                        "subject": "data analytics",
                    }
                ],
            }
        ],
    }


def _insert_unversioned(connection, run_id: int, records: list[dict], content_hash: str) -> None:
    """Exhibit rows as a store from before migration 0005 holds them (no version column), in plain SQL:
    the snapshot writer speaks today's schema."""
    for record in records:
        connection.execute(
            text(
                "insert into ace_exhibit (run_id, cid, ace_id, organization, title, url, periods, parse_status,"
                " content_hash) values (:run, :cid, :ace_id, :organization, :title, :url, :periods, 'ok', :hash)"
            ),
            {**record, "run": run_id, "periods": json.dumps(record["periods"]), "hash": content_hash},
        )


def test_migrations_create_every_table(db_url):
    engine = open_engine(db_url)
    assert {
        "crawl_run",
        "ace_exhibit",
        "coursera_program",
        "cycle",
        "program_match",
        "change_event",
        "delivery",
        "run_lock",
        "alembic_version",
    } <= schema_tables(engine)
    open_engine(db_url)  # a second open is a no-op upgrade


def test_snapshot_written_whole_and_diffed_in_sql(db_url):
    engine = open_engine(db_url)
    first = begin_run(engine, "ace")
    save_snapshot(
        engine,
        first,
        [
            exhibit("a-0001", "Google Data Analytics"),
            exhibit("a-0002", "Google IT Support"),
            exhibit("a-0003", "Google UX Design"),
        ],
        {"pages": 4},
    )
    set_health(engine, first, True, [])
    second = begin_run(engine, "ace")
    save_snapshot(
        engine,
        second,
        [
            exhibit("a-0001", "Google Data Analytics"),
            exhibit("a-0002", "Google IT Support", hours=4),
            exhibit("a-0004", "Google Cybersecurity"),
        ],
        {"pages": 4},
    )
    assert snapshot_changes(engine, "ace", first, second) == {
        "added": ["a-0004"],
        "removed": ["a-0003"],
        "changed": ["a-0002"],
    }
    rows = load_snapshot(engine, "ace", second, ["a-0002"])
    assert rows[0]["periods"][0]["credits"][0]["hours"] == 4
    assert latest_healthy_run(engine, "ace").id == first  # the second is not judged healthy yet


def test_failed_write_leaves_no_partial_snapshot(db_url):
    engine = open_engine(db_url)
    run = begin_run(engine, "ace")
    records = [exhibit("a-0001", "Google Data Analytics"), exhibit("a-0001", "duplicate key breaks the batch")]
    with pytest.raises(IntegrityError):  # also from PostgreSQL's COPY path: a DatabaseFailure the program translates
        save_snapshot(engine, run, records, {})
    with engine.connect() as connection:
        assert connection.execute(text("select count(*) from ace_exhibit")).scalar_one() == 0
        assert connection.execute(text("select outcome from crawl_run")).scalar_one() == "running"
    fail_run(engine, run, "crashed")
    assert latest_healthy_run(engine, "ace") is None


def test_unknown_source_is_refused(db_url):
    engine = open_engine(db_url)
    with pytest.raises(ValueError, match="unknown source"):
        begin_run(engine, "credly-typo")


def test_newer_schema_is_refused_clearly(db_url):
    engine = open_engine(db_url)
    with engine.begin() as connection:
        connection.execute(text("update alembic_version set version_num = '9999'"))
    engine.dispose()
    with pytest.raises(StoreError, match="newer than this acewatch knows"):
        open_engine(db_url)


@pytest.mark.parametrize(
    "url, message",
    [
        ("not a url", "not a database URL"),
        ("mysqlx://u@h/db", "unsupported database URL"),
        ("postgresql://postgres:s3cret@127.0.0.1:1/none", "cannot open database"),
    ],
)
def test_bad_database_urls_get_clear_errors_without_secrets(url, message):
    with pytest.raises(StoreError, match=message) as error:
        open_engine(url)
    assert "s3cret" not in str(error.value)


def test_mask_url_hides_password():
    assert "hunter2" not in mask_url("postgresql://me:hunter2@db.example/acewatch")


def test_check_reader_knows_exactly_the_shipped_migrations():
    """store.reader avoids importing Alembic; its list of revisions must still be Alembic's."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from store.database import MIGRATIONS
    from store.reader import known_revisions

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert known_revisions() == {rev.revision for rev in ScriptDirectory.from_config(config).walk_revisions()}


def test_upgrade_rehashes_the_snapshots_the_next_diff_reads(db_url):
    """Migration 0003: a store from before the orjson content hash diffs its next crawl by real changes only."""

    from store.cycles import begin_cycle

    engine = engine_at_revision(db_url, "0002")
    old = begin_run(engine, "ace")
    records = [exhibit("a-0001", "Google Data Analytics"), exhibit("a-0002", "Google IT Support")]
    with engine.begin() as connection:  # as the json-module hash left them
        _insert_unversioned(connection, old, records, "hashed-by-acewatch-0.1")
    begin_cycle(engine, old, None, None)
    engine.dispose()

    engine = open_engine(db_url)
    new = begin_run(engine, "ace")
    save_snapshot(engine, new, [records[0], exhibit("a-0002", "Google IT Support", hours=4)], {"pages": 3})
    assert snapshot_changes(engine, "ace", old, new) == {"added": [], "removed": [], "changed": ["a-0002"]}


@pytest.mark.parametrize("spill_after", [20_000, 2], ids=["in-memory", "staged"])
def test_snapshot_writer_keeps_one_record_per_key_and_commits_whole(db_url, spill_after):
    """What a crawl streams: the first readable record per key wins, whether it is still in memory or
    already spilled to the staging table; nothing is visible before `finish`; rows land in key order."""
    from store.runs import SnapshotWriter

    engine = open_engine(db_url)
    run = begin_run(engine, "ace")
    writer = SnapshotWriter(engine, run, spill_after=spill_after)
    unreadable = {**exhibit("a-0003", ""), "parse_status": "unknown", "problem": "timeout"}
    for record in [
        exhibit("a-0005", "Google UX Design"),
        unreadable,
        exhibit("a-0001", "Google IT Support"),
        exhibit("a-0005", "a later duplicate is dropped"),
        exhibit("a-0002", "Google Data Analytics"),
        exhibit("a-0003", "Google Cybersecurity"),
        {**unreadable, "problem": "unreadable again"},
    ]:
        writer.add(record)
    with engine.connect() as connection:
        assert connection.execute(text("select count(*) from ace_exhibit")).scalar_one() == 0
    assert writer.finish({"pages": 7}) == 4
    with engine.connect() as connection:
        rows = connection.execute(text("select cid, title, parse_status from ace_exhibit order by id")).all()
    assert [tuple(row) for row in rows] == [
        ("a-0001", "Google IT Support", "ok"),
        ("a-0002", "Google Data Analytics", "ok"),
        ("a-0003", "Google Cybersecurity", "ok"),
        ("a-0005", "Google UX Design", "ok"),
    ]


@pytest.mark.parametrize("spill_after", [20_000, 2], ids=["in-memory", "staged"])
def test_snapshot_writer_closed_without_finish_writes_nothing(db_url, spill_after):
    from store.runs import SnapshotWriter

    engine = open_engine(db_url)
    run = begin_run(engine, "ace")
    writer = SnapshotWriter(engine, run, spill_after=spill_after)
    for n in range(5):
        writer.add(exhibit(f"a-000{n}", f"Google Course {n}"))
    writer.close()
    with engine.connect() as connection:
        assert connection.execute(text("select count(*) from ace_exhibit")).scalar_one() == 0
        assert connection.execute(text("select outcome from crawl_run")).scalar_one() == "running"


def test_upgrade_rekeys_coursera_programs_by_page_path_and_keeps_their_timeline(db_url):
    """Migration 0004: snapshots, matches and events keyed by the API id move to the page path together."""
    from sqlalchemy import text as sql

    engine = engine_at_revision(db_url, "0003")
    path = "/professional-certificates/salesforce-sales-development-representative-with-a-long-slug"
    with engine.begin() as connection:
        connection.execute(
            sql(
                "insert into crawl_run (id, source, base_url, started_at, outcome, finish_reason, pages,"
                " records, unknown, errors, retries, healthy, health_report) values (1, 'coursera', '',"
                " '2026-11-01', 'finished', 'finished', 1, 1, 0, 0, 0, true, '[]')"
            )
        )
        connection.execute(
            sql(
                "insert into coursera_program (run_id, program_id, slug, variant, api_name, title, partner,"
                " url, ace_claim, parse_status, content_hash) values (1, 'br_ap3iKlQmsSqXX4fF7JA', 's',"
                " '', '', 'T', 'P', :url, 'yes', 'ok', '')"
            ),
            {"url": "https://www.coursera.org" + path},
        )
        connection.execute(
            sql("insert into cycle (id, started_at, coursera_run_id, outcome) values (1, '2026-11-01', 1, 'finished')")
        )
        connection.execute(
            sql(
                "insert into program_match (cycle_id, program_id, verdict, score, status, differences)"
                " values (1, 'br_ap3iKlQmsSqXX4fF7JA', 'exact', 1, 'recommended', '[]')"
            )
        )
        connection.execute(
            sql(
                "insert into change_event (cycle_id, detected_at, type, source, subject_key, subject,"
                " details) values (1, '2026-11-01', 'renamed', 'coursera', 'br_ap3iKlQmsSqXX4fF7JA', 'T',"
                " '{}')"
            )
        )
    engine.dispose()

    engine = open_engine(db_url)  # upgrades to head
    with engine.connect() as connection:
        assert connection.execute(sql("select program_id from coursera_program")).scalar_one() == path
        assert connection.execute(sql("select program_id from program_match")).scalar_one() == path
        assert connection.execute(sql("select subject_key from change_event")).scalar_one() == path


def test_upgrade_adds_exhibit_versions_and_keeps_histories(db_url):
    """Migration 0005: stored exhibits keep their rows and events with version NULL (never a guessed
    number); the next crawl of an unchanged, unversioned page diffs as unchanged; new rows keep
    their version and every version of an ACE ID is read through one (run_id, ace_id) index."""
    from sqlalchemy import inspect

    from store.cycles import begin_cycle

    engine = engine_at_revision(db_url, "0004")
    old = begin_run(engine, "ace")
    cycle = begin_cycle(engine, old, None, None)
    with engine.begin() as connection:  # a 0004 store: no version column, hashes of records without one
        _insert_unversioned(
            connection,
            old,
            [exhibit("a-0001", "Google Data Analytics"), exhibit("a-0002", "Google IT Support")],
            "hashed-by-0004",
        )
        connection.execute(
            text(
                "insert into change_event (cycle_id, detected_at, type, source, subject_key, subject,"
                " details) values (:cycle, '2026-11-01', 'gained_ace', 'ace', 'a-0001', 'T', '{}')"
            ),
            {"cycle": cycle},
        )
    engine.dispose()
    reader = StoreReader(db_url)  # a long-lived plain-SQL reader (the web app's) over the 0004 store
    assert not reader.has_column("ace_exhibit", "version")

    engine = open_engine(db_url)  # upgrades to head
    assert reader.has_column("ace_exhibit", "version")  # a "no" is asked again: it sees the upgrade's column
    reader.close()
    with engine.connect() as connection:
        assert connection.execute(text("select cid, version from ace_exhibit order by cid")).all() == [
            ("a-0001", None),
            ("a-0002", None),
        ]
        assert connection.execute(text("select subject_key from change_event")).scalar_one() == "a-0001"
    assert any(index["column_names"] == ["run_id", "ace_id"] for index in inspect(engine).get_indexes("ace_exhibit"))
    new = begin_run(engine, "ace")
    save_snapshot(
        engine,
        new,
        [exhibit("a-0001", "Google Data Analytics"), {**exhibit("a-0002", "Google IT Support"), "version": 2}],
        {"pages": 3},
    )
    assert snapshot_changes(engine, "ace", old, new) == {"added": [], "removed": [], "changed": ["a-0002"]}
    assert [r["version"] for r in load_snapshot(engine, "ace", new, ["a-0002"])] == [2]
