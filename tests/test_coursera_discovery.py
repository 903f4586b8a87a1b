"""Coursera under its real robots.txt: programs discovered from the sitemaps, read from their pages.

Real Scrapy crawls over HTTP against the fixture site (robots.txt as the real hosts serve it),
asserting on the fixture server's request log.
"""

from __future__ import annotations

import os
from dataclasses import replace
from urllib.parse import urlsplit

import pytest
from protego import Protego

from acewatch.cycle import run_cycle
from crawler.items import CourseraProgramItem
from crawler.parsing.coursera import parse_program_page
from crawler.spiders.coursera import CourseraSpider
from fixtures import sitemaps
from fixtures.server import FixtureSite
from store.database import open_engine
from store.runs import load_snapshot
from tests.support import ROOT, site_config

SEARCH_PAGE = ROOT.parent / "shared" / "real-pages" / "coursera-search-data-science-2023-01.html"


def _cycle(tmp_path, robots: str, discovery: str):
    from acewatch.cycle import run_cycle

    db_url = f"sqlite:///{tmp_path / 'acewatch.db'}"
    engine = open_engine(db_url)
    with FixtureSite(day="day1", robots=robots) as site:
        config = site_config(db_url, site, tmp_path)
        config = replace(config, coursera=replace(config.coursera, discovery=discovery))
        report = run_cycle(config, engine, progress="off")
        return report, engine, site.requests, site.catalog, site.url("coursera_site")


@pytest.fixture(scope="module")
def sitemap_crawl(tmp_path_factory):
    return _cycle(tmp_path_factory.mktemp("sitemap"), "real", "sitemap")


def test_sitemap_discovery_finds_every_program_keyed_by_page_path(sitemap_crawl):
    report, engine, _requests, catalog, _origin = sitemap_crawl
    run = report.runs["coursera"]
    assert run.healthy and run.unknown == 0, run.health_report
    programs = {p["program_id"]: p for p in load_snapshot(engine, "coursera", run.id)}
    assert set(programs) == {sitemaps.program_path(p) for p in catalog.programs}
    google = next(p for p in catalog.programs if p["slug"] == "google-data-analytics")
    record = programs[sitemaps.program_path(google)]
    assert record["title"] == google["page_title"] and record["partner"] == "Google"
    assert record["slug"] == "google-data-analytics" and record["variant"] == google["productVariant"]


def test_no_request_to_a_disallowed_path_and_no_course_page(sitemap_crawl):
    _report, _engine, requests, catalog, origin = sitemap_crawl
    robots = Protego.parse(sitemaps.site_robots_txt(origin, "real"))
    coursera = [(role, path) for role, _method, path, _status in requests if role.startswith("coursera")]
    assert not [p for _role, p in coursera if not robots.can_fetch(origin + p, "acewatch")]
    assert not [p for role, p in coursera if role == "coursera_api" and p != "/robots.txt"]
    assert not [p for _role, p in coursera if p.startswith(("/learn/", "/degrees/", "/business/"))]
    pages = [p for _role, p in coursera if p.startswith(("/professional-certificates/", "/specializations/"))]
    assert len(pages) == len(set(pages)) == len(catalog.programs)  # the doubly listed one and -zhtw copies: once


def test_api_discovery_forbidden_by_robots_fails_in_one_line_naming_rule_and_setting(tmp_path):
    report, _engine, requests, _catalog, _origin = _cycle(tmp_path, "real", "api")
    run = report.runs["coursera"]
    assert not [p for _role, _m, p, _s in requests if p.startswith("/api/")]
    assert not run.healthy and run.records == 0
    assert "\n" not in run.finish_reason
    assert "Disallow: /api/" in run.finish_reason and '[coursera] discovery = "sitemap"' in run.finish_reason


def test_api_discovery_where_robots_permit_it(tmp_path):
    report, engine, requests, catalog, _origin = _cycle(tmp_path, "api", "api")
    run = report.runs["coursera"]
    assert run.healthy, run.health_report
    keys = {p["program_id"] for p in load_snapshot(engine, "coursera", run.id)}
    assert keys == {sitemaps.program_path(p) for p in catalog.programs}
    assert not [p for _role, _m, p, _s in requests if p.endswith((".xml", ".xml.gz"))]


def _spider_verdict(url: str, body: bytes, asked: str) -> str | None:
    from scrapy.http import HtmlResponse

    spider = CourseraSpider()
    item = CourseraProgramItem(program_id=asked, slug=asked.rsplit("/", 1)[-1], url="https://www.coursera.org" + asked)
    response = HtmlResponse(url=url, body=body, encoding="utf-8")
    return spider.not_the_program(response, item, parse_program_page(body).canonical)


def test_real_search_page_is_not_a_program():
    """The real search page has an <h1>; served for a program URL it must be `unknown`, never "no ACE claim"."""
    if not SEARCH_PAGE.exists():
        message = f"real page absent: {SEARCH_PAGE}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    body = SEARCH_PAGE.read_bytes()
    asked = "/professional-certificates/data-science"
    problem = _spider_verdict("https://www.coursera.org" + asked, body, asked)
    assert problem and "search?query=data%20science" in problem
    redirected = _spider_verdict("https://www.coursera.org/search?query=data%20science", body, asked)
    assert redirected and redirected.startswith("redirected away")


def test_a_program_page_is_its_own_program():
    from fixtures.dataset import load_catalog
    from fixtures.site import render_coursera_program

    catalog = load_catalog("day1")
    program = catalog.programs[0]
    body = render_coursera_program(program, catalog.partners_of(program)).encode()
    path = sitemaps.program_path(program)
    assert _spider_verdict("https://www.coursera.org" + path, body, path) is None
    assert urlsplit(parse_program_page(body).canonical).path == path


@pytest.mark.parametrize("kind", ["status:503", "truncate", "invalid_json"])
def test_a_sub_sitemap_that_fails_makes_the_run_unhealthy_naming_it_not_programs_removed(tmp_path, kind):
    """The specializations sitemap fails on day 2: no program it lists may read as removed."""
    db_url = f"sqlite:///{tmp_path / 'a.db'}"
    engine = open_engine(db_url)
    with FixtureSite(day="day1") as site:
        config = site_config(db_url, site, tmp_path, retry_times=0)
        run_cycle(config, engine, progress="off")
        site.set_faults([{"role": "coursera_site", "path": r"^/sitemap~www~s12n\.xml\.gz$", "kind": kind}])
        faulted = run_cycle(config, engine, progress="off")
    run = faulted.runs["coursera"]
    assert run.healthy is False
    assert "sitemap~www~s12n.xml.gz" in " ".join(c["message"] for c in run.health_report if not c["ok"])
    assert not [e for e in faulted.events if e.type in ("removed_program", "new_program")]
    engine.dispose()
