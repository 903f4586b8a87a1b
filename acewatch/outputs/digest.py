"""A cycle's events as a digest a person can read at a glance: grouped by kind, one line each.

The headings and their order are monitor.events.KINDS, the same table the feed, the alert title
and the Rich output read."""

from __future__ import annotations

from collections.abc import Sequence

from acewatch.text import for_terminal
from monitor.events import Event, grouped


def event_line(event: Event) -> str:
    """`subject: old -> new (details) <evidence>` in plain, safe text."""
    parts = [for_terminal(event.subject)]
    if event.old is not None or event.new is not None:
        parts.append(f": {for_terminal(event.old or '-')} -> {for_terminal(event.new or '-')}")
    extra = _extras(event)
    line = "".join(parts) + (f" ({', '.join(extra)})" if extra else "")
    return line + (f" <{for_terminal(event.evidence_url)}>" if event.evidence_url else "")


def _extras(event: Event) -> list[str]:
    """The details a reader needs to act on: the ACE ID, why, which words, which ACE name, which side."""
    extra = []
    if event.ace_id:
        extra.append(for_terminal(event.ace_id))
    if event.reason:
        extra.append(for_terminal(event.reason))
    if event.differences:
        extra.append("words: " + "; ".join(for_terminal(d) for d in event.differences))
    if event.ace_title:
        extra.append(f"ACE name: {for_terminal(event.ace_title)}")
    if event.type == "renamed" and event.side:
        extra.append(f"on {event.side.upper() if event.side == 'ace' else 'Coursera'}")
    return extra


def render_text(events: Sequence[Event], title: str = "acewatch digest", notes: Sequence[str] = ()) -> str:
    """The plain-text digest used by alerts, logs and `changes` without a terminal.

    `notes` are the crawl's notes (an organization not found, pages rendered): they explain
    the figures behind the changes, so they close the digest."""
    tail = ["", "Crawl notes", *(f"  - {for_terminal(note)}" for note in notes)] if notes else []
    if not events:
        return "\n".join([f"{title}: no changes.", *tail])
    lines = [f"{title}: {len(events)} change{'s' if len(events) != 1 else ''}"]
    for kind, items in grouped(list(events)):
        lines.append("")
        lines.append(f"{for_terminal(kind.heading)} ({len(items)})")
        lines.extend(f"  - {event_line(event)}" for event in items)
    return "\n".join(lines + tail)
