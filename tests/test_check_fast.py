"""The fast `acewatch check`: the nightly name index gives the answers a full re-normalisation gives, and
check stays light (no Scrapy, SQLAlchemy, SQLModel, numpy or pydantic in its process).

Answers are compared whole (verdict, candidates in order, differences, normalisations) between the stored
index (`StoredNameIndex`) and the slow path that prepares every ACE name on each call (`CandidateIndex`),
on the real two-day fixture crawl and on a generated catalog of a few thousand names.
"""

from __future__ import annotations

import importlib.util
import json
import random
import sqlite3
import subprocess
import sys
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acewatch.check import IndexMemo, name_index
from acewatch.check import check as answer_check
from acewatch.cli import plain_check_args
from acewatch.cycle import conclude_cycle, run_cycle
from fixtures.server import FixtureSite
from monitor.names import (
    NAME_KEY_FIELDS,
    Candidate,
    CandidateIndex,
    ResidentNameIndex,
    StoredNameIndex,
    best_candidates,
    name_key_fields,
    name_key_rows,
    name_key_version,
    prepare_name,
    prepared_from_key,
)
from store.database import open_engine
from store.names_index import name_index_version, write_name_index
from store.reader import StoredNameKeys, StoreReader
from store.runs import begin_run, latest_healthy_run, load_snapshot, save_snapshot, set_health
from tests.support import EXPECTED_CHANGES, ROOT, acewatch, site_config

CHANGE = {c["change"]: c for c in EXPECTED_CHANGES}
HEAVY = ("scrapy", "twisted", "sqlalchemy", "sqlmodel", "alembic", "numpy", "pydantic")
TODAY = date(2026, 12, 1)
ANSWER_FIELDS = {
    "query",
    "input",
    "name",
    "organization",
    "verdict",
    "recommended",
    "match",
    "candidates",
    "as_of",
    "catalog_as_of",
    "warnings",
    "exit_code",
    "coursera_claim",
}
CANDIDATE_FIELDS = {
    "title",
    "ace_id",
    "cid",
    "organization",
    "url",
    "query",
    "ace_name",
    "verdict",
    "score",
    "differences",
    "normalisations",
    "other_organization",
    "word_edits",
    "query_org",
    "ace_org",
    "status",
    "credits",
    "period",
    "periods",
    "version",
    "versions",
}


# --------------------------------------------------------------------------
# A store from the real fixture crawl (SQLite), its copies without a usable index
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    """Day 1 then day 2 of the fixture site crawled into a fresh SQLite store by the real cycle."""
    tmp_path = tmp_path_factory.mktemp("check-fast")
    db_url = f"sqlite:///{tmp_path / 'acewatch.db'}"
    engine = open_engine(db_url)
    with FixtureSite(day="day1") as site:
        config = site_config(db_url, site, tmp_path)
        run_cycle(config, engine, progress="off")
        site.set_day("day2")
        day2 = run_cycle(config, engine, progress="off")
    assert day2.healthy
    ace_run = latest_healthy_run(engine, "ace")
    coursera_run = latest_healthy_run(engine, "coursera")
    yield {
        "db": db_url,
        "path": tmp_path / "acewatch.db",
        "engine": engine,
        "home": tmp_path,
        "config": config,
        "ace_run": ace_run.id,
        "exhibits": load_snapshot(engine, "ace", ace_run.id),
        "programs": load_snapshot(engine, "coursera", coursera_run.id),
    }
    engine.dispose()


def copy_store(crawled, name: str, *statements: str) -> str:
    """A consistent copy of the crawled store (WAL included), altered by ``statements``."""
    target = crawled["home"] / name
    source, copy = sqlite3.connect(crawled["path"]), sqlite3.connect(target)
    source.backup(copy)
    for statement in statements:
        copy.execute(statement)
    copy.commit()
    source.close()
    copy.close()
    return f"sqlite:///{target}"


