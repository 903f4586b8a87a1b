"""A recommendation that ends or begins by the calendar alone is a change the monitor reports.

ACE's exhibits state fixed dates: the night after a period ends, the page is byte for byte the page of
the night before, so a diff of page contents sees nothing. These tests crawl the same fixture site twice
(no page changes at all) with the first night moved back to 2024-04-15, and expect exactly the ACE IDs
whose status the calendar moved meanwhile, judged here from the fixture's own dates (not by the code under
test): GOOG-0006's only period ended 4/30/2024 (lost), AWT-0002's began 5/1/2024 (gained).
"""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
from sqlalchemy import text

from fixtures.dataset import CATALOG_DIR
from tests.support import events_by_type, fresh_store_url, site_config

FIRST_NIGHT = date(2024, 4, 15)


def _day(value: str | None) -> date | None:
    if not value:
        return None
    month, day, year = (int(part) for part in value.split("/"))
    return date(year, month, day)


def _active(exhibit: dict, day: date) -> bool:
    return any(
        (_day(p.get("start")) or date.min) <= day <= (_day(p.get("end")) or date.max) for p in exhibit["periods"]
    )


def moved_by_calendar(first: date, second: date) -> tuple[set[str], set[str]]:
    """(lost, gained) ACE IDs of the day-1 fixture between two days: any version active, then none (or back)."""
    exhibits = json.loads((CATALOG_DIR / "day1.json").read_text())["ace"]["exhibits"]
    by_id: dict[str, list[dict]] = {}
    for exhibit in exhibits:
        by_id.setdefault(exhibit["ace_id"], []).append(exhibit)
    before = {ace_id for ace_id, versions in by_id.items() if any(_active(v, first) for v in versions)}
    after = {ace_id for ace_id, versions in by_id.items() if any(_active(v, second) for v in versions)}
    return before - after, after - before


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def nights(request, tmp_path_factory):
    """Night 1 (dated 2024-04-15), then night 2 today and night 3 today again, over the same day-1 pages."""
    from acewatch.cycle import run_cycle
    from fixtures.server import FixtureSite
    from store.database import open_engine
    from store.runs import snapshot_changes

    home = tmp_path_factory.mktemp(f"calendar-{request.param}")
    db = fresh_store_url(request, home)
    engine = open_engine(db)
    request.addfinalizer(engine.dispose)
    with FixtureSite(day="day1") as site:
        config = site_config(db, site, home)
        first = run_cycle(config, engine, progress="off")
        ace_run = first.runs["ace"]
        shift = datetime.combine(FIRST_NIGHT, ace_run.started_at.timetz()) - ace_run.started_at
        with engine.begin() as connection:
            connection.execute(
                text("UPDATE crawl_run SET started_at = :started, finished_at = :finished WHERE id = :id"),
                {"started": ace_run.started_at + shift, "finished": ace_run.finished_at + shift, "id": ace_run.id},
            )
        second = run_cycle(config, engine, progress="off")
        third = run_cycle(config, engine, progress="off")
    today = second.runs["ace"].started_at.date()
    pages = snapshot_changes(engine, "ace", ace_run.id, second.runs["ace"].id)
    return {"second": second, "third": third, "today": today, "pages": pages}


def test_the_pages_did_not_change(nights):
    assert nights["second"].healthy
    assert not any(nights["pages"][kind] for kind in ("added", "removed", "changed")), nights["pages"]


def test_a_period_that_ended_overnight_is_lost_and_one_that_began_is_gained(nights):
    lost, gained = moved_by_calendar(FIRST_NIGHT, nights["today"])
    assert "GOOG-0006" in lost and "AWT-0002" in gained  # the fixture still dates them so
    events = events_by_type(nights["second"].events)
    assert {e.ace_id for e in events.get("lost_ace", [])} == lost
    assert {e.ace_id for e in events.get("gained_ace", [])} == gained
    (goog,) = [e for e in events["lost_ace"] if e.ace_id == "GOOG-0006"]
    assert goog.reason == "recommendation period ended 2024-04-30" and goog.old == "12 credits"
    assert "renamed" not in events


def test_the_calendar_is_read_once_per_move(nights):
    """The third night, on the same day as the second, has nothing new to say."""
    status_events = {"lost_ace", "gained_ace", "credits_changed", "recommendation_renewed"}
    assert not [e for e in nights["third"].events if e.type in status_events]
