"""Reliability scenarios shared by tests/reliability and bench/reliability.py.

One *environment* per session: a FixtureSite (one origin for every scenario,
so stored URLs and the ACE spider's known-exhibit re-checks stay comparable),
a webhook listener standing in for the alert channel, and a SQLite store
holding the healthy day-1 baseline, made once and copied per scenario.

A *fault scenario* is then: copy the baseline, switch the site to day 2 with
the fault rules on, run a cycle (the faulted one), clear the faults, run a
cycle again (the recovered one), and judge the outcome:

* false events: a change event the fault alone caused (anything outside the
  six day-2 events the fixture documents, or one of those reported twice);
* data lost: an earlier store row (runs, snapshots, cycles, matches, events,
  deliveries) changed or deleted, or a real day-2 change never reported;
* duplicate alerts: more digests at the webhook than cycles with events;
* the faulted run per source: ``unhealthy``, ``retried`` (healthy after Scrapy
  retries), or ``tolerated`` (healthy, the fault did not matter);
* recovered: the recovered cycle is healthy and every real change has been
  reported exactly once.

A *crash scenario* (`run_crash_scenario`, second half of this module) runs the
real `acewatch run` process again and again on one store, killing it in each
phase (crawling, storing, diffing, alerting, seeded random moments; on
PostgreSQL also cutting its connections), checks the store after every kill
(`store_invariants`) and, at the end, the events and the digests received.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select, text
from sqlmodel import SQLModel

from acewatch.config import Config
from acewatch.cycle import run_cycle
from fixtures.server import FixtureSite
from store.cycles import cycle_events
from store.database import open_engine
from tests.listeners import Listener, Request
from tests.support import EXPECTED_CHANGES, ROOT, site_config, write_site_config

# --------------------------------------------------------------------------- the day-2 oracle

CHANGE = {c["change"]: c for c in EXPECTED_CHANGES}
#: (type, subject_key) of every event the five day-2 changes must produce, once each.
EXPECTED_EVENTS = frozenset(
    {
        ("gained_ace", CHANGE["gained_ace"]["cid"]),
        ("lost_ace", CHANGE["lost_ace"]["cid"]),
        ("lost_ace", CHANGE["recommendation_ended"]["cid"]),
        ("credits_changed", CHANGE["credits_changed"]["cid"]),
        ("renamed", CHANGE["renamed"]["coursera_path"]),
        ("name_mismatch", CHANGE["renamed"]["coursera_path"]),
        # Four page claims stand differently against the guide (tests/test_claims_e2e.py).
        *[
            ("claim_changed", CHANGE[change]["coursera_path"])
            for change in ("gained_ace", "lost_ace", "renamed", "recommendation_ended")
        ],
    }
)
HEALTH_EVENTS = {"source_unhealthy", "source_recovered"}
STATUS_EVENTS = {"gained_ace", "lost_ace", "credits_changed"}

# --------------------------------------------------------------------------- paths on the fixture site

EXHIBITS = r"(?i)/national-guide/pages/course\.aspx"
ORGANIZATIONS = r"(?i)/national-guide/pages/organization\.aspx"
API_PAGES = r"onDemandSpecializations\.v1"
API_PAGE_2 = r"onDemandSpecializations\.v1.*start=100\b"
PARTNERS = r"partners\.v1"
PROGRAM_PAGES = r"^/(professional-certificates|specializations)/"
CERTIFICATES_SITEMAP = r"^/sitemap~www~certificates\.xml$"  # a sub-sitemap that lists program pages
NOT_ROBOTS = r"^/(?!robots\.txt)"
CID = {cid: rf"(?i)course\.aspx\?.*cid={cid}" for cid in [c["cid"] for c in EXPECTED_CHANGES]}
STABLE_CID = "a11823ac-d7c4-ea11-a812-000d3a33232a"  # GOOG-0009, unchanged on day 2
CID[STABLE_CID] = rf"(?i)course\.aspx\?.*cid={STABLE_CID}"

#: Short timeouts and one retry keep a faulted crawl to a few seconds.
DOWNLOAD_TIMEOUT = 1.0
RETRY_TIMES = 1
SLOW = 2.5  # seconds a `timeout` fault holds a response (> DOWNLOAD_TIMEOUT)


def _ace(path: str, kind: str, **options) -> dict:
    return {"role": "ace", "path": path, "kind": kind, **options}


def _api(path: str, kind: str, **options) -> dict:
    return {"role": "coursera_api", "path": path, "kind": kind, **options}


def _site(path: str, kind: str, **options) -> dict:
    return {"role": "coursera_site", "path": path, "kind": kind, **options}


#: One scenario per fault kind, each faulting the ACE host and the Coursera hosts at once,
#: per path (count-limited or seeded-random), then two fully random seeded mixes.
FAULT_SCENARIOS: dict[str, list[dict]] = {
    "status:500": [
        _ace(EXHIBITS, "status:500", rate=0.3, seed=1),
        _site(PROGRAM_PAGES, "status:500", rate=0.3, seed=1),
    ],
    "status:503 x3 (retried)": [
        _ace(ORGANIZATIONS, "status:503", count=3),
        _ace(EXHIBITS, "status:503", count=3),
        _api(API_PAGES, "status:503", count=1),
        _site(PROGRAM_PAGES, "status:503", count=3),
    ],
    "status:404": [
        _ace(EXHIBITS, "status:404", rate=0.2, seed=2),
        _site(PROGRAM_PAGES, "status:404", rate=0.2, seed=2),
    ],
    "429 x4 (retried)": [
        _ace(EXHIBITS, "429", count=4),
        _api(API_PAGES, "429", count=1),
        _site(PROGRAM_PAGES, "429", count=4),
    ],
    "timeout": [
        _ace(EXHIBITS, "timeout", rate=0.25, seed=3, seconds=SLOW),
        _site(PROGRAM_PAGES, "timeout", rate=0.1, seed=3, seconds=SLOW),
    ],
    "reset": [
        _ace(EXHIBITS, "reset", rate=0.3, seed=4),
        _api(API_PAGES, "reset", count=1),
        _site(PROGRAM_PAGES, "reset", rate=0.1, seed=4),
    ],
    "truncate": [
        _ace(EXHIBITS, "truncate", rate=0.3, seed=5),
        _api(API_PAGE_2, "truncate", count=1),
        _site(PROGRAM_PAGES, "truncate", rate=0.1, seed=5),
    ],
    "empty": [
        _ace(ORGANIZATIONS, "empty", rate=0.3, seed=6),
        _ace(EXHIBITS, "empty", rate=0.3, seed=6),
        _api(API_PAGE_2, "empty"),
        _site(PROGRAM_PAGES, "empty", rate=0.1, seed=6),
    ],
    "redirect_loop": [
        _ace(CID[CHANGE["lost_ace"]["cid"]], "redirect_loop"),
        _ace(CID[STABLE_CID], "redirect_loop"),
        _ace(EXHIBITS, "redirect_loop", rate=0.15, seed=7),
        _api(API_PAGE_2, "redirect_loop"),
        _site(PROGRAM_PAGES, "redirect_loop", rate=0.03, seed=7),
    ],
    "invalid_json": [
        _api(API_PAGE_2, "invalid_json"),
        _api(PARTNERS, "invalid_json", count=1),
        _ace(EXHIBITS, "invalid_json", rate=0.3, seed=8),
        _site(PROGRAM_PAGES, "invalid_json", rate=0.1, seed=8),
    ],
    "layout_changed": [
        _ace(EXHIBITS, "layout_changed"),
        _ace(ORGANIZATIONS, "layout_changed"),
        _site(PROGRAM_PAGES, "layout_changed"),
    ],
    # The listing cut short: the API's paging gone, or (sitemap discovery) a sub-sitemap cut in half.
    "missing_paging": [_api(API_PAGE_2, "missing_paging"), _site(CERTIFICATES_SITEMAP, "invalid_json")],
    "duplicate_records": [_ace(ORGANIZATIONS, "duplicate_records"), _api(API_PAGES, "duplicate_records")],
    "reorder_records": [_ace(ORGANIZATIONS, "reorder_records", seed=9), _api(API_PAGES, "reorder_records", seed=9)],
    "huge": [
        _ace(EXHIBITS, "huge", rate=0.2, seed=10, size=1_500_000),
        _api(API_PAGES, "huge", count=1, size=1_500_000),
        _site(PROGRAM_PAGES, "huge", rate=0.03, seed=10, size=1_500_000),
    ],
}
ROBOTS = r"^/robots\.txt$"
FAULT_SCENARIOS["robots.txt disallows pages"] = [
    _ace(ROBOTS, "robots:/National-Guide/Pages/Course.aspx"),
    _site(ROBOTS, "robots:/professional-certificates/"),
]
#: What the fixture's own robots.txt files disallow (fixtures/site.py), by role.
DEFAULT_DISALLOWED = {
    "ace": ("/_layouts/", "/_vti_bin/", "/_catalogs/", "/Lists/", "/Search/"),
    "coursera_site": ("/api/", "/admin/"),
}
ALL_KINDS = [
    "status:500",
    "status:503",
    "status:404",
    "429",
    "timeout",
    "reset",
    "truncate",
    "empty",
    "redirect_loop",
    "invalid_json",
    "layout_changed",
    "missing_paging",
    "duplicate_records",
    "reorder_records",
    "huge",
]
for _seed in (11, 12):
    FAULT_SCENARIOS[f"random mix, seed {_seed}"] = [
        {
            "role": role,
            "path": NOT_ROBOTS,
            "kind": ALL_KINDS,
            "rate": 0.1,
            "seed": _seed,
            "seconds": SLOW,
            "size": 1_000_000,
        }
        for role in ("ace", "coursera_api", "coursera_site")
    ]


# --------------------------------------------------------------------------- the alert channel


class Hook(Listener):
    """A webhook listener (Apprise `json://`): records each POST when it arrives, by path.

    `hold` (an Event) makes it keep the connection open after recording, so a
    test can catch a delivery in its `sending` state; `release()` lets go.
    Started at once: the reliability environment shares one for all its runs.
    """

    def __init__(self):
        super().__init__()
        self.arrived = threading.Event()
        self.hold = threading.Event()
        self.released = threading.Event()
        self.start()

    def respond(self, request: Request) -> tuple[int, bytes, str]:
        self.arrived.set()
        if self.hold.is_set():
            self.released.wait(30)
        return 200, b"", "text/plain"

    def url(self, path: str) -> str:
        return f"json://127.0.0.1:{self.port}/{path.strip('/')}"

    def messages(self, path: str) -> list[dict[str, Any]]:
        """The POSTs to `path` as {"path", "payload", "at"}, in arrival order."""
        with self.lock:
            return [
                {"path": r.path, "payload": r.json(), "at": r.at}
                for r in self.received
                if r.path.rstrip("/") == "/" + path.strip("/")
            ]

    def release(self) -> None:
        self.hold.clear()
        self.released.set()

    def stop(self) -> None:
        self.release()
        super().stop()


# --------------------------------------------------------------------------- environment


@dataclass
class Env:
    site: FixtureSite
    hook: Hook
    workdir: Path
    baseline: Path  # SQLite file with the healthy day-1 cycle

    def config(self, db_url: str, channel: str, **crawl) -> Config:
        crawl = {"download_timeout": DOWNLOAD_TIMEOUT, "retry_times": RETRY_TIMES, **crawl}
        config = site_config(db_url, self.site, self.workdir, **crawl)
        return replace(config, alerts=replace(config.alerts, urls=(self.hook.url(channel),)))


def start_env(workdir: Path) -> Env:
    """Serve day 1 and crawl it once into the baseline store."""
    workdir.mkdir(parents=True, exist_ok=True)
    site = FixtureSite(day="day1").start()
    hook = Hook()
    baseline = workdir / "baseline-day1.db"
    env = Env(site, hook, workdir, baseline)
    try:
        engine = open_engine(f"sqlite:///{baseline}")
        report = run_cycle(env.config(f"sqlite:///{baseline}", "baseline"), engine, progress="off")
        engine.dispose()
        assert report.healthy and report.events == [], "the day-1 baseline must be a healthy, quiet cycle"
    except BaseException:
        stop_env(env)
        raise
    return env


def stop_env(env: Env) -> None:
    env.hook.stop()
    env.site.stop()


def copy_baseline(env: Env, name: str) -> str:
    """A private copy of the day-1 store (SQLite: the file, its WAL is checkpointed at dispose)."""
    safe = "".join(c if c.isalnum() else "-" for c in name).strip("-")
    target = env.workdir / f"{safe}.db"
    shutil.copyfile(env.baseline, target)
    return f"sqlite:///{target}"


# --------------------------------------------------------------------------- store comparison


def table_rows(engine: Engine) -> dict[str, dict[tuple, dict]]:
    """Every row of every acewatch table, keyed by primary key, as plain comparable dicts."""
    rows: dict[str, dict[tuple, dict]] = {}
    with engine.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            if not engine.dialect.has_table(connection, table.name):
                continue
            key = [c.name for c in table.primary_key.columns]
            found = {}
            for row in connection.execute(select(table)).mappings():
                found[tuple(row[k] for k in key)] = {k: _plain(v) for k, v in row.items()}
            rows[table.name] = found
    return rows


def _plain(value: Any) -> Any:
    if hasattr(value, "replace") and hasattr(value, "tzinfo") and value.tzinfo is not None:
        return value.replace(tzinfo=None)  # SQLite gives naive UTC, PostgreSQL aware: compare alike
    return value


def rows_changed(before: dict, after: dict, skip: tuple[str, ...] = ("run_lock",)) -> list[str]:
    """Earlier rows that are gone or different now (new rows are fine)."""
    problems = []
    for table, rows in before.items():
        if table in skip:
            continue
        later = after.get(table, {})
        for key, row in rows.items():
            if key not in later:
                problems.append(f"{table}{list(key)} deleted")
            elif later[key] != row:
                diff = sorted(k for k in row if later[key].get(k) != row[k])
                problems.append(f"{table}{list(key)} changed: {', '.join(diff)}")
    return problems


# --------------------------------------------------------------------------- judging events


def judge_events(events: list[dict]) -> tuple[list[str], list[str]]:
    """(false events, missed real changes) over all day-2 cycles of a scenario."""
    seen: dict[tuple[str, str], int] = {}
    false = []
    for event in events:
        key = (event["type"], event["subject_key"])
        if event["type"] in HEALTH_EVENTS:
            continue
        seen[key] = seen.get(key, 0) + 1
        if key not in EXPECTED_EVENTS:
            false.append(
                f"{event['type']} {event['subject_key']} ({event['subject']}: {event['old']} -> {event['new']})"
            )
        elif seen[key] == 2:
            false.append(f"{event['type']} {event['subject_key']} reported twice")
    missed = sorted(f"{t} {k}" for t, k in EXPECTED_EVENTS - set(seen))
    return false, missed


#: Events about a Coursera program judged against the ACE guide: due only when both runs are healthy.
JUDGED_ON_BOTH = {"name_mismatch", "claim_changed"}


def late_changes(faulted_events: list[dict], faulted: dict[str, str], failed_paths: list[str]) -> list[str]:
    """Real changes the faulted night should have reported and did not, though nothing excused it.

    The liveness bound (README, "Principles"): a change is reported by the first healthy run of its
    source(s) that reads its record. It is excused when its source's run was held back, or when its
    own page failed that night (the record was `unknown`: it waits for the page). Anything else
    reported only later is late beyond the bound.
    """
    seen = {(e["type"], e["subject_key"]) for e in faulted_events}
    late = []
    for type_, key in sorted(EXPECTED_EVENTS - seen):
        sources = {"ace", "coursera"} if type_ in JUDGED_ON_BOTH else {"coursera" if key.startswith("/") else "ace"}
        held_back = any(faulted.get(source) == "unhealthy" for source in sources)
        page_failed = any(key in path for path in failed_paths)
        if not held_back and not page_failed:
            late.append(f"{type_} {key}")
    return late


def disallowed_requests(requests: list[tuple], rules: list[dict]) -> list[str]:
    """Requests a robots.txt in force forbade: the fixture's own, or one a `robots:` fault served."""
    prefixes = {role: list(paths) for role, paths in DEFAULT_DISALLOWED.items()}
    for rule in rules:
        kinds = [rule["kind"]] if isinstance(rule["kind"], str) else rule["kind"]
        for kind in kinds:
            if kind.startswith("robots:"):
                prefixes[rule["role"]] = [kind.partition(":")[2]]  # the served file replaces the usual one
    return [
        f"{role} {path}"
        for role, _method, path, _status in requests
        if any(path.startswith(prefix) for prefix in prefixes.get(role, ()))
    ]


