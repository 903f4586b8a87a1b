"""A broken crawl must never read as "programs lost ACE status".

Day 1 is crawled healthy; day 2 is crawled while the fixture's ACE host
fails in one way; then day 2 again with the host healthy. The faulted run
must be stored as unhealthy, produce no ACE-status event and exactly one
source_unhealthy; the recovery run must give source_recovered and the real
day-2 changes.
"""

from __future__ import annotations

import pytest

from acewatch.cycle import run_cycle
from fixtures.server import FixtureSite
from store.cycles import cycle_events
from store.database import open_engine
from tests.support import EXPECTED_CHANGES, events_by_type, site_config

STATUS_EVENTS = {"gained_ace", "lost_ace", "credits_changed"}
EXHIBITS = r"(?i)/national-guide/pages/course\.aspx"
FAULTS = {
    "http_500": [{"role": "ace", "path": EXHIBITS, "kind": "status:500"}],
    "timeout": [{"role": "ace", "path": EXHIBITS, "kind": "timeout", "seconds": 3, "rate": 0.5, "seed": 7}],
    "layout_changed": [{"role": "ace", "path": EXHIBITS, "kind": "layout_changed"}],
    "organization_pages_503": [{"role": "ace", "path": r"(?i)organization\.aspx", "kind": "status:503"}],
}


def run_three_days(db_url, tmp_path, faults):
    engine = open_engine(db_url)
    with FixtureSite(day="day1") as site:
        config = site_config(db_url, site, tmp_path, download_timeout=1.5, retry_times=1)
        baseline = run_cycle(config, engine, progress="off")
        site.set_day("day2")
        site.set_faults(faults)
        faulted = run_cycle(config, engine, progress="off")
        site.clear_faults()
        recovered = run_cycle(config, engine, progress="off")
    return engine, baseline, faulted, recovered


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_faulted_ace_crawl_is_held_back_then_recovers(fault, tmp_path):
    engine, baseline, faulted, recovered = run_three_days(f"sqlite:///{tmp_path / 'a.db'}", tmp_path, FAULTS[fault])
    assert baseline.healthy
    assert faulted.runs["ace"].healthy is False
    assert faulted.runs["coursera"].healthy is True
    by_type = events_by_type(faulted.events)
    assert not STATUS_EVENTS & set(by_type), faulted.events
    assert [e.subject_key for e in by_type["source_unhealthy"]] == ["ace"]
    assert recovered.healthy
    by_type = events_by_type(recovered.events)
    assert [e.subject_key for e in by_type["source_recovered"]] == ["ace"]
    expected = {c["change"]: c["cid"] for c in EXPECTED_CHANGES}
    assert {e.subject_key for e in by_type["lost_ace"]} == {expected["lost_ace"], expected["recommendation_ended"]}
    assert [e.subject_key for e in by_type["gained_ace"]] == [expected["gained_ace"]]
    assert [e.subject_key for e in by_type["credits_changed"]] == [expected["credits_changed"]]
    engine.dispose()


def test_unhealthy_transition_is_reported_once_not_every_night(tmp_path):
    db_url = f"sqlite:///{tmp_path / 'a.db'}"
    engine = open_engine(db_url)
    with FixtureSite(day="day1") as site:
        config = site_config(db_url, site, tmp_path, retry_times=0)
        run_cycle(config, engine, progress="off")
        site.set_faults(FAULTS["http_500"])
        first = run_cycle(config, engine, progress="off")
        second = run_cycle(config, engine, progress="off")
    assert [e.type for e in first.events] == ["source_unhealthy"]
    assert second.events == []


def test_unreadable_removed_exhibit_is_not_a_loss_until_confirmed(db_url, tmp_path):
    """The removed exhibit's page fails in the day-2 run: no lost_ace; the next run confirms it."""
    lost = next(c for c in EXPECTED_CHANGES if c["change"] == "lost_ace")
    engine = open_engine(db_url)
    with FixtureSite(day="day1") as site:
        config = site_config(db_url, site, tmp_path, retry_times=0)
        run_cycle(config, engine, progress="off")
        site.set_day("day2")
        site.set_faults([{"role": "ace", "path": lost["cid"], "kind": "status:503"}])
        flicker = run_cycle(config, engine, progress="off")
        site.clear_faults()
        confirmed = run_cycle(config, engine, progress="off")
    assert flicker.runs["ace"].healthy, flicker.runs["ace"].health_report
    assert lost["cid"] not in {e.subject_key for e in flicker.events if e.type == "lost_ace"}
    assert [e.subject_key for e in confirmed.events if e.type == "lost_ace"] == [lost["cid"]]
    assert len([e for e in cycle_events(engine) if e["type"] == "lost_ace" and e["subject_key"] == lost["cid"]]) == 1
    engine.dispose()
