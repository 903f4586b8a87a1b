"""`acewatch doctor` against the fixture site over HTTP: all well, then one problem at a time, each in one line.

The problems are made for real: a GUID the site does not have, a robots.txt that forbids the
National Guide, a host nothing listens on, exhibits a script fills in (read rendered in real
headless Chromium with `auto`, named in one line with `never`).
"""

from __future__ import annotations

import json
import socket
from dataclasses import replace

import pytest

from acewatch.doctor.checks import diagnose
from tests.browser import chromium_executable
from tests.support import acewatch, site_config, write_site_config

WRONG = "8cf144ea-0000-ea11-a812-000d3a33232a"
SECRET = "s3cr3tT0ken"


@pytest.fixture(scope="module")
def site():
    from fixtures.server import FixtureSite

    with FixtureSite(day="day1") as served:
        yield served


@pytest.fixture
def config(site, tmp_path):
    """The fixture's configuration, on a store already at the schema head, rendering off unless asked."""
    from store.database import open_engine

    db = f"sqlite:///{tmp_path / 'acewatch.db'}"
    open_engine(db).dispose()
    site.set_ace_mode()
    return site_config(db, site, tmp_path, render="never")


def failures(findings) -> list[str]:
    return [f.line() for f in findings if not f.ok]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_all_well_exits_0_and_masks_alert_tokens(site, config, tmp_path):
    toml = write_site_config(
        tmp_path / "acewatch.toml",
        site,
        organizations=site.ace_organization_ids[:3],
        alert_urls=[f"json://127.0.0.1:9/hook?token={SECRET}", f"slack://T000/B000/{SECRET}"],
        render="never",
    )
    result = acewatch("--config", str(toml), "doctor", db=config.db, home=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "FAIL" not in result.stdout and SECRET not in result.stdout + result.stderr
    for expected in (
        "answers (robots.txt: HTTP 200)",
        "lists 10 exhibits (read plain)",
        "read plain: ACE ID, title",
        "sitemap index lists",
        "program pages",
        "read plain: title",
        "schema at head",
        "alert URL 2",
    ):
        assert expected in result.stdout, expected
    data = json.loads(acewatch("--config", str(toml), "doctor", "--json", db=config.db, home=tmp_path).stdout)
    assert data["ok"] is True and data["problems"] == []
    assert {f["source"] for f in data["findings"]} == {"ace", "coursera", "store", "alerts"}


def test_a_wrong_organization_guid_is_one_line(config):
    config = replace(config, ace=replace(config.ace, organizations=(config.ace.organizations[0], WRONG)))
    assert failures(diagnose(config)) == [
        f"FAIL  ace      organization organization {WRONG} not found on the National Guide: check [ace] organizations"
    ]


def test_a_robots_txt_forbidding_the_guide_is_one_line(site, config):
    site.set_ace_mode(robots_txt="User-agent: *\nDisallow: /National-Guide/\n")
    lines = failures(diagnose(config))
    assert len(lines) == 2, lines  # the two paths the config needs, each named once
    assert all("robots.txt forbids /National-Guide/Pages/" in line and "needed for [ace]" in line for line in lines)


def test_an_unreachable_host_is_one_line(config):
    dead = f"http://127.0.0.1:{closed_port()}"
    config = replace(config, coursera=replace(config.coursera, site_url=dead))
    assert failures(diagnose(config)) == [f"FAIL  coursera reachable    {dead} unreachable: connection refused"]


def test_a_store_behind_the_schema_head_is_one_line(config, tmp_path):
    from sqlalchemy import create_engine, text

    engine = create_engine(config.db)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    engine.dispose()
    (line,) = failures(diagnose(config))
    assert "store" in line and "has schema 0001, behind head" in line


def test_script_filled_exhibits_are_read_rendered_in_auto_and_named_in_never(site, config):
    site.set_ace_mode(scripted=True)
    config = replace(config, ace=replace(config.ace, organizations=config.ace.organizations[:1]))
    never = failures(diagnose(config))
    assert len(never) == 1 and "exhibit values filled by script: set [crawl] render" in never[0]
    auto = replace(config, crawl=replace(config.crawl, render="auto", chromium=chromium_executable()))
    findings = diagnose(auto)
    assert failures(findings) == []
    (exhibit,) = [f for f in findings if f.check == "exhibit"]
    assert "read rendered: ACE ID, title" in exhibit.message and exhibit.details["periods"]
    assert any("lists 10 exhibits (read rendered)" in f.message for f in findings)
