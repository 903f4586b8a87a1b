"""`acewatch serve` driven in a real headless Chromium, over a store filled by real fixture crawls.

The server is the real command (`python -m acewatch.cli --db ... serve --port N`, uvicorn) in its own
process; the browser is Debian's Chromium through Playwright (tests/browser.py: skip locally without
it, fail under CI). Day 2 of the fixture catalog gives the new ACE exhibit a hostile title, so the
pages must show markup as text and run nothing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from fixtures.dataset import CATALOG_DIR
from fixtures.server import FixtureSite
from tests.browser import chromium_executable
from tests.listeners import free_port
from tests.support import EXPECTED_CHANGES, ROOT, acewatch, site_config
from tests.test_names import HAZARDS

CHANGE = {c["change"]: c for c in EXPECTED_CHANGES}
HOSTILE = "Evil <script>alert(1)</script><img src=x onerror=alert(2)> Analyst Professional Certificate"
RENAMED = CHANGE["renamed"]["day2"]["coursera_page_title"]  # a Coursera title one word off its ACE name
EXACT = CHANGE["credits_changed"]["ace_title"]
SECURITY_HEADERS = {
    "content-security-policy",
    "x-content-type-options",
    "x-frame-options",
    "referrer-policy",
    "permissions-policy",
    "cross-origin-opener-policy",
}
SCREENSHOT = ROOT / "docs" / "check-page.png"


# --------------------------------------------------------------------------
# A crawled store, the real server over it, a browser
# --------------------------------------------------------------------------


def hostile_catalog(target: Path) -> Path:
    """The fixture catalog whose day-2 new ACE exhibit is titled with markup."""
    shutil.copytree(CATALOG_DIR, target)
    day2 = json.loads((target / "day2.json").read_text())
    for patch in day2["patches"]:
        if patch["op"] == "add" and patch["record"].get("cid") == CHANGE["gained_ace"]["cid"]:
            patch["record"]["title"] = HOSTILE
    (target / "day2.json").write_text(json.dumps(day2))
    return target


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """Day 1 then day 2 of the (hostile) fixture site, crawled by the real cycle into SQLite."""
    from acewatch.cycle import run_cycle
    from store.database import open_engine

    home = tmp_path_factory.mktemp("web")
    db = f"sqlite:///{home / 'acewatch.db'}"
    engine = open_engine(db)
    with FixtureSite(day="day1", catalog_dir=hostile_catalog(home / "catalog")) as site:
        config = site_config(db, site, home)
        run_cycle(config, engine, progress="off")
        site.set_day("day2")
        assert run_cycle(config, engine, progress="off").healthy
    engine.dispose()
    return {"db": db, "home": home}


class Server:
    """`acewatch serve` as a child process on a free loopback port."""

    def __init__(self, db: str, home: Path, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = home / f"serve-{self.port}.log"
        environ = {k: v for k, v in os.environ.items() if not k.startswith("ACEWATCH_")}
        environ.update({"HOME": str(home), "ACEWATCH_DB": db, **env})
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "acewatch.cli", "serve", "--port", str(self.port)],
                cwd=ROOT,
                env=environ,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self._wait()

    def _wait(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"serve exited {self.process.returncode}:\n{self.log.read_text()}")
            try:
                self.get("/healthz")
                return
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        raise AssertionError(f"serve did not answer:\n{self.log.read_text()}")

    def get(self, path: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
        request = urllib.request.Request(self.url + path, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
        except urllib.error.HTTPError as error:
            return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()

    def get_json(self, path: str) -> tuple[int, dict]:
        status, _headers, body = self.get(path)
        return status, json.loads(body)

    def stop(self) -> str:
        self.process.terminate()
        self.process.wait(timeout=20)
        return self.log.read_text(errors="replace")


@pytest.fixture(scope="module")
def server(store):
    running = Server(store["db"], store["home"])
    yield running
    running.stop()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    executable = chromium_executable()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh page that records every dialog, console message and uncaught error."""
    context = browser.new_context(viewport={"width": 1000, "height": 900})
    tab = context.new_page()
    tab.seen = []
    tab.on("dialog", lambda dialog: (tab.seen.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    tab.on("console", lambda message: tab.seen.append(f"console {message.type}: {message.text}"))
    tab.on("pageerror", lambda error: tab.seen.append(f"error: {error}"))
    yield tab
    context.close()


def q(text: str) -> str:
    return urllib.parse.quote(text, safe="")


# --------------------------------------------------------------------------
# What a student does
# --------------------------------------------------------------------------


def test_type_a_near_name_and_read_the_differing_words(server, page):
    page.goto(server.url + "/")
    page.get_by_label("Exact certificate name or Coursera URL").fill(RENAMED)
    page.get_by_role("button", name="Check").click()
    page.wait_for_url(re.compile(r"/check\?q="))
    verdict = page.locator("section.verdict")
    assert verdict.locator(".word").inner_text() == "CLOSE"
    assert verdict.locator("del").inner_text().endswith("Development")
    assert verdict.locator("ins").inner_text().endswith("Developer")
    assert "Meta Front-End Developer Professional Certificate" in verdict.locator(".ace-name").inner_text()
    assert page.locator("input#q").input_value() == RENAMED
    assert page.seen == []
    if os.environ.get("ACEWATCH_SCREENSHOT"):
        page.set_viewport_size({"width": 820, "height": 900})
        page.screenshot(path=str(SCREENSHOT), full_page=True)


def test_exact_name_says_yes_with_credits_period_and_the_exhibit_link(server, page, store):
    page.goto(server.url + "/")
    page.get_by_label("Exact certificate name or Coursera URL").fill(EXACT)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/check\?q="))
    assert page.locator("section.verdict .word").inner_text() == "YES"
    _code, answer = server.get_json("/api/check?q=" + q(EXACT))
    match = answer["match"]
    assert page.locator("dd.credits").inner_text() == f"{match['credits']:g} semester hours"
    assert page.locator("dd.period").inner_text().startswith(match["period"]["start"])
    assert page.locator("dd.status").inner_text() == "active today"
    link = page.get_by_role("link", name=match["ace_id"], exact=True)
    assert link.get_attribute("href") == match["url"] and match["url"].startswith("http")
    assert answer["as_of"][:10] in page.locator("#evidence ~ p").first.inner_text()
    assert page.locator(".warning").count() == 0  # evidence from today is not stale


def test_a_program_url_shows_what_its_coursera_page_claims(server, page):
    """The page's own ACE claim, judged against the guide (`check --json`'s coursera_claim), shown as text."""
    url = f"https://www.coursera.org{CHANGE['renamed']['coursera_path']}"
    page.goto(server.url + "/check?q=" + q(url))
    _code, answer = server.get_json("/api/check?q=" + q(url))
    claim = answer["coursera_claim"]
    assert claim["verdict"] == "name_differs"
    shown = page.locator("section.verdict #coursera-claim")
    assert "ACE lists no program named exactly this" in shown.locator(".claim-message").inner_text()
    assert "Development -> Developer" in shown.locator(".claim-message").inner_text()
    assert shown.locator(".claim-text").inner_text() == claim["claim_text"].strip()
    assert f"the page says {claim['credits']:g} credits" in shown.locator(".meta").inner_text()
    link = shown.get_by_role("link", name="The program's Coursera page")
    assert link.get_attribute("href") == claim["page_url"]
    assert page.seen == []
    page.goto(server.url + "/check?q=" + q(EXACT))  # a name has no page, so no claim
    assert page.locator("#coursera-claim").count() == 0


@pytest.fixture(scope="module")
def versions_server(tmp_path_factory):
    """A store whose GOOG-0009 has a version 2 beside version 1 (fixture days day1-versions, day2-versions)."""
    from acewatch.cycle import run_cycle
    from store.database import open_engine

    home = tmp_path_factory.mktemp("web-versions")
    db = f"sqlite:///{home / 'acewatch.db'}"
    engine = open_engine(db)
    with FixtureSite(day="day1-versions") as site:
        config = site_config(db, site, home)
        run_cycle(config, engine, progress="off")
        site.set_day("day2-versions")
        assert run_cycle(config, engine, progress="off").healthy
    engine.dispose()
    running = Server(db, home)
    yield running
    running.stop()


def test_the_check_page_lists_the_exhibits_versions_and_which_one_decides(versions_server, page):
    title = "Google Business Intelligence Professional Certificate"  # GOOG-0009, versions 1 and 2
    page.goto(versions_server.url + "/check?q=" + q(title))
    _code, answer = versions_server.get_json("/api/check?q=" + q(title))
    match = answer["match"]
    assert page.locator("section.verdict .word").inner_text() == "YES"
    versions = sorted(match["versions"], key=lambda v: v["version"])  # the page lists them oldest first
    assert [v["version"] for v in versions] == [1, 2] and match["version"] == 2
    items = page.locator("dd.versions li")
    assert items.count() == 2
    for item, version in zip(items.all(), versions):
        assert item.inner_text().startswith(f"version {version['version']} {version['cid']}")
        assert item.get_by_role("link").get_attribute("href") == version["url"]
    assert items.nth(1).locator(".deciding").inner_text() == "(decides today's answer)"
    assert items.nth(0).locator(".deciding").count() == 0
    assert page.locator("dd.credits").inner_text() == f"{match['credits']:g} semester hours"
    assert page.seen == []


def test_a_pasted_coursera_url_resolves_in_every_form(server):
    slug = CHANGE["credits_changed"]["coursera_slug"]
    forms = [
        f"https://www.coursera.org/professional-certificates/{slug}",
        f"coursera.org/professional-certificates/{slug}",
        f"www.coursera.org/professional-certificates/{slug}/",
        f"https://coursera.org/professional-certificates/{slug}?utm_source=newsletter&utm_medium=email",
        f"www.coursera.org/professional-certificates/{slug}/?trk=x#faq",
    ]
    for form in forms:
        code, answer = server.get_json("/api/check?q=" + q(form))
        assert code == 200, (form, answer)
        assert (answer["input"], answer["name"], answer["verdict"]) == ("url", EXACT, "exact"), form


def test_cli_check_resolves_a_url_without_its_scheme(store):
    slug = CHANGE["credits_changed"]["coursera_slug"]
    result = acewatch(
        "check", f"coursera.org/professional-certificates/{slug}", "--json", db=store["db"], home=store["home"]
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert (answer["input"], answer["name"], answer["verdict"]) == ("url", EXACT, "exact")


def test_follow_a_change_to_its_history(server, page):
    page.goto(server.url + "/changes")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Changes in cycle")
    page.get_by_role("link", name=RENAMED).first.click()
    page.wait_for_url(re.compile(r"/history\?q="))
    assert RENAMED in page.get_by_role("heading", level=1).inner_text()
    cycles = page.locator("ol.timeline > li > h2").all_inner_texts()
    assert len(cycles) == 2 and cycles[0].startswith("Cycle 1") and cycles[1].startswith("Cycle 2")
    assert "Renamed" in page.locator("ol.timeline").inner_text()
    assert page.seen == []


def test_home_lists_the_latest_changes_linked_to_their_history(server, page):
    page.goto(server.url + "/")
    events = page.locator("ul.events li.event")
    assert events.count() >= 5
    hrefs = [events.nth(i).locator("a").first.get_attribute("href") for i in range(events.count())]
    assert all(href.startswith("/history?q=") for href in hrefs)


def test_the_atom_feed_parses_and_lists_the_events(server):
    status, headers, body = server.get("/feed.atom")
    assert status == 200 and headers["content-type"].startswith("application/atom+xml")
    feed = ET.fromstring(body)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    titles = [entry.findtext("a:title", namespaces=ns) for entry in feed.findall("a:entry", ns)]
    _code, changes = server.get_json("/api/changes")
    assert len(titles) >= changes["count"] > 0
    assert any(HOSTILE in title for title in titles)  # the hostile title is text in the feed too


# --------------------------------------------------------------------------
# Hostile scraped text, headers, input limits, read-only
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/check?q=" + q(HOSTILE), "/changes", "/", "/history?q=" + q(CHANGE["gained_ace"]["cid"])]
)
def test_a_scraped_title_with_markup_shows_as_text_and_runs_nothing(server, page, path):
    page.goto(server.url + path)
    assert HOSTILE in page.locator("main").inner_text()  # shown as the text it is
    assert page.locator("main script, main img, img[src=x]").count() == 0
    assert page.evaluate("typeof window.alert === 'function' && document.scripts.length") == 0
    assert page.seen == []  # no dialog, no console message (not even a CSP refusal), no error


def test_hostile_name_checks_as_exact(server):
    _code, answer = server.get_json("/api/check?q=" + q(HOSTILE))
    assert answer["verdict"] == "exact" and answer["match"]["title"] == HOSTILE


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/check?q=Data",
        "/changes",
        "/history?q=x",
        "/status",
        "/feed.atom",
        "/healthz",
        "/api/check?q=Data",
        "/api/changes",
        "/api/status",
        "/static/app.css",
        "/nowhere",
        "/check?q=",
    ],
)
def test_security_headers_on_every_response(server, path):
    _status, headers, _body = server.get(path)
    assert SECURITY_HEADERS <= set(headers), path
    policy = headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy and "unsafe" not in policy
    assert headers["x-content-type-options"] == "nosniff" and headers["x-frame-options"] == "DENY"
    assert "server" not in headers


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_no_route_accepts_a_write(server, method):
    for path in ["/", "/check?q=Data", "/api/check?q=Data", "/changes", "/history?q=x", "/status", "/healthz"]:
        assert server.get(path, method=method)[0] == 405, (method, path)