def queries(crawled) -> list[str]:
    """Every ACE title and Coursera title, typographic and word-level variants, slugs, URLs, strangers."""
    titles = sorted({e["title"] for e in crawled["exhibits"] if e["title"]})
    out = list(titles) + sorted({p["title"] for p in crawled["programs"] if p["title"]})
    for title in titles:
        words = title.split()
        out += [
            title.upper(),
            title.replace(" ", "\u00a0", 1),
            title.replace("'", "\u2019"),
            f"{words[0]}\u00ae {' '.join(words[1:])}",
            title.replace("-", "\u2013"),
            title.removesuffix(" Professional Certificate"),
            title + " Specialization",
            " ".join(words[:-1]),
            " ".join(["IBM" if words[0] != "IBM" else "Google", *words[1:]]),
            " ".join(reversed(words)),
        ]
    slugs = sorted(p["slug"] for p in crawled["programs"] if p["slug"])[:40]
    out += slugs + [f"https://www.coursera.org/professional-certificates/{slug}" for slug in slugs[:10]]
    out += [f"https://coursera.org/specializations/{slug}/" for slug in slugs[10:15]]
    out += [
        "Underwater Basket Weaving for Astronauts",
        "شهادة جوجل لتحليل البيانات",
        "Data",
        "Google",
        CHANGE["renamed"]["day2"]["coursera_page_title"],
    ]
    return [name for name in dict.fromkeys(out) if name.strip()]


