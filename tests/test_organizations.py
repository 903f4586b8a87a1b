"""[ace] organizations and exhibits: identifiers as operators paste them, and organizations that exist.

The end-to-end tests crawl the fixture site for real (the spider in its child process, over
HTTP) with one organization given as a full URL, one wrong GUID, and an exhibit that no
configured organization lists: the exhibit is tracked, and the wrong GUID is named in the
run's notes, `status` and the digest instead of reading as an organization with no courses.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from acewatch.config import (
    DEFAULT_ACE_EXHIBITS,
    DEFAULT_ACE_ORGANIZATIONS,
    ConfigError,
    load_config,
)
from crawler.targets import exhibit_url, organization_guid
from monitor.notes import note_lines
from tests.support import site_config

IBM = "6d532c35-75c4-ea11-a812-000d3a33232a"
WRONG = "8cf144ea-0000-ea11-a812-000d3a33232a"


def test_organizations_take_guids_and_organization_urls(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(
        '[ace]\norganizations = ["{6D532C35-75C4-EA11-A812-000D3A33232A}", '
        '"https://www.acenet.edu/national-guide/pages/Organization.aspx?OID=' + IBM + '&x=1", '
        f'"{WRONG}"]\nexhibits = []\n'
    )
    config = load_config(path, environ={"HOME": str(tmp_path)})
    assert config.ace.organizations == (IBM, WRONG)
    assert config.ace.exhibits == ()


@pytest.mark.parametrize(
    "key, value",
    [
        ("organizations", "IBM"),
        ("organizations", "https://www.acenet.edu/National-Guide/Pages/Course.aspx?cid=" + IBM),
        ("organizations", "https://www.acenet.edu/National-Guide/Pages/Organization.aspx?oid=not-a-guid"),
        ("exhibits", IBM),
        ("exhibits", "https://www.acenet.edu/National-Guide/Pages/Course.aspx?org=IBM"),
    ],
)
def test_a_bad_identifier_is_a_config_error_naming_it(tmp_path, key, value):
    path = tmp_path / "config.toml"
    path.write_text(f'[ace]\n{key} = ["{value}"]\n')
    with pytest.raises(ConfigError) as error:
        load_config(path, environ={"HOME": str(tmp_path)})
    assert value in str(error.value) and str(path) in str(error.value)


def test_defaults_are_only_identifiers_with_evidence():
    """sources.md, "Real identifiers": IBM's organization page and five Google/IBM exhibits, nothing else."""
    assert DEFAULT_ACE_ORGANIZATIONS == (IBM,)
    cids = {exhibit_url(url).rsplit("cid=", 1)[1] for url in DEFAULT_ACE_EXHIBITS}
    assert cids == {
        "76f8bc06-34f9-eb11-94ef-000d3a3396c4",
        "e67577b5-1bf9-eb11-94ef-000d3a3396c4",
        "f4125c5d-94c4-ea11-a812-000d3a378a3a",
        "042f274c-682b-ec11-b6e5-000d3a58e694",
        "eb7d51c4-662b-ec11-b6e5-000d3a58e694",
    }
    assert all(
        url.startswith("https://www.acenet.edu/National-Guide/Pages/Course.aspx?") for url in DEFAULT_ACE_EXHIBITS
    )
    assert organization_guid(f"https://acenet.edu/National-Guide/Pages/Organization.aspx?oid={IBM}") == IBM


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    """One real cycle of the fixture site: org 1 by URL, a wrong GUID, and an exhibit of org 2 by URL."""
    from acewatch.cycle import run_cycle
    from fixtures.server import FixtureSite
    from store.database import open_engine

    tmp_path = tmp_path_factory.mktemp("orgs")
    db = f"sqlite:///{tmp_path / 'acewatch.db'}"
    engine = open_engine(db)
    with FixtureSite(day="day1") as site:
        first, second = site.catalog.organizations[:2]
        loose = next(e for e in site.catalog.exhibits if e["oid"].lower() == second["oid"].lower())
        config = site_config(db, site, tmp_path)
        config = replace(
            config,
            ace=replace(
                config.ace,
                organizations=(first["oid"], WRONG),
                # The real host's URL: the spider asks the configured host (here the fixture) for its path.
                exhibits=(f"https://www.acenet.edu/National-Guide/Pages/Course.aspx?org=X&cid={loose['cid']}",),
            ),
        )
        report = run_cycle(config, engine, progress="off")
        listed = {e["cid"].lower() for e in site.catalog.exhibits if e["oid"].lower() == first["oid"].lower()}
    yield {
        "engine": engine,
        "db": db,
        "report": report,
        "listed": listed,
        "loose": loose["cid"].lower(),
        "home": tmp_path,
    }
    engine.dispose()


def test_an_exhibit_no_configured_organization_lists_is_tracked(crawled):
    from store.runs import load_snapshot

    run = crawled["report"].runs["ace"]
    cids = {row["cid"] for row in load_snapshot(crawled["engine"], "ace", run.id, columns=("cid", "parse_status"))}
    assert cids == crawled["listed"] | {crawled["loose"]}


def test_the_wrong_guid_is_named_in_the_run_status_and_digest(crawled):
    from acewatch.outputs.digest import render_text
    from acewatch.outputs.reports import status_data

    expected = f"organization {WRONG} not found on the National Guide: check [ace] organizations"
    lines = note_lines(crawled["report"].runs)
    # Rendered first (render = "auto": an organization page without a course list may be filled by script).
    assert [line for line in lines if "rendered" not in line] == [f"ace: {expected}"]
    status = status_data(crawled["engine"], crawled["db"])
    assert f"ace: {expected}" in status["problems"]
    notes = status["sources"]["ace"]["runs"][0]["notes"]
    assert [note for note in notes if note["attention"]] == [{"message": expected, "attention": True}]
    assert expected in render_text(crawled["report"].events, notes=lines)


def test_status_command_prints_the_note_and_exits_3(crawled):
    from tests.support import acewatch

    result = acewatch("status", db=crawled["db"], home=crawled["home"])
    assert result.returncode == 3, result.stderr
    assert f"organization {WRONG} not found on the National Guide" in result.stdout


def test_choosing_organizations_drops_the_default_exhibits(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(f'[ace]\norganizations = ["{WRONG}"]\n')
    assert load_config(path, environ={"HOME": str(tmp_path)}).ace.exhibits == ()
    assert load_config(environ={"HOME": str(tmp_path)}).ace.exhibits == DEFAULT_ACE_EXHIBITS


def test_a_first_run_with_the_defaults_says_how_to_find_a_guid(tmp_path, capsys):
    from acewatch.cli import first_run_hint
    from store.database import open_engine

    engine = open_engine(f"sqlite:///{tmp_path / 'new.db'}")
    first_run_hint(load_config(environ={"HOME": str(tmp_path)}), engine)
    assert "Organization.aspx?oid=<GUID>" in capsys.readouterr().err
    chosen = tmp_path / "config.toml"
    chosen.write_text(f'[ace]\norganizations = ["{WRONG}"]\n')
    first_run_hint(load_config(chosen, environ={"HOME": str(tmp_path)}), engine)
    assert capsys.readouterr().err == ""
    engine.dispose()
