"""A version 2 beside version 1, end to end: real crawls of the fixture site over HTTP, real cycles.

The fixture's `day1-versions`/`day2-versions` serve three exhibits in the three real layouts
and, on day 2, a version 2 of GOOG-0009 (a new cid, 12 semester hours instead of 9) that the
organization page does not list: the `ace` spider reaches it through version 1's drop-down.
Version 1's period ends as version 2 begins. The program must come out as exactly one
credits_changed (never gained + lost), with each version stored under its own cid and number,
and `acewatch check` must answer the active version's credits and period.
"""

from __future__ import annotations

import json

import pytest

from store.runs import load_snapshot
from tests.conftest import BACKENDS
from tests.support import acewatch, crawl_two_days, events_by_type

ACE_ID = "GOOG-0009"
TITLE = "Google Business Intelligence Professional Certificate"
V1, V2 = "a11823ac-d7c4-ea11-a812-000d3a33232a", "13a87d2e-47c4-ea11-a812-000d3a33232a"
OID = "8cf144ea-04c4-ea11-a812-000d3a33232a"
LAYOUTS = {
    "df8180f4-55c4-ea11-a812-000d3a33232a": ("META-0002", 1),  # current
    V1: (ACE_ID, 1),  # intermediate, version drop-down
    "9dc29af6-18c4-ea11-a812-000d3a33232a": ("GOOG-0005", None),
}  # old: names no version


@pytest.fixture(scope="module", params=BACKENDS)
def two_days(request, tmp_path_factory):
    """This module's own crawl, of the versions days (in place of the shared `two_days` of tests/conftest.py)."""
    workdir = tmp_path_factory.mktemp(f"versions-{request.param}")
    return crawl_two_days(request, workdir, days=("day1-versions", "day2-versions"))


def test_both_days_are_healthy(two_days):
    for day in ("day1", "day2"):
        assert two_days[day].healthy, {s: r.health_report for s, r in two_days[day].runs.items()}
        assert two_days[day].runs["ace"].unknown == 0


def test_version_two_is_one_credits_change_not_gained_and_lost(two_days):
    about = [
        e
        for e in two_days["day2"].events
        if ((e.details or {}).get("ace_id") == ACE_ID or e.subject_key in (V1, V2)) and e.type != "claim_changed"
    ]
    assert [(e.type, e.subject_key, e.old, e.new) for e in about] == [("credits_changed", V2, "9", "12")]
    details = about[0].details
    assert (details["old_cid"], details["old_version"], details["new_version"]) == (V1, 1, 2)
    assert details["new_period"]["start"] == "2025-07-01" and details["old_period"]["end"] == "2033-06-30"


def test_the_other_changes_of_day_two_are_unchanged(two_days):
    by_type = events_by_type(two_days["day2"].events)
    assert {t: len(v) for t, v in by_type.items()} == {
        "gained_ace": 1,
        "lost_ace": 2,
        "credits_changed": 2,
        "renamed": 1,
        "name_mismatch": 1,
        "claim_changed": 5,
    }


def test_the_page_still_claiming_version_one_credits_is_a_claim_change(two_days):
    """Version 2 recommends 12 credits; the Coursera page still claims version 1's 9 (tests/test_claims_e2e.py)."""
    (claim,) = [e for e in events_by_type(two_days["day2"].events)["claim_changed"] if e.details["ace_id"] == ACE_ID]
    assert (claim.old, claim.new, claim.details["page_credits"], claim.details["credits"]) == (
        "supported",
        "credits_differ",
        9,
        12.0,
    )


def test_each_version_is_stored_under_its_cid_with_its_number(two_days):
    engine, runs = two_days["engine"], two_days["day2"].runs
    records = {r["cid"]: r for r in load_snapshot(engine, "ace", runs["ace"].id)}
    assert (records[V1]["version"], records[V2]["version"]) == (1, 2)
    assert records[V1]["periods"][-1]["end"] == "2025-06-30"
    assert sum(row["hours"] for row in records[V2]["periods"][-1]["credits"]) == 12
    assert records[V1]["title"] == records[V2]["title"] == TITLE
    for cid, (ace_id, version) in LAYOUTS.items():
        assert (records[cid]["ace_id"], records[cid]["version"], records[cid]["parse_status"]) == (
            ace_id,
            version,
            "ok",
        )


def test_version_two_was_reached_through_the_drop_down_only(two_days):
    """The organization page never links version 2; the spider followed version 1's drop-down to it."""
    from fixtures.dataset import load_catalog

    assert V1 in {e["cid"] for e in load_catalog("day2-versions").exhibits_of(OID)}
    assert V2 not in {e["cid"] for e in load_catalog("day2-versions").exhibits_of(OID)}
    exhibit_pages = [
        p.lower() for role, _m, p, _s in two_days["day2_requests"] if role == "ace" and "cid=" in p.lower()
    ]
    assert any(V2 in p for p in exhibit_pages)


def test_check_answers_the_active_version(two_days):
    result = acewatch("check", TITLE, "--json", db=two_days["db"], home=two_days["home"])
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["verdict"] == "exact" and answer["recommended"] is True
    match = answer["match"]
    assert (match["ace_id"], match["cid"], match["version"], match["credits"]) == (ACE_ID, V2, 2, 12)
    assert (match["period"]["start"], match["period"]["end"]) == ("2025-07-01", "2035-06-30")
    assert [c["ace_id"] for c in answer["candidates"]].count(ACE_ID) == 1  # one program, not one per version
