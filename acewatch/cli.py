"""The `acewatch` command line: a thin shell over functions a Python user could call.

Imports stay lazy inside each command: `acewatch check` must start in well
under a second, so it never loads Scrapy, SQLAlchemy or SQLModel.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

import typer

from acewatch.config import Config, ConfigError, load_config

app = typer.Typer(
    help="Track which Coursera certificates carry an ACE college-credit recommendation, word for word, "
    "and report what changed. Evidence comes from acewatch's own crawls of the ACE National Guide "
    "and the Coursera catalog.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)

EXIT_ERROR = 6
EXIT_LOCKED = 7
MAX_INPUT = 1 << 20


def fail(message: str, code: int = EXIT_ERROR) -> None:
    """One clear line on stderr and a documented exit code; never a traceback."""
    from acewatch.text import for_terminal

    typer.echo(f"acewatch: error: {for_terminal(message)}", err=True)
    raise typer.Exit(code)


@app.callback()
def main_options(
    ctx: typer.Context,
    db: str | None = typer.Option(
        None,
        "--db",
        envvar="ACEWATCH_DB",
        show_envvar=True,
        help="SQLAlchemy URL of the store (default: SQLite at ~/.local/share/acewatch/acewatch.db).",
    ),
    config_path: str | None = typer.Option(
        None,
        "--config",
        envvar="ACEWATCH_CONFIG",
        show_envvar=True,
        help="TOML config file (default: ~/.config/acewatch/config.toml).",
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log progress details to stderr."),
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        ctx.obj = load_config(config_path, db=db)
    except ConfigError as exc:
        fail(str(exc))


def open_store(config: Config):
    from store.database import StoreError, open_engine

    try:
        return open_engine(config.db)
    except StoreError as exc:
        fail(str(exc))


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str, ensure_ascii=False))


@app.command()
def run(
    ctx: typer.Context,
    progress: str = typer.Option("auto", help="auto (a bar on a terminal, log lines otherwise), bar, log, off."),
    as_json: bool = typer.Option(False, "--json", help="Print the cycle's runs and events as JSON."),
) -> None:
    """Crawl ACE and Coursera, match names, diff against the last run and print the digest.

    Exit status: 0 when both crawls were healthy, 3 when a source was unhealthy
    (its changes are held back until a healthy run), 6 on a store/config error,
    7 when another run holds the lock.
    """
    from acewatch.cycle import run_cycle

    config: Config = ctx.obj
    check_alert_urls(config)
    engine = open_store(config)
    first_run_hint(config, engine)
    with exclusive_run(config, engine), store_errors():
        report = run_cycle(config, engine, progress=progress)
    show_report(report, as_json)
    raise typer.Exit(0 if report.healthy else 3)


@contextmanager
def store_errors():
    """A database that fails mid-run (server restarted, connection cut) is one line, exit 6."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        yield
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        fail(
            f"the store failed during the run ({type(exc).__name__}): {reason}; "
            "what was committed before is kept, run again"
        )


@contextmanager
def exclusive_run(config: Config, engine):
    """Hold the store's run lock, so cron, the daemon and a person never crawl at once."""
    from store.locks import LockHeld, run_lock, ttl_for

    try:
        with run_lock(engine, ttl=ttl_for(config.crawl.timeout_seconds)):
            yield
    except LockHeld as exc:
        fail(str(exc), EXIT_LOCKED)


def first_run_hint(config: Config, engine) -> None:
    """Before the first healthy ACE crawl with the default identifiers, say what they are and
    how to find a GUID: the defaults are the few identifiers with evidence, not the catalog."""
    from acewatch.config import DEFAULT_ACE_EXHIBITS, DEFAULT_ACE_ORGANIZATIONS
    from store.runs import latest_healthy_run

    defaults = (config.ace.organizations, config.ace.exhibits) == (DEFAULT_ACE_ORGANIZATIONS, DEFAULT_ACE_EXHIBITS)
    if defaults and latest_healthy_run(engine, "ace") is None:
        from crawler.targets import HOW_TO_FIND

        typer.echo(
            f"acewatch: first run: [ace] organizations holds only IBM's organization and [ace] exhibits five "
            f"Google/IBM exhibits (the identifiers with evidence); {HOW_TO_FIND}",
            err=True,
        )


def check_alert_urls(config: Config) -> None:
    """Refuse to start a run whose alerts could not be delivered (the URL is masked)."""
    if config.alerts.urls:
        from acewatch.alerts import validate_urls

        problems = validate_urls(config.alerts.urls)
        if problems:
            fail("; ".join(problems))


def show_report(report, as_json: bool) -> None:
    from acewatch.outputs.render import report_dict, show_cycle

    if as_json:
        print_json(report_dict(report))
    else:
        show_cycle(report)


