"""`status`, `history` and `export` over a real two-day crawl of the fixture site, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from datetime import timedelta

import pytest
from sqlalchemy import text

from acewatch.jsonout import plain
from acewatch.outputs.reports import (
    EXPORT_FIELDS,
    csv_cell,
    export_csv,
    export_data,
    export_json,
    history_data,
    status_data,
    write_atomic,
)
from acewatch.schedule import JOB_ID, JOBS_TABLE, run_job
from store.cycles import begin_cycle
from store.database import open_engine
from store.locks import acquire, release, utcnow
from store.models import Delivery
from store.runs import begin_run, fail_run, load_snapshot
from tests.conftest import BACKENDS
from tests.support import EXPECTED_CHANGES, ROOT, crawl_two_days
from tests.test_schedule import cli_command, cli_env

CHANGE = {c["change"]: c for c in EXPECTED_CHANGES}
SECRET_URL = "postgresql://acewatch:s3cret-pw@db.example.org:5432/acewatch"


@pytest.fixture(scope="module", params=BACKENDS)
def store(request, tmp_path_factory):
    """Day 1 and day 2 of the fixture site crawled for real into a fresh store: this module's own, not the
    session's shared `two_days`, as it takes a lock in the store and wants its data under an hour old."""
    crawled = crawl_two_days(request, tmp_path_factory.mktemp(f"reports-{request.param}"))
    assert crawled["day1"].healthy and crawled["day2"].healthy
    return crawled


# ---------------------------------------------------------------- status


def test_status_shows_runs_health_age_and_nothing_pending(store):
    data = status_data(store["engine"], store["db"], runs=5, max_age_days=8)
    for source in ("ace", "coursera"):
        info = data["sources"][source]
        assert [run["id"] for run in info["runs"]] == [store["day2"].runs[source].id, store["day1"].runs[source].id]
        assert all(
            run["outcome"] == "finished" and run["healthy"] and not run["failing_checks"] for run in info["runs"]
        )
        assert info["runs"][0]["records"] == store["day2"].runs[source].records > 0
        assert info["last_healthy"]["id"] == store["day2"].runs[source].id
        assert 0 <= info["data_age_hours"] < 1 and info["data_age"].endswith("hours")
    assert data["latest_cycle"]["id"] == store["day2"].cycle_id
    assert data["latest_cycle"]["events"] == len(store["day2"].events)
    assert data["next_run"] is None  # no scheduler has stored a job in this database
    assert data["deliveries"]["pending"] == data["deliveries"]["failing"] == 0
    assert data["lock"] is None
    assert data["problems"] == []


def test_status_masks_the_database_password(store):
    data = status_data(store["engine"], SECRET_URL)
    assert "s3cret-pw" not in json.dumps(data)
    assert data["database"] == "postgresql://acewatch:***@db.example.org:5432/acewatch"


def test_status_shows_the_lock_holder(store):
    engine = store["engine"]
    assert acquire(engine, "run", "worker-7:31337", ttl_seconds=600)
    try:
        lock = status_data(engine, store["db"])["lock"]
    finally:
        release(engine, "run", "worker-7:31337")
    assert lock["holder"] == "worker-7:31337" and not lock["expired"] and lock["since"].endswith("Z")


