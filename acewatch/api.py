"""The Python API: what `acewatch` does, callable from Python, with the CLI, the scheduler and the web app on top.

    from acewatch import Acewatch

    watch = Acewatch.from_config(db="sqlite:////tmp/acewatch.db")
    answer = watch.check("Meta Front-End Developer Professional Certificate")
    answer.verdict, answer.recommended, answer.exit_code   # 'exact', True, ExitCode.OK

The run lock, the alert-URL check and the translation of store failures live
here, not in the CLI, so a Python caller gets the same guarantees as a person
at a terminal: `Acewatch.run` never crawls beside another run and never
starts a cycle whose alerts could not be delivered. Every failure is an
`AcewatchError` carrying its one-line message and its `ExitCode`; every answer
carries its `exit_code`, so the CLI maps both to exit statuses in one place.

Only the stdlib is imported here: `acewatch check` goes through `Acewatch.check`
and must start in well under a second, so SQLAlchemy, Scrapy and the rest are
imported inside the methods that need them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from acewatch.exit_codes import ExitCode  # re-exported: `from acewatch.api import ExitCode` still works

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from acewatch.audit import AuditReport
    from acewatch.config import Config
    from acewatch.cycle import CycleReport
    from acewatch.doctor.checks import Finding
    from monitor.events import Event
    from store.reader import Snapshot, StoreReader


EXPORT_FORMATS = ("csv", "json")


class AcewatchError(Exception):
    """A failure said in one line (passwords masked), with the exit status the CLI gives it."""

    exit_code: ExitCode = ExitCode.ERROR

    def __init__(self, message: str, exit_code: ExitCode | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class BadInput(AcewatchError):
    """The name or an option cannot be used as given; the message says why."""

    exit_code = ExitCode.USAGE


class NoEvidence(AcewatchError):
    """Nothing to answer from yet: no healthy crawl, no cycle, no catalog; the message says what to run."""

    exit_code = ExitCode.NO_EVIDENCE


class StoreFailed(AcewatchError):
    """The store cannot be opened or failed while in use (what was committed before is kept)."""


class RunLocked(AcewatchError):
    """Another run (cron, the daemon, a person) holds the store's run lock."""

    exit_code = ExitCode.LOCKED


# --------------------------------------------------------------------------
# Answers
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckAnswer:
    """`check`'s answer: the verdict and what it rests on; `to_dict()` is `check --json` (README schema)."""

    query: str
    verdict: str  # exact | equivalent | near | none
    recommended: bool
    exit_code: ExitCode
    as_of: str | None  # ISO time of the ACE crawl the answer comes from
    warnings: tuple[str, ...]
    data: dict[str, Any] = field(repr=False)

    @classmethod
    def of(cls, data: dict[str, Any]) -> CheckAnswer:
        return cls(
            query=data["query"],
            verdict=data["verdict"],
            recommended=data["recommended"],
            exit_code=ExitCode(data["exit_code"]),
            as_of=data["as_of"],
            warnings=tuple(data["warnings"]),
            data=data,
        )

    @property
    def match(self) -> dict[str, Any] | None:
        """The exact/equivalent ACE exhibit (credits, period, status), or None."""
        return self.data["match"]

    @property
    def candidates(self) -> list[dict[str, Any]]:
        """The nearest ACE names, best first, each with its word differences."""
        return self.data["candidates"]

    def to_dict(self) -> dict[str, Any]:
        return self.data


@dataclass(frozen=True)
class RunResult:
    """One monitor cycle: both crawls, their health, the events; `to_dict()` is `run --json`."""

    report: CycleReport

    @property
    def cycle_id(self) -> int | None:
        return self.report.cycle_id

    @property
    def healthy(self) -> bool:
        return self.report.healthy

    @property
    def events(self) -> list:
        return self.report.events

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.OK if self.report.healthy else ExitCode.ATTENTION

    def to_dict(self) -> dict[str, Any]:
        from acewatch.jsonout import plain
        from acewatch.outputs.render import report_dict

        return plain(report_dict(self.report))


