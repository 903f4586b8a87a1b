"""How answers read on a page: the verdict worded for a student, and the Jinja2 environment.

Everything shown is scraped and untrusted: the environment autoescapes every
value, and a link is only ever an http(s) URL (never `javascript:`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from monitor.events import kind_of

TEMPLATES = Path(__file__).with_name("templates")
_WEB_LINK = re.compile(r"https?://[^\s<>\"']+\Z", re.IGNORECASE)
STATUS_TEXT = {
    "active": "active today",
    "expired": "ended",
    "not_yet_active": "not yet begun",
    "unknown": "unreadable (no evidence either way)",
}
SOURCE_EVENTS = ("source_unhealthy", "source_recovered")


@dataclass(frozen=True)
class Verdict:
    """YES / CLOSE / NO and what it means for someone about to enroll."""

    word: str
    tone: str
    headline: str
    detail: str


def verdict_of(answer: dict[str, Any]) -> Verdict:
    """The student's reading of a `check --json` answer (same cases as the CLI's exit codes)."""
    match = answer["match"]
    if match and answer["recommended"]:
        return Verdict(
            "YES",
            "yes",
            "ACE recommends exactly this name today.",
            "The name matches the ACE National Guide word for word and its recommendation period is active.",
        )
    if match:
        reason = {
            "expired": "its recommendation period has ended",
            "not_yet_active": "its recommendation period has not begun",
        }.get(match["status"], "acewatch could not read its exhibit, so there is no evidence either way")
        return Verdict(
            "NO", "no", f"This is an ACE name, but {reason}.", "A credit recommendation applies only inside its period."
        )
    if answer["verdict"] == "near":
        return Verdict(
            "CLOSE",
            "close",
            "Not this name: ACE recommends a program whose name differs.",
            "Credit belongs to the exact name. The words that differ are marked below; check the "
            "program you enroll in carries the ACE name.",
        )
    return Verdict(
        "NO",
        "no",
        "No ACE-recommended program is named like this.",
        "Check the spelling, or paste the program's Coursera address.",
    )


def web_link(url: object) -> str:
    """The URL when it is a plain http(s) link, else "" (a scraped `javascript:` URL is never a link)."""
    return url.strip() if isinstance(url, str) and _WEB_LINK.match(url.strip()) else ""


def hours(value: object) -> str:
    return f"{value:g}" if isinstance(value, (int, float)) else "?"


def when(value: object) -> str:
    """An ISO time as `2026-12-02 09:40 UTC` (the stored times are UTC)."""
    if not isinstance(value, str) or len(value) < 16:
        return str(value or "unknown")
    return f"{value[:10]} {value[11:16]} UTC"


def capitalize_first(text: object) -> str:
    """A sentence's first letter up, the rest as written (Jinja's `capitalize` lowers the rest: "ACE" -> "ace")."""
    text = str(text or "")
    return text[:1].upper() + text[1:]


def by_version(versions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """An exhibit's versions oldest first (the answer lists them by cid); unnumbered ones last."""
    return sorted(versions, key=lambda v: (not isinstance(v.get("version"), int), v.get("version") or 0, v["cid"]))


def event_heading(kind: str) -> str:
    return kind_of(kind).heading


def environment() -> Environment:
    """Autoescaping everywhere (select_autoescape(default=True) escapes every template, whatever its name)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        link=web_link,
        hours=hours,
        when=when,
        heading=event_heading,
        status_text=lambda status: STATUS_TEXT.get(status, status),
        capitalize_first=capitalize_first,
        by_version=by_version,
    )
    env.globals.update(source_events=SOURCE_EVENTS)
    return env
