"""One ACE ID, several versions: what a program's versions say together, and how that changed.

An ACE exhibit is one ACE ID with one or more versions, each its own page (`cid`) with its own
period and credits. A learner asks about the program, not the page: a new version of a known
ACE ID is a new period of the same program, so the nightly diff judges an ACE ID's versions
together instead of each cid alone, which would report the new cid as `gained` and the old one,
once its period ends, as `lost`.

The rule, pure and small (no store, no clock; the caller gives each version's status on its night):

* a program is **active** when any version is active; the version that decides is the active one
  with the highest version number (a page that names none counts as lowest), then the latest start;
  when none is active, the latest version decides (expired, or not yet active);
* any **unknown** version (unreadable page, no last readable copy) makes the whole ACE ID unknown:
  a version we cannot read might be the one that decides, so nothing is judged from it;
* between two nights: inactive -> active is `gained`, active -> inactive (or every version gone)
  is `lost`, active -> active with other credits is `credits_changed`, with the same credits but
  another deciding version or period is `renewed`; anything else is no change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from monitor.status import ACTIVE, UNKNOWN, PeriodStatus, exhibit_status

NONE, HELD_BACK, GAINED, LOST, CREDITS_CHANGED, RENEWED = (
    "none",
    "held_back",
    "gained",
    "lost",
    "credits_changed",
    "renewed",
)


@dataclass(frozen=True)
class ExhibitVersion:
    """One cid of an ACE ID as one night read it: its version number and its status that day."""

    cid: str
    version: int | None
    status: PeriodStatus

    @classmethod
    def of(cls, record: Mapping[str, Any], day: date) -> ExhibitVersion:
        """A stored exhibit row (cid, version, periods, parse_status) as it stood on `day`."""
        return cls(
            record["cid"],
            record.get("version"),
            exhibit_status(record.get("periods") or [], record.get("parse_status", "unknown"), day),
        )

    def order(self) -> tuple[int, str, str]:
        """Newest last: version number (none = lowest), then the period's start, then cid (a stable tie)."""
        start = (self.status.period or {}).get("start") or ""
        return (-1 if self.version is None else self.version, start, self.cid)


@dataclass(frozen=True)
class ProgramState:
    """What an ACE ID's versions say on one night, and the version that says it."""

    status: str  # active | expired | not_yet_active | unknown
    deciding: ExhibitVersion | None  # None only when unknown

    @property
    def credits(self) -> float | None:
        return self.deciding.status.credits if self.deciding else None

    @property
    def period(self) -> dict[str, Any] | None:
        return self.deciding.status.period if self.deciding else None

    @property
    def cid(self) -> str | None:
        return self.deciding.cid if self.deciding else None


@dataclass(frozen=True)
class ProgramChange:
    """The judgement between two nights; `before`/`after` None: the ACE ID had no version that night."""

    kind: str  # none | held_back | gained | lost | credits_changed | renewed
    before: ProgramState | None
    after: ProgramState | None


def program_state(versions: Sequence[ExhibitVersion]) -> ProgramState | None:
    """The program's status from all its versions; None when it has none (not listed at all)."""
    if not versions:
        return None
    if any(v.status.status == UNKNOWN for v in versions):
        return ProgramState(UNKNOWN, None)
    active = [v for v in versions if v.status.status == ACTIVE]
    deciding = max(active or versions, key=ExhibitVersion.order)
    return ProgramState(deciding.status.status, deciding)


def judge_versions(before: Sequence[ExhibitVersion], after: Sequence[ExhibitVersion]) -> ProgramChange:
    """How an ACE ID changed between two nights, judged on all its versions at once."""
    old, new = program_state(before), program_state(after)
    if UNKNOWN in (getattr(old, "status", None), getattr(new, "status", None)):
        return ProgramChange(HELD_BACK, old, new)
    was, now = bool(old and old.status == ACTIVE), bool(new and new.status == ACTIVE)
    if now and not was:
        return ProgramChange(GAINED, old, new)
    if was and not now:
        return ProgramChange(LOST, old, new)
    if not (was and now):
        return ProgramChange(NONE, old, new)
    if old.credits != new.credits:
        return ProgramChange(CREDITS_CHANGED, old, new)
    if old.cid != new.cid or _dates(old.period) != _dates(new.period):
        return ProgramChange(RENEWED, old, new)
    return ProgramChange(NONE, old, new)


def _dates(period: Mapping[str, Any] | None) -> tuple[Any, Any]:
    return (None, None) if period is None else (period.get("start"), period.get("end"))