def run_state(run) -> str:
    if not run.healthy:
        return "unhealthy"
    return "retried" if run.retries else "tolerated"


@dataclass
class Outcome:
    name: str
    runs: int = 0  # crawl runs tried (both sources, every cycle)
    faults_fired: int = 0
    faulted: dict[str, str] = field(default_factory=dict)  # source -> unhealthy | retried | tolerated
    retries: dict[str, int] = field(default_factory=dict)
    false_events: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)  # never reported
    late: list[str] = field(default_factory=list)  # reported a night later than the liveness bound
    rows_lost: list[str] = field(default_factory=list)
    digests: int = 0  # messages at the webhook
    cycles_with_events: int = 0
    recovered: bool = False
    seconds: float = 0.0
    health: dict[str, list] = field(default_factory=dict)
    disallowed: list[str] = field(default_factory=list)  # requests robots.txt forbade
    spurious_health: list[str] = field(default_factory=list)  # health events out of turn (see below)

    @property
    def data_lost(self) -> int:
        return len(self.rows_lost) + len(self.missed)

    @property
    def duplicate_alerts(self) -> int:
        return max(0, self.digests - self.cycles_with_events)

    @property
    def lost_alerts(self) -> int:
        return max(0, self.cycles_with_events - self.digests)

    @property
    def ok(self) -> bool:
        return (
            not self.false_events
            and not self.data_lost
            and not self.duplicate_alerts
            and not self.lost_alerts
            and self.recovered
        )

    def explain(self) -> str:
        return json.dumps({k: v for k, v in self.__dict__.items()}, indent=1, default=str)


