"""The reads behind `status` and `history` (acewatch.outputs.reports shapes what they return).

Snapshot, match and event rows come back whole, as plain dicts (like
store.runs.load_snapshot); everything else as small typed values. Times are
UTC and timezone-aware whatever the backend (SQLite returns naive datetimes).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import Engine, func, select

from store.models import AceExhibit, ChangeEvent, CourseraProgram, CrawlRun, Cycle, ProgramMatch
from store.runs import SNAPSHOT_KEYS, SNAPSHOT_TABLES

_BATCH = 500


def aware(moment: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; every time in the store is UTC."""
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class CycleSummary:
    """The newest cycle, whatever its outcome, and how many events it stored."""

    id: int
    started_at: datetime
    finished_at: datetime | None
    outcome: str
    ace_run_id: int | None
    coursera_run_id: int | None
    events: int


class CycleRuns(NamedTuple):
    """A finished cycle and the two snapshots it judged."""

    id: int
    started_at: datetime
    ace_run_id: int | None
    coursera_run_id: int | None


class ExhibitName(NamedTuple):
    cid: str
    ace_id: str | None
    title: str | None


class ProgramName(NamedTuple):
    program_id: str
    slug: str | None
    title: str | None


def newest_cycle(engine: Engine) -> CycleSummary | None:
    """The newest cycle of any outcome (a running or failed one too), with its event count."""
    with engine.connect() as connection:
        row = connection.execute(select(Cycle).order_by(Cycle.id.desc()).limit(1)).mappings().first()
        if row is None:
            return None
        events = connection.execute(
            select(func.count()).select_from(ChangeEvent).where(ChangeEvent.cycle_id == row["id"])
        ).scalar_one()
    return CycleSummary(
        id=row["id"],
        started_at=aware(row["started_at"]),
        finished_at=aware(row["finished_at"]),
        outcome=row["outcome"],
        ace_run_id=row["ace_run_id"],
        coursera_run_id=row["coursera_run_id"],
        events=int(events),
    )


def exhibit_names(engine: Engine) -> list[ExhibitName]:
    """Every (cid, ACE id, title) any stored ACE snapshot has had, each once."""
    query = select(AceExhibit.cid, AceExhibit.ace_id, AceExhibit.title).distinct()
    with engine.connect() as connection:
        return [ExhibitName(*row) for row in connection.execute(query)]


def program_names(engine: Engine) -> list[ProgramName]:
    """Every (program id, slug, title) any stored Coursera snapshot has had, each once."""
    query = select(CourseraProgram.program_id, CourseraProgram.slug, CourseraProgram.title).distinct()
    with engine.connect() as connection:
        return [ProgramName(*row) for row in connection.execute(query)]


def matched_pairs(
    engine: Engine, cids: Iterable[str], program_ids: Iterable[str], verdicts: Sequence[str]
) -> list[tuple[str, str | None]]:
    """(program id, cid) of every match, in any cycle, with one of `verdicts` that involves one of these."""
    query = (
        select(ProgramMatch.program_id, ProgramMatch.cid)
        .distinct()
        .where(
            ProgramMatch.verdict.in_(list(verdicts)),
            ProgramMatch.cid.in_(sorted(cids)) | ProgramMatch.program_id.in_(sorted(program_ids)),
        )
    )
    with engine.connect() as connection:
        return [(program_id, cid) for program_id, cid in connection.execute(query)]


def finished_cycles(engine: Engine) -> list[CycleRuns]:
    """Every finished cycle, oldest first."""
    query = (
        select(Cycle.id, Cycle.started_at, Cycle.ace_run_id, Cycle.coursera_run_id)
        .where(Cycle.outcome == "finished")
        .order_by(Cycle.id)
    )
    with engine.connect() as connection:
        return [
            CycleRuns(id_, aware(started), ace, coursera) for id_, started, ace, coursera in connection.execute(query)
        ]


def record_versions(engine: Engine, source: str, keys: Iterable[str]) -> dict[tuple[int, str], dict[str, Any]]:
    """Every stored version of these records of a source, keyed by (run id, key)."""
    table = SNAPSHOT_TABLES[source].__table__
    key = table.c[SNAPSHOT_KEYS[source]]
    found: dict[tuple[int, str], dict[str, Any]] = {}
    with engine.connect() as connection:
        for batch in _chunks(sorted(keys)):
            for row in connection.execute(select(table).where(key.in_(batch))).mappings():
                found[(row["run_id"], row[key.key])] = dict(row)
    return found


def program_matches(engine: Engine, program_ids: Iterable[str]) -> dict[tuple[int, str], dict[str, Any]]:
    """Every cycle's match of these programs, keyed by (cycle id, program id)."""
    ids = sorted(program_ids)
    if not ids:
        return {}
    query = select(ProgramMatch.__table__).where(ProgramMatch.program_id.in_(ids))
    with engine.connect() as connection:
        rows = connection.execute(query).mappings().all()
    return {(row["cycle_id"], row["program_id"]): dict(row) for row in rows}


def run_start_times(engine: Engine, run_ids: Iterable[int | None]) -> dict[int, datetime]:
    """When each of these runs started (None ids are left out)."""
    ids = sorted(run_id for run_id in run_ids if run_id is not None)
    if not ids:
        return {}
    with engine.connect() as connection:
        rows = connection.execute(select(CrawlRun.id, CrawlRun.started_at).where(CrawlRun.id.in_(ids))).all()
    return {run_id: aware(started) for run_id, started in rows}


def subject_events(engine: Engine, subject_keys: Iterable[str]) -> list[dict[str, Any]]:
    """Every stored event about these subjects, oldest first."""
    query = (
        select(ChangeEvent.__table__).where(ChangeEvent.subject_key.in_(sorted(subject_keys))).order_by(ChangeEvent.id)
    )
    with engine.connect() as connection:
        return [dict(row) for row in connection.execute(query).mappings()]


def _chunks(items: list, size: int = _BATCH):
    for start in range(0, len(items), size):
        yield items[start : start + size]
