"""The nightly ACE diff judges an ACE ID's versions together, on SQLite and PostgreSQL.

Stored snapshots in, events out (store.diffs reads the changed records, acewatch.cycle.changed_records
composes, monitor.diff.ace_events judges): a new version of a known ACE ID is
one credits_changed or renewal, never gained + lost; a version that cannot be read holds its
ACE ID back, even when its unreadable row no longer names the ACE ID.
"""

from __future__ import annotations

from acewatch.cycle import changed_records
from monitor.diff import ace_events
from monitor.events import Event
from store.database import open_engine
from store.runs import begin_run, get_run, save_snapshot, set_health

CURRENT, ENDED = ("2024-10-01", "2034-09-30"), ("2021-10-01", "2025-06-30")


def exhibit(cid: str, version: int | None, hours: float, dates=CURRENT, ace_id: str = "GOOG-0009") -> dict:
    return {
        "cid": cid,
        "ace_id": ace_id,
        "version": version,
        "organization": "Google",
        "title": "Google Business Intelligence Professional Certificate",
        "url": f"http://ace.test/National-Guide/Pages/Course.aspx?cid={cid}",
        "periods": [
            {
                "start": dates[0],
                "end": dates[1],
                "credits": [
                    {"level": "Lower-Division Baccalaureate/Associate Degree", "hours": hours, "subject": "data"}
                ],
            }
        ],
    }


def unreadable(cid: str) -> dict:
    return {
        "cid": cid,
        "url": f"http://ace.test/National-Guide/Pages/Course.aspx?cid={cid}",
        "parse_status": "unknown",
        "problem": "timeout",
    }


OTHER = exhibit("other-1", 1, 3, ace_id="IBM-0011")


def events_between(db_url: str, *nights: list[dict]) -> list[Event]:
    """Store each night as a healthy run; the events of the last night against the one before."""
    engine = open_engine(db_url)
    runs = []
    for records in nights:
        run_id = begin_run(engine, "ace")
        save_snapshot(engine, run_id, records, {"pages": len(records)})
        set_health(engine, run_id, True, [])
        runs.append(get_run(engine, run_id))
    try:
        return ace_events(changed_records(engine, runs[-2], runs[-1]))
    finally:
        engine.dispose()


def test_a_second_version_is_one_credits_change(db_url):
    events = events_between(
        db_url, [exhibit("v1", 1, 6), OTHER], [exhibit("v1", 1, 6, ENDED), exhibit("v2", 2, 9), OTHER]
    )
    assert [(e.type, e.subject_key, e.old, e.new) for e in events] == [("credits_changed", "v2", "6", "9")]
    assert (events[0].details["old_cid"], events[0].details["new_version"]) == ("v1", 2)


def test_same_credits_on_a_new_version_is_a_renewal(db_url):
    events = events_between(db_url, [exhibit("v1", 1, 6)], [exhibit("v2", 2, 6, ("2025-07-01", "2035-06-30"))])
    assert [(e.type, e.subject_key, e.new) for e in events] == [
        ("recommendation_renewed", "v2", "2025-07-01 to 2035-06-30")
    ]


def test_an_unreadable_new_version_holds_its_ace_id_back(db_url):
    events = events_between(
        db_url, [exhibit("v1", 1, 6), exhibit("v2", 2, 6)], [exhibit("v1", 1, 6, ENDED), unreadable("v2")]
    )
    assert events == []  # v1 ended, but v2 (unreadable tonight) may still be active


def test_an_unreadable_old_version_still_belongs_to_its_ace_id(db_url):
    """v1 could not be read tonight (its row names no ACE ID) while v2 appears: held back, not gained."""
    events = events_between(db_url, [exhibit("v1", 1, 6)], [unreadable("v1"), exhibit("v2", 2, 9)])
    assert events == []


def test_every_version_gone_is_one_loss(db_url):
    events = events_between(db_url, [exhibit("v1", 1, 6), exhibit("v2", 2, 9), OTHER], [OTHER])
    assert [(e.type, e.subject_key, e.new) for e in events] == [("lost_ace", "v2", "removed")]


def test_a_version_unreadable_two_nights_running_still_holds_its_ace_id_back(db_url):
    """v1's unreadable row did not change between the nights (so it is not among the changed rows) and
    names no ACE ID; its last readable copy puts it in GOOG-0009, so v2's arrival is held back, not gained."""
    events = events_between(db_url, [exhibit("v1", 1, 6)], [unreadable("v1")], [unreadable("v1"), exhibit("v2", 2, 9)])
    assert events == []