@pytest.mark.parametrize(
    "text, reason",
    [
        ("x" * 301, "characters long"),
        ("Data\u202eAnalytics", "direction-override"),
        ("Data\x1b[2J", "control"),
        ("   ", "empty"),
    ],
)
def test_input_limits_as_in_check(server, page, text, reason):
    code, answer = server.get_json("/api/check?q=" + q(text))
    assert code == 400 and reason in answer["error"] and answer["exit_code"] == 2
    page.goto(server.url + "/check?q=" + q(text))
    assert reason in page.get_by_role("alert").inner_text()
    assert page.locator("section.verdict").count() == 0


def test_bad_parameters_are_refused_plainly(server):
    assert server.get("/changes?cycle=abc")[0] == 400
    assert server.get("/api/check?q=Data&limit=500")[0] == 400
    assert server.get("/api/changes?cycle=99999")[1]["content-type"].startswith("application/json")


# --------------------------------------------------------------------------
# The JSON twins are the CLI's JSON
# --------------------------------------------------------------------------


def test_api_check_answers_what_check_json_prints_for_every_name_hazard(server, store):
    names = list(dict.fromkeys([h.query for h in HAZARDS] + [h.ace_name for h in HAZARDS]))
    assert len(names) >= 40
    for name in names:
        result = acewatch("check", name, "--json", db=store["db"], home=store["home"])
        assert result.returncode != 2, (name, result.stderr)
        code, answer = server.get_json("/api/check?q=" + q(name))
        assert code == 200 and answer == json.loads(result.stdout), name


