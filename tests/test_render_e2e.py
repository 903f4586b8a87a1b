"""The rendering fallback end to end: script-filled ACE pages crawled over HTTP in real headless Chromium.

The fixture's `scripted` mode (fixtures/scripted.py) serves organization pages with an empty
course list and exhibits as the empty template; each page's script fetches its values from a
JSON endpoint. A plain crawl sees only labels, which is what a removed exhibit looks like.
The spider runs in its child process as on a server, with the system Chromium:

- `auto` reads every field the plain site gives (ACE ID, title, periods with their credit
  rows), renders only the pages that arrived without values, and still confirms a real
  loss, from a template that stays one when rendered;
- `always` reads the same;
- `never` on the same site holds the exhibits as unknown and says "exhibit values filled by
  script: set [crawl] render" in one line, with no lost_ace event.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from crawler.spiders.render_fallback import SCRIPT_FILLED
from monitor.notes import notes_of, rendered_pages
from tests.browser import chromium_executable
from tests.support import site_config

SALESFORCE, MICROSOFT = "3cfb4470-99c4-ea11-a812-000d3a33232a", "6e990894-2fc4-ea11-a812-000d3a33232a"
LOST_CID = "c74343bf-53c4-ea11-a812-000d3a33232a"  # SFDC-0002, gone on day 2 (expected_changes.json)
FIELDS = ("cid", "ace_id", "title", "organization", "periods", "parse_status", "problem")


def _cycle(site, engine, db, tmp_path, render: str):
    """One ACE-only cycle of the two organizations, rendering as `render` says."""
    from acewatch.crawl import crawl_sources
    from acewatch.cycle import conclude_cycle
    from store.runs import load_snapshot

    config = site_config(db, site, tmp_path, render=render, chromium=chromium_executable(), render_timeout=30.0)
    config = replace(config, ace=replace(config.ace, organizations=(SALESFORCE, MICROSOFT), exhibits=()))
    report = conclude_cycle(config, engine, crawl_sources(config, engine, ("ace",), "off"))
    run = report.runs["ace"]
    records = {r["cid"]: r for r in load_snapshot(engine, "ace", run.id, columns=FIELDS)}
    return {"run": run, "events": report.events, "records": records}


@pytest.fixture(scope="module")
def crawls(tmp_path_factory):
    from fixtures.server import FixtureSite
    from store.database import open_engine

    chromium_executable()
    tmp = tmp_path_factory.mktemp("render")
    results = {}
    with FixtureSite(day="day1") as site:
        plain_db = f"sqlite:///{tmp / 'plain.db'}"
        results["plain"] = _cycle(site, open_engine(plain_db), plain_db, tmp, "auto")
        site.set_ace_mode(scripted=True)
        db = f"sqlite:///{tmp / 'scripted.db'}"
        engine = open_engine(db)
        results["auto"] = _cycle(site, engine, db, tmp, "auto")
        site.clear_requests()
        results["always"] = _cycle(site, engine, db, tmp, "always")
        results["always_requests"] = site.requests
        site.set_day("day2")
        results["auto_day2"] = _cycle(site, engine, db, tmp, "auto")
        results["never_day2"] = _cycle(site, engine, db, tmp, "never")
    results["engine"], results["db"] = engine, db
    return results


def test_auto_reads_every_field_of_the_script_filled_site(crawls):
    plain, auto = crawls["plain"]["records"], crawls["auto"]["records"]
    assert len(plain) == 4 and all(r["parse_status"] == "ok" for r in plain.values())
    assert auto == plain


def test_auto_renders_only_the_pages_without_values(crawls):
    assert rendered_pages(crawls["plain"]["run"].health_report) == 0
    assert rendered_pages(crawls["auto"]["run"].health_report) == 2 + 4  # both organization pages, four exhibits
    assert crawls["auto"]["run"].healthy


def test_always_renders_everything_and_reads_the_same(crawls):
    assert crawls["always"]["records"] == crawls["plain"]["records"]
    assert rendered_pages(crawls["always"]["run"].health_report) == 6
    api_calls = [path for role, _, path, _ in crawls["always_requests"] if "/_api/course" in path]
    assert len(api_calls) == 4  # the exhibits' own scripts fetched their values, in the browser


def test_the_browser_obeys_robots_txt_too(crawls):
    """SharePoint pages load scripts and styles from /_layouts/, which the Guide's robots.txt forbids."""
    from protego import Protego

    from fixtures.site import ACE_ROBOTS_TXT

    robots = Protego.parse(ACE_ROBOTS_TXT)
    ace = [path for role, _, path, _ in crawls["always_requests"] if role == "ace"]
    assert any(path.startswith("/Style%20Library/") for path in ace)  # the browser did load the page's own files
    assert [path for path in ace if not robots.can_fetch(path, "acewatch")] == []


