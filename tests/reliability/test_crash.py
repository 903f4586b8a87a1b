"""Crash safety: `acewatch run` killed with SIGKILL while crawling, storing, diffing and alerting.

Each backend gets the day-1 baseline, then day 2 is served and `acewatch run` (a real
process, configured by a TOML file, alerting a real webhook) is killed once in each
phase, reached deterministically (see scenarios.CrashRunner), then at seeded random
moments; on PostgreSQL every connection of a run is also cut mid-crawl and mid-diff.
Finally one run goes to the end. After every kill the store must be consistent, and
overall every real change must be reported once and every digest delivered once.
"""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from tests.conftest import BACKENDS
from tests.reliability.scenarios import EXHIBITS, KILL_PHASES, CrashRunner, copy_baseline, run_crash_scenario
from tests.support import fresh_store_url


@pytest.fixture(scope="module", params=BACKENDS)
def crashed(request, reliability_env):
    """This module's own store, as the scenario writes to it: a copy of the day-1 baseline on SQLite,
    a new database on PostgreSQL (the scenario copies the baseline in; dropped when the module ends)."""
    if request.param == "sqlite":
        db_url = copy_baseline(reliability_env, "crash-sqlite")
    else:
        db_url = fresh_store_url(request)
    return run_crash_scenario(reliability_env, db_url, f"crash {request.param}")


def _report(outcome) -> str:
    return "\n".join(f"{s.plan}: hit={s.hit!r} exit={s.exit_code} {s.note} {s.problems}" for s in outcome.steps)


def test_every_phase_was_killed_in(crashed):
    hit = {s.hit for s in crashed.steps if s.killed}
    for phase in KILL_PHASES:
        assert phase in hit, _report(crashed)
    assert sum(1 for s in crashed.steps if s.hit.startswith("random") and s.killed) >= 2, _report(crashed)
    if crashed.backend == "sqlite":  # kill -9 of `acewatch run` alone: its crawler must not crawl on
        assert "crawling (parent only, crawler died with it)" in hit, _report(crashed)


def test_store_is_consistent_after_every_kill(crashed):
    for step in crashed.steps:
        assert step.problems == [], f"{step.plan} ({step.hit}): {step.problems}"
    assert crashed.rows_lost == [], crashed.rows_lost  # the baseline's rows are as they were


def test_next_run_succeeds_and_every_change_is_reported_once(crashed):
    assert crashed.final_exit == 0, crashed.steps[-1].output[-3000:]
    assert crashed.missed == [] and crashed.false_events == [], crashed.explain()
    assert crashed.recovered


def test_every_digest_arrives_once_beyond_the_documented_window(crashed):
    """One digest per cycle with events; a send killed after the webhook took it is not repeated
    until its claim goes stale (30 min, acewatch/alerts.py), and then exactly once: the documented
    at-least-once window, shown here with the clock moved on."""
    assert crashed.digests == crashed.cycles_with_events, crashed.explain()
    assert crashed.sending_left, "the alerting kill should leave its claim `sending`"
    assert crashed.window_resends == len(crashed.sending_left)


@pytest.mark.parametrize("crashed", ["postgresql"], indirect=True)  # pg_terminate_backend is PostgreSQL's
def test_lost_connections_fail_the_run_cleanly(crashed):
    cut = [s for s in crashed.steps if "connections terminated" in s.hit]
    assert len(cut) == 2, _report(crashed)
    crawling, diffing = cut
    # The crawler cannot store its snapshot: both runs fail, are held back, and the run says so (exit 3).
    assert crawling.exit_code == 3 and "crawl did not finish normally" in crawling.output, crawling.output[-2000:]
    assert diffing.exit_code not in (0, None), diffing.output[-2000:]  # the cycle could not be stored
    assert not crawling.problems and not diffing.problems
    assert "postgres:" not in "".join(s.output for s in cut)  # no credentials in what it printed


@pytest.mark.parametrize("crashed", ["postgresql"], indirect=True)
def test_lost_connections_give_a_one_line_error(crashed):
    terminated = [step for step in crashed.steps if "connections terminated" in step.hit]
    assert terminated
    for step in terminated:
        if step.exit_code not in (0, 3):
            assert step.exit_code == 6 and "Traceback" not in step.output, step.output[-2000:]