@dataclass(frozen=True)
class Changes:
    """A cycle's events (monitor.events.Event); `to_dict()` is `changes --json` (README schema)."""

    cycle: int
    events: list[Event]
    data: dict[str, Any] = field(repr=False)
    exit_code: ExitCode = ExitCode.OK

    def to_dict(self) -> dict[str, Any]:
        from acewatch.jsonout import plain

        return plain(self.data)


@dataclass(frozen=True)
class History:
    """A program's timeline across cycles; empty when nothing in the store goes by the name."""

    query: str
    timeline: list[dict[str, Any]]
    data: dict[str, Any] = field(repr=False)

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.OK if self.timeline else ExitCode.ATTENTION

    def to_dict(self) -> dict[str, Any]:
        """`history --json`: each entry's events as monitor.events.Event.to_json, scraped text made safe."""
        from acewatch.jsonout import plain

        return plain(self.data)


@dataclass(frozen=True)
class Status:
    """Runs, data age, schedule, alert backlog and lock; `problems` says what needs attention."""

    problems: tuple[str, ...]
    data: dict[str, Any] = field(repr=False)

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.ATTENTION if self.problems else ExitCode.OK

    def to_dict(self) -> dict[str, Any]:
        return self.data


@dataclass(frozen=True)
class Export:
    """The newest cycle's catalog: every Coursera program with its ACE match, status and credits."""

    cycle: int
    as_of: str | None
    programs: list[dict[str, Any]]
    data: dict[str, Any] = field(repr=False)
    exit_code: ExitCode = ExitCode.OK

    @property
    def count(self) -> int:
        return len(self.programs)

    def render(self, fmt: str = "csv") -> str:
        """The catalog as `export --format csv|json` prints it."""
        from acewatch.outputs.reports import render_export

        if fmt not in EXPORT_FORMATS:
            raise BadInput(f"--format must be csv or json, not {fmt!r}")
        return render_export(self.data, fmt)

    def write(self, path: str | Path, fmt: str = "csv") -> None:
        """Write the file whole or not at all (a reader never sees half an export)."""
        from acewatch.outputs.reports import write_atomic

        text = self.render(fmt)
        try:
            write_atomic(path, text)
        except OSError as exc:
            raise AcewatchError(f"cannot write {path}: {exc.strerror or exc}") from None

    def to_dict(self) -> dict[str, Any]:
        return self.data


@dataclass(frozen=True)
class Delivery:
    """One alert channel's outcome (masked label: safe to print)."""

    channel: str
    ok: bool
    error: str | None
    cycle: int | None = None  # the cycle whose digest it was; None for a test message


@dataclass(frozen=True)
class Notification:
    """What `notify` did: pending digests delivered, or a test message sent to every channel."""

    deliveries: tuple[Delivery, ...]
    test: bool

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.OK if all(d.ok for d in self.deliveries) else ExitCode.DELIVERY_FAILED

    def to_list(self) -> list[dict[str, Any]]:
        """`notify --json`: a test row has no cycle."""
        rows = []
        for d in self.deliveries:
            row = {"channel": d.channel, "ok": d.ok, "error": d.error}
            rows.append(row if self.test else {**row, "cycle": d.cycle})
        return rows


@dataclass(frozen=True)
class Diagnosis:
    """`doctor`'s findings, sources first, then the store and the alerts."""

    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.findings)

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.OK if self.ok else ExitCode.ATTENTION

    def to_dict(self) -> dict[str, Any]:
        from acewatch.doctor.checks import report

        return report(list(self.findings))


# --------------------------------------------------------------------------
# The API
# --------------------------------------------------------------------------