def test_a_real_loss_is_confirmed_only_after_rendering(crawls):
    day2 = crawls["auto_day2"]
    lost = [e for e in day2["events"] if e.type == "lost_ace"]
    assert [e.subject_key for e in lost] == [LOST_CID]
    assert LOST_CID not in day2["records"]


def test_never_says_filled_by_script_in_one_line_instead_of_losses(crawls):
    never = crawls["never_day2"]
    assert not [e for e in never["events"] if e.type in ("lost_ace", "removed_program")]
    messages = [note["message"] for note in notes_of(never["run"].health_report)]
    script_lines = [m for m in messages if SCRIPT_FILLED in m]
    assert len(script_lines) == 1, messages
    assert not any("not found" in m for m in messages)
    assert never["records"] and all(
        r["parse_status"] == "unknown" and r["problem"] == SCRIPT_FILLED for r in never["records"].values()
    )
    assert rendered_pages(never["run"].health_report) == 0


def test_status_and_digest_count_the_rendered_pages(crawls):
    from acewatch.outputs.digest import render_text
    from acewatch.outputs.reports import status_data
    from monitor.notes import note_lines

    runs = status_data(crawls["engine"], crawls["db"])["sources"]["ace"]["runs"]
    by_id = {run["id"]: run for run in runs}
    assert by_id[crawls["auto"]["run"].id]["rendered_pages"] == 6
    assert by_id[crawls["never_day2"]["run"].id]["rendered_pages"] == 0
    lines = note_lines({"ace": crawls["auto_day2"]["run"]})
    assert any(line.startswith("ace: ") and "rendered in headless Chromium" in line for line in lines)
    assert "rendered in headless Chromium" in render_text(crawls["auto_day2"]["events"], notes=lines)


def test_no_browser_is_one_note_not_a_failed_crawl(tmp_path):
    """A server without Chromium still crawls: `always` says once what to install, and reads the plain pages."""
    from fixtures.server import FixtureSite
    from store.database import open_engine

    db = f"sqlite:///{tmp_path / 'nobrowser.db'}"
    with FixtureSite(day="day1") as site:
        config = site_config(db, site, tmp_path, render="always", chromium="/nonexistent/chromium")
        config = replace(config, ace=replace(config.ace, organizations=(SALESFORCE, MICROSOFT), exhibits=()))
        from acewatch.crawl import crawl_sources
        from acewatch.cycle import conclude_cycle

        run = conclude_cycle(config, open_engine(db), crawl_sources(config, open_engine(db), ("ace",), "off")).runs[
            "ace"
        ]
    notes = {note["note"]: note for note in notes_of(run.health_report)}
    assert run.outcome == "finished" and run.records > 0
    assert "no Chromium was found" in notes["no_browser"]["message"] and notes["no_browser"]["attention"]


@pytest.mark.parametrize("found", ["/opt/chromium", None])
def test_chromium_is_looked_up_once_per_crawler(monkeypatch, found):
    """The handler and the "no browser" fallback come from one lookup, so they cannot disagree."""
    from scrapy.utils.test import get_crawler

    from crawler.rendering import HANDLER
    from crawler.spiders import render_fallback
    from crawler.spiders.ace import AceSpider

    lookups = []
    monkeypatch.setattr(render_fallback, "chromium_path", lambda configured: lookups.append(configured) or found)
    settings = {"ACE_BASE_URL": "http://x", "ACE_ORGANIZATIONS": ["x"], "ACEWATCH_RENDER": "auto"}
    crawler = get_crawler(AceSpider, {**settings, "ACEWATCH_CHROMIUM": "/opt/chromium"})
    spider = AceSpider.from_crawler(crawler)
    handled = crawler.settings.getdict("DOWNLOAD_HANDLERS").get("http") == HANDLER
    assert lookups == ["/opt/chromium"]
    assert (spider.render, handled) == (("auto", True) if found else ("never", False))
