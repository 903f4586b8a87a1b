"""How answers look: Rich on a terminal, plain text when piped, JSON for scripts.

All scraped text passes through acewatch.text before it is printed.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from acewatch.outputs.digest import event_line
from acewatch.text import for_rich
from monitor.events import Event, grouped

VERDICT_STYLE = {"exact": "bold green", "equivalent": "bold green", "near": "bold yellow", "none": "bold red"}


@cache
def console():
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True)


def events_dict(cycle_id: int | None, events: Sequence[Event]) -> dict[str, Any]:
    """A cycle's events as `changes` and `run` show them; `--json` prints each as Event.to_json (acewatch.jsonout)."""
    return {"cycle": cycle_id, "count": len(events), "events": list(events)}


def report_dict(report) -> dict[str, Any]:
    return {
        "cycle": report.cycle_id,
        "healthy": report.healthy,
        "runs": {
            source: {
                "id": run.id,
                "outcome": run.outcome,
                "healthy": run.healthy,
                "pages": run.pages,
                "records": run.records,
                "errors": run.errors,
                "health": run.health_report,
            }
            for source, run in report.runs.items()
        },
        "alerts": None
        if report.deliveries is None
        else {"sent": report.deliveries.sent, "failed": report.deliveries.failed, "skipped": report.deliveries.skipped},
        **{k: v for k, v in events_dict(report.cycle_id, report.events).items() if k != "cycle"},
    }


def show_events(cycle_id: int | None, events: Sequence[Event]) -> None:
    out = console()
    if not events:
        out.print(f"Cycle {cycle_id}: no changes.")
        return
    out.print(f"[bold]Cycle {cycle_id}: {len(events)} change{'s' * (len(events) != 1)}[/]")
    for kind, items in grouped(list(events)):
        out.print(f"\n[bold]{for_rich(kind.heading)}[/] ({len(items)})")
        for event in items:
            out.print(f"  - {for_rich(event_line(event))}")


def show_cycle(report) -> None:
    out = console()
    for source, run in report.runs.items():
        health = "[green]healthy[/]" if run.healthy else "[red]UNHEALTHY[/]"
        out.print(f"{source}: run {run.id} {health}, {run.pages} pages, {run.records} records, {run.errors} errors")
        for check in run.health_report:
            if not check.get("ok", True):
                out.print(f"    [red]x[/] {for_rich(check['message'])}")
            elif "note" in check:
                out.print(f"    [yellow]![/] {for_rich(check['message'])}")
    recommended = sum(1 for m in report.matches if m["status"] == "recommended")
    if report.matches:
        out.print(
            f"{len(report.matches)} Coursera programs matched; {recommended} carry an ACE recommendation "
            "under their exact name"
        )
    show_events(report.cycle_id, report.events)
    if report.deliveries is not None:
        out.print(
            f"alerts: {report.deliveries.sent} sent, {report.deliveries.failed} failed (retried next run), "
            f"{report.deliveries.skipped} skipped"
        )


def show_check(answer: dict[str, Any]) -> None:
    out = console()
    verdict = answer["verdict"]
    match = answer["match"]
    name = for_rich(answer["name"])
    if match and answer["recommended"]:
        headline = f'YES: ACE recommends exactly "{name}"'
    elif match:
        headline = f'NOT TODAY: "{name}" is an ACE name, but its recommendation is {match["status"].replace("_", " ")}'
    elif verdict == "near":
        headline = f'NO: ACE recommends no program named exactly "{name}"; the nearest ACE names differ'
    else:
        headline = f'NO: no ACE-recommended program is named like "{name}"'
    out.print(f"[{VERDICT_STYLE[verdict]}]{headline}[/]  (verdict: {verdict})")
    _show_claim(answer.get("coursera_claim"))
    if answer["input"] != "name":
        out.print(f"  resolved from the Coursera {answer['input']} {for_rich(answer['query'])}")
    if match:
        _show_exhibit(match)
    for warning in answer["warnings"]:
        out.print(f"[yellow]warning:[/] {for_rich(warning)}")
    others = [c for c in answer["candidates"] if c is not match]
    if others:
        out.print("\nNearest ACE names:")
        for candidate in others:
            out.print(
                f"  {candidate['score']:5.1f}  {for_rich(candidate['title'])} "
                f"({for_rich(candidate['ace_id'])}, {for_rich(candidate['organization'])}, "
                f"{candidate['status'].replace('_', ' ')})"
            )
            diffs = ", ".join(_difference(d) for d in candidate["differences"])
            if diffs:
                out.print(f"         differs: {diffs}")
            if candidate.get("other_organization"):
                out.print("         [red]another organization's program[/]")
    out.print(f"\nEvidence: ACE National Guide as crawled {answer['as_of']}")


CLAIM_STYLE = {"supported": "green", "none": "dim", "unknown": "yellow"}


def _show_claim(claim: dict[str, Any] | None) -> None:
    """The program page's own ACE claim, right under the headline: the hazard a student meets first."""
    if claim is None:
        return
    style = CLAIM_STYLE.get(claim["verdict"], "bold red")
    console().print(f"  [{style}]Coursera page: {for_rich(claim['message'])}[/]  (claim: {claim['verdict']})")
    console().print(f"  page: {for_rich(claim['page_url'])}")


def _difference(diff: dict[str, Any]) -> str:
    old, new = for_rich(diff.get("old") or ""), for_rich(diff.get("new") or "")
    if diff["kind"] == "insert":
        return f"[green]+ {new}[/]"
    if diff["kind"] == "delete":
        return f"[red]- {old}[/]"
    return f"[red]{old}[/] -> [green]{new}[/]"


def _show_exhibit(match: dict[str, Any]) -> None:
    out = console()
    out.print(f"  ACE ID {for_rich(match['ace_id'])}, {for_rich(match['organization'])}: {for_rich(match['title'])}")
    if match.get("normalisations"):
        out.print(f"  equal after normalising: {', '.join(match['normalisations'])}")
    for period in sorted(match["periods"], key=lambda p: p.get("start") or ""):
        current = " (today)" if period == match["period"] and match["status"] == "active" else ""
        out.print(f"  Period {period.get('start')} to {period.get('end') or 'open'}{current}:")
        for row in period.get("credits", []):
            out.print(
                f"    {row.get('hours'):g} semester hours, {for_rich(row.get('level'))}, {for_rich(row.get('subject'))}"
            )
    if match["credits"] is not None:
        out.print(f"  Credits: {match['credits']:g} semester hours; first seen by acewatch {match.get('first_seen')}")
    out.print(f"  Exhibit: {for_rich(match['url'])}")