class Acewatch:
    """acewatch over one configuration and its store.

    The SQLAlchemy engine is opened (and the schema migrated) on first use and
    kept; `check` reads through the store's plain-SQL reader and never loads
    SQLAlchemy. The newest ACE run's name index is kept between checks, so a
    long-lived caller (the web app, a notebook) answers repeated checks fast.
    Safe to share between threads.
    """

    def __init__(self, config: Config, engine: Engine | None = None) -> None:
        self.config = config
        self._engine = engine
        self._engine_lock = threading.Lock()
        self._indexes = None

    @classmethod
    def from_config(cls, path: str | Path | None = None, db: str | None = None) -> Acewatch:
        """The config file at `path` (default: $ACEWATCH_CONFIG, then ~/.config/acewatch/config.toml),
        then the environment, with `db` (an SQLAlchemy URL) over both."""
        from acewatch.config import ConfigError, load_config

        try:
            return cls(load_config(str(path) if path is not None else None, db=db))
        except ConfigError as exc:
            raise AcewatchError(str(exc)) from None

    # -- the store ------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        """The store's engine, opened and migrated on first use (StoreFailed when it cannot be)."""
        with self._engine_lock:
            if self._engine is None:
                from store.database import StoreError, open_engine

                try:
                    self._engine = open_engine(self.config.db)
                except StoreError as exc:
                    raise StoreFailed(str(exc)) from None
            return self._engine

    def close(self) -> None:
        """Release the store's connections (the API opens them again when asked)."""
        with self._engine_lock:
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None

    def __enter__(self) -> Acewatch:
        return self

    def __exit__(self, *exc_info: object) -> None:
        """`with Acewatch.from_config() as watch:` leaves no connection open behind a script."""
        self.close()

    @contextmanager
    def store_errors(self, during: str = "", then: str = "") -> Iterator[None]:
        """A database that fails mid-way (server restarted, connection cut) is one StoreFailed line."""
        from store.database import DatabaseFailure

        try:
            yield
        except DatabaseFailure as exc:
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            raise StoreFailed(f"the store failed{during} ({type(exc).__name__}): {reason}{then}") from None

    @contextmanager
    def run_lock(self) -> Iterator[None]:
        """Hold the store's run lock, so cron, the daemon and a person never crawl at once."""
        from store.locks import LockHeld, run_lock, ttl_for

        try:
            with run_lock(self.engine, ttl=ttl_for(self.config.crawl.timeout_seconds)):
                yield
        except LockHeld as exc:
            raise RunLocked(str(exc)) from None

    # -- runs -----------------------------------------------------------------

    def validate_alert_urls(self) -> None:
        """Refuse a run whose alerts could not be delivered (each URL named by position, masked)."""
        if self.config.alerts.urls:
            from acewatch.alerts import validate_urls

            problems = validate_urls(self.config.alerts.urls)
            if problems:
                raise AcewatchError("; ".join(problems))

    def first_run_note(self) -> str | None:
        """Before the first healthy ACE crawl with the default identifiers, what they are and how to
        find a GUID: the defaults are the few identifiers with evidence, not the catalog."""
        from acewatch.config import DEFAULT_ACE_EXHIBITS, DEFAULT_ACE_ORGANIZATIONS
        from store.runs import latest_healthy_run

        ace = self.config.ace
        if (ace.organizations, ace.exhibits) != (DEFAULT_ACE_ORGANIZATIONS, DEFAULT_ACE_EXHIBITS):
            return None
        if latest_healthy_run(self.engine, "ace") is not None:
            return None
        from crawler.targets import HOW_TO_FIND

        return (
            "first run: [ace] organizations holds only IBM's organization and [ace] exhibits five "
            f"Google/IBM exhibits (the identifiers with evidence); {HOW_TO_FIND}"
        )

    def run(self, progress: str = "off", note: Callable[[str], None] | None = None) -> RunResult:
        """Crawl both sources, health-gate, match, diff, store the events and alert: one monitor cycle.

        `progress`: auto, bar, log or off. `note` receives the first-run note
        (default: a log warning). Raises RunLocked while another run holds the
        lock, AcewatchError for unusable alert URLs, StoreFailed if the store fails.
        """
        from acewatch.cycle import run_cycle

        self.validate_alert_urls()
        first = self.first_run_note()
        if first:
            (note or _log_warning)(first)
        with self.run_lock(), self.store_errors(" during the run", "; what was committed before is kept, run again"):
            return RunResult(run_cycle(self.config, self.engine, progress=progress))

    def demo(self, progress: str = "off", before_day: Callable[[str], None] | None = None) -> RunResult:
        """Serve the bundled fixture site, run day 1 then day 2 into this store, under one run lock.

        Returns day 2's cycle; `before_day` is called with "day1", "day2" before each.
        """
        from acewatch.cycle import run_cycle
        from fixtures.server import FixtureSite

        with self.run_lock(), FixtureSite(day="day1") as site:
            config = self.config.with_sites(site.urls, site.ace_organization_ids)
            for day in ("day1", "day2"):
                site.set_day(day)
                if before_day:
                    before_day(day)
                report = run_cycle(config, self.engine, progress=progress)
        return RunResult(report)

    def schedule(self, interval: float | None = None, max_runs: int | None = None) -> ExitCode:
        """The scheduler daemon until SIGTERM/SIGINT (or `max_runs`); each run is `acewatch run` in a child."""
        from acewatch.schedule import ScheduleError, serve

        try:
            return ExitCode(serve(self.config, self.engine, interval=interval, max_runs=max_runs))
        except ScheduleError as exc:
            raise AcewatchError(str(exc)) from None

    # -- check ----------------------------------------------------------------

    @staticmethod
    def validate_name(text: str) -> str:
        """The name stripped, or BadInput: empty, over 300 characters, control or direction-override characters."""
        from acewatch.check import CheckInputError, validate_input

        try:
            return validate_input(text)
        except CheckInputError as exc:
            raise BadInput(str(exc)) from None

    def check(
        self, name: str, limit: int = 5, reader: StoreReader | None = None, snapshot: Snapshot | None = None
    ) -> CheckAnswer:
        """Is exactly this name (or Coursera URL or slug) ACE-recommended today, and on what evidence?

        Raises BadInput (an empty, overlong or control-character name, an
        unknown slug), NoEvidence (no healthy crawl yet), StoreFailed. A
        caller with its own plain-SQL reader (one a thread) passes it, and
        may pass the newest cycle's `snapshot` it read (schema checked) too.
        """
        from acewatch.check import CheckInputError, NoEvidenceError, site_hosts
        from acewatch.check import check as answer
        from store.reader import ReaderError, StoreReader

        indexes = self._memo()
        owned = reader is None
        try:
            reader = reader or StoreReader(self.config.db)
            hosts, days = site_hosts(self.config.coursera.site_url), self.config.check.max_age_days
            data = answer(
                name, reader, site_hosts=hosts, max_age_days=days, limit=limit, indexes=indexes, snapshot=snapshot
            )
        except NoEvidenceError as exc:
            raise NoEvidence(str(exc)) from None
        except CheckInputError as exc:
            raise BadInput(str(exc)) from None
        except ReaderError as exc:
            raise StoreFailed(str(exc)) from None
        finally:
            if owned and reader is not None:
                reader.close()
        return CheckAnswer.of(data)

    def keep_in_memory(self, reader: StoreReader | None = None) -> bool:
        """From now on, keep the newest ACE run's names and exhibits in memory, read once per run, so that
        a check reads almost nothing: for a process that checks all day (the web app). Costs about 0.5 s
        and 70 MB per 40k exhibits when a run is first asked about; with a `reader`, the newest run is
        read now (StoreFailed if it cannot be), so that the first person to ask does not wait. Whether a run
        was read now (False without a reader, or when the store has no cycle yet)."""
        from store.reader import ReaderError

        memo = self._memo()
        memo.resident = True
        if reader is None:
            return False
        try:
            return memo.load(reader) is not None
        except ReaderError as exc:
            raise StoreFailed(str(exc)) from None

    def _memo(self):
        """The one `IndexMemo` of this object, shared by every thread (the web app checks from several)."""
        from acewatch.check import IndexMemo

        with self._engine_lock:
            if self._indexes is None:
                self._indexes = IndexMemo()
            return self._indexes

    # -- reports --------------------------------------------------------------

    def changes(self, cycle: int | None = None) -> Changes:
        """The events of the newest finished cycle, or of `cycle` (NoEvidence before the first cycle)."""
        from acewatch.outputs.reports import ReportError, changes_data

        with self.store_errors():
            try:
                data = changes_data(self.engine, cycle)
            except ReportError as exc:
                raise NoEvidence(str(exc)) from None
        return Changes(cycle=data["cycle"], events=data["events"], data=data)

    def history(self, name: str) -> History:
        """A program's timeline across cycles, by ACE or Coursera title, ACE id or cid, slug or URL."""
        from acewatch.outputs.reports import history_data

        with self.store_errors():
            data = history_data(self.engine, name)
        return History(query=data["query"], timeline=data["timeline"], data=data)

    def status(self, runs: int = 5) -> Status:
        """Recent runs per source and their health, data age, next scheduled run, alert backlog, lock."""
        from acewatch.jsonout import plain
        from acewatch.outputs.reports import status_data

        config = self.config
        with self.store_errors():
            data = plain(status_data(self.engine, config.db, runs=runs, max_age_days=config.check.max_age_days))
        return Status(problems=tuple(data["problems"]), data=data)

    def export(self) -> Export:
        """The newest cycle's catalog (NoEvidence before a cycle with a healthy Coursera crawl)."""
        from acewatch.outputs.reports import ReportError, export_data

        with self.store_errors():
            try:
                data = export_data(self.engine)
            except ReportError as exc:
                raise NoEvidence(str(exc)) from None
        return Export(cycle=data["cycle"], as_of=data["as_of"], programs=data["programs"], data=data)

    def audit(self) -> AuditReport:
        """Coursera pages whose ACE claim the guide does not back, grouped by claim verdict."""
        from acewatch.audit import audit
        from acewatch.outputs.reports import ReportError

        with self.store_errors():
            try:
                return audit(self.engine)
            except ReportError as exc:
                raise NoEvidence(str(exc)) from None

    def feed(self, limit: int = 200) -> bytes:
        """The Atom feed of the newest `limit` events, as `[alerts] feed_path` writes it."""
        import io

        from acewatch.outputs.feed import build_feed, newest_events

        buffer = io.BytesIO()
        with self.store_errors():
            build_feed(newest_events(self.engine, limit)).write(buffer, encoding="utf-8", xml_declaration=True)
        return buffer.getvalue()

    # -- alerts and diagnosis ---------------------------------------------------

    def notify(self, test: bool = False) -> Notification:
        """Deliver pending alert digests now, or (`test`) send a test message to every alert URL."""
        from acewatch.alerts import deliver_pending, send_test

        urls = self.config.alerts.urls
        if not urls:
            raise AcewatchError("no alert URLs configured ([alerts] urls in the config file, or ACEWATCH_ALERT_URLS)")
        self.validate_alert_urls()
        if test:
            return Notification(tuple(Delivery(label, ok, error) for label, ok, error in send_test(urls)), test=True)
        with self.store_errors():
            report = deliver_pending(self.engine, urls)
        deliveries = (Delivery(r.channel_label, r.outcome == "sent", r.error, r.cycle_id) for r in report.results)
        return Notification(tuple(deliveries), test=False)

    def doctor(self) -> Diagnosis:
        """Each source reachable, robots.txt, discovery, one record read; the store; the alert URLs."""
        from acewatch.doctor.checks import diagnose

        return Diagnosis(tuple(diagnose(self.config)))


def _log_warning(message: str) -> None:
    import logging

    logging.getLogger("acewatch").warning("%s", message)
