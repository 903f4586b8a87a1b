"""Monitor cycles: the matches and change events judged from a pair of snapshots."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy import Engine, delete, func, insert, select, update

from store import outbox
from store.models import ChangeEvent, Cycle, ProgramMatch
from store.outbox import NewDelivery
from store.runs import utcnow


class EventRow(Protocol):
    """An event as the store keeps it: its columns. (monitor.events.Event is one; the store imports nothing of ours,
    so the conversion is the event's own `to_row`.)"""

    def to_row(self) -> dict[str, Any]: ...


def begin_cycle(
    engine: Engine, ace_run_id: int | None, coursera_run_id: int | None, previous_cycle_id: int | None
) -> int:
    with engine.begin() as connection:
        result = connection.execute(
            insert(Cycle).values(
                started_at=utcnow(),
                ace_run_id=ace_run_id,
                coursera_run_id=coursera_run_id,
                previous_cycle_id=previous_cycle_id,
                outcome="running",
            )
        )
        return int(result.inserted_primary_key[0])


def finish_cycle(
    engine: Engine,
    cycle_id: int,
    matches: Sequence[dict[str, Any]],
    events: Sequence[EventRow],
    deliveries: Sequence[NewDelivery] = (),
) -> None:
    """Store a cycle's matches, events and queued digests (`deliveries`, the alert outbox rows)
    and mark it finished, all or nothing: a crash cannot leave events whose alert was never queued."""
    now = utcnow()
    with engine.begin() as connection:
        outbox.insert_all(connection, deliveries)
        connection.execute(delete(ProgramMatch).where(ProgramMatch.cycle_id == cycle_id))
        if matches:
            connection.execute(
                insert(ProgramMatch.__table__),
                [
                    {"cycle_id": cycle_id, "cid": None, "score": 0.0, "credits": None, "differences": [], **m}
                    for m in matches
                ],
            )
        if events:
            connection.execute(
                insert(ChangeEvent.__table__),
                [
                    {
                        "cycle_id": cycle_id,
                        "detected_at": now,
                        "old": None,
                        "new": None,
                        "evidence_url": None,
                        "from_run_id": None,
                        "to_run_id": None,
                        "subject": "",
                        "details": {},
                        **e.to_row(),
                    }
                    for e in events
                ],
            )
        connection.execute(update(Cycle).where(Cycle.id == cycle_id).values(outcome="finished", finished_at=now))


def latest_cycle(engine: Engine, before_id: int | None = None) -> Cycle | None:
    """The newest finished cycle (the baseline the next one diffs against)."""
    query = select(Cycle).where(Cycle.outcome == "finished")
    if before_id is not None:
        query = query.where(Cycle.id < before_id)
    with engine.connect() as connection:
        row = connection.execute(query.order_by(Cycle.id.desc()).limit(1)).mappings().first()
    return Cycle(**row) if row else None


def cycle_matches(engine: Engine, cycle_id: int, verdicts: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """A cycle's matches, by program id (optionally only those with these verdicts)."""
    query = select(ProgramMatch.__table__).where(ProgramMatch.cycle_id == cycle_id)
    if verdicts is not None:
        query = query.where(ProgramMatch.verdict.in_(verdicts))
    with engine.connect() as connection:
        return [dict(row) for row in connection.execute(query.order_by(ProgramMatch.program_id)).mappings()]


def cycle_claims(engine: Engine, cycle_id: int) -> dict[str, str | None]:
    """A cycle's claim verdict of every program (None where the cycle predates migration 0006).

    Two narrow columns rather than whole match rows: the nightly diff reads
    this for the whole catalog.
    """
    query = select(ProgramMatch.program_id, ProgramMatch.claim).where(ProgramMatch.cycle_id == cycle_id)
    with engine.connect() as connection:
        return {program_id: claim for program_id, claim in connection.execute(query)}


def cycle_match_cids(engine: Engine, cycle_id: int) -> dict[str, str | None]:
    """A cycle's matched exhibit (cid) of every program."""
    query = select(ProgramMatch.program_id, ProgramMatch.cid).where(ProgramMatch.cycle_id == cycle_id)
    with engine.connect() as connection:
        return {program_id: cid for program_id, cid in connection.execute(query)}


def latest_judged_cycle(engine: Engine) -> int | None:
    """The newest cycle with a judged claim verdict (one whose sources were fresh and readable): what `audit` reads."""
    query = select(func.max(ProgramMatch.cycle_id)).where(
        ProgramMatch.claim.is_not(None), ProgramMatch.claim != "unknown"
    )
    with engine.connect() as connection:
        return connection.execute(query).scalar()


def claim_matches(engine: Engine, cycle_id: int, claims: Sequence[str]) -> list[dict[str, Any]]:
    """A cycle's matches whose claim verdict is one of `claims`, by program id: what `audit` reports."""
    query = (
        select(ProgramMatch.__table__)
        .where(ProgramMatch.cycle_id == cycle_id, ProgramMatch.claim.in_(list(claims)))
        .order_by(ProgramMatch.program_id)
    )
    with engine.connect() as connection:
        return [dict(row) for row in connection.execute(query).mappings()]


def claim_counts(engine: Engine, cycle_id: int) -> dict[str | None, int]:
    """How many programs of a cycle have each claim verdict."""
    query = (
        select(ProgramMatch.claim, func.count()).where(ProgramMatch.cycle_id == cycle_id).group_by(ProgramMatch.claim)
    )
    with engine.connect() as connection:
        return {claim: count for claim, count in connection.execute(query)}


def last_known_claims(engine: Engine, program_ids: Sequence[str], before_id: int) -> dict[str, str]:
    """The newest judged claim verdict (not unknown, not NULL) of these programs in cycles up to `before_id`.

    An unreadable page makes a cycle's verdict `unknown`; the next readable
    one is compared with this, so a change is reported late rather than lost.
    """
    found: dict[str, str] = {}
    table = ProgramMatch.__table__
    for start in range(0, len(program_ids), 500):
        batch = sorted(program_ids)[start : start + 500]
        query = (
            select(table.c.program_id, table.c.claim)
            .where(
                table.c.program_id.in_(batch),
                table.c.cycle_id <= before_id,
                table.c.claim.is_not(None),
                table.c.claim != "unknown",
            )
            .order_by(table.c.cycle_id)
        )
        with engine.connect() as connection:
            found.update({program_id: claim for program_id, claim in connection.execute(query)})
    return found


def cycle_events(engine: Engine, cycle_id: int | None = None, limit: int | None = None) -> list[dict[str, Any]]:
    """Events of one cycle, or the newest events of all cycles."""
    query = select(ChangeEvent.__table__)
    if cycle_id is not None:
        query = query.where(ChangeEvent.cycle_id == cycle_id)
    query = query.order_by(ChangeEvent.id.desc())
    if limit is not None:
        query = query.limit(limit)
    with engine.connect() as connection:
        return [dict(row) for row in reversed(connection.execute(query).mappings().all())]


def latest_event(engine: Engine, subject_key: str, types: Sequence[str]) -> dict[str, Any] | None:
    """The newest stored event of one of `types` about `subject_key`, or None.

    For health transitions: `source_recovered` answers the `source_unhealthy` last
    announced, whatever runs (killed, interrupted) came in between.
    """
    table = ChangeEvent.__table__
    query = (
        select(table)
        .where(table.c.subject_key == subject_key, table.c.type.in_(list(types)))
        .order_by(table.c.id.desc())
        .limit(1)
    )
    with engine.connect() as connection:
        row = connection.execute(query).mappings().first()
    return dict(row) if row else None


def announced(engine: Engine, type_: str) -> set[tuple[str, str | None]]:
    """(subject_key, new) of every event of a type ever stored: to announce a thing once only."""
    with engine.connect() as connection:
        rows = connection.execute(select(ChangeEvent.subject_key, ChangeEvent.new).where(ChangeEvent.type == type_))
        return {(row.subject_key, row.new) for row in rows}