def run_fault_scenario(env: Env, name: str, rules: list[dict]) -> Outcome:
    """Day 2 through the faults, then day 2 with the faults gone; judge as the module says."""
    started = time.monotonic()
    outcome = Outcome(name)
    db_url = copy_baseline(env, name)
    engine = open_engine(db_url)
    channel = "s-" + "".join(c if c.isalnum() else "-" for c in name)
    config = env.config(db_url, channel)
    try:
        before = table_rows(engine)
        env.site.set_day("day2")
        env.site.set_faults(rules)
        env.site.clear_requests()
        faulted = run_cycle(config, engine, progress="off")
        outcome.faults_fired = sum(env.site.faults_applied)
        failed_paths = [path for _role, _method, path, status in env.site.requests if status != 200]
        outcome.disallowed = disallowed_requests(env.site.requests, rules)
        env.site.clear_faults()
        env.site.clear_requests()
        recovered = run_cycle(config, engine, progress="off")
        outcome.disallowed += disallowed_requests(env.site.requests, [])
        after = table_rows(engine)
        outcome.runs = len(faulted.runs) + len(recovered.runs)
        for source, run in faulted.runs.items():
            outcome.faulted[source] = run_state(run)
            outcome.retries[source] = run.retries
            outcome.health[source] = [c["message"] for c in run.health_report if not c["ok"]]
        events = cycle_events(engine, faulted.cycle_id) + cycle_events(engine, recovered.cycle_id)
        outcome.false_events, outcome.missed = judge_events(events)
        outcome.late = late_changes(cycle_events(engine, faulted.cycle_id), outcome.faulted, failed_paths)
        outcome.rows_lost = rows_changed(before, after)
        outcome.cycles_with_events = sum(1 for c in (faulted.cycle_id, recovered.cycle_id) if cycle_events(engine, c))
        outcome.digests = len(env.hook.messages(channel))
        outcome.recovered = recovered.healthy and not outcome.missed
        outcome.spurious_health = spurious_health_events(engine)
    finally:
        env.site.clear_faults()
        env.site.set_day("day1")
        engine.dispose()
        outcome.seconds = time.monotonic() - started
    return outcome


