"""No single record may silence the monitor (safety and liveness of removed exhibits).

First the rules as tables (what an unlisted exhibit's answer is evidence of; when the
source-level gate trips), then real crawls over HTTP: a catalog where, on day 2, one exhibit
is withdrawn, one changes credits and one appears, with the withdrawn exhibit's URL
answering in each way a real site answers. Every change must be reported on day 2, the
loss on day 2 when the answer is evidence of it and only once there is evidence when it is
not (500, timeout), exactly once, and nothing else.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest

from acewatch.cycle import run_cycle
from crawler.removal import Answer, Page, Verdict, judge, page_kind
from fixtures import site
from fixtures.dataset import load_catalog
from fixtures.server import FixtureSite
from fixtures.variants import write_variant
from monitor.diff import unreadable_events
from monitor.health import HealthConfig, check_errors, check_unknown
from store.cycles import cycle_events
from store.database import open_engine
from tests.support import EXPECTED_CHANGES, site_config

CID = "c74343bf-53c4-ea11-a812-000d3a33232a"
OTHER = "f35f5b54-55c4-ea11-a812-000d3a33232a"
COURSE = "https://www.acenet.edu/National-Guide/Pages/Course.aspx?cid="
STATUS_EVENTS = {"gained_ace", "lost_ace", "credits_changed"}


# --------------------------------------------------------------------------- the evidence table


@pytest.mark.parametrize(
    "answer, verdict",
    [
        (Answer(404), Verdict.GONE),
        (Answer(410), Verdict.GONE),
        (Answer(302, location="https://www.acenet.edu/Search/Pages/results.aspx"), Verdict.GONE),
        (Answer(301, location="https://www.acenet.edu/"), Verdict.GONE),
        (Answer(200, page=Page.TEMPLATE), Verdict.GONE),
        (Answer(200, page=Page.NO_FIELDS), Verdict.GONE),
        (Answer(200, page=Page.EXHIBIT), Verdict.EXHIBIT),
        (Answer(301, redirect_cid=CID, location=COURSE + CID), Verdict.FOLLOW),
        (Answer(302, redirect_cid=OTHER, location=COURSE + OTHER), Verdict.UNKNOWN),
        (Answer(200, page=Page.PARTIAL), Verdict.UNKNOWN),
        (Answer(200, page=Page.EMPTY), Verdict.UNKNOWN),
        (Answer(500), Verdict.UNKNOWN),
        (Answer(503), Verdict.UNKNOWN),
        (Answer(403), Verdict.UNKNOWN),
        (Answer(429), Verdict.UNKNOWN),
        (Answer(0, failure="TimeoutError: took longer than 30 seconds"), Verdict.UNKNOWN),
    ],
)
def test_what_an_unlisted_exhibits_answer_is_evidence_of(answer, verdict):
    evidence = judge(answer, CID)
    assert evidence.verdict is verdict
    assert evidence.reason  # said in the log, the record's problem and the digest


def test_reasons_name_the_answer():
    assert judge(Answer(404), CID).reason == "exhibit page answers 404"
    search = "https://www.acenet.edu/Search/Pages/results.aspx?k=x"
    assert "/Search/Pages/results.aspx" in judge(Answer(302, location=search), CID).reason
    assert "timeout" in judge(Answer(0, failure="timeout"), CID).reason


def _exhibit_page(**changes) -> bytes:
    catalog = load_catalog("day1")
    exhibit = {**catalog.exhibit_by_cid[OTHER], **changes}
    return site.render_ace_exhibit(exhibit, catalog.org_by_oid[exhibit["oid"].lower()]).encode()


@pytest.mark.parametrize(
    "body, kind",
    [
        (lambda: _exhibit_page(), Page.EXHIBIT),
        (lambda: site.render_ace_empty_exhibit().encode(), Page.TEMPLATE),
        (lambda: site.render_ace_guide_home().encode(), Page.NO_FIELDS),
        (lambda: site.render_ace_search("course").encode(), Page.NO_FIELDS),
        (lambda: site.render_ace_not_found("/x").encode(), Page.NO_FIELDS),
        (lambda: b"%PDF-1.4 binary", Page.NO_FIELDS),
        (lambda: _exhibit_page(periods=[]), Page.PARTIAL),
        (lambda: _exhibit_page(ace_id=""), Page.PARTIAL),
        (lambda: b"  \n", Page.EMPTY),
    ],
)
def test_page_kinds_as_a_reader_sees_them(body, kind):
    assert page_kind(body()) is kind


def test_prose_about_credit_recommendations_is_not_an_exhibit_label():
    page = (
        b"<html><body><h1>About the National Guide</h1><p>ACE credit recommendations help learners "
        b"earn credit. Dates offered vary.</p></body></html>"
    )
    assert page_kind(page) is Page.NO_FIELDS


# --------------------------------------------------------------------------- the gate's floor


class Run:
    def __init__(self, pages=100, errors=0, records=100, unknown=0):
        self.pages, self.errors, self.records, self.unknown = pages, errors, records, unknown


LIMITS = HealthConfig()  # 5% and at least 3


@pytest.mark.parametrize(
    "records, unknown, healthy",
    [
        (10, 1, True),  # one odd exhibit of a small catalog: 10%, but only 1
        (10, 2, True),
        (10, 3, False),  # 30% and 3: systemic
        (10, 4, False),  # the 40% night
        (14, 1, True),  # the night the issue describes: 7.1% of 14
        (1000, 2, True),
        (1000, 50, True),  # 5.0%: at the limit
        (1000, 51, False),
        (0, 0, True),
    ],
)
def test_unreadable_records_trip_the_gate_above_ratio_and_count(records, unknown, healthy):
    assert check_unknown(Run(records=records, unknown=unknown), [], LIMITS).ok is healthy


@pytest.mark.parametrize(
    "pages, errors, healthy",
    [
        (11, 1, True),
        (11, 2, True),
        (11, 3, False),
        (2000, 100, True),
        (2000, 101, False),
    ],
)
def test_failed_requests_trip_the_gate_above_ratio_and_count(pages, errors, healthy):
    assert check_errors(Run(pages=pages, errors=errors), [], LIMITS).ok is healthy


def test_the_floor_is_configurable():
    strict = replace(LIMITS, min_unreadable_records=1)
    assert check_unknown(Run(records=10, unknown=1), [], strict).ok is False
    assert "at least 3" in check_unknown(Run(records=10, unknown=1), [], LIMITS).message


# --------------------------------------------------------------------------- real crawls

EXPECTED = {c["change"]: c["cid"] for c in EXPECTED_CHANGES}
EXHIBIT_URL = r"(?i)/national-guide/pages/course\.aspx\?.*cid={cid}"
# How the withdrawn exhibit's own URL answers on day 2, and the day its loss is reported.
ANSWERS = {
    "404": ("status:404", 2),
    "410": ("status:410", 2),
    "302_to_search": ("redirect", 2),
    "generic_page": ("generic_page", 2),
    "empty_template": (None, 2),
    "timeout": ("timeout", 3),
    "persistent_500": ("status:500", 4),
}
PERSISTENT = {"persistent_500": 2}  # nights the answer lasts (others: day 2 only)


def _fault(kind: str | None, cid: str) -> list[dict]:
    if kind is None:
        return []
    return [{"role": "ace", "path": EXHIBIT_URL.format(cid=cid), "kind": kind, "seconds": 3}]


def _cycles(site, config, engine, nights: list[list[dict]]) -> list:
    """Day 1, then day 2 for every fault list of `nights` (one cycle each)."""
    reports = [run_cycle(config, engine, progress="off")]
    site.set_day("day2")
    for faults in nights:
        site.set_faults(faults)
        reports.append(run_cycle(config, engine, progress="off"))
    site.clear_faults()
    return reports


def _status_events(report) -> Counter:
    return Counter((e.type, e.subject_key) for e in report.events if e.type in STATUS_EVENTS)


@pytest.mark.parametrize("answer", sorted(ANSWERS))
def test_a_withdrawn_exhibit_in_a_small_catalog_holds_back_nothing_else(answer, tmp_path):
    kind, loss_day = ANSWERS[answer]
    variant = write_variant(tmp_path / "catalog", exhibits=10)
    db_url = f"sqlite:///{tmp_path / 'a.db'}"
    engine = open_engine(db_url)
    nights = [_fault(kind, EXPECTED["lost_ace"])] * PERSISTENT.get(answer, 1) + [[]]
    with FixtureSite(day="day1", catalog_dir=variant.path) as site_:
        config = site_config(db_url, site_, tmp_path, download_timeout=1.5, retry_times=1)
        reports = _cycles(site_, config, engine, nights)
    assert all(r.healthy for r in reports), [r.runs["ace"].health_report for r in reports]
    day2 = _status_events(reports[1])
    assert day2[("credits_changed", EXPECTED["credits_changed"])] == 1
    assert day2[("gained_ace", EXPECTED["gained_ace"])] == 1
    assert day2[("lost_ace", EXPECTED["recommendation_ended"])] == 1
    losses = [n + 1 for n, r in enumerate(reports) if _status_events(r)[("lost_ace", EXPECTED["lost_ace"])]]
    assert losses == [loss_day]
    every = Counter((e["type"], e["subject_key"]) for e in cycle_events(engine) if e["type"] in STATUS_EVENTS)
    assert every == Counter(
        {
            ("credits_changed", EXPECTED["credits_changed"]): 1,
            ("gained_ace", EXPECTED["gained_ace"]): 1,
            ("lost_ace", EXPECTED["recommendation_ended"]): 1,
            ("lost_ace", EXPECTED["lost_ace"]): 1,
        }
    )
    engine.dispose()


def test_a_systemic_failure_is_still_unhealthy_and_silent(tmp_path):
    """4 of 10 exhibit pages fail on day 2: the run is unhealthy and no status event is made."""
    variant = write_variant(tmp_path / "catalog", exhibits=10)
    catalog = load_catalog("day2", variant.path)
    failing = sorted(catalog.exhibit_by_cid)[:4]
    faults = [{"role": "ace", "path": "|".join(failing), "kind": "status:500"}]
    db_url = f"sqlite:///{tmp_path / 'a.db'}"
    engine = open_engine(db_url)
    with FixtureSite(day="day1", catalog_dir=variant.path) as site_:
        config = site_config(db_url, site_, tmp_path, retry_times=0)
        day1, day2 = _cycles(site_, config, engine, [faults])
    assert day1.healthy and day2.runs["ace"].healthy is False
    assert not _status_events(day2)
    assert [e.type for e in day2.events if e.source == "ace"] == ["source_unhealthy"]
    engine.dispose()


def test_every_answer_at_once_in_a_catalog_of_1000(db_url, tmp_path):
    """1,000 exhibits; on day 2 seven are withdrawn, each answering one way: the five with
    evidence are lost on day 2, the 500 and the timeout on day 3 once they answer; all else on day 2."""
    variant = write_variant(tmp_path / "catalog", exhibits=1000, removed=7)
    kinds = ["status:404", "status:410", "redirect", "generic_page", None, "status:500", "timeout"]
    faults = [rule for cid, kind in zip(variant.removed, kinds) for rule in _fault(kind, cid)]
    engine = open_engine(db_url)
    with FixtureSite(day="day1", catalog_dir=variant.path) as site_:
        config = site_config(db_url, site_, tmp_path, download_timeout=1.5, retry_times=1)
        day1, day2, day3 = _cycles(site_, config, engine, [faults, []])
    assert day1.healthy and day2.healthy and day3.healthy
    lost = {cid for (kind, cid) in _status_events(day2) if kind == "lost_ace"}
    assert lost == {*variant.removed[:5], EXPECTED["lost_ace"], EXPECTED["recommendation_ended"]}
    assert ("credits_changed", EXPECTED["credits_changed"]) in _status_events(day2)
    assert ("gained_ace", EXPECTED["gained_ace"]) in _status_events(day2)
    assert set(_status_events(day3)) == {("lost_ace", cid) for cid in variant.removed[5:]}
    every = Counter((e["type"], e["subject_key"]) for e in cycle_events(engine) if e["type"] in STATUS_EVENTS)
    assert set(every.values()) == {1} and len(every) == 11
    engine.dispose()


def test_a_listing_not_read_makes_gone_evidence_wait_one_healthy_run(tmp_path):
    """Day 2: the withdrawn exhibit answers 404 but one organization page fails; the loss waits
    (no event from half a listing), then the next run confirms it even with that page still failing."""
    variant = write_variant(tmp_path / "catalog", exhibits=10)
    catalog = load_catalog("day2", variant.path)
    changed = {catalog.exhibit_by_cid[EXPECTED[c]]["oid"].lower() for c in ("credits_changed", "gained_ace")}
    changed.add(next(c["oid"] for c in EXPECTED_CHANGES if c["change"] == "lost_ace").lower())
    other_org = sorted(set(catalog.org_by_oid) - changed)[0]
    faults = _fault("status:404", EXPECTED["lost_ace"]) + [
        {"role": "ace", "path": f"(?i)organization\\.aspx\\?oid={other_org}", "kind": "status:503"}
    ]
    db_url = f"sqlite:///{tmp_path / 'a.db'}"
    engine = open_engine(db_url)
    with FixtureSite(day="day1", catalog_dir=variant.path) as site_:
        config = site_config(db_url, site_, tmp_path, retry_times=0)
        reports = _cycles(site_, config, engine, [faults, faults])
    assert all(r.runs["ace"].healthy for r in reports), [r.runs["ace"].health_report for r in reports]
    assert ("lost_ace", EXPECTED["lost_ace"]) not in _status_events(reports[1])
    assert ("lost_ace", EXPECTED["lost_ace"]) in _status_events(reports[2])
    engine.dispose()


# --------------------------------------------------------------------------- a record stuck unknown


def _unknown(*keys: str) -> dict[str, dict]:
    return {k: {"title": f"Exhibit {k}", "url": f"https://ace.example/{k}", "problem": "HTTP 500"} for k in keys}


@pytest.mark.parametrize(
    "history, after, reported",
    [
        ([_unknown("a")], 3, set()),  # one run: too early
        ([_unknown("a"), _unknown("a"), _unknown("a")], 3, {"a"}),  # third run in a row
        ([_unknown("a"), _unknown("a"), _unknown("a"), _unknown("a")], 3, set()),  # fourth: already told
        ([_unknown("a", "b"), _unknown("a"), _unknown("a", "b"), {}], 3, {"a"}),  # b's streak was broken
        ([_unknown("a"), {}, _unknown("a"), _unknown("a")], 3, set()),  # readable last run
        ([_unknown("a"), _unknown("a")], 1, set()),
        ([_unknown("a"), {}], 1, {"a"}),
        ([_unknown("a"), _unknown("a"), _unknown("a")], 0, set()),  # 0 turns it off
    ],
)
def test_a_record_stuck_unknown_is_reported_once(history, after, reported):
    events = unreadable_events("ace", history[: after + 1], after, run_id=9)
    assert {e.subject_key for e in events} == reported
    for e in events:
        assert e.type == "record_unreadable" and e.new == "HTTP 500" and e.evidence_url.endswith(e.subject_key)


def test_an_exhibit_unreadable_night_after_night_is_reported_once_and_the_source_stays_healthy(tmp_path):
    variant = write_variant(tmp_path / "catalog", exhibits=10)
    stuck = EXPECTED["credits_changed"]
    db_url = f"sqlite:///{tmp_path / 'a.db'}"
    engine = open_engine(db_url)
    with FixtureSite(day="day1", catalog_dir=variant.path) as site_:
        config = site_config(db_url, site_, tmp_path, retry_times=0)
        config = replace(config, health=replace(config.health, unreadable_alert_after=2))
        reports = _cycles(site_, config, engine, [_fault("status:500", stuck)] * 3)
    assert all(r.healthy for r in reports)
    told = [[e for e in r.events if e.type == "record_unreadable"] for r in reports]
    assert [len(t) for t in told] == [0, 0, 1, 0]
    assert told[2][0].subject_key == stuck and "500" in told[2][0].new
    assert ("gained_ace", EXPECTED["gained_ace"]) in _status_events(reports[1])  # the rest is not held back
    engine.dispose()
