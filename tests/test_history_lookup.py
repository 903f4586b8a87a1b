"""`history` finds who goes by a name through kept lookups, with the answers of the scan it replaced.

`acewatch.outputs.reports.find_subjects` used to normalise every stored title on each question;
it now asks `acewatch.titles.title_lookups`, kept per store until a run is written. Same answers
(compared with the old scan, kept here as the reference), and a newly written run is seen at once.
"""

from __future__ import annotations

import pytest

from acewatch.outputs.reports import _slug_of, find_subjects
from acewatch.titles import title_lookups
from monitor.names import normalize
from store import reports as stored
from store.database import open_engine
from store.runs import begin_run, save_snapshot
from tests.test_claims_store import exhibit, program

QUERIES = [
    "Google Data Analytics",
    "google  data analytics",  # case and spaces: equal after normalisation
    "GOOGLE DATA ANALYTICS\u00ae",
    "GOOG-0002",
    "ace-cid-2",
    "/professional-certificates/google-data-analytics",
    "https://www.coursera.org/professional-certificates/google-data-analytics?utm_source=x",
    "coursera.org/specializations/pottery-1",
    "Pottery Basics 1",
    "Meta Front-End Developer",
    "Nothing Goes By This",
]


def scan(engine, name: str) -> tuple[set[str], set[str]]:
    """The reference: every stored title normalised on each question (find_subjects before the lookups)."""
    query, key, slug = name.strip(), normalize(name.strip()).text, _slug_of(name.strip())
    ace, coursera = stored.exhibit_names(engine), stored.program_names(engine)
    cids = {cid for cid, ace_id, title in ace if query in (cid, ace_id, title) or normalize(title).text == key}
    programs = {pid for pid, s, title in coursera if query in (pid, title) or s == slug or normalize(title).text == key}
    return cids, programs


def write(engine, exhibits: list[dict], programs: list[dict]) -> None:
    for source, records in (("ace", exhibits), ("coursera", programs)):
        run = begin_run(engine, source)
        save_snapshot(engine, run, records, {"pages": len(records)})


@pytest.fixture
def engine(db_url):
    engine = open_engine(db_url)
    yield engine
    engine.dispose()


def test_lookups_answer_like_the_scan_and_see_a_new_run_at_once(engine):
    google = {**exhibit(), "cid": "ace-cid-2"}
    pottery = [program(f"/specializations/pottery-{n}", f"Pottery Basics {n}", "Clay", "no", None) for n in range(3)]
    path = "/professional-certificates/google-data-analytics"
    write(engine, [google], [program(path, "Google Data Analytics", "Google", "yes", 3), *pottery])
    for query in QUERIES:
        assert find_subjects(engine, query) == scan(engine, query), query
    assert find_subjects(engine, "google  data analytics") == ({"ace-cid-2"}, {path})
    assert find_subjects(engine, "Meta Front-End Developer") == (set(), set())
    kept = title_lookups(engine)
    assert title_lookups(engine) is kept  # nothing written: the same lookups

    meta = {**exhibit(), "cid": "ace-cid-9", "ace_id": "META-0001", "title": "Meta Front-End Developer"}
    write(engine, [google, meta], pottery)
    assert title_lookups(engine) is not kept
    for query in QUERIES:
        assert find_subjects(engine, query) == scan(engine, query), query
    assert find_subjects(engine, "meta front\u2013end developer") == ({"ace-cid-9"}, set())