# =========================================================================== crash safety
#
# `acewatch run` as a real process (python -m acewatch.cli --db URL --config CFG run), pointed at
# the fixture site through a TOML file, alerting a webhook; killed with SIGKILL in a chosen phase.
# A phase is reached deterministically by watching the store from here and, where a phase is
# too short to catch by polling, by holding a lock the run must wait for (a row or table lock on
# PostgreSQL, SQLite's write lock): the run is then provably inside that phase when it dies.

SNAPSHOT = {"ace": "ace_exhibit", "coursera": "coursera_program"}
KILL_PHASES = ("crawling", "storing", "diffing", "alerting")


def write_config(path: Path, site: FixtureSite, alert_url: str | list[str], feed_path: str = "", **crawl) -> Path:
    """The TOML file `acewatch run` reads: the fixture site's hosts, quick crawl limits, the alert URL(s)."""
    urls = [alert_url] if isinstance(alert_url, str) else list(alert_url)
    crawl = {"download_timeout": 3.0, "retry_times": 1, "timeout_seconds": 120, **crawl}
    return write_site_config(path, site, alert_urls=urls, feed_path=feed_path, **crawl)


def start_run(db_url: str, config: Path, log: Path, *extra: str) -> subprocess.Popen:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ACEWATCH_")}
    environ.update({"HOME": str(config.parent), "COLUMNS": "200", "PYTHONUNBUFFERED": "1"})
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "acewatch.cli",
            "--db",
            db_url,
            "--config",
            str(config),
            *extra,
            "run",
            "--progress",
            "off",
        ],
        cwd=ROOT,
        env=environ,
        stdin=subprocess.DEVNULL,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def descendants(pid: int) -> list[int]:
    """Every live descendant of `pid` (the crawler child runs in its own session, so not in our group)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                ppid = int(stat.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        parents.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kill_tree(process: subprocess.Popen) -> list[int]:
    """SIGKILL `acewatch run` and its crawler child at once (a crash of the run, e.g. OOM or power)."""
    children = descendants(process.pid)
    victims = [process.pid, *children]
    for pid in victims:  # the parent first: it must not see its child die and clean up after it
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.wait(timeout=10)
    for pid in children:
        for _ in range(200):
            if not os.path.exists(f"/proc/{pid}") or _zombie(pid):
                break
            time.sleep(0.01)
    return victims


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except OSError:
        return True


def wait_for(predicate: Callable[[], Any], timeout: float, interval: float = 0.01, process=None):
    """Poll until `predicate()` is truthy (returned), the process exits, or `timeout` passes (None)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if process is not None and process.poll() is not None:
            return predicate() or None
        time.sleep(interval)
    return None


