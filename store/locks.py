"""A named lock in the store, so cron, the scheduler daemon and a person never run at once.

The lock is a row of `run_lock` (name, holder, acquired_at, expires_at). It
lives in the database rather than in a lock file because the runs that must
not overlap may start on different hosts or containers that share only the
store. Taking it is an INSERT (the primary key makes exactly one racer win);
if a row is there, a conditional UPDATE takes it over only when it has
expired, which is what lets a SIGKILLed holder's lock lapse after its TTL.
Both statements are single atomic writes on SQLite (one writer at a time) and
on PostgreSQL (the UPDATE re-checks its WHERE on the row it locked), so two
racers can never both win, whatever the interleaving.

Times are UTC and come from the caller's clock, never the database's, so that
SQLite and PostgreSQL compare the same values. Hosts sharing a store need
roughly synchronised clocks (NTP); the TTL margin absorbs small skew.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from store.models import RunLock

DEFAULT_NAME = "run"
# A run is the crawl (bounded by crawl.timeout_seconds) plus judging, matching
# and storing the cycle; this margin covers the second part with room to spare.
LOCK_MARGIN_SECONDS = 900
DEFAULT_TTL_SECONDS = 3600 + LOCK_MARGIN_SECONDS
_ATTEMPTS = 3


class LockHeld(Exception):
    """Someone else holds the lock; the message says who and since when."""

    def __init__(self, name: str, info: LockInfo | None):
        self.name = name
        self.info = info
        if info is None:
            message = f"the {name!r} lock is held by another acewatch process"
        else:
            message = (
                f"another acewatch run is in progress: lock {name!r} held by {info.holder} "
                f"since {_iso(info.acquired_at)} (expires {_iso(info.expires_at)})"
            )
        super().__init__(message)


@dataclass(frozen=True)
class LockInfo:
    """Who holds a lock, from when, and until when it counts."""

    name: str
    holder: str
    acquired_at: datetime
    expires_at: datetime

    def expired(self, now: datetime | None = None) -> bool:
        return self.expires_at < (now or utcnow())

    def to_dict(self, now: datetime | None = None) -> dict:
        return {
            "name": self.name,
            "holder": self.holder,
            "since": _iso(self.acquired_at),
            "expires_at": _iso(self.expires_at),
            "expired": self.expired(now),
        }


def utcnow() -> datetime:
    return datetime.now(UTC)


def ttl_for(crawl_timeout_seconds: int | float) -> int:
    """The lock TTL for a run whose crawl may take this long: never shorter than a legitimate run."""
    return int(crawl_timeout_seconds) + LOCK_MARGIN_SECONDS


def default_holder(pid: int | None = None) -> str:
    """`host:pid`: enough for a person to find (and, if stuck, kill) the holder."""
    return f"{socket.gethostname()}:{os.getpid() if pid is None else pid}"


def acquire(engine: Engine, name: str, holder: str, ttl_seconds: float) -> bool:
    """Take the lock if it is free, expired, or already ours; False if someone else holds it."""
    for _ in range(_ATTEMPTS):
        now = utcnow()
        expires = now + timedelta(seconds=ttl_seconds)
        if _insert(engine, name, holder, now, expires):
            return True
        current = holder_of(engine, name)
        dead = current.holder if current is not None and holder_is_dead(current.holder) else None
        if _take_over(engine, name, holder, now, expires, dead):
            return True
        if holder_of(engine, name) is not None:
            return False
        # The holder released between our INSERT and UPDATE: the row is gone, try again.
    return False


def _insert(engine: Engine, name: str, holder: str, now: datetime, expires: datetime) -> bool:
    try:
        with engine.begin() as connection:
            connection.execute(insert(RunLock).values(name=name, holder=holder, acquired_at=now, expires_at=expires))
        return True
    except IntegrityError:
        return False


def holder_is_dead(holder: str) -> bool:
    """True when `host:pid` names a process of this host that no longer exists (killed, crashed).

    Such a lock would otherwise block every run until its TTL (an hour or more) ran out.
    """
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _take_over(
    engine: Engine, name: str, holder: str, now: datetime, expires: datetime, dead_holder: str | None = None
) -> bool:
    """Claim an existing row only if it expired, is ours, or its holder died: one atomic conditional UPDATE."""
    claimable = [RunLock.expires_at < now, RunLock.holder == holder]
    if dead_holder:
        claimable.append(RunLock.holder == dead_holder)
    with engine.begin() as connection:
        result = connection.execute(
            update(RunLock)
            .where(RunLock.name == name, or_(*claimable))
            .values(holder=holder, acquired_at=now, expires_at=expires)
        )
        return result.rowcount == 1


def refresh(engine: Engine, name: str, holder: str, ttl_seconds: float) -> bool:
    """Push the expiry out for a long run; False means we no longer hold the lock."""
    with engine.begin() as connection:
        result = connection.execute(
            update(RunLock)
            .where(RunLock.name == name, RunLock.holder == holder)
            .values(expires_at=utcnow() + timedelta(seconds=ttl_seconds))
        )
        return result.rowcount == 1


def release(engine: Engine, name: str, holder: str) -> bool:
    """Drop the lock if we hold it; someone else's lock (e.g. after a takeover) is left alone."""
    with engine.begin() as connection:
        result = connection.execute(delete(RunLock).where(RunLock.name == name, RunLock.holder == holder))
        return result.rowcount == 1


def holder_of(engine: Engine, name: str = DEFAULT_NAME) -> LockInfo | None:
    """The lock row as stored (it may have expired: see `LockInfo.expired`), or None."""
    with engine.connect() as connection:
        row = connection.execute(select(RunLock.__table__).where(RunLock.name == name)).mappings().first()
    if row is None:
        return None
    return LockInfo(row["name"], row["holder"], _aware(row["acquired_at"]), _aware(row["expires_at"]))


@dataclass
class HeldLock:
    """What `run_lock` hands its body: enough to refresh the lock during a long run."""

    engine: Engine
    name: str
    holder: str
    ttl_seconds: float

    def refresh(self) -> bool:
        return refresh(self.engine, self.name, self.holder, self.ttl_seconds)


@contextmanager
def run_lock(
    engine: Engine, name: str = DEFAULT_NAME, ttl: float = DEFAULT_TTL_SECONDS, holder: str | None = None
) -> Iterator[HeldLock]:
    """Hold `name` for the body, or raise LockHeld at once; released however the body ends.

    A KeyboardInterrupt or SystemExit (SIGINT, SIGTERM turned into an exit)
    still releases it; only SIGKILL or a crash of the host leaves the row,
    which then expires after `ttl` seconds.
    """
    holder = holder or default_holder()
    if not acquire(engine, name, holder, ttl):
        raise LockHeld(name, holder_of(engine, name))
    try:
        yield HeldLock(engine, name, holder, ttl)
    finally:
        release(engine, name, holder)


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything here is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _iso(moment: datetime) -> str:
    return _aware(moment).astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
