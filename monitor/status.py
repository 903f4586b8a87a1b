"""What an exhibit's recommendation periods mean on a given day.

Pure stdlib, shared by the nightly diff and `acewatch check`. Status is
three-valued where it matters: an exhibit we could not read is `unknown`,
which never produces an event and never reads as "not recommended".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

ACTIVE, EXPIRED, NOT_YET_ACTIVE, UNKNOWN = "active", "expired", "not_yet_active", "unknown"


@dataclass(frozen=True)
class PeriodStatus:
    status: str
    period: dict[str, Any] | None  # the period the status is about (current, else the latest)
    credits: float | None  # semester hours in that period

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "period": self.period, "credits": self.credits}


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def period_credits(period: dict[str, Any]) -> float:
    return round(sum(float(row.get("hours") or 0) for row in period.get("credits", [])), 2)


def exhibit_status(periods: list[dict[str, Any]], parse_status: str, today: date) -> PeriodStatus:
    """`active` if today falls inside a period, else `expired` / `not_yet_active`."""
    if parse_status != "ok" or not periods:
        return PeriodStatus(UNKNOWN, None, None)
    ordered = sorted(periods, key=lambda p: p.get("start") or "")
    for period in reversed(ordered):
        start, end = _day(period.get("start")), _day(period.get("end"))
        if (start is None or start <= today) and (end is None or today <= end):
            return PeriodStatus(ACTIVE, period, period_credits(period))
    if all((_day(p.get("start")) or date.min) > today for p in ordered):
        return PeriodStatus(NOT_YET_ACTIVE, ordered[0], period_credits(ordered[0]))
    latest = ordered[-1]
    return PeriodStatus(EXPIRED, latest, period_credits(latest))


def status_moved(periods: list[dict[str, Any]], parse_status: str, old_day: date, new_day: date) -> bool:
    """Whether the calendar alone changes what an exhibit says between two nights (a period ended or began).

    ACE's pages state fixed dates, so an exhibit whose period ends overnight is byte for byte the page
    of the night before: a diff of page contents cannot see it, the calendar must."""
    return exhibit_status(periods, parse_status, old_day) != exhibit_status(periods, parse_status, new_day)