@app.command()
def check(
    ctx: typer.Context,
    name: str = typer.Argument(
        ...,
        help="Exact certificate name as Coursera shows it, a Coursera program URL, or its slug; - reads it from stdin.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the answer as JSON (schema in the README)."),
    limit: int = typer.Option(5, min=1, max=50, help="How many nearest ACE names to list."),
) -> None:
    """Is exactly this name ACE-recommended today? Credits, period, and the nearest ACE names.

    Exit status: 0 recommended (exact or typographically equivalent name, period
    active); 1 near (a close ACE name differs by the words shown); 2 bad input;
    3 no close ACE name; 4 exact name but period not active; 5 no evidence;
    6 store or config error.
    """
    from acewatch.check import EXIT_NO_EVIDENCE, EXIT_STORE, EXIT_USAGE, CheckInputError, NoEvidenceError
    from acewatch.check import check as answer_check
    from store.reader import ReaderError, StoreReader

    config: Config = ctx.obj
    if name == "-":
        name = sys.stdin.read(2 * MAX_INPUT).rstrip("\n")
    try:
        reader = StoreReader(config.db)
        hosts = _site_hosts(config)
        answer = answer_check(name, reader, site_hosts=hosts, max_age_days=config.check.max_age_days, limit=limit)
    except NoEvidenceError as exc:
        fail(str(exc), EXIT_NO_EVIDENCE)
    except CheckInputError as exc:
        fail(str(exc), EXIT_USAGE)
    except ReaderError as exc:
        fail(str(exc), EXIT_STORE)
    if as_json:
        print_json(answer)
    else:
        from acewatch.outputs.render import show_check

        show_check(answer)
    raise typer.Exit(answer["exit_code"])


def _site_hosts(config: Config) -> tuple[str, ...]:
    from acewatch.check import site_hosts

    return site_hosts(config.coursera.site_url)


@app.command()
def changes(
    ctx: typer.Context,
    cycle: int | None = typer.Option(None, help="Show this cycle instead of the newest."),
    as_json: bool = typer.Option(False, "--json", help="Print the events as JSON (schema in the README)."),
) -> None:
    """Show what the newest monitor cycle found changed (or a given cycle's changes)."""
    from acewatch.outputs.render import show_events
    from acewatch.outputs.reports import ReportError, changes_data

    try:
        data = changes_data(open_store(ctx.obj), cycle)
    except ReportError as exc:
        fail(str(exc), 5)
    if as_json:
        print_json(data)
    else:
        show_events(data["cycle"], data["events"])


@app.command()
def demo(
    ctx: typer.Context,
    progress: str = typer.Option("auto", help="auto, bar, log or off."),
    as_json: bool = typer.Option(False, "--json", help="Print day 2's cycle as JSON."),
) -> None:
    """Run the whole pipeline offline: serve the bundled fixture site's day 1, run, serve day 2, run.

    The runs go to the store that --db names (or the default), so `check` and
    `changes` work on the demo data afterwards.
    """
    from acewatch.cycle import run_cycle
    from acewatch.outputs.render import console
    from fixtures.server import FixtureSite

    config: Config = ctx.obj
    engine = open_store(config)
    with exclusive_run(config, engine), FixtureSite(day="day1") as site:
        demo_config = config.with_sites(site.urls, site.ace_organization_ids)
        for day in ("day1", "day2"):
            site.set_day(day)
            if not as_json:
                console().rule(f"[bold]Fixture site, {day}")
            report = run_cycle(demo_config, engine, progress=progress)
    show_report(report, as_json)
    if not as_json:
        console().print(
            '\nTry: acewatch check "Meta Front-End Developer Professional Certificate"   or   acewatch changes --json'
        )


@app.command()
def notify(
    ctx: typer.Context,
    test: bool = typer.Option(False, "--test", help="Send a test message to every alert URL."),
    as_json: bool = typer.Option(False, "--json", help="Print the results as JSON."),
) -> None:
    """Deliver pending alert digests now (they are retried on every run), or send a test message.

    Alert URLs are Apprise URLs from [alerts] urls or ACEWATCH_ALERT_URLS; they
    are shown masked. Exit status: 0 when every delivery succeeded, 1 otherwise.
    """
    from acewatch.alerts import deliver_pending, send_test

    config: Config = ctx.obj
    if not config.alerts.urls:
        fail("no alert URLs configured ([alerts] urls in the config file, or ACEWATCH_ALERT_URLS)")
    check_alert_urls(config)
    if test:
        rows = [{"channel": label, "ok": ok, "error": error} for label, ok, error in send_test(config.alerts.urls)]
    else:
        report = deliver_pending(open_store(config), config.alerts.urls)
        rows = [
            {"channel": r.channel_label, "ok": r.outcome == "sent", "error": r.error, "cycle": r.cycle_id}
            for r in report.results
        ]
    if as_json:
        print_json(rows)
    else:
        from acewatch.text import for_terminal

        for row in rows:
            typer.echo(
                f"{'sent' if row['ok'] else 'FAILED'}  {for_terminal(row['channel'])}"
                + (f"  ({for_terminal(row['error'])})" if row["error"] else "")
            )
        if not rows:
            typer.echo("nothing pending")
    raise typer.Exit(0 if all(row["ok"] for row in rows) else 1)


