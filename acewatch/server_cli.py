"""Server commands: `schedule`, `status`, `history`, `export`.

Plain functions taking `ctx: typer.Context` (the `Acewatch` API is `ctx.obj`),
which acewatch.cli registers with `app.command()(fn)`; each asks the API and
prints its answer, failures and exit codes go through acewatch.cli's
`api_errors`/`done`. Only typer is imported at module level, so registering
them keeps `acewatch check` fast; everything else is imported inside the
command that needs it.

Exit status: 0 ok; 3 `status` found problems / `history` found nothing by that
name; 5 nothing to export yet; 6 store, config or file error.
"""

from __future__ import annotations

from typing import Any

import typer

from acewatch.api import EXPORT_FORMATS, ExitCode


def _print_json(data: Any) -> None:
    from acewatch.cli import print_json

    print_json(data)


# --------------------------------------------------------------------------
# schedule
# --------------------------------------------------------------------------


def schedule(
    ctx: typer.Context,
    interval: float | None = typer.Option(
        None,
        "--interval",
        min=1.0,
        metavar="SECONDS",
        help="For testing: run every SECONDS instead of on schedule.cron.",
    ),
    max_runs: int | None = typer.Option(
        None, "--max-runs", min=1, metavar="N", help="Stop after N runs (for testing, or a one-off catch-up)."
    ),
) -> None:
    """Run `acewatch run` on schedule.cron as a long-lived daemon (systemd, a container).

    Each run is a child process with a timeout; the job is kept in the store's
    database (table apscheduler_jobs). SIGTERM or Ctrl-C stops cleanly (a
    running crawl is interrupted and its lock released) with exit status 0.
    Log lines go to stderr: `next run at ...`, `run started pid=...`,
    `run finished exit=...`, `stopped cleanly ...`.
    """
    from acewatch.cli import api_errors

    with api_errors():
        code = ctx.obj.schedule(interval=interval, max_runs=max_runs)
    raise typer.Exit(int(code))


# --------------------------------------------------------------------------
# status
# --------------------------------------------------------------------------


def status(
    ctx: typer.Context,
    runs: int = typer.Option(5, "--runs", min=1, max=100, help="How many recent runs per source to list."),
    as_json: bool = typer.Option(False, "--json", help="Print the status as JSON."),
) -> None:
    """Recent runs and their health, data age, next scheduled run, alert backlog and the run lock.

    Exit status 3 when something needs attention (an unhealthy newest run,
    data older than check.max_age_days, an overdue schedule, failing alerts),
    so a monitoring probe can call it.
    """
    from acewatch.cli import api_errors, done

    with api_errors():
        found = ctx.obj.status(runs=runs)
    if as_json:
        _print_json(found.to_dict())
    else:
        show_status(found.to_dict())
    done(found)


def show_status(data: dict[str, Any]) -> None:
    from acewatch.outputs.render import console
    from acewatch.text import for_rich

    out = console()
    out.print(f"[bold]acewatch status[/] of {for_rich(data['database'])} at {data['checked_at']}")
    for source, info in data["sources"].items():
        last = info["last_healthy"]
        fresh = (
            f"last healthy run {last['id']} started {last['started_at']}, data {info['data_age']} old"
            if last
            else "no healthy run yet"
        )
        out.print(f"\n[bold]{source}[/]: {fresh}")
        for run in info["runs"]:
            out.print("  " + _run_line(run))
            for message in run["failing_checks"]:
                out.print(f"      [red]x[/] {for_rich(message)}")
            for note in run.get("notes", []):
                out.print(f"      {'[yellow]![/]' if note['attention'] else '-'} {for_rich(note['message'])}")
    _show_cycle_and_schedule(data)
    if data["problems"]:
        out.print("\n[bold red]Needs attention:[/]")
        for problem in data["problems"]:
            out.print(f"  - {for_rich(problem)}")


def _run_line(run: dict[str, Any]) -> str:
    health = {True: "[green]healthy[/]", False: "[red]UNHEALTHY[/]", None: "not judged"}[run["healthy"]]
    return (
        f"run {run['id']:>5}  {run['started_at']} -> {run['finished_at'] or '...'}  {run['outcome']:<8} "
        f"{health}  {run['pages']} pages, {run['records']} records, {run['errors']} errors"
    )


def _show_cycle_and_schedule(data: dict[str, Any]) -> None:
    from acewatch.outputs.render import console
    from acewatch.text import for_rich

    out = console()
    cycle = data["latest_cycle"]
    out.print("")
    out.print(
        f"Latest cycle: {cycle['id']} {cycle['outcome']} {cycle['finished_at'] or cycle['started_at']}, "
        f"{cycle['events']} events"
        if cycle
        else "Latest cycle: none yet"
    )
    upcoming = data["next_run"]
    if upcoming is None:
        out.print("Next scheduled run: none stored (`acewatch schedule` has not run against this store)")
    else:
        note = " [red]OVERDUE: is `acewatch schedule` running?[/]" if upcoming["overdue"] else ""
        seconds = upcoming["in_seconds"]
        when = f"in {_duration(seconds)}" if seconds >= 0 else f"{_duration(-seconds)} ago"
        out.print(f"Next scheduled run: {upcoming['at']} ({when}){note}")
    deliveries = data["deliveries"]
    out.print(
        f"Alert deliveries: {deliveries['pending']} pending, {deliveries['failing']} failing, {deliveries['sent']} sent"
    )
    lock = data["lock"]
    if lock is None:
        out.print("Run lock: free")
    else:
        state = "[red]expired[/]" if lock["expired"] else "held"
        out.print(
            f"Run lock: {state} by {for_rich(lock['holder'])} since {lock['since']}, expires {lock['expires_at']}"
        )