def test_api_changes_history_status_match_the_cli(server, store):
    for args, path in [
        (("changes", "--json"), "/api/changes"),
        (("changes", "--cycle", "1", "--json"), "/api/changes?cycle=1"),
        (("history", EXACT, "--json"), "/api/history?q=" + q(EXACT)),
    ]:
        result = acewatch(*args, db=store["db"], home=store["home"])
        assert server.get_json(path)[1] == json.loads(result.stdout), args
    cli = json.loads(acewatch("status", "--json", db=store["db"], home=store["home"]).stdout)
    web = server.get_json("/api/status")[1]
    assert {k: v for k, v in web.items() if k != "checked_at"} == {k: v for k, v in cli.items() if k != "checked_at"}


# --------------------------------------------------------------------------
# A phone, stale evidence, secrets, a broken store
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/", "/check?q=" + q(RENAMED), "/check?q=" + q(EXACT), "/changes", "/status", "/history?q=" + q(EXACT)]
)
def test_pages_fit_a_360px_screen(server, browser, path):
    context = browser.new_context(viewport={"width": 360, "height": 740})
    tab = context.new_page()
    tab.goto(server.url + path)
    assert tab.evaluate("document.documentElement.scrollWidth") <= 360, path
    assert tab.locator("html").get_attribute("lang") == "en"
    for field in tab.locator("input").all():
        label = tab.locator(f"label[for='{field.get_attribute('id')}']")
        assert label.count() == 1 and label.inner_text().strip()
    context.close()