def query(engine: Engine, sql: str, **params) -> list[tuple]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(sql), params)]


def store_invariants(engine: Engine) -> list[str]:
    """What a crash must never leave behind; [] when the store is consistent."""
    problems = []
    for source, table in SNAPSHOT.items():
        for run_id, outcome, records, rows in query(
            engine,
            f"""
                SELECT r.id, r.outcome, r.records, (SELECT count(*) FROM {table} s WHERE s.run_id = r.id)
                FROM crawl_run r WHERE r.source = :source""",
            source=source,
        ):
            if outcome == "finished" and rows != records:
                problems.append(f"{source} run {run_id} finished with {rows} snapshot rows, {records} recorded")
            if outcome == "finished" and rows == 0:
                problems.append(f"{source} run {run_id} finished with an empty snapshot")
            if outcome != "finished" and rows:
                problems.append(f"{source} run {run_id} is {outcome} but has {rows} snapshot rows (half snapshot)")
    for run_id, outcome in query(
        engine, "SELECT id, outcome FROM crawl_run WHERE healthy = :t AND outcome <> 'finished'", t=True
    ):
        problems.append(f"run {run_id} is {outcome} yet counted healthy")
    for cycle_id, outcome, ace, coursera in query(engine, "SELECT id, outcome, ace_run_id, coursera_run_id FROM cycle"):
        for run_id in (ace, coursera):
            if run_id is None:
                continue
            (state,) = query(engine, "SELECT outcome, healthy FROM crawl_run WHERE id = :id", id=run_id)
            if state[0] != "finished" or state[1] not in (True, 1):
                problems.append(f"cycle {cycle_id} uses run {run_id}, which is {state[0]} (healthy={state[1]})")
        events = query(engine, "SELECT count(*) FROM change_event WHERE cycle_id = :id", id=cycle_id)[0][0]
        matches = query(engine, "SELECT count(*) FROM program_match WHERE cycle_id = :id", id=cycle_id)[0][0]
        deliveries = query(engine, "SELECT count(*) FROM delivery WHERE cycle_id = :id", id=cycle_id)[0][0]
        if outcome != "finished" and (events or matches or deliveries):
            problems.append(
                f"cycle {cycle_id} is {outcome} but has {events} events, {matches} matches, "
                f"{deliveries} deliveries (a half cycle)"
            )
        if outcome == "finished" and ace and coursera and not matches:
            problems.append(f"cycle {cycle_id} finished without its matches")
        if outcome == "finished" and events and not deliveries:
            problems.append(f"cycle {cycle_id} finished with {events} events but no queued digest (alert lost)")
    return problems


def copy_store(source: Path, engine: Engine) -> None:
    """The SQLite baseline into another (empty, migrated) store, ids and all: a day-1 baseline for PostgreSQL."""
    src = open_engine(f"sqlite:///{source}")
    try:
        with src.connect() as reader, engine.begin() as writer:
            for table in SQLModel.metadata.sorted_tables:
                if not src.dialect.has_table(reader, table.name):
                    continue
                rows = [dict(row) for row in reader.execute(select(table)).mappings()]
                if rows:
                    writer.execute(table.insert(), rows)
                if engine.dialect.name == "postgresql" and "id" in table.c and table.c.id.autoincrement:
                    writer.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                            f"(SELECT coalesce(max(id), 0) + 1 FROM {table.name}), false)"
                        )
                    )
    finally:
        src.dispose()


class Locker:
    """Holds what makes a run wait inside a phase: PostgreSQL locks, or SQLite's write lock."""

    def __init__(self, db_url: str):
        self.db_url = db_url
        self.connection = None
        self.sqlite = db_url.startswith("sqlite")

    def __enter__(self):
        if self.sqlite:
            self.connection = sqlite3.connect(self.db_url.removeprefix("sqlite:///"), timeout=30, isolation_level=None)
        else:
            import psycopg

            self.connection = psycopg.connect(self.db_url.replace("+psycopg", ""), autocommit=False)
            # A second, autocommit session to watch from: pg_stat_activity is frozen within a transaction.
            self.watcher = psycopg.connect(self.db_url.replace("+psycopg", ""), autocommit=True)
        return self

    def run(self, sql: str, *params) -> list:
        cursor = self.connection.execute(sql, params)
        return cursor.fetchall() if cursor.description else []

    def release(self) -> None:
        if self.connection is not None:
            try:
                self.connection.rollback() if not self.sqlite else self.connection.execute("ROLLBACK")
            except Exception:
                pass

    def __exit__(self, *exc):
        self.release()
        self.connection.close()
        if not self.sqlite:
            self.watcher.close()

    def waiting_backends(self) -> int:
        """PostgreSQL: other sessions of this database blocked on a lock."""
        return self.watcher.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND wait_event_type = 'Lock'"
        ).fetchone()[0]

    def other_backends(self) -> int:
        return self.watcher.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND pid <> %s",
            (self.connection.info.backend_pid,),
        ).fetchone()[0]

    def terminate_others(self) -> int:
        """PostgreSQL: cut every other connection to this database (the run's, the crawler's)."""
        return len(
            self.watcher.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND pid <> %s",
                (self.connection.info.backend_pid,),
            ).fetchall()
        )


