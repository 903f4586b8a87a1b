"""The judging rules as tables: plain records in, results out, no engine, no crawl.

Spidermon's style: each row is a value, a threshold, the expected verdict and the message a person
reads. The health gate (monitor.health), the period status (monitor.status), the diff rules
(monitor.diff) and the expiring rule run here on dataclasses and dicts; the end-to-end tests show
the same rules on real crawls.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

import pytest

from monitor.diff import (
    SnapshotPair,
    ace_events,
    claim_changed,
    claim_events,
    coursera_events,
    expiring_events,
    match_events,
)
from monitor.events import BY_TYPE, EVENT_TYPES, KINDS, Event, event, grouped
from monitor.health import HealthConfig, judge
from monitor.status import ACTIVE, EXPIRED, NOT_YET_ACTIVE, UNKNOWN, exhibit_status, status_moved

TODAY = date(2026, 12, 2)


# ---------------------------------------------------------------- the health gate


@dataclass(frozen=True)
class Run:
    """What the gate reads of a crawl run."""

    outcome: str = "finished"
    finish_reason: str | None = "finished"
    pages: int = 100
    records: int = 100
    errors: int = 0
    unknown: int = 0


HEALTH = [
    # check, run, earlier healthy runs' sizes (newest first), thresholds, ok, message
    ("finished", Run(), [], {}, True, "crawl finished normally"),
    (
        "finished",
        Run(outcome="failed", finish_reason="closespider_timeout"),
        [],
        {},
        False,
        "crawl did not finish normally (closespider_timeout)",
    ),
    (
        "finished",
        Run(outcome="interrupted", finish_reason=None),
        [],
        {},
        False,
        "crawl did not finish normally (interrupted)",
    ),
    ("records", Run(records=0), [], {}, False, "the crawl stored no records"),
    ("records", Run(records=1), [], {}, True, "1 records"),
    ("errors", Run(errors=5), [], {}, True, "5 failed requests of 100 pages (5.0%, limit 5% and at least 3)"),
    ("errors", Run(errors=6), [], {}, False, "6 failed requests of 100 pages (6.0%, limit 5% and at least 3)"),
    ("errors", Run(pages=10, errors=2), [], {}, True, "2 failed requests of 10 pages (20.0%, limit 5% and at least 3)"),
    (
        "errors",
        Run(pages=10, errors=3),
        [],
        {},
        False,
        "3 failed requests of 10 pages (30.0%, limit 5% and at least 3)",
    ),
    ("errors", Run(pages=0, errors=0), [], {}, True, "0 failed requests of 0 pages (0.0%, limit 5% and at least 3)"),
    (
        "errors",
        Run(pages=10, errors=2),
        [],
        {"min_failed_requests": 1},
        False,
        "2 failed requests of 10 pages (20.0%, limit 5% and at least 1)",
    ),
    ("unreadable", Run(unknown=5), [], {}, True, "5 of 100 records unreadable (5.0%, limit 5% and at least 3)"),
    ("unreadable", Run(unknown=6), [], {}, False, "6 of 100 records unreadable (6.0%, limit 5% and at least 3)"),
    (
        "unreadable",
        Run(records=20, unknown=2),
        [],
        {},
        True,
        "2 of 20 records unreadable (10.0%, limit 5% and at least 3)",
    ),
    (
        "unreadable",
        Run(records=20, unknown=2),
        [],
        {"max_unknown_ratio": 0.2},
        True,
        "2 of 20 records unreadable (10.0%, limit 20% and at least 3)",
    ),
    ("catalog_size", Run(records=5), [], {}, True, "5 records (no earlier healthy run to compare)"),
    (
        "catalog_size",
        Run(records=80),
        [100] * 5,
        {},
        True,
        "80 records; floor 80 (80% of the median 100 of the last 5 healthy runs)",
    ),
    (
        "catalog_size",
        Run(records=79),
        [100] * 5,
        {},
        False,
        "79 records; floor 80 (80% of the median 100 of the last 5 healthy runs)",
    ),
    (
        "catalog_size",
        Run(records=79),
        [100, 10, 10, 100, 100, 1, 1],
        {},
        False,
        "79 records; floor 80 (80% of the median 100 of the last 5 healthy runs)",
    ),
    (
        "catalog_size",
        Run(records=40),
        [100, 50],
        {"min_fraction_of_median": 0.5},
        True,
        "40 records; floor 37 (50% of the median 75 of the last 2 healthy runs)",
    ),
]


@pytest.mark.parametrize("name, run, sizes, limits, ok, message", HEALTH)
def test_health_gate(name, run, sizes, limits, ok, message):
    checks = {check.check: check for check in judge(run, [Run(records=n) for n in sizes], HealthConfig(**limits))}
    assert (checks[name].ok, checks[name].message) == (ok, message)


def test_every_health_check_has_a_row():
    assert {row[0] for row in HEALTH} == {check.check for check in judge(Run(), [], HealthConfig())}


# ---------------------------------------------------------------- period status


def period(start: str | None, end: str | None, *hours: float) -> dict:
    return {"start": start, "end": end, "credits": [{"level": "L", "hours": h, "subject": "S"} for h in hours]}


NOW = period("2024-10-01", "2034-09-30", 3, 6)
OLD = period("2019-01-01", "2024-09-30", 3)
LATER = period("2027-01-01", "2030-12-31", 4)

STATUS = [
    # periods, parse status, expected status, credits, the period it is about
    ([NOW], "ok", ACTIVE, 9.0, NOW),
    ([OLD, NOW], "ok", ACTIVE, 9.0, NOW),
    ([OLD], "ok", EXPIRED, 3.0, OLD),
    ([LATER], "ok", NOT_YET_ACTIVE, 4.0, LATER),
    ([OLD, LATER], "ok", EXPIRED, 4.0, LATER),  # between two periods: the latest one is shown
    ([period("2026-12-02", "2026-12-02", 1)], "ok", ACTIVE, 1.0, period("2026-12-02", "2026-12-02", 1)),  # both ends
    ([period("2020-01-01", None, 2)], "ok", ACTIVE, 2.0, period("2020-01-01", None, 2)),  # open end
    ([period(None, "2026-12-01", 2)], "ok", EXPIRED, 2.0, period(None, "2026-12-01", 2)),
    ([], "ok", UNKNOWN, None, None),  # a page without periods is not "not recommended"
    ([NOW], "unknown", UNKNOWN, None, None),  # an unreadable page never is
]


@pytest.mark.parametrize("periods, parse_status, status, credits, about", STATUS)
def test_period_status(periods, parse_status, status, credits, about):
    assert exhibit_status(periods, parse_status, TODAY).to_dict() == {
        "status": status,
        "period": about,
        "credits": credits,
    }


MOVED = [
    # periods, parse status, first night, second night, did the calendar alone change what the page says?
    ([OLD], "ok", date(2024, 9, 30), date(2024, 10, 1), True),  # the period ended overnight
    ([LATER], "ok", date(2026, 12, 31), date(2027, 1, 1), True),  # one began
    ([OLD, NOW], "ok", date(2024, 9, 30), date(2024, 10, 1), True),  # a new period took over (renewed)
    ([NOW], "ok", date(2025, 1, 1), date(2026, 1, 1), False),  # active on both nights, same period
    ([OLD], "ok", date(2025, 1, 1), date(2026, 1, 1), False),  # expired on both
    ([OLD], "ok", date(2024, 10, 1), date(2024, 10, 1), False),  # the same night
    ([OLD], "unknown", date(2024, 9, 30), date(2024, 10, 1), False),  # an unreadable page says nothing
]


@pytest.mark.parametrize("periods, parse_status, first, second, moved", MOVED)
def test_status_moved_by_the_calendar(periods, parse_status, first, second, moved):
    assert status_moved(periods, parse_status, first, second) is moved


# ---------------------------------------------------------------- the expiring rule


def expiring_exhibit(cid: str, end: str, ace_id: str | None = "GOOG-1", parse_status: str = "ok") -> dict:
    return {
        "cid": cid,
        "ace_id": ace_id,
        "title": f"Program {cid}",
        "url": f"https://ace.test/{cid}",
        "periods": [period("2024-01-01", end, 6)],
        "parse_status": parse_status,
    }


EXPIRING = [
    # period end, window (days), already announced, a sibling version, days left (None: no event), reason
    ("2026-12-31", 30, False, None, 29, "period ends 2026-12-31, in 29 days"),
    ("2027-01-01", 30, False, None, 30, "period ends 2027-01-01, in 30 days"),
    ("2027-01-02", 30, False, None, None, None),  # beyond the window
    ("2026-12-02", 30, False, None, 0, "period ends 2026-12-02, in 0 days"),  # the last day
    ("2026-12-01", 30, False, None, None, None),  # already ended: lost_ace says it, not this
    ("2026-12-31", 30, True, None, None, None),  # announced once per (cid, end)
    ("2026-12-31", 0, False, None, None, None),
    ("2026-12-31", 30, False, period("2027-01-01", "2031-12-31", 6), None, None),  # its successor carries it on
    ("2026-12-31", 30, False, period("2027-01-02", "2031-12-31", 6), 29, "period ends 2026-12-31, in 29 days"),  # a gap
]


@pytest.mark.parametrize("end, window, announced, sibling, days_left, reason", EXPIRING)
def test_expiring(end, window, announced, sibling, days_left, reason):
    exhibit = expiring_exhibit("c1", end)
    siblings = [{**expiring_exhibit("c2", "2099-01-01"), "periods": [sibling]}] if sibling else []
    already = {("c1", end)} if announced else set()
    events = expiring_events([exhibit], TODAY, 7, window, already, versions_of=lambda ids: siblings)
    expected = [] if days_left is None else [(days_left, reason, end, "6 credits", (None, 7))]
    assert [(e.details["days_left"], e.reason, e.new, e.old, (e.from_run_id, e.to_run_id)) for e in events] == expected


def test_an_unreadable_exhibit_is_never_expiring():
    assert expiring_events([expiring_exhibit("c1", "2026-12-31", parse_status="unknown")], TODAY, 7, 30, set()) == []


# ---------------------------------------------------------------- the ACE diff


def ace_row(cid: str, *periods: dict, version: int | None = 1, title: str = "Data Analytics", ace_id="GOOG-1") -> dict:
    return {
        "cid": cid,
        "ace_id": ace_id,
        "version": version,
        "title": title,
        "organization": "Google",
        "url": f"https://ace.test/{cid}",
        "periods": list(periods),
        "parse_status": "ok",
    }


def unreadable_row(cid: str) -> dict:
    return {"cid": cid, "ace_id": None, "version": None, "title": None, "url": f"https://ace.test/{cid}",
            "periods": [], "parse_status": "unknown", "organization": None}  # fmt: skip


def ace_pair(old: list[dict], new: list[dict], unreadable_new: list[tuple[str, dict]] = ()) -> SnapshotPair:
    """Two nights of ACE rows, as store.diffs hands them over: the changed keys, their rows, every version."""
    before, after = {r["cid"]: r for r in old}, {r["cid"]: r for r in new}
    changed = sorted(k for k in before.keys() & after.keys() if before[k] != after[k])
    return SnapshotPair(
        1,
        2,
        TODAY,
        TODAY,
        added=sorted(after.keys() - before.keys()),
        removed=sorted(before.keys() - after.keys()),
        changed=changed,
        old={k: r for k, r in before.items() if k not in after or k in changed},
        new={k: r for k, r in after.items() if k not in before or k in changed},
        old_versions=[(r["ace_id"], r) for r in old if r["ace_id"]],
        new_versions=[(r["ace_id"], r) for r in new if r["ace_id"]] + list(unreadable_new),
    )


ACE_DIFF = [
    # night 1, night 2, expected (type, subject key, old, new), the reason or words a reader gets
    ([ace_row("a", OLD)], [ace_row("a", OLD, NOW)], [("gained_ace", "a", "expired", "9 credits")], None),
    ([ace_row("a", LATER)], [ace_row("a", NOW)], [("gained_ace", "a", "not_yet_active", "9 credits")], None),
    ([], [ace_row("a", NOW)], [("gained_ace", "a", None, "9 credits")], None),
    (
        [ace_row("a", NOW)],
        [],
        [("lost_ace", "a", "9 credits", "removed")],
        "exhibit removed from the National Guide",
    ),
    (
        [ace_row("a", NOW)],
        [ace_row("a", period("2024-10-01", "2026-12-01", 3, 6))],
        [("lost_ace", "a", "9 credits", "expired")],
        "recommendation period ended 2026-12-01",
    ),
    (
        [ace_row("a", NOW)],
        [ace_row("a", period("2024-10-01", "2034-09-30", 3))],
        [("credits_changed", "a", "9", "3")],
        None,
    ),
    (
        [ace_row("a", NOW)],
        [ace_row("a", period("2024-10-01", "2035-09-30", 3, 6))],
        [("recommendation_renewed", "a", "2024-10-01 to 2034-09-30", "2024-10-01 to 2035-09-30")],
        None,
    ),
    (  # a second version taking over with other credits: one change, not gained + lost
        [ace_row("a", NOW)],
        [ace_row("a", OLD), ace_row("b", period("2024-10-01", "2034-09-30", 12), version=2)],
        [("credits_changed", "b", "9", "12")],
        None,
    ),
    (
        [ace_row("a", NOW)],
        [ace_row("a", NOW, title="Data Analytic")],
        [("renamed", "a", "Data Analytics", "Data Analytic")],
        ["Analytics -> Analytic"],
    ),
    ([ace_row("a", NOW)], [ace_row("a", NOW)], [], None),  # nothing changed
    (
        [ace_row("a", OLD)],
        [ace_row("a", OLD, title="Other")],
        [("renamed", "a", "Data Analytics", "Other")],
        ["- Data", "Analytics -> Other"],
    ),
]


@pytest.mark.parametrize("night1, night2, expected, says", ACE_DIFF)
def test_ace_diff(night1, night2, expected, says):
    events = ace_events(ace_pair(night1, night2))
    assert [(e.type, e.subject_key, e.old, e.new) for e in events] == expected
    assert all(
        (e.from_run_id, e.to_run_id) == (1, 2) and e.evidence_url.startswith("https://ace.test/") for e in events
    )
    if isinstance(says, str):
        assert [e.reason for e in events] == [says]
    elif says:
        assert [e.differences for e in events] == [says]


def test_an_unreadable_version_holds_its_ace_id_back():
    """Version 2 cannot be read on night 2: nothing is said about GOOG-1, though version 1 expired."""
    night1 = [ace_row("a", NOW), ace_row("b", NOW, version=2)]
    night2 = [ace_row("a", OLD), unreadable_row("b")]
    pair = ace_pair(night1, night2, unreadable_new=[("GOOG-1", unreadable_row("b"))])
    assert ace_events(pair) == []


# ---------------------------------------------------------------- the Coursera diff


def program(key: str, title: str, parse_status: str = "ok") -> dict:
    return {"program_id": key, "slug": key.strip("/"), "title": title, "url": f"https://c.test{key}",
            "parse_status": parse_status}  # fmt: skip


COURSERA_DIFF = [
    # night 1, night 2, expected (type, key, old, new)
    ([], [program("/p", "Data")], [("new_program", "/p", None, None)]),
    ([], [program("/p", None, "unknown")], []),  # an unreadable new page is no news yet
    ([program("/p", "Data")], [], [("removed_program", "/p", None, None)]),
    (
        [program("/p", "Data Analytics")],
        [program("/p", "Data Analysis")],
        [("renamed", "/p", "Data Analytics", "Data Analysis")],
    ),
    ([program("/p", "Data")], [program("/p", None, "unknown")], []),
    ([program("/p", None, "unknown")], [program("/p", "Data")], []),
    ([program("/p", "Data")], [program("/p", "Data")], []),
]


@pytest.mark.parametrize("night1, night2, expected", COURSERA_DIFF)
def test_coursera_diff(night1, night2, expected):
    before, after = {p["program_id"]: p for p in night1}, {p["program_id"]: p for p in night2}
    changed = sorted(k for k in before.keys() & after.keys() if before[k] != after[k])
    pair = SnapshotPair(
        1,
        2,
        TODAY,
        TODAY,
        added=sorted(after.keys() - before.keys()),
        removed=sorted(before.keys() - after.keys()),
        changed=changed,
        old=before,
        new=after,
    )
    events = coursera_events(pair)
    assert [(e.type, e.subject_key, e.old, e.new) for e in events] == expected
    assert all(e.source == "coursera" and e.details["slug"] == "p" for e in events)


# ---------------------------------------------------------------- name mismatch and claims


def match(verdict: str, status: str = "recommended", cid: str = "a", claim: str | None = None) -> dict:
    return {"program_id": "/p", "cid": cid, "verdict": verdict, "status": status, "differences": ["A -> B"],
            "claim": claim, "claim_credits": 6, "credits": 9.0}  # fmt: skip


MISMATCH = [
    # old match, new match, events
    (match("exact"), match("near", "not_recommended"), [("exact", "near")]),
    (match("equivalent"), match("none", "not_recommended"), [("equivalent", "none")]),
    (match("exact"), match("equivalent"), []),  # still word for word after normalising
    (match("near"), match("none"), []),  # was not recommended: nothing lost
    (match("exact"), match("near", UNKNOWN), []),  # the new status cannot be read
    (match("exact"), match("near", cid="b"), []),  # matched another exhibit: not a slip of this one
]


@pytest.mark.parametrize("before, after, expected", MISMATCH)
def test_name_mismatch(before, after, expected):
    programs = {"/p": program("/p", "Data B")}
    exhibits = {"a": ace_row("a", NOW, title="Data A"), "b": ace_row("b", NOW, title="Data B")}
    events = match_events({"/p": before}, {"/p": after}, programs, exhibits, (1, 2))
    assert [(e.old, e.new) for e in events] == expected
    assert all(e.type == "name_mismatch" and e.ace_title == "Data A" for e in events)


CLAIMS = [
    # verdict before, verdict now, changed
    ("supported", "name_differs", True),
    ("supported", "supported", False),
    (None, "supported", False),  # a cycle stored before claim verdicts existed
    ("unknown", "supported", False),  # an unreadable side is no evidence
    ("supported", "unknown", False),
    ("credits_differ", "supported", True),
]


@pytest.mark.parametrize("before, after, changed", CLAIMS)
def test_claim_changed(before, after, changed):
    assert claim_changed(before, after) is changed
    events = claim_events({"/p": before}, [match("exact", claim=after)], {"/p": program("/p", "Data")}, {}, (1, 2))
    assert [(e.type, e.old, e.new) for e in events] == ([("claim_changed", before, after)] if changed else [])


# ---------------------------------------------------------------- the vocabulary


def test_every_kind_has_a_heading_a_short_word_and_its_place():
    assert [kind.order for kind in KINDS] == list(range(len(KINDS)))
    assert len(set(EVENT_TYPES)) == len(KINDS) and all(kind.heading and kind.short for kind in KINDS)


def test_events_group_in_the_tables_order_unknown_types_last():
    events = [
        event("renamed", "ace", "a", "A"),
        event("lost_ace", "ace", "b", "B"),
        Event("future_kind", "ace", "c", "C"),
    ]
    assert [(kind.type, len(items)) for kind, items in grouped(events)] == [
        ("lost_ace", 1),
        ("renamed", 1),
        ("future_kind", 1),
    ]
    with pytest.raises(ValueError):
        event("no_such_kind", "ace", "a", "A")


def test_an_event_survives_the_store_boundary_and_prints_one_shape():
    item = replace(event("gained_ace", "ace", "a", "A", new=9, runs=(1, 2), ace_id="GOOG-1"), id=5)
    row = item.to_row()
    assert "id" not in row and row["new"] == "9" and row["details"] == {"ace_id": "GOOG-1"}
    assert Event.from_row({**row, "id": 5, "cycle_id": 3, "detected_at": None}) == replace(item, cycle_id=3)
    assert list(item.to_json()) == [
        "id",
        "type",
        "source",
        "subject_key",
        "subject",
        "old",
        "new",
        "evidence_url",
        "from_run_id",
        "to_run_id",
        "detected_at",
        "details",
    ]
    assert BY_TYPE[item.type].short == "gained"
