"""The store's run lock on SQLite and PostgreSQL: one holder, expiry, takeover, and real races."""

from __future__ import annotations

import multiprocessing
import os
import socket
import time
from datetime import timedelta

import pytest
from sqlalchemy import insert

from store.database import create_store_engine, open_engine
from store.locks import LockHeld, acquire, default_holder, holder_of, refresh, release, run_lock, ttl_for, utcnow
from store.models import RunLock

RACERS = 6


def test_second_acquire_refused_while_held(engine):
    assert acquire(engine, "run", "host-a:1", ttl_seconds=60)
    assert not acquire(engine, "run", "host-b:2", ttl_seconds=60)
    assert holder_of(engine, "run").holder == "host-a:1"
    assert acquire(engine, "other", "host-b:2", ttl_seconds=60)  # locks are per name


def test_holder_may_take_its_own_lock_again(engine):
    assert acquire(engine, "run", "host-a:1", ttl_seconds=60)
    assert acquire(engine, "run", "host-a:1", ttl_seconds=60)


def test_expired_lock_is_taken_over(engine):
    assert acquire(engine, "run", "killed:1", ttl_seconds=0.2)
    time.sleep(0.4)
    assert holder_of(engine, "run").expired()
    assert acquire(engine, "run", "host-b:2", ttl_seconds=60)
    info = holder_of(engine, "run")
    assert info.holder == "host-b:2" and not info.expired()


def test_release_by_a_non_holder_does_nothing(engine):
    assert acquire(engine, "run", "host-a:1", ttl_seconds=60)
    assert release(engine, "run", "host-b:2") is False
    assert holder_of(engine, "run").holder == "host-a:1"
    assert release(engine, "run", "host-a:1") is True
    assert holder_of(engine, "run") is None
    assert acquire(engine, "run", "host-b:2", ttl_seconds=60)


def test_a_taken_over_holder_cannot_release_or_refresh_the_new_lock(engine):
    assert acquire(engine, "run", "slow:1", ttl_seconds=0.1)
    time.sleep(0.3)
    assert acquire(engine, "run", "new:2", ttl_seconds=60)
    assert not refresh(engine, "run", "slow:1", ttl_seconds=60)
    assert not release(engine, "run", "slow:1")
    assert holder_of(engine, "run").holder == "new:2"


def test_refresh_pushes_expiry_out(engine):
    assert acquire(engine, "run", "host-a:1", ttl_seconds=1)
    before = holder_of(engine, "run").expires_at
    assert refresh(engine, "run", "host-a:1", ttl_seconds=600)
    assert holder_of(engine, "run").expires_at > before + timedelta(seconds=500)


def test_run_lock_names_the_holder_and_releases_even_on_error(engine):
    with run_lock(engine, ttl=60) as held:
        assert held.holder == default_holder() == f"{socket.gethostname()}:{os.getpid()}"
        with pytest.raises(LockHeld) as refused:
            with run_lock(engine, ttl=60, holder="cron-host:4242"):
                pass
        message = str(refused.value)
        assert held.holder in message and "since" in message and "20" in message  # an ISO date
        assert held.refresh()
    assert holder_of(engine, "run") is None
    with pytest.raises(RuntimeError):
        with run_lock(engine, ttl=60):
            raise RuntimeError("the run crashed")
    assert holder_of(engine, "run") is None


def test_ttl_covers_the_crawl_timeout_with_a_margin():
    assert ttl_for(3600) > 3600


def _race(url: str, holder: str, barrier, results) -> None:
    """One racer in its own process: for each lock, wait for all racers, then try to take it once."""
    engine = create_store_engine(url)
    for name in ("free", "stale"):
        barrier.wait()
        results.put((name, holder, acquire(engine, name, holder, ttl_seconds=60)))
    engine.dispose()


def test_racing_processes_exactly_one_wins(db_url, engine):
    """Real processes released together by a barrier, on a free lock (the INSERT path) and on an
    expired one (the conditional UPDATE path: the row exists, nobody can INSERT)."""
    now = utcnow()
    with engine.begin() as connection:
        connection.execute(
            insert(RunLock).values(
                name="stale",
                holder="sigkilled:1",
                acquired_at=now - timedelta(hours=2),
                expires_at=now - timedelta(hours=1),
            )
        )
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(RACERS), context.Queue()
    racers = [context.Process(target=_race, args=(db_url, f"racer:{i}", barrier, results)) for i in range(RACERS)]
    for racer in racers:
        racer.start()
    outcomes = [results.get(timeout=60) for _ in range(2 * RACERS)]
    for racer in racers:
        racer.join(timeout=30)
        assert racer.exitcode == 0
    for name in ("free", "stale"):
        winners = [holder for lock, holder, won in outcomes if lock == name and won]
        assert len(winners) == 1, (name, outcomes)
        assert holder_of(engine, name).holder == winners[0]


def test_a_lock_left_by_a_dead_process_of_this_host_is_taken_over(db_url):
    """A SIGKILLed run cannot release its lock; the next run must not wait for the TTL."""
    import subprocess
    import sys

    from store.locks import acquire, default_holder, holder_of

    engine = open_engine(db_url)
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    dead = default_holder(child.pid)
    assert acquire(engine, "run", dead, ttl_seconds=3600)
    assert acquire(engine, "run", default_holder(), ttl_seconds=60)
    assert holder_of(engine, "run").holder == default_holder()
    alive = default_holder()
    assert not acquire(engine, "run", f"{alive.rsplit(':', 1)[0]}:1", ttl_seconds=60)  # pid 1 lives
    engine.dispose()