@dataclass
class Step:
    """One `acewatch run` of a crash scenario and what happened to it."""

    plan: str
    hit: str = ""  # the phase the run was in when it died ("" = it was not killed)
    exit_code: int | None = None
    killed: bool = False
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)
    output: str = ""
    note: str = ""


@dataclass
class CrashOutcome(Outcome):
    backend: str = ""
    steps: list[Step] = field(default_factory=list)
    alerts_by_cycle: dict[int, int] = field(default_factory=dict)  # cycle -> digests received
    sending_left: list[int] = field(default_factory=list)  # cycles whose delivery was killed mid-send
    health_events: list[str] = field(default_factory=list)
    window_resends: int = 0  # digests re-sent once the documented stale-claim window has passed
    final_exit: int | None = None

    @property
    def ok(self) -> bool:
        return super().ok and all(not s.problems for s in self.steps) and self.final_exit == 0


class CrashRunner:
    """Runs `acewatch run` repeatedly against one store, killing it in chosen phases."""

    def __init__(self, env: Env, db_url: str, name: str, seed: int):
        self.env, self.db_url, self.name = env, db_url, name
        self.rng = random.Random(seed)
        self.engine = open_engine(db_url)
        self.backend = self.engine.dialect.name
        self.channel = "crash-" + "".join(c if c.isalnum() else "-" for c in name)
        self.dir = env.workdir / self.channel
        self.dir.mkdir(exist_ok=True)
        self.config = write_config(self.dir / "acewatch.toml", env.site, env.hook.url(self.channel))
        self.log = self.dir / "runs.log"

    # ---- store probes
    def max_id(self, table: str) -> int:
        return query(self.engine, f"SELECT coalesce(max(id), 0) FROM {table}")[0][0]

    def runs_after(self, run_floor: int) -> list[tuple]:
        return query(
            self.engine, "SELECT id, source, outcome, healthy FROM crawl_run WHERE id > :f ORDER BY id", f=run_floor
        )

    def cycle_after(self, cycle_floor: int) -> tuple | None:
        rows = query(self.engine, "SELECT id, outcome FROM cycle WHERE id > :f ORDER BY id", f=cycle_floor)
        return rows[-1] if rows else None

    def expire_dead_holders_lock(self) -> str:
        """A SIGKILLed run leaves its run lock until the TTL passes (store/locks.py); stand in for that wait.

        Only a lock whose holder is a dead process on this host is touched: its expiry is moved
        to the past, exactly what the clock does by the next nightly run.
        """
        import socket

        rows = query(self.engine, "SELECT name, holder FROM run_lock")
        notes = []
        for name, holder in rows:
            host, _, pid = holder.rpartition(":")
            if host == socket.gethostname() and pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
                with self.engine.begin() as connection:
                    connection.execute(
                        text("UPDATE run_lock SET expires_at = :past WHERE name = :name"),
                        {"past": datetime.now(UTC) - timedelta(seconds=1), "name": name},
                    )
                notes.append(f"lock {name!r} of killed {holder} left behind; expired as its TTL would")
        return "; ".join(notes)

    # ---- one run
    def step(
        self, plan: str, kill: Callable[[subprocess.Popen, int, int], str] | None = None, extra: tuple[str, ...] = ()
    ) -> Step:
        """Start a run; `kill(process, run_floor, cycle_floor)` waits for its phase, kills, names the phase."""
        step = Step(plan)
        step.note = self.expire_dead_holders_lock()
        run_floor, cycle_floor = self.max_id("crawl_run"), self.max_id("cycle")
        offset = self.log.stat().st_size if self.log.exists() else 0
        started = time.monotonic()
        process = start_run(self.db_url, self.config, self.log, *extra)
        try:
            if kill is not None:
                step.hit = kill(process, run_floor, cycle_floor) or ""
            step.exit_code = process.wait(timeout=180)
            step.killed = step.exit_code == -signal.SIGKILL
        finally:
            if process.poll() is None:
                kill_tree(process)
            self.env.hook.release()
            self.env.site.clear_faults()
        step.seconds = time.monotonic() - started
        step.output = self.log.read_bytes()[offset:].decode("utf-8", "replace")
        step.problems = store_invariants(self.engine)
        return step

    # ---- phase killers
    def kill_crawling(self, delay: float, parent_only: bool = False):
        """Mid-crawl: the site is slowed, the runs are `running`, the crawler is fetching.

        `parent_only`: SIGKILL `acewatch run` alone, as `kill -9 <pid>` or an OOM kill would; its
        crawler child (its own session) must die with it (crawler.run.die_with_parent) at once,
        not crawl on beside the next run: the phase counts as reached only if it is gone within 1 s
        (it takes ~0.1 s; left alone, this seed's crawl goes on for 2 s)."""

        def kill(process, run_floor, _cycle_floor):
            if not wait_for(lambda: len(self.runs_after(run_floor)) == 2, 30, process=process):
                return ""
            time.sleep(delay)
            children = descendants(process.pid)
            running = all(r[2] == "running" for r in self.runs_after(run_floor)) and children
            if not running or process.poll() is not None:
                return ""
            if not parent_only:
                kill_tree(process)
                return "crawling"
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
            gone = wait_for(
                lambda: all(not os.path.exists(f"/proc/{pid}") or _zombie(pid) for pid in children), 1, interval=0.05
            )
            return "crawling (parent only, crawler died with it)" if gone else ""

        return kill

    def kill_storing(self):
        """The crawler is writing its snapshot and has to wait for a lock to finish: killed there."""

        def kill(process, run_floor, _cycle_floor):
            if not wait_for(lambda: len(self.runs_after(run_floor)) == 2, 30, process=process):
                return ""
            ids = [r[0] for r in self.runs_after(run_floor)]
            with Locker(self.db_url) as lock:
                if lock.sqlite:
                    lock.run("BEGIN IMMEDIATE")  # the snapshot's INSERT cannot commit while we hold this
                    quiet = self._crawl_quiet(process)
                    hit = quiet and process.poll() is None
                else:
                    lock.run("SELECT id FROM crawl_run WHERE id = ANY(%s) FOR NO KEY UPDATE", ids)
                    hit = wait_for(lambda: lock.waiting_backends() > 0, 60, process=process)
                if not hit:
                    return ""
                kill_tree(process)
                unfinished = [r for r in self.runs_after(run_floor) if r[2] != "finished"]
                return "storing" if len(unfinished) == 2 else ""

        return kill

    def _crawl_quiet(self, process, quiet: float = 0.8) -> bool:
        """Wait until the fixture site has had no request for `quiet` seconds (the crawl is over)."""
        last = [len(self.env.site.requests), time.monotonic()]

        def settled():
            count = len(self.env.site.requests)
            if count != last[0]:
                last[:] = [count, time.monotonic()]
            return time.monotonic() - last[1] > quiet

        return bool(wait_for(settled, 60, interval=0.05, process=process))

    def kill_diffing(self, terminate: bool = False):
        """The cycle is begun (`running`), its matches and events not yet stored: killed (or cut off) there."""

        def kill(process, run_floor, cycle_floor):
            with Locker(self.db_url) as lock:
                if lock.sqlite:
                    if not wait_for(
                        lambda: (self.cycle_after(cycle_floor) or (0, ""))[1] == "running",
                        120,
                        interval=0.003,
                        process=process,
                    ):
                        return ""
                    lock.run("BEGIN IMMEDIATE")
                    hit = (
                        lock.run("SELECT outcome FROM cycle WHERE id > ? ORDER BY id DESC LIMIT 1", cycle_floor)[0][0]
                        == "running"
                    )
                else:
                    lock.run("LOCK TABLE program_match IN SHARE MODE")
                    hit = wait_for(
                        lambda: (
                            (self.cycle_after(cycle_floor) or (0, ""))[1] == "running" and lock.waiting_backends() > 0
                        ),
                        120,
                        process=process,
                    )
                if not hit or process.poll() is not None:
                    return ""
                if terminate:
                    lock.terminate_others()
                    lock.release()
                    process.wait(timeout=60)
                    return "diffing (connections terminated)"
                kill_tree(process)
                return "diffing"

        return kill

    def kill_alerting(self):
        """The digest is claimed (`sending`) and the webhook has it, but no answer came yet: killed."""

        def kill(process, _run_floor, cycle_floor):
            self.env.hook.arrived.clear()
            self.env.hook.released.clear()
            self.env.hook.hold.set()
            got = wait_for(
                lambda: (
                    self.env.hook.arrived.is_set()
                    and query(
                        self.engine,
                        "SELECT count(*) FROM delivery WHERE status = 'sending' AND cycle_id > :f",
                        f=cycle_floor,
                    )[0][0]
                ),
                120,
                process=process,
            )
            if not got or process.poll() is not None:
                return ""
            kill_tree(process)
            return "alerting"

        return kill

    def kill_queueing(self):
        """PostgreSQL: the run is queueing the cycle's digest, which waits for the locked delivery table.

        Today the cycle is committed by then (its digest is queued in a second transaction); with the
        outbox row written by finish_cycle itself, the cycle is still uncommitted at this point."""

        def kill(process, _run_floor, cycle_floor):
            with Locker(self.db_url) as lock:
                lock.run("LOCK TABLE delivery IN SHARE MODE")
                hit = wait_for(
                    lambda: self.cycle_after(cycle_floor) and lock.waiting_backends() > 0, 120, process=process
                )
                if not hit or process.poll() is not None:
                    return ""
                kill_tree(process)
                return "queueing"

        return kill

    def kill_at_random(self, low: float, high: float):
        """A seeded random moment of the run, whatever it is doing then."""
        delay = self.rng.uniform(low, high)

        def kill(process, run_floor, cycle_floor):
            time.sleep(delay)
            if process.poll() is not None:
                return ""
            kill_tree(process)
            runs = self.runs_after(run_floor)
            cycle = self.cycle_after(cycle_floor)
            if cycle and cycle[1] == "finished":
                phase = "alerting"
            elif cycle:
                phase = "diffing"
            elif len(runs) == 2 and all(r[3] is not None for r in runs):
                phase = "diffing"
            elif runs and all(r[2] == "running" for r in runs):
                phase = "crawling/storing"
            else:
                phase = "starting" if not runs else "judging"
            return f"random {delay:.2f}s ({phase})"

        return kill

    def terminate_while_crawling(self, delay: float):
        """PostgreSQL: every connection of the run and its crawler is cut while the crawl runs."""

        def kill(process, run_floor, _cycle_floor):
            if not wait_for(lambda: len(self.runs_after(run_floor)) == 2, 30, process=process):
                return ""
            with Locker(self.db_url) as lock:
                # The crawler has opened its snapshot writers (one session per spider) besides the run's own.
                if not wait_for(lambda: lock.other_backends() >= 3, 30, process=process):
                    return ""
                time.sleep(delay)
                if process.poll() is not None or not all(r[2] == "running" for r in self.runs_after(run_floor)):
                    return ""
                lock.terminate_others()
            process.wait(timeout=120)
            return "crawling (connections terminated)"

        return kill

    def close(self) -> None:
        self.engine.dispose()


