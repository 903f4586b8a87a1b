"""Security: hostile scraped text stays inert, secrets stay masked, the crawl stays on site.

* A copy of the fixture catalog gives the day-2 ACE exhibit and the renamed Coursera program
  a hostile title (markup, `]]>`, terminal escapes, a right-to-left override, Rich markup),
  and two organization pages an exhibit link to another host (127.0.0.2) and to another
  port of the site's own host. `acewatch run` crawls day 1 and day 2 through the real CLI,
  mailing its digest to a real SMTP server and writing the Atom feed; `check`, `changes`,
  the feed and the mail must carry the text inert, and the off-site listeners must see nothing.
* `acewatch -v run` on PostgreSQL with a password in the database URL and tokens in the alert
  URLs (one of them unreachable): no secret in any output, log line or stored row.
* The fixture server binds 127.0.0.1 only. (robots.txt: see the `robots.txt disallows pages`
  fault scenario, and every fault scenario's check that no disallowed path was requested.)
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from urllib.parse import quote

import pytest
from aiosmtpd.controller import Controller

from acewatch.jsonout import TIME_PATTERN
from acewatch.text import for_terminal
from fixtures.dataset import CATALOG_DIR
from fixtures.server import FixtureSite
from store.database import open_engine
from tests.conftest import PG_ADMIN_URL, _drop_pg_database, _fresh_pg_database
from tests.listeners import Listener, Mailbox, free_port
from tests.reliability.scenarios import CHANGE, Hook, copy_store, query, start_run, write_config
from tests.support import ROOT, acewatch

HOSTILE = "<script>alert(1)</script> ]]> \x1b[2J\x1b]0;pwned\x07 \u202eesrever\u202c [red]x[/red] &amp;"
ACE_TITLE = f"Evil {HOSTILE} Analyst Professional Certificate"
COURSERA_TITLE = f"Meta Front-End {HOSTILE} Development Professional Certificate"
UNSAFE = ("\x1b", "\x07", "\u202e", "\u202c")
OFFSITE_CID = "deadbeef-0000-4000-8000-000000000001"


class Tripwire(Listener):
    """An HTTP listener that must never be asked anything (an off-site target)."""

    def __init__(self, host: str):
        super().__init__(host=host)
        self.start()

    @property
    def hits(self) -> list[str]:
        return [request.path for request in self.received]


def hostile_catalog(target, other_host: Tripwire, other_port: Tripwire):
    """The fixture catalog with hostile day-2 titles and off-site exhibit links on two organization pages."""
    shutil.copytree(CATALOG_DIR, target)
    day1 = json.loads((target / "day1.json").read_text())
    orgs = {org["oid"]: org for org in day1["ace"]["organizations"]}
    google = next(o for o in orgs.values() if o["name"] == "Google")
    microsoft = next(o for o in orgs.values() if o["name"] == "Microsoft")
    google["website"] = f"{other_host.base_url}/National-Guide/Pages/Course.aspx?org=Google&cid={OFFSITE_CID}"
    microsoft["website"] = f"{other_port.base_url}/National-Guide/Pages/Course.aspx?org=Microsoft&cid={OFFSITE_CID}"
    (target / "day1.json").write_text(json.dumps(day1))
    day2 = json.loads((target / "day2.json").read_text())
    for patch in day2["patches"]:
        if patch["op"] == "add" and patch["record"].get("cid") == CHANGE["gained_ace"]["cid"]:
            patch["record"]["title"] = ACE_TITLE
        if patch.get("key") == CHANGE["renamed"]["coursera_slug"] and patch.get("path") == ["page_title"]:
            patch["value"] = COURSERA_TITLE
    (target / "day2.json").write_text(json.dumps(day2))
    return target


def assert_inert_text(text: str, where: str) -> None:
    for char in UNSAFE:
        assert char not in text, f"{where} carries {char!r}"


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    home = tmp_path_factory.mktemp("hostile")
    other_host, other_port = Tripwire("127.0.0.2"), Tripwire("127.0.0.1")
    mailbox = Mailbox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    db = f"sqlite:///{home / 'acewatch.db'}"
    feed = home / "feed.atom"
    site = FixtureSite(day="day1", catalog_dir=hostile_catalog(home / "catalog", other_host, other_port)).start()
    site.set_robots("real", foreign_sitemap=other_host.base_url + "/sitemap.xml")  # robots.txt points off-site too
    try:
        mail = f"mailto://127.0.0.1:{smtp.port}?from=acewatch@example.com&to=adviser@example.com&mode=insecure&cto=5"
        config = write_config(home / "acewatch.toml", site, mail, feed_path=str(feed))
        pages = [
            urllib.request.urlopen(
                site.url("ace", f"/National-Guide/Pages/Organization.aspx?oid={org['oid']}"), timeout=10
            )
            .read()
            .decode()
            for org in site.catalog.organizations
            if org["name"] in ("Google", "Microsoft")
        ]
        results = {}
        for day in ("day1", "day2"):
            site.set_day(day)
            process = start_run(db, config, home / f"{day}.log")
            results[day] = (process.wait(timeout=180), (home / f"{day}.log").read_text(errors="replace"))
            if day == "day1":  # the baseline again, for a day-2 `run --json` of its own
                shutil.copyfile(home / "acewatch.db", home / "day1.db")
        yield {
            "pages": pages,
            "db": db,
            "home": home,
            "feed": feed,
            "mailbox": mailbox,
            "runs": results,
            "site": site,
            "requests": site.requests,
            "tripwires": (other_host, other_port),
            "config": config,
        }
    finally:
        site.stop()
        smtp.stop()
        other_host.stop()
        other_port.stop()


def test_hostile_titles_were_scraped_and_stored(hostile_run):
    """Without this the other tests would prove nothing: the payload reached the store."""
    for day, (code, output) in hostile_run["runs"].items():
        assert code == 0, (day, output[-3000:])
    engine = open_engine(hostile_run["db"])
    subjects = dict(query(engine, "SELECT type, subject FROM change_event WHERE type IN ('gained_ace', 'renamed')"))
    engine.dispose()
    assert "<script>alert(1)</script>" in subjects["gained_ace"] and "]]>" in subjects["gained_ace"]
    assert "\u202e" in subjects["gained_ace"] and "[red]x[/red]" in subjects["renamed"]


def test_run_output_is_inert(hostile_run):
    code, output = hostile_run["runs"]["day2"]
    assert "Evil <script>alert(1)</script>" in output  # shown, as text
    assert_inert_text(output, "acewatch run")


def test_changes_output_is_inert(hostile_run):
    result = acewatch("changes", db=hostile_run["db"], home=hostile_run["home"])
    assert result.returncode == 0, result.stderr
    assert "[red]x[/red]" in result.stdout  # Rich markup in a title printed literally, not interpreted
    assert "<script>alert(1)</script>" in result.stdout
    assert_inert_text(result.stdout + result.stderr, "acewatch changes")


def test_check_output_is_inert(hostile_run):
    # The exhibit's name as a person could type it (check refuses control characters in its input).
    name = for_terminal(ACE_TITLE)
    result = acewatch("check", name, db=hostile_run["db"], home=hostile_run["home"])
    assert result.returncode in (0, 1), result.stderr
    assert "<script>alert(1)</script>" in result.stdout and "[red]x[/red]" in result.stdout
    assert_inert_text(result.stdout + result.stderr, "acewatch check")
    as_json = acewatch("check", name, "--json", db=hostile_run["db"], home=hostile_run["home"])
    assert "\x1b" not in as_json.stdout and "\x07" not in as_json.stdout  # JSON escapes control characters
    assert json.loads(as_json.stdout)["candidates"]


def test_feed_is_inert(hostile_run):
    raw = hostile_run["feed"].read_bytes()
    assert b"<script>" not in raw and b"]]>" not in raw and b"[2J" not in raw
    assert_inert_text(raw.decode("utf-8"), "the Atom feed")
    titles = [e.text for e in ET.fromstring(raw).iter("{http://www.w3.org/2005/Atom}title")]
    assert any("<script>alert(1)</script>" in (t or "") for t in titles)  # the text survives, as text


def test_digest_email_is_inert(hostile_run):
    (message,) = hostile_run["mailbox"].messages
    parts = [part for part in message.walk() if part.get_content_maintype() == "text"]
    assert parts
    for part in parts:
        body = part.get_content()
        assert_inert_text(body, f"the digest's {part.get_content_type()} part")
        if part.get_content_type() == "text/html":
            assert "<script>" not in body and "[2J" not in body and "&lt;script&gt;" in body
        else:
            assert "<script>alert(1)</script>" in body  # plain text: shown as the text it is
    assert_inert_text(str(message["Subject"]), "the digest's subject")


def _strings(data) -> list[str]:
    """Every string in parsed JSON, keys included."""
    if isinstance(data, str):
        return [data]
    if isinstance(data, dict):
        return [*data, *(s for value in data.values() for s in _strings(value))]
    if isinstance(data, list):
        return [s for value in data for s in _strings(value)]
    return []


def _json_outputs(hostile_run) -> dict[str, object]:
    """The parsed output of every `--json` command and `/api/...` route over the hostile store."""
    db, home, name = hostile_run["db"], hostile_run["home"], for_terminal(ACE_TITLE)
    quiet = write_config(home / "json.toml", hostile_run["site"], [])  # no alert channel: the mailbox keeps one mail
    commands = {
        "run": ("--config", str(quiet), "run", "--json", "--progress", "off"),
        "changes": ("changes", "--json"),
        "check": ("check", name, "--json"),
        "history": ("history", CHANGE["gained_ace"]["ace_id"], "--json"),
        "status": ("status", "--json"),
        "export": ("export", "--format", "json"),
        "audit": ("audit", "--json"),
        "doctor": ("--config", str(quiet), "doctor", "--json"),
    }
    outputs = {}
    for command, args in commands.items():
        store = f"sqlite:///{home / 'day1.db'}" if command == "run" else db
        result = acewatch(*args, db=store, home=home)
        assert result.stdout.strip(), (command, result.returncode, result.stderr[-2000:])
        outputs[command] = json.loads(result.stdout)
    server = subprocess.Popen(
        [sys.executable, "-m", "acewatch.cli", "--db", db, "serve", "--port", str(port := free_port())],
        cwd=ROOT,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("ACEWATCH_")}, "HOME": str(home)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for route in (
            "/api/changes",
            f"/api/check?q={quote(name)}",
            f"/api/history?q={quote(CHANGE['gained_ace']['ace_id'])}",
            "/api/status",
        ):
            outputs[route] = json.loads(_get(f"http://127.0.0.1:{port}{route}"))
    finally:
        server.terminate()
        server.wait(timeout=20)
    return outputs


def _get(url: str) -> bytes:
    """The body of a GET, retried while the server starts."""
    for _attempt in range(300):
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                return response.read()
        except urllib.error.HTTPError as error:
            return error.read()
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    raise AssertionError(f"no answer from {url}")


def test_every_json_output_is_clean_and_tells_time_one_way(hostile_run):
    """One sanitiser and one clock for all JSON (acewatch/jsonout.py): no scraped escape, bell or direction
    override survives in any value, and every timestamp is ISO 8601 UTC with Z."""
    outputs = _json_outputs(hostile_run)
    assert [e["type"] for e in outputs["run"]["events"]].count("gained_ace") == 1  # run --json saw the hostile day 2
    for where, data in outputs.items():
        strings = _strings(data)
        for char in UNSAFE:
            assert not [s for s in strings if char in s], f"{where} carries {char!r}"
        times = [s for s in strings if re.match(r"\d{4}-\d{2}-\d{2}[T ]\d", s)]
        assert [t for t in times if not re.match(TIME_PATTERN, t)] == [], where
    for where in ("run", "changes", "/api/changes"):
        titles = " ".join(e["subject"] for e in outputs[where]["events"])
        assert "<script>alert(1)</script>" in titles and "[red]x[/red]" in titles, where  # cleaned, not dropped
        assert all(re.match(TIME_PATTERN, e["detected_at"]) for e in outputs[where]["events"]), where
    assert {k for e in outputs["run"]["events"] for k in e} == {k for e in outputs["changes"]["events"] for k in e}
    assert outputs["history"]["timeline"] and outputs["status"]["sources"] and outputs["check"]["candidates"]
    (gained,) = [e for entry in outputs["history"]["timeline"] for e in entry["events"] if e["type"] == "gained_ace"]
    assert "<script>alert(1)</script>" in gained["subject"] and gained.keys() == outputs["run"]["events"][0].keys()


def test_crawl_never_leaves_the_configured_site(hostile_run):
    other_host, other_port = hostile_run["tripwires"]
    assert other_host.hits == [] and other_port.hits == []
    assert not any(OFFSITE_CID in path for _role, _method, path, _status in hostile_run["requests"])
    # the pages did carry those links (and credly.com, twitter.com...), and were crawled
    google, microsoft = hostile_run["pages"]
    assert f"{other_host.base_url}/National-Guide/Pages/Course.aspx" in google + microsoft
    assert f"{other_port.base_url}/National-Guide/Pages/Course.aspx" in google + microsoft
    assert "https://www.credly.com/" in google and "https://twitter.com/" in google
    assert len([p for r, _m, p, _s in hostile_run["requests"] if r == "ace" and "Organization.aspx" in p]) >= 24


def test_fixture_server_binds_loopback_only():
    with FixtureSite(day="day1") as site:
        assert {host for host, _port in site.addresses.values()} == {"127.0.0.1"}
        port = site.addresses["ace"][1]
        with socket.socket() as probe:  # same port on another loopback address: nobody listens there
            probe.settimeout(2)
            assert probe.connect_ex(("127.0.0.2", port)) != 0


@pytest.fixture
def pg_secret_store(reliability_env, pg_admin):
    url, name = _fresh_pg_database(PG_ADMIN_URL)
    engine = open_engine(url)
    copy_store(reliability_env.baseline, engine)
    engine.dispose()
    # trust authentication ignores the password, so the URL can carry one to watch for
    yield url.replace("postgresql://postgres@", "postgresql://postgres:PgS3cretPass@"), url
    _drop_pg_database(PG_ADMIN_URL, name)


def test_secrets_never_reach_output_logs_or_store(reliability_env, pg_secret_store, tmp_path):
    secret_url, plain_url = pg_secret_store
    hook = Hook()
    try:
        good = f"json://alice:HookT0kenPass@127.0.0.1:{hook.port}/hooks/a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6"
        dead = f"json://bob:DeadT0kenPass@127.0.0.1:{free_port()}/hooks/f9e8d7c6b5a4f9e8d7c6b5a4f9e8d7c6"
        config = write_config(tmp_path / "acewatch.toml", reliability_env.site, [good, dead])
        reliability_env.site.set_day("day2")
        try:
            process = start_run(secret_url, config, tmp_path / "run.log", "-v")
            code = process.wait(timeout=180)
        finally:
            reliability_env.site.set_day("day1")
        output = (tmp_path / "run.log").read_text(errors="replace")
        notify = acewatch("--config", str(config), "-v", "notify", db=secret_url, home=tmp_path)
        bad_db = acewatch("changes", db=secret_url.replace("@127.0.0.1:5432/", "@127.0.0.1:1/"), home=tmp_path)
    finally:
        hook.stop()
    assert code == 0, output[-3000:]
    assert len(hook.received) == 1  # the reachable channel got the digest; the dead one is pending
    assert notify.returncode == 1 and "FAILED" in notify.stdout
    assert bad_db.returncode == 6 and "cannot open database" in bad_db.stderr
    engine = open_engine(plain_url)
    stored = json.dumps(
        query(engine, "SELECT channel, channel_label, last_error, title FROM delivery")
        + query(engine, "SELECT base_url, finish_reason FROM crawl_run"),
        default=str,
    )
    engine.dispose()
    everything = output + notify.stdout + notify.stderr + bad_db.stdout + bad_db.stderr + stored
    assert "INFO" in output  # -v really logged, crawler child included
    for secret in (
        "PgS3cretPass",
        "HookT0kenPass",
        "DeadT0kenPass",
        "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6",
        "f9e8d7c6b5a4f9e8d7c6b5a4f9e8d7c6",
    ):
        assert secret not in everything, secret