def bench_module():
    """bench/match.py (its seeded catalog generator), imported once."""
    if "bench_match" not in sys.modules:
        spec = importlib.util.spec_from_file_location("bench_match", ROOT / "bench" / "match.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["bench_match"] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
    return sys.modules["bench_match"]


def slow(reader: StoreReader, monkeypatch) -> StoreReader:
    """The same reader, made to ignore the stored name index (as on a store older than it)."""
    monkeypatch.setattr(reader, "name_keys", lambda run_id, version: None)
    return reader


# --------------------------------------------------------------------------
# The nightly cycle writes the index, once per run
# --------------------------------------------------------------------------


def test_cycle_writes_the_name_index_of_the_ace_run(crawled):
    engine, run = crawled["engine"], crawled["ace_run"]
    assert name_index_version(engine, run) == name_key_version()
    reader = StoreReader(crawled["db"])
    stored = reader.name_keys(run, name_key_version())
    assert stored is not None
    assert len(stored.cores) == len([e for e in crawled["exhibits"] if e["title"]])
    rows = stored.key_rows(range(len(stored.cores)))
    assert [rows[i]["cid"] for i in range(len(rows))] == sorted(rows[i]["cid"] for i in range(len(rows)))
    for row in rows.values():
        assert prepared_from_key(row) == prepare_name(row["title"], row["organization"])
    assert isinstance(name_index(reader, run), StoredNameIndex)


def test_writing_the_index_again_is_a_no_op_and_a_stale_one_is_replaced(crawled, tmp_path):
    engine = open_engine(copy_store(crawled, "rewrite.db"))
    run = crawled["ace_run"]
    lazy = name_key_rows(crawled["exhibits"])
    assert write_name_index(engine, run, lazy) == 0  # already written by the cycle
    rows = [{**row, "key_version": "older-code"} for row in name_key_rows(crawled["exhibits"])]
    assert write_name_index(engine, run, rows) == len(rows)
    assert name_index_version(engine, run) == "older-code"
    assert write_name_index(engine, run, name_key_rows(crawled["exhibits"])) == len(rows)
    assert name_index_version(engine, run) == name_key_version()
    engine.dispose()


def test_a_cycle_reusing_an_indexed_run_does_not_rewrite_it(crawled, monkeypatch):
    """A cycle whose ACE crawl failed reuses the last healthy run: its index is kept as it is."""
    engine = open_engine(copy_store(crawled, "reuse.db"))
    import acewatch.cycle

    written = []

    def spy(*args):
        written.append(write_name_index(*args))
        return written[-1]

    monkeypatch.setattr(acewatch.cycle, "write_name_index", spy)
    conclude_cycle(crawled["config"], engine, {})
    assert written == [0]
    engine.dispose()


# --------------------------------------------------------------------------
# Fast answers are the slow answers
# --------------------------------------------------------------------------


def test_fast_answers_equal_slow_answers_on_the_fixture_crawl(crawled, monkeypatch):
    fast_reader = StoreReader(crawled["db"])
    slow_reader = slow(StoreReader(crawled["db"]), monkeypatch)
    assert isinstance(name_index(fast_reader, crawled["ace_run"]), StoredNameIndex)
    assert isinstance(name_index(slow_reader, crawled["ace_run"]), CandidateIndex)
    names = queries(crawled)
    assert len(names) > 500
    resident = IndexMemo(resident=True)  # the web app's: every name and exhibit of the run read once
    verdicts = set()
    for name in names:
        for limit in (5, 1):
            fast = answer_check(name, fast_reader, today=TODAY, limit=limit)
            assert fast == answer_check(name, slow_reader, today=TODAY, limit=limit), name
            assert fast == answer_check(name, fast_reader, today=TODAY, limit=limit, indexes=resident), name
            verdicts.add(fast["verdict"])
    assert resident.evidence(fast_reader.latest_snapshot(), fast_reader).complete
    assert verdicts == {"exact", "equivalent", "near", "none"}


def test_fast_answers_equal_slow_answers_on_a_generated_catalog(db_url):
    """3,000 names of 60 organizations (vendors too; a tenth unknown), queries with and without an organization."""
    bench = bench_module()
    rng = random.Random("check-fast")
    orgs = bench.make_orgs(rng, 80)
    exhibits = bench.make_exhibits(rng, 3000, orgs[:60])
    titles = bench.make_titles(rng, exhibits, orgs[:60], orgs[60:], 400)
    records = [
        {
            "cid": e.key,
            "ace_id": e.key,
            "organization": "" if i % 10 == 0 else e.org,
            "title": e.name,
            "url": "",
            "periods": [],
        }
        for i, e in enumerate(exhibits)
    ]  # some of unknown organization
    records += [
        {"cid": "ZZ-empty", "ace_id": None, "organization": "Google", "title": "", "url": "", "periods": []},
        {"cid": "ZZ-mark", "ace_id": None, "organization": "", "title": "\u00ae", "url": "", "periods": []},
    ]
    engine = open_engine(db_url)
    run = begin_run(engine, "ace")
    save_snapshot(engine, run, list(reversed(records)), {})
    set_health(engine, run, True, [])
    assert write_name_index(engine, run, name_key_rows(records)) == len(exhibits)
    engine.dispose()

    reader = StoreReader(db_url)
    stored = StoredNameIndex(reader.name_keys(run, name_key_version()))
    resident = ResidentNameIndex(reader.name_keys(run, name_key_version()))  # searched by CoreSearch once asked twice
    prepared = CandidateIndex([bench.Candidate(cid, title, org) for cid, title, org in reader.exhibit_names(run)])
    for title in titles:
        for org in (None, title.program.org, "Google", "An Organization With No Exhibits"):
            fast = [s.to_dict() for s in best_candidates(title.program.name, stored, limit=8, query_org=org)]
            assert fast == [
                s.to_dict() for s in best_candidates(title.program.name, prepared, limit=8, query_org=org)
            ], (title, org)
            assert fast == [
                s.to_dict() for s in best_candidates(title.program.name, resident, limit=8, query_org=org)
            ], (title, org)
    assert any(resident.searches.values())  # the fast search took part
    reader.close()


@pytest.mark.parametrize(
    "case, alteration",
    [
        ("no-tables", ("DROP TABLE name_key", "DROP TABLE name_index")),  # a store older than the index
        ("not-indexed", ("DELETE FROM name_key", "DELETE FROM name_index")),  # a run nobody indexed
        ("other-version", ("UPDATE name_index SET key_version = 'older-code'",)),  # indexed by other code
    ],
)
def test_check_without_a_usable_index_falls_back_to_the_same_answer(crawled, case, alteration):
    fallback_db = copy_store(crawled, f"fallback-{case}.db", *alteration)
    reader = StoreReader(fallback_db)
    assert isinstance(name_index(reader, crawled["ace_run"]), CandidateIndex)
    reader.close()
    names = [
        CHANGE["credits_changed"]["ace_title"],
        CHANGE["renamed"]["day2"]["coursera_page_title"],
        CHANGE["credits_changed"]["coursera_slug"],
        "Underwater Basket Weaving for Astronauts",
    ]
    for name in names:
        fast = acewatch("check", name, "--json", db=crawled["db"], home=crawled["home"])
        fallback = acewatch("check", name, "--json", db=fallback_db, home=crawled["home"])
        assert (fallback.returncode, json.loads(fallback.stdout)) == (fast.returncode, json.loads(fast.stdout))
        assert fast.returncode in (0, 1, 3), fast.stderr


# --------------------------------------------------------------------------
# The command line: schema, and a light process
# --------------------------------------------------------------------------


def test_json_schema_for_names_urls_and_slugs(crawled):
    expected = CHANGE["credits_changed"]
    slug = expected["coursera_slug"]
    for query, kind in [
        (expected["ace_title"], "name"),
        (slug, "slug"),
        (f"https://www.coursera.org/professional-certificates/{slug}", "url"),
        (f"https://coursera.org/specializations/{slug}", "url"),
    ]:
        result = acewatch("check", query, "--json", db=crawled["db"], home=crawled["home"])
        assert result.returncode == 0, result.stderr
        answer = json.loads(result.stdout)
        assert set(answer) == ANSWER_FIELDS
        assert (answer["input"], answer["query"], answer["verdict"]) == (kind, query, "exact")
        assert answer["name"] == expected["ace_title"] and answer["recommended"] is True
        assert answer["organization"] == (None if kind == "name" else "Google")
        claim = answer["coursera_claim"]  # the page's own claim, only for a catalog program (README)
        assert claim is None if kind == "name" else (claim["verdict"], claim["credits"]) == ("supported", 9)
        assert answer["match"]["ace_id"] == expected["ace_id"] and answer["match"]["first_seen"]
        assert set(answer["match"]) == CANDIDATE_FIELDS | {"first_seen"}
        assert answer["candidates"][0] == answer["match"]
        for candidate in answer["candidates"][1:]:
            assert set(candidate) == CANDIDATE_FIELDS
            for difference in candidate["differences"]:
                assert set(difference) == {"kind", "old", "new", "text"}


def test_near_name_lists_the_word_that_differs(crawled):
    result = acewatch(
        "check",
        CHANGE["renamed"]["day2"]["coursera_page_title"],
        "--json",
        "--limit",
        "3",
        db=crawled["db"],
        home=crawled["home"],
    )
    answer = json.loads(result.stdout)
    assert result.returncode == 1 and answer["verdict"] == "near" and answer["match"] is None
    assert len(answer["candidates"]) <= 3
    assert [d["text"] for d in answer["candidates"][0]["differences"]] == ["Development -> Developer"]


SPY = """
import json, runpy, sys
sys.argv = ["acewatch", *json.loads(sys.argv[1])]
try:
    runpy.run_module("acewatch.cli", run_name="__main__")
except SystemExit as exc:
    code = exc.code
with open({out!r}, "w") as out:
    json.dump({{"code": code, "modules": sorted(sys.modules)}}, out)
"""


@pytest.mark.parametrize("extra", [["--json"], []], ids=["json", "text"])
def test_check_process_imports_nothing_heavy(crawled, tmp_path, extra):
    out = tmp_path / "modules.json"
    args = ["--db", crawled["db"], "check", CHANGE["credits_changed"]["ace_title"], *extra]
    result = subprocess.run(
        [sys.executable, "-c", SPY.format(out=str(out)), json.dumps(args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"HOME": str(crawled["home"]), "PATH": "/usr/bin:/bin"},
    )
    spied = json.loads(out.read_text())
    assert spied["code"] == 0, result.stderr
    heavy = sorted({m.split(".")[0] for m in spied["modules"]} & set(HEAVY))
    assert heavy == [], f"acewatch check imported {heavy}: it must start at once"
    assert "rapidfuzz" in spied["modules"] and "acewatch.check" in spied["modules"]
    if extra == ["--json"]:
        assert not [m for m in spied["modules"] if m.split(".")[0] == "rich"]


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["check", "Google Data Analytics"], {"name": "Google Data Analytics"}),
        (
            ["--db", "sqlite:///x.db", "-v", "check", "--json", "X", "--limit", "7"],
            {"db": "sqlite:///x.db", "verbose": True, "as_json": True, "name": "X", "limit": 7},
        ),
        (
            ["--db=sqlite:///y.db", "--config", "c.toml", "check", "--limit=50", "-"],
            {"db": "sqlite:///y.db", "config_path": "c.toml", "name": "-", "limit": 50},
        ),
        (["check", "--", "--json"], {"name": "--json"}),
    ],
)
def test_plain_check_arguments_are_parsed_without_typer(argv, expected, monkeypatch):
    monkeypatch.delenv("ACEWATCH_DB", raising=False)
    monkeypatch.delenv("ACEWATCH_CONFIG", raising=False)
    defaults = {"db": None, "config_path": None, "verbose": False, "name": None, "as_json": False, "limit": 5}
    assert plain_check_args(argv) == {**defaults, **expected}


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["check"],
        ["--help"],
        ["check", "--help"],
        ["check", "-h"],
        ["check", "a", "b"],
        ["check", "--limit", "0", "a"],
        ["check", "--limit", "51", "a"],
        ["check", "--limit", "x", "a"],
        ["check", "a", "--limit"],
        ["check", "-a"],
        ["check", "a", "--db", "x"],
        ["--json", "check", "a"],
        ["changes"],
        ["run", "check"],
        ["--db"],
        ["-vv", "check", "a"],
    ],
)
def test_anything_else_is_left_to_typer(argv):
    assert plain_check_args(argv) is None


