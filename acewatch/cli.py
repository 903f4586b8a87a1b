"""The `acewatch` command line: a thin shell over the Python API (`acewatch.api.Acewatch`).

Each command parses its options, asks the API, prints the answer and exits
with the answer's `ExitCode`; an `AcewatchError` becomes one line on stderr and
its own `ExitCode` (`api_errors`). The run lock, the alert-URL check and the
store-error translation are the API's, so Python callers get them too.

Imports stay lazy inside each command: `acewatch check` must start in well
under a second, so it never loads Scrapy, SQLAlchemy or SQLModel.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any, NoReturn

import typer

from acewatch.api import Acewatch, AcewatchError, ExitCode
from acewatch.config import Config

app = typer.Typer(
    help="Track which Coursera certificates carry an ACE college-credit recommendation, word for word, "
    "and report what changed. Evidence comes from acewatch's own crawls of the ACE National Guide "
    "and the Coursera catalog.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)

MAX_INPUT = 1 << 20


def fail(message: str, code: int = ExitCode.ERROR) -> NoReturn:
    """One clear line on stderr and a documented exit code; never a traceback."""
    from acewatch.text import for_terminal

    typer.echo(f"acewatch: error: {for_terminal(message)}", err=True)
    raise typer.Exit(int(code))


@contextmanager
def api_errors() -> Iterator[None]:
    """Where every API failure becomes its line on stderr and its ExitCode."""
    try:
        yield
    except AcewatchError as exc:
        fail(str(exc), exc.exit_code)


def done(answer: Any) -> NoReturn:
    """Exit with the answer's ExitCode (every API answer carries one)."""
    raise typer.Exit(int(answer.exit_code))


def api_of(ctx: typer.Context) -> Acewatch:
    return ctx.obj


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
    with api_errors():
        ctx.obj = Acewatch.from_config(config_path, db=db)


def print_json(data: Any) -> None:
    """Every `--json` output: one time format, scraped text made terminal-safe (acewatch.jsonout)."""
    from acewatch.jsonout import dumps

    typer.echo(dumps(data))


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
    with api_errors():
        result = api_of(ctx).run(progress=progress, note=say)
    show_report(result, as_json)
    done(result)


def say(note: str) -> None:
    """A note for the person at the terminal (stderr: stdout may be JSON)."""
    typer.echo(f"acewatch: {note}", err=True)


def first_run_hint(config: Config, engine) -> None:
    """The API's first-run note (the default identifiers and how to find a GUID), on stderr."""
    note = Acewatch(config, engine).first_run_note()
    if note:
        say(note)


def show_report(result, as_json: bool) -> None:
    from acewatch.outputs.render import show_cycle

    if as_json:
        print_json(result.to_dict())
    else:
        show_cycle(result.report)


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
    if name == "-":
        name = sys.stdin.read(2 * MAX_INPUT).rstrip("\n")
    with api_errors():
        answer = api_of(ctx).check(name, limit=limit)
    if as_json:
        print_json(answer.to_dict())
    else:
        from acewatch.outputs.render import show_check

        show_check(answer.to_dict())
    done(answer)


@app.command()
def changes(
    ctx: typer.Context,
    cycle: int | None = typer.Option(None, help="Show this cycle instead of the newest."),
    as_json: bool = typer.Option(False, "--json", help="Print the events as JSON (schema in the README)."),
) -> None:
    """Show what the newest monitor cycle found changed (or a given cycle's changes)."""
    from acewatch.outputs.render import show_events

    with api_errors():
        found = api_of(ctx).changes(cycle)
    if as_json:
        print_json(found.to_dict())
    else:
        show_events(found.cycle, found.events)
    done(found)


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
    from acewatch.outputs.render import console

    def announce(day: str) -> None:
        if not as_json:
            console().rule(f"[bold]Fixture site, {day}")

    with api_errors():
        result = api_of(ctx).demo(progress=progress, before_day=announce)
    show_report(result, as_json)
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
    with api_errors():
        result = api_of(ctx).notify(test=test)
    rows = result.to_list()
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
    done(result)


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

    api = api_of(ctx)
    with api_errors():
        api.engine  # noqa: B018  (open the store now: a store that cannot open is exit 6, not a 503 later)
    serve_web(api, host, port)


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
    from acewatch.audit import render_csv, render_text

    if as_json and as_csv:
        fail("--json and --csv exclude each other", ExitCode.USAGE)
    with api_errors():
        report = api_of(ctx).audit()
    if as_json:
        print_json(report.to_dict())
    else:
        typer.echo(render_csv(report) if as_csv else render_text(report), nl=not as_csv)
    done(report)


@app.command()
def doctor(
    ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print the findings as JSON.")
) -> None:
    """Check this server before the first run: per source reachable, robots.txt, discovery, one record read
    (rendered where needed); the store and its schema; the alert URLs (masked). Exit 0 when all is well, 3 if not.
    """
    diagnosis = api_of(ctx).doctor()
    if as_json:
        print_json(diagnosis.to_dict())
    else:
        for finding in diagnosis.findings:
            typer.echo(finding.line())
    done(diagnosis)


def main() -> None:
    code = fast_check(sys.argv[1:])
    if code is None:
        app()
    else:
        sys.exit(code)


if __name__ == "__main__":
    main()
