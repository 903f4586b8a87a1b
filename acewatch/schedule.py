"""`acewatch schedule`: a long-lived daemon that runs `acewatch run` on the configured cron.

Design:

* APScheduler 3 `BlockingScheduler`, one job with a fixed id, persisted in
  the store's own database (`apscheduler_jobs`) so that `acewatch status`
  can show the next run without a scheduler, and a run missed while the
  daemon was down is caught up on start if it is within the misfire grace.
* Each run is a child process (`python -m acewatch.cli run --progress log`),
  that is `Acewatch.run` behind the CLI: the run lock, the alert-URL check
  and the store-error translation are the API's, as for a person's run. Why
  a child rather than `Acewatch.run` in a thread of the daemon: a cycle also
  matches the whole catalog and talks to the store and to Apprise, and a
  child can be timed out and killed (SIGINT, then SIGKILL) without taking the
  daemon down, where a hung thread cannot be stopped at all; its memory is
  returned when it exits, so a long-lived daemon never grows with the
  catalog. (The crawls themselves run in their own children either way:
  Scrapy's reactor cannot restart inside one process.)
* The child receives the database URL in its environment (ACEWATCH_DB), not
  on its command line, where `ps` would show a password to every local user,
  and not in the pickled job, which would copy it into a table.
* The run itself takes the store's run lock (store.locks), so a cron line,
  a person and this daemon can never crawl at once.
* SIGTERM/SIGINT stop cleanly: a running child is sent SIGINT (it releases
  its lock and kills its crawler), killed after a grace period if it hangs,
  the scheduler shuts down, and the daemon exits 0.

APScheduler is imported only when a daemon is built: `acewatch.outputs.reports` (for
`status`) reads the job table through `stored_next_run` (store.scheduler) without it.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from store.scheduler import JOBS_TABLE as JOBS_TABLE  # named here too: the daemon's table, for its readers
from store.scheduler import job_store, next_run_time

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from acewatch.config import Config

JOB_ID = "acewatch-run"
# The daemon's timeout for a whole run: crawl timeout plus time to judge, match
# and store. Kept below store.locks.LOCK_MARGIN_SECONDS so that the daemon
# kills a stuck run before its lock could lapse under it.
RUN_MARGIN_SECONDS = 600
# How long a child gets to stop after SIGINT before it is killed.
STOP_GRACE_SECONDS = 30

_CRON_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_DAY_ITEM = re.compile(r"(\*|\d+|\d+-\d+)(?:/(\d+))?")


class ScheduleError(Exception):
    """The schedule cannot be set up (bad cron, unknown time zone); the message says which."""


def child_timeout(config: Config) -> int:
    return int(config.crawl.timeout_seconds) + RUN_MARGIN_SECONDS


def child_command(config_path: str | None, verbose: bool | None = None) -> list[str]:
    """The command for one run; the database URL travels in the environment.

    `--verbose` is passed on when the daemon itself logs at INFO (`acewatch -v
    schedule`), so the run's progress lines reach the same log.
    """
    if verbose is None:
        verbose = logging.getLogger().isEnabledFor(logging.INFO)
    command = [sys.executable, "-m", "acewatch.cli"]
    if config_path:
        command += ["--config", config_path]
    if verbose:
        command.append("--verbose")
    return command + ["run", "--progress", "log"]


def child_environment(db_url: str) -> dict[str, str]:
    return {**os.environ, "ACEWATCH_DB": db_url}


# --------------------------------------------------------------------------
# Cron
# --------------------------------------------------------------------------


def crontab_days(day_field: str) -> str:
    """A crontab day-of-week field (0 or 7 = Sunday) as day names APScheduler 3 reads right.

    APScheduler 3 numbers weekdays from Monday = 0 (its docs call this a
    historical mistake, fixed only in 4.x), so `30 3 * * 0` passed through
    as-is would run on Mondays. Names mean the same in both, so numbers,
    ranges and steps are expanded to names.
    """
    if not re.search(r"\d", day_field):
        return day_field
    days: list[str] = []
    for item in day_field.lower().split(","):
        for day in _expand_day_item(item):
            if day not in days:
                days.append(day)
    return ",".join(days)


def _expand_day_item(item: str) -> list[str]:
    if not re.search(r"\d", item):
        return [item]  # a name or a name range: same meaning in cron and APScheduler
    match = _DAY_ITEM.fullmatch(item)
    if not match:
        raise ScheduleError(f"cannot read the day-of-week item {item!r} (use numbers 0-7, names, ranges, steps)")
    span, step = match.group(1), int(match.group(2) or 1)
    if span == "*":
        first, last = 0, 6
    elif "-" in span:
        first, last = (int(x) for x in span.split("-"))
    else:
        first = last = int(span)
        if match.group(2):
            last = 7  # cron: "2/3" means from 2 to the end in steps of 3
    if not (0 <= first <= 7 and 0 <= last <= 7 and first <= last and step >= 1):
        raise ScheduleError(f"day-of-week {item!r} is out of range (0-7, 0 and 7 are Sunday)")
    return [_CRON_DAYS[day % 7] for day in range(first, last + 1, step)]


def cron_trigger(expr: str, tz: str):
    """CronTrigger.from_crontab with crontab's weekday numbering kept (see crontab_days)."""
    from apscheduler.triggers.cron import CronTrigger

    fields = expr.split()
    if len(fields) != 5:
        raise ScheduleError(f"schedule.cron {expr!r} needs 5 fields (minute hour day month weekday), got {len(fields)}")
    fields[4] = crontab_days(fields[4])
    try:
        return CronTrigger.from_crontab(" ".join(fields), timezone=tz)
    except ValueError as exc:
        raise ScheduleError(f"schedule.cron {expr!r} is not a valid crontab expression: {exc}") from None