def test_a_killed_run_is_not_reported_as_a_source_recovery(reliability_env):
    """Killed mid-crawl, then a healthy run: nothing was ever unhealthy, so nothing `recovered`."""
    db_url = copy_baseline(reliability_env, "killed-then-healthy")
    probe = CrashRunner(reliability_env, db_url, "killed then healthy", seed=2)
    slow = [{"role": "ace", "path": EXHIBITS, "kind": "timeout", "seconds": 0.3}]
    outcome = run_crash_scenario(
        reliability_env,
        db_url,
        "killed then healthy",
        plans=[("SIGKILL while crawling", probe.kill_crawling(0.3), slow)],
    )
    probe.close()
    assert outcome.steps[0].hit == "crawling" and outcome.final_exit == 0
    assert outcome.spurious_health == [], outcome.spurious_health


def test_killed_between_cycle_commit_and_queueing_loses_no_digest(request, reliability_env):
    """PostgreSQL: the delivery table is locked, so the run waits to queue its digest: killed there."""
    db_url = fresh_store_url(request, backend="postgresql")
    probe = CrashRunner(reliability_env, db_url, "queue-window", seed=1)
    outcome = run_crash_scenario(
        reliability_env,
        db_url,
        "queue window",
        plans=[("SIGKILL between cycle commit and queueing", probe.kill_queueing(), None)],
    )
    probe.close()
    assert outcome.steps[0].hit == "queueing" and outcome.steps[0].killed
    assert outcome.final_exit == 0 and not outcome.missed
    assert outcome.digests == outcome.cycles_with_events == 1, outcome.explain()


def test_the_consistency_check_catches_what_a_crash_could_leave(reliability_env):
    """The checker is not vacuous: each kind of damage it looks for, made by hand, is reported."""
    from sqlalchemy import text

    from store.database import open_engine
    from tests.reliability.scenarios import store_invariants

    engine = open_engine(copy_baseline(reliability_env, "damaged"))
    try:
        assert store_invariants(engine) == []
        with engine.begin() as connection:
            connection.execute(text("UPDATE crawl_run SET outcome = 'running', healthy = NULL WHERE id = 1"))
            connection.execute(text("UPDATE crawl_run SET records = records + 1 WHERE id = 2"))
            connection.execute(text("INSERT INTO cycle (started_at, outcome) VALUES ('2026-01-01', 'running')"))
            connection.execute(
                text(
                    "INSERT INTO change_event (cycle_id, detected_at, type, source, subject_key, "
                    "subject, details) SELECT max(id), '2026-01-01', 'lost_ace', 'ace', 'x', 'x', "
                    "'{}' FROM cycle"
                )
            )
        problems = " | ".join(store_invariants(engine))
    finally:
        engine.dispose()
    assert "run 1 is running but has" in problems  # a half snapshot
    assert "cycle 1 uses run 1, which is running" in problems  # a cycle built on an unfinished run
    assert "coursera run 2 finished with" in problems  # a snapshot that lost rows
    assert "is running but has 1 events" in problems  # a half cycle


def test_finish_cycle_stores_the_digest_with_the_events_or_nothing(db_url):
    """The store side of the outbox fix: the digest rows commit with the cycle's events, all or nothing."""
    from sqlalchemy import text

    from acewatch.alerts import digest_rows, queue_digest
    from monitor.events import event
    from store.cycles import begin_cycle, finish_cycle
    from store.database import open_engine

    engine = open_engine(db_url)
    try:
        events = [event("lost_ace", "ace", "cid-1", "IBM Data Science", old="12 credits", new="removed")]
        url = "json://127.0.0.1:9/hook"
        broken = begin_cycle(engine, None, None, None)
        rows = digest_rows(broken, events, [url])
        with pytest.raises(IntegrityError):  # the same channel twice breaks the unique constraint mid-transaction
            finish_cycle(engine, broken, [], events, deliveries=rows + rows)
        done = begin_cycle(engine, None, None, None)
        finish_cycle(engine, done, [], events, deliveries=digest_rows(done, events, [url]))
        assert queue_digest(engine, done, events, [url]) == 0  # already queued: the later call is a no-op
        with engine.connect() as connection:
            state = dict(connection.execute(text("SELECT id, outcome FROM cycle")).all())
            counts = dict(
                connection.execute(text("SELECT cycle_id, count(*) FROM change_event GROUP BY cycle_id")).all()
            )
            queued = dict(connection.execute(text("SELECT cycle_id, count(*) FROM delivery GROUP BY cycle_id")).all())
    finally:
        engine.dispose()
    assert state == {broken: "running", done: "finished"}
    assert counts == {done: 1} and queued == {done: 1}
