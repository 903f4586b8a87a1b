"""`acewatch schedule` as a real daemon process against the live fixture site.

The daemon runs `acewatch run` children on an interval (the test-only
`--interval`), persists its job in the store's own database, and stops
cleanly on SIGTERM, idle or mid-run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select, text

import acewatch.cli
from acewatch.schedule import JOB_ID, JOBS_TABLE, child_command, crontab_days, stored_next_run
from fixtures.server import FixtureSite
from store.database import open_engine
from store.locks import acquire, holder_of, release
from store.models import CrawlRun, Cycle
from tests.support import ROOT, write_site_config

SERVER_COMMANDS = ("schedule", "status", "history", "export")
# Until acewatch.cli registers the server commands, tests register them in the child process.
BOOTSTRAP = (
    "import sys; from acewatch.cli import app; from monitor import server_cli as s; "
    "[app.command()(f) for f in (s.schedule, s.status, s.history, s.export)]; app()"
)


def cli_registered() -> bool:
    names = {command.name or command.callback.__name__ for command in acewatch.cli.app.registered_commands}
    return set(SERVER_COMMANDS) <= names


def cli_command(*args: str) -> list[str]:
    """`python -m acewatch.cli ARGS`, or the same app with the server commands registered on the fly."""
    entry = ["-m", "acewatch.cli"] if cli_registered() else ["-c", BOOTSTRAP]
    return [sys.executable, *entry, *args]


def cli_env(db: str, home: Path) -> dict[str, str]:
    environ = {**os.environ, "HOME": str(home), "ACEWATCH_DB": db, "COLUMNS": "200"}
    environ.pop("ACEWATCH_CONFIG", None)
    return environ


def start_daemon(db: str, home: Path, config: Path | None, *args: str) -> tuple[subprocess.Popen, Path]:
    """The daemon with its stderr in a file the test can poll while it runs."""
    log = home / "daemon.log"
    options = ["--config", str(config)] if config else []
    daemon = subprocess.Popen(
        cli_command(*options, "schedule", *args),
        env=cli_env(db, home),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
    )
    return daemon, log


def wait_for_line(log: Path, needle: str, daemon: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if needle in log.read_text():
            return
        if daemon.poll() is not None:
            break
        time.sleep(0.1)
    raise AssertionError(f"{needle!r} not logged; daemon exit={daemon.poll()}:\n{log.read_text()}")


def processes_with_env(marker: str) -> list[int]:
    """Live processes whose environment holds `marker` (our unique store path): children we left behind."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if marker.encode() in (entry / "environ").read_bytes():
                    state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
                    if state != "Z":
                        found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.fixture(scope="module")
def site():
    with FixtureSite(day="day1") as site:
        yield site


def test_two_scheduled_runs_back_to_back_store_two_healthy_cycles(db_url, site, tmp_path):
    config = write_site_config(tmp_path / "acewatch.toml", site)
    result = subprocess.run(
        cli_command("--config", str(config), "schedule", "--interval", "2", "--max-runs", "2"),
        env=cli_env(db_url, tmp_path),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    log = result.stderr
    assert result.returncode == 0, log
    assert log.count("run finished exit=0") == 2, log
    assert "next run at " in log and "stopped cleanly reason=max-runs=2 runs=2" in log
    engine = open_engine(db_url)
    with engine.connect() as connection:
        runs = connection.execute(select(CrawlRun.source, CrawlRun.outcome, CrawlRun.healthy)).all()
        cycles = connection.execute(select(Cycle.outcome)).scalars().all()
        job_state = connection.execute(
            text(f"SELECT job_state FROM {JOBS_TABLE} WHERE id = :id"), {"id": JOB_ID}
        ).scalar_one()
    assert cycles == ["finished", "finished"]
    assert sorted(r.source for r in runs) == ["ace", "ace", "coursera", "coursera"]
    assert all(r.outcome == "finished" and r.healthy for r in runs), runs
    # The job is persisted in the store's own database, with the function by reference and no URL in it.
    assert b"acewatch.schedule:run_job" in bytes(job_state)
    assert db_url.encode() not in bytes(job_state) and b"sqlite:" not in bytes(job_state)
    assert stored_next_run(engine) is not None
    assert holder_of(engine) is None
    engine.dispose()


def test_sigterm_while_idle_exits_zero_promptly(tmp_path):
    db = f"sqlite:///{tmp_path / 'idle.db'}"
    daemon, log = start_daemon(db, tmp_path, None)  # default cron: next run hours away
    try:
        wait_for_line(log, "next run at ", daemon)
        started = time.monotonic()
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=10) == 0, log.read_text()
        assert time.monotonic() - started < 5
    finally:
        if daemon.poll() is None:
            daemon.kill()
    lines = log.read_text()
    assert "stopping reason=SIGTERM" in lines and "stopped cleanly reason=SIGTERM runs=0" in lines
    assert "Traceback" not in lines
    engine = open_engine(db)
    assert stored_next_run(engine) is not None  # the job stays stored for the next start and `status`
    engine.dispose()


