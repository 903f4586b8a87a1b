"""The three real ACE exhibit layouts, crawled end to end over HTTP by the real `ace` spider.

A small local server serves an organization page linking three exhibits, one in each real
layout (fixtures.site.render_ace_exhibit_real: the name only in the document title, the
period in a read-only input or a version drop-down, "Course" as the page heading). The
crawl runs in its child process exactly as a nightly run does, and the stored snapshot must
hold the right ACE ID, title, period and credits for each, never "Course".
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from acewatch.config import load_config
from acewatch.crawl import crawl_sources
from fixtures import site
from fixtures.dataset import load_catalog
from store.database import open_engine
from store.runs import get_run, load_snapshot
from tests.listeners import Answer, Listener, Request

OID = "03099b28-9016-e811-810f-5065f38bf0e1"


def _pages():
    catalog = load_catalog("day1")
    chosen = [e for e in catalog.exhibits if len(e["periods"]) == 1][:3]
    org = catalog.org_by_oid[chosen[0]["oid"].lower()]
    return {e["cid"]: (e, layout) for e, layout in zip(chosen, site.REAL_LAYOUTS)}, org


PAGES, ORG = _pages()


def _page(request: Request) -> Answer:
    """robots.txt, the organization page and the three exhibits; anything else is 404."""
    parts = urlsplit(request.path)
    path, query = parts.path.lower(), parse_qs(parts.query)
    html = "text/html; charset=utf-8"
    if path == "/robots.txt":
        return 200, "User-agent: *\nDisallow: /_layouts/\n", "text/plain"
    if path.endswith("/organization.aspx"):
        links = "".join(f'<p><a href="Course.aspx?org=Google&amp;cid={cid}">exhibit</a></p>' for cid in PAGES)
        return 200, f"<html><body><h1>Google</h1>{links}</body></html>", html
    if path.endswith("/course.aspx") and query.get("cid", [""])[0] in PAGES:
        exhibit, layout = PAGES[query["cid"][0]]
        return 200, site.render_ace_exhibit_real(exhibit, ORG, layout, version=2), html
    return 404, "<html><body><h1>Not found</h1></body></html>", html


def test_three_real_layouts_crawled_over_http(tmp_path):
    with Listener(_page) as server:
        base = server.base_url
        config = load_config(db=f"sqlite:///{tmp_path / 'a.db'}", environ={"HOME": str(tmp_path)})
        config = config.with_sites({"ace": base, "coursera_api": base + "/api/", "coursera_site": base}, [OID])
        engine = open_engine(config.db)
        run_id = crawl_sources(config, engine, sources=("ace",), progress="off")["ace"]
        assert get_run(engine, run_id).outcome == "finished"
        records = {r["cid"]: r for r in load_snapshot(engine, "ace", run_id)}
        engine.dispose()
    assert set(records) == set(PAGES)
    for cid, (exhibit, layout) in PAGES.items():
        record = records[cid]
        assert record["parse_status"] == "ok", (layout, record["problem"])
        assert (record["ace_id"], record["title"]) == (exhibit["ace_id"], exhibit["title"]), layout
        assert record["version"] == (None if layout == "old" else 2), layout  # stored, as the page says
        (period,) = record["periods"]
        month, day, year = (int(x) for x in exhibit["periods"][-1]["end"].split("/"))
        assert period["end"] == f"{year:04d}-{month:02d}-{day:02d}", layout
        assert [(c["level"], c["hours"], c["subject"]) for c in period["credits"]] == [
            (c["level"], float(c["hours"]), c["subject"]) for c in exhibit["periods"][-1]["credits"]
        ], layout


def test_real_layouts_give_their_version():
    from crawler.parsing.ace import read_exhibit

    versions = {
        layout: read_exhibit(site.render_ace_exhibit_real(e, ORG, layout, version=2)).version
        for e, layout in PAGES.values()
    }
    assert versions == {"current": 2, "intermediate": 2, "old": None}  # the old layout names no version