def test_environment_supplies_the_store_and_config_like_typer(monkeypatch):
    monkeypatch.setenv("ACEWATCH_DB", "sqlite:///env.db")
    monkeypatch.setenv("ACEWATCH_CONFIG", "")
    args = plain_check_args(["check", "x"])
    assert (args["db"], args["config_path"]) == ("sqlite:///env.db", None)
    assert plain_check_args(["--db", "sqlite:///flag.db", "check", "x"])["db"] == "sqlite:///flag.db"


def test_fast_path_and_typer_give_the_same_output(crawled, tmp_path):
    """The same check through Typer (CliRunner on the app) and through `main` (the plain-argument path)."""
    from typer.testing import CliRunner

    from acewatch.cli import app

    runner = CliRunner()
    env = {"HOME": str(crawled["home"]), "COLUMNS": "200", "ACEWATCH_DB": None, "ACEWATCH_CONFIG": None}
    missing = f"sqlite:///{tmp_path / 'missing.db'}"
    cases = [
        (crawled["db"], [CHANGE["credits_changed"]["ace_title"], "--json"]),
        (crawled["db"], [CHANGE["renamed"]["day2"]["coursera_page_title"], "--json", "--limit", "2"]),
        (crawled["db"], [CHANGE["credits_changed"]["coursera_slug"]]),
        (crawled["db"], ["   "]),
        (crawled["db"], ["https://example.org/professional-certificates/x"]),
        (missing, ["Google Data Analytics"]),
    ]
    for db, args in cases:
        through_typer = runner.invoke(app, ["--db", db, "check", *args], env=env)
        direct = acewatch("--db", db, "check", *args, db=db, home=crawled["home"])
        assert direct.returncode == through_typer.exit_code, (args, direct.stderr, through_typer.output)
        assert direct.stdout == through_typer.stdout, args
        assert direct.stderr == through_typer.stderr, args