def test_sigterm_during_a_run_interrupts_the_child_and_leaves_nothing_running(tmp_path):
    db = f"sqlite:///{tmp_path / 'busy.db'}"
    with FixtureSite(day="day1") as slow_site:
        # Every Coursera API page answers after 6 s, so the crawl is surely in progress when SIGTERM lands.
        slow_site.set_faults([{"role": "coursera_api", "path": "", "kind": "timeout", "seconds": 6}])
        config = write_site_config(tmp_path / "slow.toml", slow_site, download_timeout=20.0)
        daemon, log = start_daemon(db, tmp_path, config, "--interval", "1")
        try:
            wait_for_line(log, "run started pid=", daemon)
            time.sleep(2.5)
            started = time.monotonic()
            daemon.send_signal(signal.SIGTERM)
            assert daemon.wait(timeout=40) == 0, log.read_text()
            stop_seconds = time.monotonic() - started
        finally:
            if daemon.poll() is None:
                daemon.kill()
    lines = log.read_text()
    assert "stopping reason=SIGTERM" in lines and "stopped cleanly reason=SIGTERM runs=1" in lines, lines
    assert "run finished exit=0" not in lines  # the run was interrupted, not completed
    assert stop_seconds < 15, lines
    assert processes_with_env(str(tmp_path / "busy.db")) == []  # neither `run` nor its crawler survived
    engine = open_engine(db)
    with engine.connect() as connection:
        assert connection.execute(select(Cycle).where(Cycle.outcome == "finished")).first() is None
    assert holder_of(engine) is None
    engine.dispose()


