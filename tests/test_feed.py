"""The Atom feed: valid XML, newest first, scraped text inert, replaced atomically."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from acewatch.outputs.digest import event_line
from acewatch.outputs.feed import ATOM, write_feed
from monitor.events import event
from store.cycles import begin_cycle, finish_cycle
from store.models import ChangeEvent

NS = {"a": ATOM}
EVIL = 'Data <script>alert("x")</script> ]]> & <![CDATA[ boom \x1b[31mred\x07 \x0b\ufffe'


def store_cycle(engine, events) -> int:
    cycle_id = begin_cycle(engine, None, None, None)
    finish_cycle(engine, cycle_id, [], events)
    return cycle_id


def parse(path):
    return ET.parse(path).getroot()


def test_feed_is_atom_newest_first_with_links(engine, tmp_path):
    store_cycle(
        engine,
        [
            event(
                "gained_ace",
                "ace",
                "cid-1",
                "Google Data Analytics",
                new="12 credits",
                url="https://www.acenet.edu/x?cid=1&org=Google",
            )
        ],
    )
    store_cycle(
        engine,
        [
            event(
                "lost_ace",
                "ace",
                "cid-2",
                "IBM Data Science",
                old="3 credits",
                new="removed",
                url="javascript:alert(1)",
            ),
            event("new_program", "coursera", "p-9", "Meta Marketing", url="https://www.coursera.org/p"),
        ],
    )
    base = datetime(2026, 3, 1, 3, 30, tzinfo=UTC)
    with engine.begin() as connection:  # give each event its own, increasing detection time
        for offset, event_id in enumerate((1, 2, 3)):
            connection.execute(
                update(ChangeEvent.__table__)
                .where(ChangeEvent.id == event_id)
                .values(detected_at=base + timedelta(days=offset))
            )
    path = tmp_path / "feeds" / "acewatch.atom"

    assert write_feed(engine, path, title="ACE watch") == 3

    feed = parse(path)
    assert feed.tag == f"{{{ATOM}}}feed"
    assert feed.find("a:title", NS).text == "ACE watch"
    assert feed.find("a:updated", NS).text == "2026-03-03T03:30:00Z"
    entries = feed.findall("a:entry", NS)
    assert [e.find("a:id", NS).text for e in entries] == [f"tag:acewatch,2026:event/{i}" for i in (3, 2, 1)]
    assert [e.find("a:updated", NS).text for e in entries] == [
        "2026-03-03T03:30:00Z",
        "2026-03-02T03:30:00Z",
        "2026-03-01T03:30:00Z",
    ]
    assert entries[1].find("a:title", NS).text == "Lost ACE recommendation: IBM Data Science"
    assert entries[2].find("a:link", NS).get("href") == "https://www.acenet.edu/x?cid=1&org=Google"
    assert entries[1].find("a:link", NS) is None  # a javascript: evidence URL is not linked
    assert entries[1].find("a:content", NS).text.startswith("IBM Data Science: 3 credits -> removed")
    assert entries[0].find("a:category", NS).get("term") == "new_program"


def test_limit_keeps_the_newest(engine, tmp_path):
    store_cycle(engine, [event("new_program", "coursera", f"p-{i}", f"Program {i}") for i in range(5)])
    path = tmp_path / "feed.xml"
    assert write_feed(engine, path, limit=2) == 2
    titles = [e.find("a:title", NS).text for e in parse(path).findall("a:entry", NS)]
    assert titles == ["New on Coursera: Program 4", "New on Coursera: Program 3"]


def test_malicious_scraped_text_stays_inert(engine, tmp_path):
    evil = event(
        "renamed",
        "coursera",
        "p-1",
        EVIL,
        old="Old <b>name</b>",
        new=EVIL,
        url='https://www.coursera.org/p"><script>x</script>',
        side="coursera",
        differences=["<img src=x onerror=alert(1)>"],
    )
    store_cycle(engine, [evil])
    path = tmp_path / "feed.atom"
    write_feed(engine, path)

    raw = path.read_bytes()
    assert b"<script>" not in raw and b"<![CDATA[" not in raw and b"<img" not in raw and b"<b>" not in raw
    assert b"\x1b" not in raw and b"\x0b" not in raw and b"\x07" not in raw and "\ufffe".encode() not in raw
    [entry] = parse(path).findall("a:entry", NS)  # it parses: the file is well-formed XML
    title = entry.find("a:title", NS).text
    assert '<script>alert("x")</script> ]]> & <![CDATA[' in title  # the text survives, as text
    assert entry.find("a:title", NS).get("type") == "text" and not list(entry.find("a:title", NS))
    assert "<img src=x onerror=alert(1)>" in entry.find("a:content", NS).text
    assert entry.find("a:link", NS).get("href") == 'https://www.coursera.org/p"><script>x</script>'


def test_write_is_atomic(engine, tmp_path, monkeypatch):
    store_cycle(engine, [event("new_program", "coursera", "p-1", "First")])
    path = tmp_path / "out" / "feed.atom"
    write_feed(engine, path)
    before = path.read_bytes()

    store_cycle(engine, [event("new_program", "coursera", "p-2", "Second")])

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)  # the rename never happens: a crash before commit
    with pytest.raises(OSError, match="disk full"):
        write_feed(engine, path)
    monkeypatch.undo()

    assert path.read_bytes() == before  # readers still see the whole old feed
    assert [p.name for p in path.parent.iterdir()] == ["feed.atom"]  # no temp file left behind
    write_feed(engine, path)
    assert [e.find("a:title", NS).text for e in parse(path).findall("a:entry", NS)] == [
        "New on Coursera: Second",
        "New on Coursera: First",
    ]


def test_empty_store_gives_a_valid_empty_feed(engine, tmp_path):
    path = tmp_path / "feed.atom"
    assert write_feed(engine, path) == 0
    feed = parse(path)
    assert feed.findall("a:entry", NS) == [] and feed.find("a:id", NS).text == "tag:acewatch,2026:feed"


def test_content_is_the_digest_line(engine, tmp_path):
    item = event(
        "credits_changed",
        "ace",
        "cid-7",
        "Google IT Support",
        old="3",
        new="4",
        url="https://www.acenet.edu/x?cid=7",
        ace_id="GOOG-0007",
    )
    store_cycle(engine, [item])
    path = tmp_path / "feed.atom"
    write_feed(engine, path)
    [entry] = parse(path).findall("a:entry", NS)
    assert entry.find("a:content", NS).text == event_line(item)


def test_characters_xml_cannot_hold_are_dropped(tmp_path):
    """SQLite keeps NUL and U+FFFE in scraped text; ElementTree would write them and break the file."""
    from acewatch.outputs.feed import build_feed

    item = replace(
        event("new_program", "coursera", "p-1", "Bad\x00 \ufffeTitle\x1f"),
        id=1,
        detected_at=datetime(2026, 3, 1, tzinfo=UTC),
    )
    path = tmp_path / "feed.atom"
    build_feed([item]).write(path, encoding="utf-8", xml_declaration=True)
    assert parse(path).find("a:entry/a:title", NS).text == "New on Coursera: Bad Title"