def test_stale_evidence_is_flagged(store, page, tmp_path):
    import sqlite3

    stale = tmp_path / "stale.db"
    source, copy = sqlite3.connect(str(store["home"] / "acewatch.db")), sqlite3.connect(str(stale))
    source.backup(copy)
    copy.execute("UPDATE crawl_run SET started_at = datetime(started_at, '-30 days')")
    copy.commit()
    source.close()
    copy.close()
    old = Server(f"sqlite:///{stale}", tmp_path)
    try:
        page.goto(old.url + "/check?q=" + q(EXACT))
        warning = page.locator(".warning").inner_text()
        assert "Stale evidence" in warning and "30 days old" in warning
    finally:
        old.stop()


def test_no_password_or_alert_token_in_pages_or_logs(store, tmp_path, pg_admin):
    from store.database import open_engine
    from tests.conftest import _drop_pg_database, _fresh_pg_database
    from tests.reliability.scenarios import copy_store

    url, name = _fresh_pg_database(pg_admin)
    secret_url = url.replace("postgresql://postgres@", "postgresql://postgres:Pa55-s3cret@")
    token = "T0ken-abcdef123456"
    engine = open_engine(url)
    try:
        copy_store(store["home"] / "acewatch.db", engine)
        running = Server(secret_url, tmp_path, ACEWATCH_ALERT_URLS=f"json://user:{token}@127.0.0.1:9/hook")
        bodies = [
            running.get(path)[2]
            for path in [
                "/",
                "/status",
                "/api/status",
                "/check?q=" + q(EXACT),
                "/changes",
                "/history?q=" + q(EXACT),
                "/feed.atom",
            ]
        ]
        log = running.stop()
        for text in [*(b.decode() for b in bodies), log]:
            assert "Pa55-s3cret" not in text and token not in text
        assert b"YES" in bodies[3]
    finally:
        engine.dispose()
        _drop_pg_database(pg_admin, name)