def check_timezone(tz: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"schedule.timezone {tz!r} is not a known time zone (e.g. UTC, America/New_York)") from None
    return tz


# --------------------------------------------------------------------------
# The job store, read without a scheduler
# --------------------------------------------------------------------------


def stored_next_run(engine: Engine, job_id: str = JOB_ID) -> datetime | None:
    """The persisted next run time of our job, or None if none is stored."""
    return next_run_time(engine, job_id)


# --------------------------------------------------------------------------
# The job and the daemon
# --------------------------------------------------------------------------


def run_job(config_path: str | None, timeout_seconds: float) -> int:
    """The scheduled job: one `acewatch run` in a child process; returns its exit status.

    Module-level with plain arguments so the SQLAlchemy job store can pickle
    it by reference (`acewatch.schedule:run_job`). Inside the daemon it uses
    the daemon's database and stop handling; called on its own, it runs the
    child against ACEWATCH_DB.
    """
    daemon = _current
    if daemon is not None:
        return daemon.run_child(config_path, timeout_seconds)
    child = subprocess.Popen(child_command(config_path), start_new_session=True)
    return wait_child(child, timeout_seconds, threading.Event(), print)


def wait_child(
    child: subprocess.Popen, timeout_seconds: float, stop: threading.Event, say, grace: float = STOP_GRACE_SECONDS
) -> int:
    """Wait for the child; on timeout or stop, SIGINT it, then SIGKILL it after `grace` seconds."""
    deadline = time.monotonic() + timeout_seconds
    while True:
        try:
            return child.wait(timeout=0.2)
        except subprocess.TimeoutExpired:
            pass
        if stop.is_set():
            return stop_child(child, say, grace)
        if time.monotonic() >= deadline:
            say(f"run timed out after {timeout_seconds:g} s pid={child.pid}")
            return stop_child(child, say, grace)


def stop_child(child: subprocess.Popen, say, grace: float = STOP_GRACE_SECONDS) -> int:
    """SIGINT lets `acewatch run` kill its crawler and release the run lock; SIGKILL if it will not stop."""
    _signal_group(child, signal.SIGINT)
    try:
        return child.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        say(f"run did not stop within {grace:g} s; killing pid={child.pid}")
        _signal_group(child, signal.SIGKILL)
        return child.wait()


