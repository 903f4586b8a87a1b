"""The alert outbox (`delivery` table): the statements behind acewatch.alerts' delivery rules.

acewatch.alerts decides what is sent where and when; this module is the only
code that reads or writes the table, so the guarantees hold in one place:

* a digest is queued once per (cycle, channel): re-queueing inserts nothing;
* a row is claimed (`pending` -> `sending`, committed) before it is sent, and
  only a `pending` row can be claimed, so two processes never send the same row;
* `sent` is final: nothing moves a sent row back.

While a row is `sending`, its `sent_at` holds the time of the claim (the table
has no separate column for it); `release_stale` finds crashed senders by it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from store.models import Delivery

PENDING, SENDING, SENT = "pending", "sending", "sent"
_TABLE = Delivery.__table__


@dataclass(frozen=True)
class NewDelivery:
    """One digest for one channel, ready to queue (`channel` is the URL's hash, never the URL)."""

    cycle_id: int
    channel: str
    channel_label: str
    title: str
    body: str
    created_at: datetime

    def values(self) -> dict[str, Any]:
        """The row as inserted: pending, never tried."""
        return {
            "cycle_id": self.cycle_id,
            "channel": self.channel,
            "channel_label": self.channel_label,
            "title": self.title,
            "body": self.body,
            "status": PENDING,
            "attempts": 0,
            "last_error": None,
            "created_at": self.created_at,
            "sent_at": None,
        }


@dataclass(frozen=True)
class Outgoing:
    """A pending delivery as the sender needs it."""

    id: int
    cycle_id: int
    channel: str
    channel_label: str
    title: str
    body: str


@dataclass(frozen=True)
class Backlog:
    """The outbox at a glance: `failing` are pending rows already tried; `last_error` is the newest such error."""

    pending: int = 0
    failing: int = 0
    sending: int = 0
    sent: int = 0
    last_error: str | None = None


def queue(engine: Engine, deliveries: Sequence[NewDelivery]) -> int:
    """Insert each delivery unless its (cycle, channel) is queued already, in one transaction; returns how many were new."""
    if not deliveries:
        return 0
    with engine.begin() as connection:
        return sum(_insert_once(connection, delivery.values()) for delivery in deliveries)


def insert_all(connection: Connection, deliveries: Sequence[NewDelivery]) -> None:
    """Insert in the caller's transaction (store.cycles.finish_cycle: a cycle's events and its digests land together)."""
    if deliveries:
        connection.execute(insert(_TABLE), [delivery.values() for delivery in deliveries])


def _insert_once(connection: Connection, values: dict[str, Any]) -> int:
    """Insert a delivery unless (cycle_id, channel) exists; 1 if inserted, else 0."""
    dialect = {"sqlite": sqlite, "postgresql": postgresql}.get(connection.dialect.name)
    if dialect is not None:
        # RETURNING, not rowcount: drivers report -1 for an INSERT that returns its key.
        statement = (
            dialect.insert(_TABLE)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["cycle_id", "channel"])
            .returning(_TABLE.c.id)
        )
        return len(connection.execute(statement).all())
    exists = connection.execute(
        select(_TABLE.c.id).where(_TABLE.c.cycle_id == values["cycle_id"], _TABLE.c.channel == values["channel"])
    ).first()
    if exists:
        return 0
    connection.execute(insert(_TABLE).values(**values))
    return 1


def release_stale(engine: Engine, cutoff: datetime, reason: str) -> int:
    """Claims older than the cutoff belong to a crashed sender: pending again, the attempt counted."""
    with engine.begin() as connection:
        return connection.execute(
            update(_TABLE)
            .where(_TABLE.c.status == SENDING, _TABLE.c.sent_at < cutoff)
            .values(status=PENDING, sent_at=None, attempts=_TABLE.c.attempts + 1, last_error=reason)
        ).rowcount


def pending(engine: Engine) -> list[Outgoing]:
    """Every pending delivery, oldest cycle first."""
    columns = [_TABLE.c[name] for name in ("id", "cycle_id", "channel", "channel_label", "title", "body")]
    with engine.connect() as connection:
        rows = connection.execute(
            select(*columns).where(_TABLE.c.status == PENDING).order_by(_TABLE.c.cycle_id, _TABLE.c.id)
        ).mappings()
        return [Outgoing(**row) for row in rows]


def claim(engine: Engine, delivery_id: int, now: datetime) -> bool:
    """pending -> sending, committed; False if another process claimed (or finished) it first."""
    with engine.begin() as connection:
        claimed = connection.execute(
            update(_TABLE)
            .where(_TABLE.c.id == delivery_id, _TABLE.c.status == PENDING)
            .values(status=SENDING, sent_at=now)
        ).rowcount
    return claimed == 1


def mark_sent(engine: Engine, delivery_id: int, now: datetime) -> None:
    with engine.begin() as connection:
        connection.execute(
            update(_TABLE)
            .where(_TABLE.c.id == delivery_id, _TABLE.c.status != SENT)
            .values(status=SENT, sent_at=now, attempts=_TABLE.c.attempts + 1, last_error=None)
        )


def mark_failed(engine: Engine, delivery_id: int, error: str) -> None:
    """A claimed row whose send failed: pending again, with the attempt and its (masked) error."""
    with engine.begin() as connection:
        connection.execute(
            update(_TABLE)
            .where(_TABLE.c.id == delivery_id, _TABLE.c.status == SENDING)
            .values(status=PENDING, sent_at=None, attempts=_TABLE.c.attempts + 1, last_error=error)
        )


def backlog(engine: Engine) -> Backlog:
    """Counts by status (a pending row with attempts is failing) and the newest failing row's error."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(_TABLE.c.status, _TABLE.c.attempts, func.count()).group_by(_TABLE.c.status, _TABLE.c.attempts)
        ).all()
        last_error = connection.execute(
            select(_TABLE.c.last_error)
            .where(_TABLE.c.status == PENDING, _TABLE.c.attempts > 0, _TABLE.c.last_error.is_not(None))
            .order_by(_TABLE.c.id.desc())
            .limit(1)
        ).scalar()
    counts = {"pending": 0, "failing": 0, "sending": 0, "sent": 0}
    for status, attempts, count in rows:
        if status == PENDING:
            counts["pending"] += count
            counts["failing"] += count if attempts else 0
        elif status in counts:
            counts[status] += count
    return Backlog(**counts, last_error=last_error)