def plain_check_args(argv: list[str]) -> dict[str, Any] | None:
    """The arguments of a plain `acewatch [--db URL] [--config FILE] [-v] check NAME [--json] [--limit N]`.

    None for anything else (help, an unknown or misplaced option, a bad
    --limit, a missing or extra name, another command): Typer handles those.
    """
    args = {"db": None, "config_path": None, "verbose": False, "name": None, "as_json": False, "limit": 5}
    words, command, only_names = iter(argv), False, False
    for word in words:
        if only_names or word == "-" or not word.startswith("-"):
            if not command and word == "check":
                command = True
            elif command and args["name"] is None:
                args["name"] = word
            else:
                return None
            continue
        flag, has_value, value = word.partition("=")
        if command and word == "--":
            only_names = True
        elif not command and flag in ("--db", "--config"):
            value = value if has_value else next(words, None)
            if value is None:
                return None
            args["db" if flag == "--db" else "config_path"] = value
        elif not command and word in ("-v", "--verbose"):
            args["verbose"] = True
        elif command and word == "--json":
            args["as_json"] = True
        elif command and flag == "--limit":
            value = value if has_value else next(words, None)
            if value is None or value not in {str(n) for n in range(1, 51)}:
                return None
            args["limit"] = int(value)
        else:
            return None
    if not command or args["name"] is None:
        return None
    args["db"] = args["db"] if args["db"] is not None else os.environ.get("ACEWATCH_DB") or None
    args["config_path"] = (
        args["config_path"] if args["config_path"] is not None else os.environ.get("ACEWATCH_CONFIG") or None
    )
    return args


def fast_check(argv: list[str]) -> int | None:
    """Run a plain `acewatch check` without Typer's argument parsing; its exit code, or None to let Typer run.

    Typer builds a pydantic TypeAdapter for every parameter it parses: about
    0.1 s of imports and schema building, half of a check's time on a 40k
    store (bench/check_startup.py). A check is what a student runs before
    enrolling, so the plain form calls the same two functions directly.
    """
    args = plain_check_args(argv)
    if args is None:
        return None
    ctx = SimpleNamespace(obj=None)
    try:
        main_options(ctx, db=args["db"], config_path=args["config_path"], verbose=args["verbose"])
        check(ctx, args["name"], as_json=args["as_json"], limit=args["limit"])
    except typer.Exit as exc:
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # stdout closed early (`| head`): quiet, like Typer
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 0


from acewatch.server_cli import export, history, schedule, status  # noqa: E402  (commands for servers)

app.command()(schedule)
app.command()(status)
app.command()(history)
app.command()(export)


@app.command()
def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", help="Address to listen on (0.0.0.0 for every interface)."),
    port: int = typer.Option(8000, min=1, max=65535, help="TCP port to listen on."),
) -> None:
    """Serve the read-only web app: check a name, changes, history, status, Atom feed, JSON twins.

    Runs until SIGINT/SIGTERM. Nothing it serves writes to the store; routes in the README.
    """
    from acewatch.web.app import serve as serve_web

    config: Config = ctx.obj
    serve_web(config, host, port, engine=open_store(config))


@app.command()
def audit(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print the findings as JSON (schema in the README)."),
    as_csv: bool = typer.Option(False, "--csv", help="Print one CSV row a finding."),
) -> None:
    """Coursera pages whose ACE claim the ACE guide does not back, grouped by claim verdict, with evidence.

    Exit status: 0 when every claim is backed (nothing to report), 3 when
    something is reported, 5 when no monitor cycle has judged claims yet,
    6 on a store or config error.
    """
    from acewatch.audit import audit as run_audit
    from acewatch.audit import render_csv, render_text
    from acewatch.outputs.reports import ReportError, sanitize

    if as_json and as_csv:
        fail("--json and --csv exclude each other", 2)
    try:
        report = run_audit(open_store(ctx.obj))
    except ReportError as exc:
        fail(str(exc), 5)
    if as_json:
        print_json(sanitize(report.to_dict()))
    else:
        typer.echo(render_csv(report) if as_csv else render_text(report), nl=not as_csv)
    raise typer.Exit(report.exit_code)


@app.command()
def doctor(
    ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print the findings as JSON.")
) -> None:
    """Check this server before the first run: per source reachable, robots.txt, discovery, one record read
    (rendered where needed); the store and its schema; the alert URLs (masked). Exit 0 when all is well, 3 if not.
    """
    from acewatch.doctor.checks import diagnose, report

    findings = diagnose(ctx.obj)
    if as_json:
        print_json(report(findings))
    else:
        for finding in findings:
            typer.echo(finding.line())
    raise typer.Exit(0 if all(f.ok for f in findings) else 3)


def main() -> None:
    code = fast_check(sys.argv[1:])
    if code is None:
        app()
    else:
        sys.exit(code)


if __name__ == "__main__":
    main()