def test_a_store_that_fails_is_a_plain_503(store, tmp_path):
    target = tmp_path / "broken.db"
    shutil.copyfile(store["home"] / "acewatch.db", target)
    running = Server(f"sqlite:///{target}", tmp_path)
    try:
        target.write_bytes(b"not a database" * 100)
        time.sleep(1.2)  # past the kept snapshot
        status, _headers, body = running.get("/check?q=" + q("Some Other Name"))
        assert status == 503 and b"cannot be read" in body and str(tmp_path).encode() not in body
        assert running.get("/healthz")[0] == 503
    finally:
        running.stop()


def test_a_new_cycle_replaces_the_kept_answers(store, tmp_path):
    """The server keeps answers per cycle: once day 1 is crawled again, the day-2-only exhibit is gone."""
    import sqlite3

    from acewatch.cycle import run_cycle
    from store.database import open_engine

    target = tmp_path / "again.db"
    source, copy = sqlite3.connect(str(store["home"] / "acewatch.db")), sqlite3.connect(str(target))
    source.backup(copy)
    source.close()
    copy.close()
    db = f"sqlite:///{target}"
    running = Server(db, tmp_path)
    try:
        assert running.get_json("/api/check?q=" + q(HOSTILE))[1]["verdict"] == "exact"
        engine = open_engine(db)
        with FixtureSite(day="day1", catalog_dir=store["home"] / "catalog") as site:
            assert run_cycle(site_config(db, site, tmp_path), engine, progress="off").healthy
        engine.dispose()
        time.sleep(1.2)  # the newest cycle is looked up at most once a second
        answer = running.get_json("/api/check?q=" + q(HOSTILE))[1]
        assert answer["verdict"] != "exact"
        assert answer == json.loads(acewatch("check", HOSTILE, "--json", db=db, home=tmp_path).stdout)
    finally:
        running.stop()


def test_a_kept_answer_carries_the_warnings_of_now(store):
    """Answers (and their encoded bodies) are kept for the cycle, but the evidence ages meanwhile: once it
    is older than `max_age_days`, the kept answer says so, in the JSON and on the page alike."""
    from dataclasses import replace

    from acewatch.api import Acewatch
    from acewatch.jsonout import dumps
    from acewatch.web.reads import Reads

    with Acewatch.from_config(db=store["db"]) as api:
        reads = Reads(api)
        first = reads.check("Google Data Analytics")
        fresh = first.body("json", dumps)
        assert reads.check("Google Data Analytics") is first  # kept, body and all
        assert json.loads(fresh)["warnings"] == []
        reads.config = replace(reads.config, check=replace(reads.config.check, max_age_days=-1))
        later = reads.check("Google Data Analytics")
        assert later is not first and later.data["warnings"] and "days old" in later.data["warnings"][0]
        assert json.loads(later.body("json", dumps))["warnings"] == later.data["warnings"]
        assert {**json.loads(later.body("json", dumps)), "warnings": []} == json.loads(fresh)
        assert reads.check("Google Data Analytics") is later  # kept again, with the new warnings


def test_the_newest_run_is_read_into_memory_at_start(store, tmp_path):
    """The server reads the newest ACE run's names and exhibits in the background as it starts, so the
    first student to ask does not wait for it; a store with no cycle yet is said plainly, and serves."""
    for db, said in [
        (store["db"], "newest ACE run read into memory in"),
        (f"sqlite:///{tmp_path / 'empty.db'}", "nothing read into memory at start: no monitor cycle"),
    ]:
        running = Server(db, tmp_path)
        try:
            deadline = time.monotonic() + 20
            while "read into memory" not in running.log.read_text() and time.monotonic() < deadline:
                time.sleep(0.1)
            assert said in running.log.read_text()
            assert running.get("/healthz")[0] == 200
        finally:
            running.stop()
