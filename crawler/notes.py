"""Crawl notes: what a run must tell its operator besides its figures.

An organization page that shows no organization, exhibit values filled by a
script the crawl did not run, pages rendered in a browser: none of these is an
error count, yet each explains a run's numbers ("never a silent zero"). A spider
adds them to the crawl's stats; the pipeline stores them with the run (in the
`health_report` column, as entries with a `note` key) in the transaction that
finishes it, and `status`, the run summary and the digest show their messages.
"""

from __future__ import annotations

from typing import Any

STATS_KEY = "acewatch/notes"


def add_note(stats, note: str, message: str, attention: bool = True, **fields: Any) -> None:
    """Record one note once (same kind and message) in the crawl's stats.

    `attention`: the operator must act (a wrong organization GUID); False for figures
    worth showing that need nothing done (how many pages were rendered)."""
    notes: list[dict[str, Any]] = stats.get_value(STATS_KEY) or []
    if any(n["note"] == note and n["message"] == message for n in notes):
        return
    entry = {"note": note, "ok": True, "attention": attention, "message": message, **fields}
    stats.set_value(STATS_KEY, [*notes, entry])


def set_note(stats, note: str, message: str, attention: bool = True, **fields: Any) -> None:
    """Record the one note of this kind, replacing an earlier one (a running count)."""
    notes = [n for n in stats.get_value(STATS_KEY) or [] if n["note"] != note]
    stats.set_value(STATS_KEY, notes)
    add_note(stats, note, message, attention, **fields)
