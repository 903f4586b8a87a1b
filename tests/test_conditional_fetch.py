"""A night with nothing new costs validators and 304s, and reads exactly what a full night reads.

Real crawls over HTTP against the fixture site, which sends ETags and answers a matching
If-None-Match with 304 (or, as some servers do, sends no validator at all). The second night
over an unchanged site must store the same records while the site sends a fraction of the
bytes; a changed page is fetched whole; a failure is never replaced by the stored page; the
weekly full night fetches everything; program pages whose sitemap <lastmod> has not moved are
not requested at all.
"""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path

import pytest

from acewatch.crawl import full_fetch_due
from acewatch.cycle import run_cycle
from crawler.cache import unchanged_since
from fixtures.server import FixtureSite
from store.database import open_engine
from store.runs import load_snapshot
from tests.support import EXPECTED_CHANGES, events_by_type, site_config

STATUS = 3  # index of the status in a request-log row


@pytest.mark.parametrize(
    "lastmod, stored_at, unchanged",
    [
        ("2026-11-20", "Mon, 30 Nov 2026 10:00:00 GMT", True),
        ("2026-11-30", "Mon, 30 Nov 2026 10:00:00 GMT", False),  # a bare date may mean later that day
        ("2026-11-29", "Mon, 30 Nov 2026 00:00:01 GMT", True),
        ("2026-11-30T10:00:00Z", "Mon, 30 Nov 2026 10:00:00 GMT", False),  # the same second: fetch again
        ("2026-11-30T09:00:00+00:00", "Mon, 30 Nov 2026 10:00:00 GMT", True),
        ("2026-11-30T11:00:00Z", "Mon, 30 Nov 2026 10:00:00 GMT", False),
        ("2026-11-30T11:00:00+02:00", "Mon, 30 Nov 2026 10:00:00 GMT", True),
        ("", "Mon, 30 Nov 2026 10:00:00 GMT", False),  # no lastmod: revalidate
        ("2026-11-20", None, False),
        ("yesterday", "Mon, 30 Nov 2026 10:00:00 GMT", False),  # unreadable: revalidate
        ("2026-11-20", "not a date", False),
    ],
)
def test_a_page_is_skipped_only_when_its_lastmod_is_before_the_stored_copy(lastmod, stored_at, unchanged):
    assert unchanged_since(lastmod, stored_at) is unchanged


def _records(engine, run) -> dict:
    source = run.source
    key = "cid" if source == "ace" else "program_id"
    return {
        r[key]: {k: v for k, v in r.items() if k not in ("id", "run_id")} for r in load_snapshot(engine, source, run.id)
    }


def _night(site, config, engine):
    site.clear_requests()
    before = site.bytes_sent
    report = run_cycle(config, engine, progress="off")
    return report, site.bytes_sent - before, site.requests


def test_an_unchanged_night_reads_the_same_records_for_a_fraction_of_the_bytes(db_url, tmp_path):
    engine = open_engine(db_url)
    with FixtureSite(day="day1") as site:
        config = site_config(db_url, site, tmp_path)
        full, full_bytes, full_log = _night(site, config, engine)
        quiet, quiet_bytes, quiet_log = _night(site, config, engine)
    assert full.healthy and quiet.healthy
    for source in ("ace", "coursera"):
        assert _records(engine, quiet.runs[source]) == _records(engine, full.runs[source]), source
    assert [e for e in quiet.events if e.type not in ("recommendation_expiring",)] == []
    assert sum(1 for row in full_log if row[STATUS] == 304) == 0
    assert sum(1 for row in quiet_log if row[STATUS] == 304) > 0.8 * len(quiet_log) - 10
    assert quiet_bytes < 0.2 * full_bytes, (quiet_bytes, full_bytes)
    engine.dispose()


