"""recommendation_expiring: announced when an active period ends within the window, once only."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime

from acewatch.cycle import run_cycle
from fixtures.server import FixtureSite
from store.database import open_engine
from tests.support import ROOT, site_config


def us_date(text: str) -> date:
    return datetime.strptime(text, "%m/%d/%Y").date()


def active_period_ends(today: date) -> dict[str, date]:
    """cid -> end of the period active today, straight from the fixture's data."""
    exhibits = json.loads((ROOT / "fixtures" / "catalog" / "day1.json").read_text())["ace"]["exhibits"]
    ends = {}
    for exhibit in exhibits:
        for period in exhibit["periods"]:
            if us_date(period["start"]) <= today <= us_date(period["end"]):
                ends[exhibit["cid"]] = us_date(period["end"])
    return ends


def test_expiring_recommendations_are_announced_once(tmp_path):
    today = date.today()
    ends = active_period_ends(today)
    soonest = min(ends.values())
    window = (soonest - today).days
    expected = {cid for cid, end in ends.items() if end == soonest}
    db_url = f"sqlite:///{tmp_path / 'a.db'}"
    engine = open_engine(db_url)
    with FixtureSite(day="day1") as site:
        config = site_config(db_url, site, tmp_path)
        config = replace(config, alerts=replace(config.alerts, expiring_within_days=window))
        first = run_cycle(config, engine, progress="off")
        second = run_cycle(config, engine, progress="off")
    announced = [e for e in first.events if e.type == "recommendation_expiring"]
    assert {e.subject_key for e in announced} == expected
    assert all(e.new == soonest.isoformat() for e in announced)
    assert not [e for e in second.events if e.type == "recommendation_expiring"]
    engine.dispose()