def test_status_flags_unhealthy_runs_overdue_schedule_and_failing_alerts(db_url):
    """A fresh store with a failed crawl, a stored job nobody advances, and an alert that keeps failing."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    engine = open_engine(db_url)
    failed = begin_run(engine, "ace", "http://ace.example")
    fail_run(engine, failed, "crawl timed out after 3600 s")
    cycle = begin_cycle(engine, None, None, None)
    with engine.begin() as connection:
        connection.execute(
            Delivery.__table__.insert().values(
                cycle_id=cycle,
                channel="abc",
                channel_label="mailto://***",
                title="t",
                body="b",
                status="pending",
                attempts=2,
                last_error="not delivered (timeout)",
                created_at=utcnow(),
            )
        )
    scheduler = BackgroundScheduler(jobstores={"default": SQLAlchemyJobStore(engine=engine)}, timezone="UTC")
    scheduler.start(paused=True)  # stores the job (due in a day) without ever running it
    scheduler.add_job(run_job, "interval", hours=24, id=JOB_ID, kwargs={"config_path": None, "timeout_seconds": 60})
    scheduler.shutdown(wait=False)
    # ...then the daemon "stopped" long ago: its stored next run (a float epoch) is two hours past.
    due = utcnow() - timedelta(hours=2)
    with engine.begin() as connection:
        connection.execute(
            text(f"UPDATE {JOBS_TABLE} SET next_run_time = :at WHERE id = :id"), {"at": due.timestamp(), "id": JOB_ID}
        )

    data = status_data(engine, db_url, max_age_days=8)
    assert data["sources"]["ace"]["runs"][0]["failing_checks"] == ["crawl timed out after 3600 s"]
    assert data["sources"]["ace"]["last_healthy"] is None
    assert abs(data["next_run"]["in_seconds"] + 7200) < 120 and data["next_run"]["overdue"]
    assert data["deliveries"] == {
        "pending": 1,
        "failing": 1,
        "sending": 0,
        "sent": 0,
        "last_error": "not delivered (timeout)",
    }
    problems = "\n".join(data["problems"])
    assert f"ace: newest run {failed} is unhealthy (crawl timed out after 3600 s)" in problems
    assert "coursera: never crawled" in problems
    assert "overdue" in problems and "1 alert deliveries are failing" in problems
    engine.dispose()


# ---------------------------------------------------------------- history


def _entry_types(entry: dict) -> set[str]:
    return {event.type for event in entry["events"]}


def test_history_of_the_renamed_program_shows_both_titles_and_the_name_mismatch(store):
    renamed = CHANGE["renamed"]
    old_title, new_title = renamed["day1"]["coursera_page_title"], renamed["day2"]["coursera_page_title"]
    data = history_data(store["engine"], old_title)
    (program,) = data["found"]["coursera"]
    assert program["program_id"] == renamed["coursera_path"] and program["slug"] == renamed["coursera_slug"]
    assert program["titles"] == [old_title, new_title]
    assert [e["ace_id"] for e in data["found"]["ace"]] == [renamed["ace_id"]]
    first, second = data["timeline"]
    assert (first["cycle"], second["cycle"]) == (store["day1"].cycle_id, store["day2"].cycle_id)
    (before,), (after,) = first["coursera"], second["coursera"]
    assert (before["title"], before["verdict"], before["status"]) == (old_title, "exact", "recommended")
    assert (after["title"], after["verdict"], after["status"]) == (new_title, "near", "not_recommended")
    assert after["ace_id"] == renamed["ace_id"] and after["differences"]
    assert first["events"] == []
    assert {"renamed", "name_mismatch"} <= _entry_types(second)
    mismatch = next(e for e in second["events"] if e.type == "name_mismatch")
    assert (mismatch.old, mismatch.new) == ("exact", "near")
    assert mismatch.evidence_url.endswith(renamed["coursera_path"])
    # The ACE side did not change: still active, same title.
    assert [e["ace"][0]["status"] for e in data["timeline"]] == ["active", "active"]


def test_history_finds_the_same_program_by_new_title_slug_url_and_ace_id(store):
    renamed = CHANGE["renamed"]
    engine = store["engine"]
    for query in (
        renamed["day2"]["coursera_page_title"],
        renamed["coursera_slug"],
        renamed["ace_id"],
        f"https://www.coursera.org{renamed['coursera_path']}",
        renamed["day1"]["coursera_page_title"].upper(),
    ):  # normalised: case
        data = history_data(engine, query)
        assert [p["program_id"] for p in data["found"]["coursera"]] == [renamed["coursera_path"]], query
        assert [e["cid"] for e in data["found"]["ace"]] == [renamed["cid"]], query


def test_history_of_the_expired_recommendation_shows_active_then_expired(store):
    ended = CHANGE["recommendation_ended"]
    data = history_data(store["engine"], ended["ace_title"])
    assert [e["cid"] for e in data["found"]["ace"]] == [ended["cid"]]
    statuses = [entry["ace"][0]["status"] for entry in data["timeline"]]
    assert statuses == ["active", "expired"]
    assert data["timeline"][1]["ace"][0]["period"]["end"] == "2025-06-30"
    (lost,) = [e for e in data["timeline"][1]["events"] if e.type == "lost_ace"]
    assert (lost.old, lost.new) == ("12 credits", "expired")
    assert ended["cid"] in lost.evidence_url
    programs = [entry["coursera"][0]["status"] for entry in data["timeline"]]
    assert programs == ["recommended", "not_recommended"]


def test_history_of_a_removed_exhibit_says_removed(store):
    lost = CHANGE["lost_ace"]
    data = history_data(store["engine"], lost["ace_id"])
    assert [entry["ace"][0]["status"] for entry in data["timeline"]] == ["active", "removed"]


def test_history_of_an_unknown_name_is_empty(store):
    data = history_data(store["engine"], "No Such Program Professional Certificate")
    assert data["timeline"] == [] and data["found"] == {"ace": [], "coursera": []}


# ---------------------------------------------------------------- export


def _catalog_size(store) -> int:
    return len(load_snapshot(store["engine"], "coursera", store["day2"].runs["coursera"].id))


def test_export_csv_and_json_hold_every_program_with_its_match(store, tmp_path):
    data = export_data(store["engine"])
    assert data["cycle"] == store["day2"].cycle_id and data["count"] == _catalog_size(store)
    rows = list(csv.DictReader(io.StringIO(export_csv(data["programs"]))))
    assert len(rows) == _catalog_size(store)
    assert tuple(rows[0]) == EXPORT_FIELDS
    assert len({row["slug"] for row in rows}) == len(rows)
    by_slug = {row["slug"]: row for row in rows}
    renamed = by_slug[CHANGE["renamed"]["coursera_slug"]]
    assert (renamed["verdict"], renamed["status"], renamed["ace_id"], renamed["credits"]) == (
        "near",
        "not_recommended",
        CHANGE["renamed"]["ace_id"],
        "",
    )
    assert renamed["ace_title"] == CHANGE["renamed"]["ace_title"] and renamed["differences"]
    changed = by_slug[CHANGE["credits_changed"]["coursera_slug"]]
    assert (changed["verdict"], changed["status"]) == ("exact", "recommended")
    assert float(changed["credits"]) == CHANGE["credits_changed"]["day2"]["ace_credits_total"]
    assert by_slug[CHANGE["recommendation_ended"]["coursera_slug"]]["status"] == "not_recommended"
    assert all(row["as_of"] == data["as_of"] for row in rows)

    target = tmp_path / "catalog.json"
    write_atomic(target, export_json(data))
    parsed = json.loads(target.read_text(encoding="utf-8"))
    assert parsed["count"] == len(parsed["programs"]) == _catalog_size(store)
    assert set(parsed["programs"][0]) == set(EXPORT_FIELDS)
    assert [p.name for p in tmp_path.iterdir()] == ["catalog.json"]  # no temporary file left behind


def test_csv_cells_cannot_become_formulas_or_terminal_escapes():
    assert csv_cell('=HYPERLINK("http://evil")') == '\'=HYPERLINK("http://evil")'
    assert csv_cell("+ Professional Certificate") == "'+ Professional Certificate"
    assert csv_cell("Data\x1b[2J Science\u202e") == "Data Science"
    assert csv_cell(None) == "" and csv_cell(9.0) == "9.0" and csv_cell(["a -> b", "+ c"]) == "a -> b; + c"
    assert plain({"t": ["\x9b31mred", "ok"]}) == {"t": ["31mred", "ok"]}


# ---------------------------------------------------------------- the commands


def _cli(store, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        cli_command(*args),
        env=cli_env(store["db"], store["home"]),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_status_history_and_export(store, tmp_path):
    status = _cli(store, "status", "--json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["latest_cycle"]["id"] == store["day2"].cycle_id

    renamed = CHANGE["renamed"]
    history = _cli(store, "history", renamed["day1"]["coursera_page_title"])
    assert history.returncode == 0, history.stderr
    for expected in (
        renamed["day1"]["coursera_page_title"],
        renamed["day2"]["coursera_page_title"],
        "event name_mismatch",
        "event renamed",
        "match exact",
        "match near",
    ):
        assert expected in history.stdout, (expected, history.stdout)
    assert _cli(store, "history", "No Such Program").returncode == 3

    target = tmp_path / "catalog.csv"
    exported = _cli(store, "export", "--format", "csv", "--output", str(target))
    assert exported.returncode == 0, exported.stderr
    assert len(list(csv.DictReader(target.open(encoding="utf-8")))) == _catalog_size(store)
    as_json = _cli(store, "export", "--format", "json")
    assert json.loads(as_json.stdout)["count"] == _catalog_size(store)
    assert _cli(store, "export", "--format", "xml").returncode == 2
