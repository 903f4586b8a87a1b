"""Reading the crawl notes a run stored with its health report (see crawler/notes.py)."""

from __future__ import annotations

from typing import Any


def notes_of(report: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """The crawl notes among a run's health_report entries (entries with a `note` key)."""
    return [entry for entry in report or [] if "note" in entry]


def note_lines(runs: dict[str, Any]) -> list[str]:
    """`source: message` for every note of these runs ({source: CrawlRun}), in source order."""
    return [
        f"{source}: {note['message']}"
        for source, run in runs.items()
        for note in notes_of(getattr(run, "health_report", None))
    ]


def note_is_problem(note: dict[str, Any]) -> bool:
    """Whether a note asks the operator to act (`status` lists it and exits 3)."""
    return bool(note.get("attention", True))


def rendered_pages(report: list[dict[str, Any]] | None) -> int:
    """How many pages the run had rendered in a browser (its `rendered` note), else 0."""
    return sum(int(note.get("count", 0)) for note in notes_of(report) if note["note"] == "rendered")
