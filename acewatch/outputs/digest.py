"""A cycle's events as a digest a person can read at a glance: grouped by type, one line each."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from acewatch.text import for_terminal

HEADINGS = {
    "lost_ace": "Lost ACE recommendation",
    "gained_ace": "Gained ACE recommendation",
    "credits_changed": "Credits changed",
    "recommendation_renewed": "Recommendation renewed (a new period, same credits)",
    "name_mismatch": "Coursera title no longer matches the ACE name word for word",
    "claim_changed": "Coursera's ACE claim now stands differently against the ACE guide",
    "renamed": "Renamed",
    "recommendation_expiring": "Recommendation period ending soon",
    "new_program": "New on Coursera",
    "removed_program": "Gone from Coursera",
    "record_unreadable": "Unreadable for several healthy runs (its changes wait)",
    "source_unhealthy": "Source unhealthy (its changes are held back)",
    "source_recovered": "Source recovered",
}
ORDER = list(HEADINGS)


def event_line(event: dict[str, Any]) -> str:
    """`subject: old -> new (details) <evidence>` in plain, safe text."""
    details = event.get("details") or {}
    parts = [for_terminal(event["subject"])]
    if event.get("old") is not None or event.get("new") is not None:
        parts.append(f": {for_terminal(event.get('old') or '-')} -> {for_terminal(event.get('new') or '-')}")
    extra = []
    if details.get("ace_id"):
        extra.append(for_terminal(details["ace_id"]))
    if details.get("reason"):
        extra.append(for_terminal(details["reason"]))
    if details.get("differences"):
        extra.append("words: " + "; ".join(for_terminal(d) for d in details["differences"]))
    if details.get("ace_title"):
        extra.append(f"ACE name: {for_terminal(details['ace_title'])}")
    if event.get("type") == "renamed" and details.get("side"):
        extra.append(f"on {details['side'].upper() if details['side'] == 'ace' else 'Coursera'}")
    line = "".join(parts) + (f" ({', '.join(extra)})" if extra else "")
    return line + (f" <{for_terminal(event['evidence_url'])}>" if event.get("evidence_url") else "")


def group(events: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    grouped: dict[str, list] = defaultdict(list)
    for event in events:
        grouped[event["type"]].append(event)
    return [(kind, grouped[kind]) for kind in ORDER if grouped.get(kind)]


def render_text(events: list[dict[str, Any]], title: str = "acewatch digest", notes: Sequence[str] = ()) -> str:
    """The plain-text digest used by alerts, logs and `changes` without a terminal.

    `notes` are the crawl's notes (an organization not found, pages rendered): they explain
    the figures behind the changes, so they close the digest."""
    tail = ["", "Crawl notes", *(f"  - {for_terminal(note)}" for note in notes)] if notes else []
    if not events:
        return "\n".join([f"{title}: no changes.", *tail])
    lines = [f"{title}: {len(events)} change{'s' if len(events) != 1 else ''}"]
    for kind, items in group(events):
        lines.append("")
        lines.append(f"{HEADINGS[kind]} ({len(items)})")
        lines.extend(f"  - {event_line(event)}" for event in items)
    return "\n".join(lines + tail)