# --------------------------------------------------------------------------
# Stored fields round-trip
# --------------------------------------------------------------------------


def test_reader_and_names_agree_on_the_stored_fields():
    assert StoredNameKeys.FIELDS == NAME_KEY_FIELDS


@pytest.mark.parametrize(
    "name, org",
    [
        ("Google Data Analytics", None),
        ("Meta Front\u2011End Developer", "Meta Platforms, Inc."),
        ("Excel(R) Skills for Business: Essentials (v.2)", "Macquarie University"),
        ("IBM\u00a0Data  Science \u2122", "IBM Corporation"),
        ("Google\u2019s  \u201cAI\u201d", "Google LLC"),
        ("DeepLearning.AI TensorFlow Developer & Associate", ""),
        ("\ufb01nance", "   "),
    ],
)
def test_prepared_names_survive_storage(name, org):
    p = prepare_name(name, org)
    assert prepared_from_key({"cid": "x", "organization": org, **name_key_fields(p)}) == p


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1, max_size=40), st.one_of(st.none(), st.text(max_size=20)))
def test_any_prepared_name_survives_storage(name, org):
    try:
        p = prepare_name(name, org)
    except ValueError:
        return
    stored = name_key_fields(p)
    assert "\n" not in stored["core"] and "\n" not in (stored["org"] or "") and stored["org"] != ""
    assert prepared_from_key(stored) == p


def test_best_candidates_on_stored_keys_matches_prepared_names_in_memory(crawled):
    reader = StoreReader(crawled["db"])
    stored = StoredNameIndex(reader.name_keys(crawled["ace_run"], name_key_version()))
    prepared = CandidateIndex([Candidate(*row) for row in reader.exhibit_names(crawled["ace_run"])])
    for query in ("Google Data Analytics", "Data Analytics", "IBM Data Science", "Project Management"):
        for org in (None, "Google", "IBM Corporation"):
            assert [s.to_dict() for s in best_candidates(query, stored, limit=10, query_org=org)] == [
                s.to_dict() for s in best_candidates(query, prepared, limit=10, query_org=org)
            ]