def test_a_run_while_the_lock_is_held_is_refused_across_processes(tmp_path):
    """store.locks in two processes: the second `run_lock` is refused with the holder and its start."""
    db = f"sqlite:///{tmp_path / 'lock.db'}"
    engine = open_engine(db)
    assert acquire(engine, "run", "cron-host:4242", ttl_seconds=600)
    probe = (
        "import sys; from store.database import open_engine; from store.locks import LockHeld, run_lock\n"
        "try:\n    with run_lock(open_engine(sys.argv[1]), ttl=60):\n        print('ran')\n"
        "except LockHeld as exc:\n    print('refused:', exc); sys.exit(7)\n"
    )
    refused = subprocess.run([sys.executable, "-c", probe, db], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert refused.returncode == 7 and "cron-host:4242" in refused.stdout and "since" in refused.stdout
    release(engine, "run", "cron-host:4242")
    allowed = subprocess.run([sys.executable, "-c", probe, db], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert allowed.returncode == 0 and "ran" in allowed.stdout
    engine.dispose()


def test_cli_run_and_scheduled_run_are_refused_while_another_run_holds_the_lock(site, tmp_path):
    db = f"sqlite:///{tmp_path / 'held.db'}"
    config = write_site_config(tmp_path / "acewatch.toml", site)
    engine = open_engine(db)
    assert acquire(engine, "run", "cron-host:4242", ttl_seconds=600)
    refused = subprocess.run(
        cli_command("--config", str(config), "run", "--progress", "off"),
        env=cli_env(db, tmp_path),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 7 and "cron-host:4242" in refused.stderr, refused.stderr
    daemon = subprocess.run(
        cli_command("--config", str(config), "schedule", "--interval", "1", "--max-runs", "1"),
        env=cli_env(db, tmp_path),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert daemon.returncode == 0 and "run finished exit=0" not in daemon.stderr, daemon.stderr
    with engine.connect() as connection:
        assert connection.execute(select(CrawlRun)).first() is None  # nothing crawled while locked
    assert holder_of(engine).holder == "cron-host:4242"
    engine.dispose()


def test_crontab_weekdays_keep_their_crontab_meaning():
    """APScheduler 3 counts weekdays from Monday = 0; crontab from Sunday = 0 (and 7)."""
    assert crontab_days("*") == "*"
    assert crontab_days("0") == crontab_days("7") == "sun"
    assert crontab_days("1-5") == "mon,tue,wed,thu,fri"
    assert crontab_days("*/2") == "sun,tue,thu,sat"
    assert crontab_days("mon-fri") == "mon-fri"
    assert crontab_days("6,0") == "sat,sun"


def test_child_command_keeps_the_database_url_off_the_command_line():
    command = child_command("/etc/acewatch.toml", verbose=False)
    assert command[1:] == ["-m", "acewatch.cli", "--config", "/etc/acewatch.toml", "run", "--progress", "log"]
    assert not any("://" in part for part in command)


def test_a_run_missed_while_the_daemon_was_down_is_caught_up_on_start(site, tmp_path):
    """The stored job says a run fell due 10 minutes ago (within the misfire grace): it runs at once."""
    db = f"sqlite:///{tmp_path / 'missed.db'}"
    config = write_site_config(tmp_path / "acewatch.toml", site)
    idle, log = start_daemon(db, tmp_path, config)  # stores the job, due at 03:30
    wait_for_line(log, "next run at ", idle)
    idle.send_signal(signal.SIGTERM)
    assert idle.wait(timeout=10) == 0
    engine = open_engine(db)
    with engine.begin() as connection:
        connection.execute(
            text(f"UPDATE {JOBS_TABLE} SET next_run_time = :at WHERE id = :id"), {"at": time.time() - 600, "id": JOB_ID}
        )
    result = subprocess.run(
        cli_command("--config", str(config), "schedule", "--max-runs", "1"),
        env=cli_env(db, tmp_path),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "catching up the run due at" in result.stderr and "run finished exit=0" in result.stderr
    with engine.connect() as connection:
        assert connection.execute(select(Cycle.outcome)).scalars().all() == ["finished"]
    assert stored_next_run(engine).timestamp() > time.time()  # back on the cron schedule
    engine.dispose()


def test_a_bad_cron_is_a_one_line_config_error(tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text('[schedule]\ncron = "every night"\n', encoding="utf-8")
    result = subprocess.run(
        cli_command("--config", str(config), "schedule"),
        env=cli_env(f"sqlite:///{tmp_path / 'bad.db'}", tmp_path),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 6
    assert result.stderr.startswith("acewatch: error: schedule.cron 'every night' needs 5 fields")


def test_a_run_past_its_timeout_is_interrupted_then_killed_if_it_ignores_sigint():
    import threading

    from acewatch.schedule import wait_child

    said: list[str] = []
    polite = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
    started = time.monotonic()
    assert wait_child(polite, 0.5, threading.Event(), said.append, grace=10) != 0  # KeyboardInterrupt
    assert time.monotonic() - started < 30  # interrupted, not left to sleep its 60 s (slack for a loaded machine)
    stubborn = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import signal, time; signal.signal(signal.SIGINT, "
            "signal.SIG_IGN); print('ready', flush=True); time.sleep(60)",
        ],
        start_new_session=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert stubborn.stdout.readline() == "ready\n"
    assert wait_child(stubborn, 0.3, threading.Event(), said.append, grace=0.5) == -signal.SIGKILL
    assert said[0].startswith("run timed out after 0.5 s") and "killing pid=" in said[-1]