def crash_plans(runner: CrashRunner) -> list[tuple[str, Callable | None, list[dict] | None]]:
    """(plan, killer, faults during that run): the phases in the order that keeps each reachable."""
    slow = [_ace(EXHIBITS, "timeout", seconds=0.3), _site(PROGRAM_PAGES, "timeout", seconds=0.05)]
    plans = [("SIGKILL while crawling", runner.kill_crawling(runner.rng.uniform(0.2, 1.5)), slow)]
    if runner.backend == "sqlite":
        plans += [
            (
                "SIGKILL of `acewatch run` alone while crawling",
                runner.kill_crawling(runner.rng.uniform(0.2, 1.5), parent_only=True),
                slow,
            )
        ]
    plans += [
        ("SIGKILL while storing the snapshot", runner.kill_storing(), None),
        ("SIGKILL while diffing", runner.kill_diffing(), None),
        # The first run to get this far commits the day-2 events: it is the one to kill mid-send.
        ("SIGKILL while alerting (sending)", runner.kill_alerting(), None),
    ]
    if runner.backend == "postgresql":
        plans += [
            (
                "connections terminated while crawling",
                runner.terminate_while_crawling(runner.rng.uniform(0.1, 0.6)),
                slow,
            ),
            ("connections terminated while diffing", runner.kill_diffing(terminate=True), None),
        ]
    # Seeded random moments, one in each third of a run (early: crawling; late: diffing, alerting).
    plans += [
        (f"SIGKILL at a random moment #{n + 1}", runner.kill_at_random(0.3 + 0.9 * n, 1.2 + 0.9 * n), None)
        for n in range(3)
    ]
    return plans