def _duration(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


# --------------------------------------------------------------------------
# history
# --------------------------------------------------------------------------


def history(
    ctx: typer.Context,
    name: str = typer.Argument(
        ..., help="Program name (ACE or Coursera title), ACE id or cid, Coursera slug, program id or URL."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the timeline as JSON."),
) -> None:
    """A program's timeline across monitor cycles: titles, ACE status, credits, match verdict, events.

    Quiet stretches are folded ("through cycle N"); exit status 3 when nothing
    in the store goes by that name.
    """
    from acewatch.cli import api_errors, done

    with api_errors():
        found = ctx.obj.history(name)
    if as_json:
        _print_json(found.to_dict())
    else:
        show_history(found.data)  # typed events; every scraped string is printed through for_rich
    done(found)


def show_history(data: dict[str, Any]) -> None:
    from acewatch.outputs.render import console
    from acewatch.text import for_rich

    out = console()
    if not data["timeline"]:
        out.print(
            f'Nothing in this store goes by "{for_rich(data["query"])}" (try the exact title, '
            "an ACE id, or a Coursera slug)."
        )
        return
    out.print(f'[bold]History of "{for_rich(data["query"])}"[/]')
    for exhibit in data["found"]["ace"]:
        out.print(
            f"  ACE exhibit {for_rich(exhibit['ace_id'])} (cid {for_rich(exhibit['cid'])}), titles: "
            + " | ".join(f'"{for_rich(t)}"' for t in exhibit["titles"])
        )
    for program in data["found"]["coursera"]:
        out.print(
            f"  Coursera program {for_rich(program['slug'])} (id {for_rich(program['program_id'])}), titles: "
            + " | ".join(f'"{for_rich(t)}"' for t in program["titles"])
        )
    for entry in data["timeline"]:
        _show_entry(entry)


def _show_entry(entry: dict[str, Any]) -> None:
    from acewatch.jsonout import utc_iso
    from acewatch.outputs.digest import event_line
    from acewatch.outputs.render import console
    from acewatch.text import for_rich

    out = console()
    through = entry["through"]
    span = f" (unchanged through cycle {through['cycle']}, {through['date']})" if through else ""
    out.print(f"\n[bold]Cycle {entry['cycle']}[/], {entry['date']}{span}")
    for exhibit in entry["ace"]:
        out.print("  ACE " + _exhibit_text(exhibit))
    for program in entry["coursera"]:
        out.print("  Coursera " + _program_text(program))
    for event in entry["events"]:
        out.print(f"  [bold]event {event.type}[/] {utc_iso(event.detected_at)}: {for_rich(event_line(event))}")


def _exhibit_text(exhibit: dict[str, Any]) -> str:
    from acewatch.text import for_rich

    if exhibit["status"] == "removed":
        return f"cid {for_rich(exhibit['cid'])}: [red]removed[/] from the National Guide"
    period = exhibit["period"] or {}
    credits = f", {exhibit['credits']:g} credits" if exhibit["credits"] is not None else ""
    return (
        f'{for_rich(exhibit["ace_id"])} "{for_rich(exhibit["title"])}": {exhibit["status"]}{credits} '
        f"(period {period.get('start')} to {period.get('end') or 'open'})"
    )


def _program_text(program: dict[str, Any]) -> str:
    from acewatch.text import for_rich

    if program["status"] == "removed":
        return f"{for_rich(program['program_id'])}: [red]removed[/] from the catalog"
    match = f"match {program['verdict'] or 'none'}"
    if program["ace_id"]:
        match += f' with {for_rich(program["ace_id"])} "{for_rich(program["ace_title"])}"'
    if program["differences"]:
        match += " (words: " + "; ".join(for_rich(d) for d in program["differences"]) + ")"
    recommended = program["status"] == "recommended" and program["credits"] is not None
    credits = f", {program['credits']:g} credits" if recommended else ""
    claim = f"; claim {program['claim']}" if program.get("claim") else ""
    return (
        f'{for_rich(program["slug"])} "{for_rich(program["title"])}": {match}, '
        f"{program['status'].replace('_', ' ')}{credits}{claim}"
    )


# --------------------------------------------------------------------------
# export
# --------------------------------------------------------------------------


def export(
    ctx: typer.Context,
    fmt: str = typer.Option("csv", "--format", "-f", help="csv or json."),
    output: str | None = typer.Option(
        None, "--output", "-o", metavar="FILE", help="Write to FILE (atomically) instead of stdout."
    ),
) -> None:
    """The current catalog: every Coursera program with its ACE match, status and credits.

    From the newest finished monitor cycle; columns: slug, title, partner,
    url, verdict, differences, status, credits, ace_id, ace_title,
    exhibit_url, as_of, claim, claim_credits, claim_text. Exit status 5 when no cycle has a catalog yet.
    """
    from acewatch.cli import api_errors, fail

    if fmt not in EXPORT_FORMATS:
        fail(f"--format must be csv or json, not {fmt!r}", ExitCode.USAGE)
    with api_errors():
        catalog = ctx.obj.export()
        if output is None:
            typer.echo(catalog.render(fmt), nl=False)
            return
        catalog.write(output, fmt)
    typer.echo(f"wrote {catalog.count} programs to {output}", err=True)
