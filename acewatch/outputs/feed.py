"""The change events as an Atom 1.0 feed, for feed readers and anything that polls a file.

Why a file: a feed reader (or a static web server) can follow acewatch
without any alert channel or credentials. Every field is scraped, untrusted
text, so the feed is built with ElementTree (which escapes `<`, `&`, `>`),
after terminal escapes and the characters XML 1.0 forbids are removed: a
title holding `<script>` or `]]>` stays inert text. The file is replaced
atomically, so a reader never sees half a feed.
"""

from __future__ import annotations

import os
import re
import tempfile
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from acewatch.jsonout import utc_iso
from acewatch.outputs.digest import event_line
from acewatch.text import for_terminal
from monitor.events import Event
from store.cycles import cycle_events
from store.runs import utcnow

if TYPE_CHECKING:
    from sqlalchemy import Engine

ATOM = "http://www.w3.org/2005/Atom"
FEED_ID = "tag:acewatch,2026:feed"
# Characters XML 1.0 cannot carry at all (ElementTree would write them and break the file).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: object) -> str:
    """Scraped text safe for an XML text node (markup is escaped later by ElementTree)."""
    return _NOT_XML.sub("", for_terminal(value))


def atom_time(value: datetime | None) -> str:
    """RFC 3339 in UTC; stored times may come back naive (SQLite) and are UTC then."""
    return utc_iso(value or utcnow())


def newest_events(engine: Engine, limit: int) -> list[Event]:
    """The newest `limit` events, newest first (ids grow with detection order)."""
    return [Event.from_row(row) for row in cycle_events(engine, limit=limit)[::-1]]


def entry_title(event: Event) -> str:
    return xml_text(f"{event.kind.heading}: {event.subject or event.subject_key or ''}")


def _is_web_link(url: object) -> bool:
    return isinstance(url, str) and re.match(r"https?://[^\s]+$", url.strip(), re.IGNORECASE) is not None


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
    if text is not None:
        element.text = text
    return element


def _entry(feed: ET.Element, event: Event) -> None:
    entry = _sub(feed, "entry")
    _sub(entry, "id", f"tag:acewatch,2026:event/{event.id}")
    _sub(entry, "title", entry_title(event), type="text")
    _sub(entry, "updated", atom_time(event.detected_at))
    _sub(entry, "category", term=xml_text(event.type))
    if _is_web_link(event.evidence_url):
        _sub(entry, "link", href=xml_text(event.evidence_url.strip()), rel="alternate")
    _sub(entry, "content", xml_text(event_line(event)), type="text")


def build_feed(events: list[Event], title: str = "acewatch changes") -> ET.ElementTree:
    """An Atom document with one entry per event, in the order given (newest first)."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    _sub(feed, "id", FEED_ID)
    _sub(feed, "title", xml_text(title), type="text")
    _sub(
        feed,
        "updated",
        atom_time(max((e.detected_at for e in events if e.detected_at), default=None, key=_sort_key)),
    )
    _sub(_sub(feed, "author"), "name", "acewatch")
    _sub(feed, "generator", "acewatch")
    for event in events:
        _entry(feed, event)
    return ET.ElementTree(feed)


def _sort_key(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _write_atomically(tree: ET.ElementTree, path: Path) -> None:
    """Write beside the target and rename over it: readers see the old feed or the new, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            tree.write(stream, encoding="utf-8", xml_declaration=True)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise


def write_feed(
    engine: Engine, path: str | os.PathLike[str], *, limit: int = 200, title: str = "acewatch changes"
) -> int:
    """Write the Atom feed of the newest `limit` events to `path`; returns the entry count."""
    events = newest_events(engine, limit)
    _write_atomically(build_feed(events, title), Path(path).expanduser())
    return len(events)