def spurious_health_events(engine: Engine) -> list[str]:
    """Health events that do not alternate: a `source_recovered` must answer a `source_unhealthy`
    announced before it (a run that was killed, and so never judged, is neither)."""
    last: dict[str, str] = {}
    spurious = []
    for type_, source, cycle, from_run in query(
        engine,
        "SELECT type, subject_key, cycle_id, from_run_id "
        "FROM change_event WHERE type IN ('source_unhealthy', "
        "'source_recovered') ORDER BY id",
    ):
        if (type_ == "source_recovered") == (last.get(source, "source_recovered") == "source_recovered"):
            state = query(engine, "SELECT outcome, healthy FROM crawl_run WHERE id = :id", id=from_run)
            spurious.append(
                f"{type_} {source} (cycle {cycle}) after {last.get(source, 'no health event')}; "
                f"the run before, {from_run}, was {state[0] if state else '-'}"
            )
        last[source] = type_
    return spurious


def resend_after_stale_window(env: Env, runner: CrashRunner) -> int:
    """The documented at-least-once window (acewatch/alerts.py): a claim left `sending` by a killed
    run is released once it is older than STALE_AFTER and sent again. Shown with the clock moved on."""
    from acewatch.alerts import STALE_AFTER, deliver_pending
    from store.runs import utcnow

    before = len(env.hook.messages(runner.channel))
    deliver_pending(runner.engine, [env.hook.url(runner.channel)], now=utcnow() + STALE_AFTER + timedelta(minutes=1))
    return len(env.hook.messages(runner.channel)) - before


def run_crash_scenario(
    env: Env, db_url: str, name: str, seed: int = 20260301, plans: list | None = None
) -> CrashOutcome:
    """Day-1 baseline in `db_url`; day 2 served; each plan's run killed in its phase; then one run to the end."""
    started = time.monotonic()
    outcome = CrashOutcome(name, backend=db_url.split(":", 1)[0])
    runner = CrashRunner(env, db_url, name, seed)
    try:
        if runner.max_id("crawl_run") == 0:
            copy_store(env.baseline, runner.engine)
        before = table_rows(runner.engine)
        first_cycle = runner.max_id("cycle")
        env.site.set_day("day2")
        for plan, killer, faults in plans if plans is not None else crash_plans(runner):
            env.site.set_faults(faults)
            outcome.steps.append(runner.step(plan, killer))
        final = runner.step("run to the end")
        outcome.steps.append(final)
        outcome.final_exit = final.exit_code
        after = table_rows(runner.engine)
        outcome.runs = len(runner.runs_after(0)) - len([k for k in before["crawl_run"]])
        outcome.rows_lost = rows_changed(before, after)
        events = [
            dict(zip(("type", "subject_key", "subject", "old", "new", "cycle_id"), row))
            for row in query(
                runner.engine,
                "SELECT type, subject_key, subject, old, new, cycle_id FROM change_event "
                "WHERE cycle_id > :f ORDER BY id",
                f=first_cycle,
            )
        ]
        outcome.false_events, outcome.missed = judge_events(events)
        outcome.health_events = [
            f"{e['type']} {e['subject_key']} (cycle {e['cycle_id']})" for e in events if e["type"] in HEALTH_EVENTS
        ]
        outcome.spurious_health = spurious_health_events(runner.engine)
        with_events = sorted({e["cycle_id"] for e in events})
        outcome.cycles_with_events = len(with_events)
        received = env.hook.messages(runner.channel)
        outcome.digests = len(received)
        outcome.sending_left = [
            row[0] for row in query(runner.engine, "SELECT cycle_id FROM delivery WHERE status = 'sending'")
        ]
        outcome.recovered = final.exit_code == 0 and not outcome.missed and not final.problems
        outcome.window_resends = resend_after_stale_window(env, runner)
    finally:
        env.site.clear_faults()
        env.site.set_day("day1")
        env.hook.release()
        runner.close()
        outcome.seconds = time.monotonic() - started
    return outcome