def test_changed_pages_are_fetched_whole_and_every_change_is_reported(tmp_path):
    db_url = f"sqlite:///{tmp_path / 'a.db'}"
    engine = open_engine(db_url)
    with FixtureSite(day="day1") as site:
        config = site_config(db_url, site, tmp_path)
        _night(site, config, engine)
        site.set_day("day2")
        day2, _bytes, log = _night(site, config, engine)
    changed = {c["cid"] for c in EXPECTED_CHANGES if c["change"] in ("credits_changed", "recommendation_ended")}
    assert all(status == 200 for _role, _method, path, status in log if any(cid in path for cid in changed))
    by_type = events_by_type(day2.events)
    expected = {c["change"]: c["cid"] for c in EXPECTED_CHANGES}
    assert [e.subject_key for e in by_type["credits_changed"]] == [expected["credits_changed"]]
    assert {e.subject_key for e in by_type["lost_ace"]} == {expected["lost_ace"], expected["recommendation_ended"]}
    assert [e.subject_key for e in by_type["gained_ace"]] == [expected["gained_ace"]]
    engine.dispose()


def test_a_failing_page_is_unknown_not_its_stored_copy(tmp_path):
    """Scrapy's cache would answer a 5xx or a timeout with the stored page: acewatch must not."""
    db_url = f"sqlite:///{tmp_path / 'a.db'}"
    engine = open_engine(db_url)
    stable = "a11823ac-d7c4-ea11-a812-000d3a33232a"
    with FixtureSite(day="day1") as site:
        config = site_config(db_url, site, tmp_path, retry_times=0)
        _night(site, config, engine)
        site.set_faults([{"role": "ace", "path": stable, "kind": "status:500"}])
        faulted, _bytes, _log = _night(site, config, engine)
    record = _records(engine, faulted.runs["ace"])[stable]
    assert record["parse_status"] == "unknown" and "500" in record["problem"]
    engine.dispose()


def test_without_validators_every_page_is_fetched_whole(tmp_path):
    db_url = f"sqlite:///{tmp_path / 'a.db'}"
    engine = open_engine(db_url)
    with FixtureSite(day="day1", validators=False) as site:
        config = site_config(db_url, site, tmp_path)
        full, full_bytes, _log = _night(site, config, engine)
        again, again_bytes, log = _night(site, config, engine)
    assert again.healthy and not any(row[STATUS] == 304 for row in log)
    assert again_bytes > 0.9 * full_bytes
    engine.dispose()


def test_the_weekly_full_night_fetches_everything(tmp_path):
    db_url = f"sqlite:///{tmp_path / 'a.db'}"
    engine = open_engine(db_url)
    with FixtureSite(day="day1") as site:
        config = site_config(db_url, site, tmp_path)
        assert full_fetch_due(config)  # an empty cache: the first night is full
        _night(site, config, engine)
        assert not full_fetch_due(config)
        marker = Path(config.crawl.cache_dir) / "last-full-fetch"
        week_ago = time.time() - 7 * 86400 - 60
        os.utime(marker, (week_ago, week_ago))
        assert full_fetch_due(config)
        weekly, _bytes, log = _night(site, config, engine)
        assert weekly.healthy and not any(row[STATUS] == 304 for row in log)
        assert not full_fetch_due(config)
        off = replace(config, crawl=replace(config.crawl, cache_dir="off"))
        assert full_fetch_due(off)
    engine.dispose()


def test_program_pages_whose_lastmod_has_not_moved_are_not_requested(tmp_path):
    """The fixture's sitemaps date every program page before today: on the second night the
    stored copies stand, and not one program page is requested."""
    db_url = f"sqlite:///{tmp_path / 'a.db'}"
    engine = open_engine(db_url)
    with FixtureSite(day="day1") as site:
        config = site_config(db_url, site, tmp_path)
        first, _b, first_log = _night(site, config, engine)
        second, _b, log = _night(site, config, engine)
    program_pages = [row for row in log if row[0] == "coursera_site" and "/professional-certificates/" in row[2]]
    assert any("/professional-certificates/" in row[2] for row in first_log)
    assert program_pages == []
    assert _records(engine, second.runs["coursera"]) == _records(engine, first.runs["coursera"])
    engine.dispose()