def _signal_group(child: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(child.pid, signum)
    except ProcessLookupError:
        pass


@dataclass
class Daemon:
    """The scheduler, its one job's child process and the stop machinery."""

    config: Config
    engine: Engine
    config_path: str | None
    interval: float | None = None
    max_runs: int | None = None
    out: TextIO = field(default_factory=lambda: sys.stderr)
    runs: int = 0
    stop_reason: str | None = None
    scheduler: Any = None
    stopping: threading.Event = field(default_factory=threading.Event)
    started: threading.Event = field(default_factory=threading.Event)
    _stopper: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def say(self, message: str) -> None:
        """One plain, parseable line per event: `<UTC time> acewatch-schedule: <message>`."""
        stamp = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        print(f"{stamp} acewatch-schedule: {message}", file=self.out, flush=True)

    def build(self) -> None:
        """The scheduler with its persisted job; nothing runs until `serve`."""
        from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, EVENT_SCHEDULER_STARTED
        from apscheduler.executors.pool import ThreadPoolExecutor

        schedule = self.config.schedule
        tz = check_timezone(schedule.timezone)
        trigger = self.trigger()
        self.scheduler = _scheduler_class()(
            jobstores={"default": job_store(self.engine)},
            executors={"default": ThreadPoolExecutor(max_workers=1)},
            job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": schedule.misfire_grace_seconds},
            timezone=tz,
        )
        self.scheduler.add_listener(
            self._on_event, EVENT_SCHEDULER_STARTED | EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES
        )
        self.scheduler.add_job(
            run_job,
            trigger,
            id=JOB_ID,
            name="acewatch run",
            replace_existing=True,
            kwargs={"config_path": self.config_path, "timeout_seconds": child_timeout(self.config)},
            **self._catch_up(),
        )

    def trigger(self):
        from apscheduler.triggers.interval import IntervalTrigger

        if self.interval:
            return IntervalTrigger(seconds=self.interval, timezone=self.config.schedule.timezone)
        return cron_trigger(self.config.schedule.cron, self.config.schedule.timezone)

    def describe(self) -> str:
        if self.interval:
            return f"every {self.interval:g} s (testing interval)"
        return f"cron {self.config.schedule.cron!r} {self.config.schedule.timezone}"

    def _catch_up(self) -> dict[str, Any]:
        """Keep a run that fell due while the daemon was down, if still within the misfire grace.

        Re-adding the job with replace_existing would otherwise recompute its
        next run from now and silently drop the missed one.
        """
        missed = stored_next_run(self.engine)
        now = datetime.now(UTC)
        grace = self.config.schedule.misfire_grace_seconds
        if missed is not None and missed <= now and (now - missed).total_seconds() <= grace:
            self.say(f"catching up the run due at {_iso(missed)} (missed while stopped)")
            return {"next_run_time": missed}
        return {}

    def serve(self) -> int:
        """Block until stopped (signal or --max-runs); 0 after a clean stop."""
        global _current
        _current = self
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            self.say(f"started schedule={self.describe()} job={JOB_ID} pid={os.getpid()}")
            self.scheduler.start()
            if self._stopper is not None:
                self._stopper.join()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            _current = None
        self.say(f"stopped cleanly reason={self.stop_reason or 'shutdown'} runs={self.runs}")
        return 0

    def run_child(self, config_path: str | None, timeout_seconds: float) -> int:
        """One run, as the job thread sees it: start, wait (stoppable), log, count."""
        if self.stopping.is_set():
            return -1
        started = time.monotonic()
        child = subprocess.Popen(
            child_command(config_path), env=child_environment(self.config.db), start_new_session=True
        )
        self.say(f"run started pid={child.pid}")
        status = wait_child(child, timeout_seconds, self.stopping, self.say)
        self.runs += 1
        self.say(f"run finished exit={status} seconds={time.monotonic() - started:.1f} runs={self.runs}")
        if self.max_runs is not None and self.runs >= self.max_runs:
            self.request_stop(f"max-runs={self.max_runs}")
        elif not self.stopping.is_set():
            self._say_next()
        return status

    def request_stop(self, reason: str) -> None:
        """Begin a clean stop from any thread (or a signal handler): never blocks the caller."""
        with self._lock:
            if self.stopping.is_set():
                self.say(f"{reason}: already stopping")
                return
            self.stop_reason = reason
            self.stopping.set()
            self._stopper = threading.Thread(target=self._shutdown, name="acewatch-stop", daemon=True)
            self._stopper.start()
        self.say(f"stopping reason={reason}")

    def _shutdown(self) -> None:
        """Wait for the scheduler to be up, pause it (no new submissions), then shut it down.

        shutdown(wait=True) waits for a running job; that job's child has
        already been interrupted because `stopping` is set.
        """
        self.started.wait()
        self.scheduler.pause()
        self.scheduler.shutdown(wait=True)

    def _on_signal(self, signum, _frame) -> None:
        """Hand the stop to a thread: a signal handler must not take locks or block the main loop."""
        name = signal.Signals(signum).name
        threading.Thread(target=self.request_stop, args=(name,), name="acewatch-signal", daemon=True).start()

    def _on_event(self, event) -> None:
        from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, EVENT_SCHEDULER_STARTED

        if event.code == EVENT_SCHEDULER_STARTED:
            self.started.set()
            self._say_next()
        elif event.code == EVENT_JOB_MISSED:
            self.say(f"run missed scheduled={_iso(event.scheduled_run_time)} (beyond the misfire grace)")
        elif event.code == EVENT_JOB_MAX_INSTANCES:
            self.say("run skipped: the previous run is still going")

    def _say_next(self) -> None:
        job = self.scheduler.get_job(JOB_ID)
        if job is not None and job.next_run_time is not None:
            self.say(f"next run at {_iso(job.next_run_time)}")


_current: Daemon | None = None


def _scheduler_class():
    """BlockingScheduler that, once stopped, does not process jobs again.

    BlockingScheduler's loop runs `_process_jobs` once more after shutdown()
    wakes it; a job due at that moment would be submitted to the shut-down
    executor and logged as an error (and its run consumed).
    """
    from apscheduler.schedulers.base import STATE_STOPPED
    from apscheduler.schedulers.blocking import BlockingScheduler

    class StoppableScheduler(BlockingScheduler):
        def _process_jobs(self):
            if self.state == STATE_STOPPED:
                return None
            return super()._process_jobs()

    return StoppableScheduler


def serve(
    config: Config,
    engine: Engine,
    interval: float | None = None,
    max_runs: int | None = None,
    out: TextIO | None = None,
) -> int:
    """Run the scheduler daemon until SIGTERM/SIGINT or `max_runs` runs; 0 on a clean stop.

    The child runs read the same config file this process loaded
    (`config.source`), and the same environment.
    """
    config_path = str(Path(config.source).resolve()) if config.source != "defaults" else None
    daemon = Daemon(config, engine, config_path, interval=interval, max_runs=max_runs, out=out or sys.stderr)
    daemon.build()
    return daemon.serve()


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
