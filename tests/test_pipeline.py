"""End to end: real Scrapy crawls of the fixture site over HTTP, day 1 then day 2, on SQLite and PostgreSQL.

Each of the five day-2 changes the fixture documents (expected_changes.json)
must come out as its event, and nothing else may change ACE status. The crawl is the session's
shared, read-only `two_days` (tests/conftest.py).
"""

from __future__ import annotations

import json

from store.runs import load_snapshot
from tests.support import EXPECTED_CHANGES, acewatch, events_by_type

CHANGE = {c["change"]: c for c in EXPECTED_CHANGES}


def test_both_days_crawl_healthy_and_complete(two_days):
    for day in ("day1", "day2"):
        report = two_days[day]
        assert report.healthy, {s: r.health_report for s, r in report.runs.items()}
        assert report.runs["coursera"].records >= 250  # >= 3 API pages of 100
        assert report.runs["ace"].records >= 30
        assert report.runs["ace"].unknown == report.runs["coursera"].unknown == 0


def test_day_one_is_the_baseline(two_days):
    assert two_days["day1"].events == []


def test_gained_ace(two_days):
    expected = CHANGE["gained_ace"]
    (event,) = events_by_type(two_days["day2"].events)["gained_ace"]
    assert event.subject_key == expected["cid"]
    assert event.details["ace_id"] == expected["ace_id"]
    assert event.details["credits"] == expected["day2"]["ace_credits_total"]


def test_lost_ace_when_exhibit_removed_and_when_period_ended(two_days):
    lost = {e.subject_key: e for e in events_by_type(two_days["day2"].events)["lost_ace"]}
    removed, ended = CHANGE["lost_ace"], CHANGE["recommendation_ended"]
    assert set(lost) == {removed["cid"], ended["cid"]}
    assert lost[removed["cid"]].new == "removed"
    assert "removed" in lost[removed["cid"]].details["reason"]
    assert lost[ended["cid"]].new == "expired"
    assert "period ended" in lost[ended["cid"]].details["reason"]


def test_credits_changed(two_days):
    expected = CHANGE["credits_changed"]
    (event,) = events_by_type(two_days["day2"].events)["credits_changed"]
    assert event.subject_key == expected["cid"]
    assert (float(event.old), float(event.new)) == (
        expected["day1"]["ace_credits_total"],
        expected["day2"]["ace_credits_total"],
    )


def test_renamed_on_coursera_and_no_longer_matching_word_for_word(two_days):
    expected = CHANGE["renamed"]
    by_type = events_by_type(two_days["day2"].events)
    (renamed,) = by_type["renamed"]
    assert renamed.subject_key == expected["coursera_path"]
    assert renamed.old == expected["day1"]["coursera_page_title"]
    assert renamed.new == expected["day2"]["coursera_page_title"]
    assert renamed.details["differences"] == ["Developer -> Development"]
    (mismatch,) = by_type["name_mismatch"]
    assert mismatch.subject_key == expected["coursera_path"]
    assert (mismatch.old, mismatch.new) == ("exact", "near")
    assert mismatch.details["ace_id"] == expected["ace_id"]


def test_nothing_else_changed(two_days):
    assert sorted(e.type for e in two_days["day2"].events) == sorted(
        ["gained_ace", "lost_ace", "lost_ace", "credits_changed", "renamed", "name_mismatch"] + ["claim_changed"] * 4
    )  # the page claims of four programs stand differently (tests/test_claims_e2e.py)


def test_snapshot_records_carry_periods_credits_and_page_claims(two_days):
    engine, runs = two_days["engine"], two_days["day1"].runs
    exhibits = {e["cid"]: e for e in load_snapshot(engine, "ace", runs["ace"].id)}
    changed = exhibits[CHANGE["credits_changed"]["cid"]]
    assert changed["ace_id"] == CHANGE["credits_changed"]["ace_id"]
    assert changed["periods"] and all(p["credits"] for p in changed["periods"])
    programs = {p["slug"]: p for p in load_snapshot(engine, "coursera", runs["coursera"].id)}
    claimed = programs[CHANGE["credits_changed"]["coursera_slug"]]
    assert (claimed["ace_claim"], claimed["ace_credits"]) == (
        "yes",
        CHANGE["credits_changed"]["day1"]["coursera_claim_credits"],
    )
    assert sum(1 for p in programs.values() if p["ace_claim"] == "no") > 200


def test_crawler_obeys_robots_and_stays_on_the_site(two_days):
    paths = [(role, path) for role, _method, path, _status in two_days["requests"]]
    assert ("ace", "/robots.txt") in paths and ("coursera_site", "/robots.txt") in paths
    assert not [p for role, p in paths if role == "ace" and p.lower().startswith(("/_layouts", "/search"))]


def test_check_exact_name_gives_credits_and_period(two_days):
    expected = CHANGE["credits_changed"]
    result = acewatch("check", expected["ace_title"], "--json", db=two_days["db"], home=two_days["home"])
    answer = json.loads(result.stdout)
    assert result.returncode == 0, result.stderr
    assert answer["verdict"] == "exact" and answer["recommended"] is True
    assert answer["match"]["ace_id"] == expected["ace_id"]
    assert answer["match"]["credits"] == expected["day2"]["ace_credits_total"]
    assert answer["match"]["period"]["start"] == "2022-03-01" and answer["match"]["period"]["end"] == "2033-02-28"
    assert answer["as_of"]


def test_check_one_word_off_says_near_and_names_the_word(two_days):
    title = CHANGE["renamed"]["day2"]["coursera_page_title"]
    result = acewatch("check", title, db=two_days["db"], home=two_days["home"])
    assert result.returncode == 1, result.stderr
    assert "verdict: near" in result.stdout
    assert "Development -> Developer" in result.stdout
