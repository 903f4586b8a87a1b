"""The fixture's Coursera robots.txt and sitemaps say what the real hosts say (sources.md, section 2)."""

from __future__ import annotations

import gzip
import urllib.error
import urllib.request
from collections import Counter

import pytest
from protego import Protego
from scrapy.utils.sitemap import Sitemap, sitemap_urls_from_robots

from fixtures.server import FixtureSite


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return answer.read()


@pytest.fixture(scope="module")
def real_site():
    with FixtureSite(robots="real") as site:
        yield site


def test_real_robots_forbid_the_api_on_both_hosts_and_declare_the_index(real_site):
    site_url, api_url = real_site.url("coursera_site"), real_site.urls["coursera_api"]
    robots = _get(site_url + "/robots.txt").decode()
    parser = Protego.parse(robots)
    assert not parser.can_fetch(api_url + "onDemandSpecializations.v1", "acewatch")
    assert not parser.can_fetch(site_url + "/api/onDemandSpecializations.v1", "acewatch")
    assert not parser.can_fetch(site_url + "/search?query=x", "acewatch")
    assert parser.can_fetch(site_url + "/professional-certificates/x", "acewatch")
    api_robots = Protego.parse(_get(api_url.replace("/api/", "/robots.txt")).decode())
    assert not api_robots.can_fetch(api_url + "onDemandSpecializations.v1", "acewatch")
    assert list(sitemap_urls_from_robots(robots.encode()))[0] == site_url + "/sitemap.xml"


def test_api_mode_permits_the_api():
    with FixtureSite(robots="api") as site:
        api_url = site.urls["coursera_api"]
        assert Protego.parse(_get(api_url.replace("/api/", "/robots.txt")).decode()).can_fetch(
            api_url + "onDemandSpecializations.v1", "acewatch"
        )


def test_sitemaps_have_the_real_pitfalls(real_site):
    index = Sitemap(_get(real_site.url("coursera_site") + "/sitemap.xml"))
    assert index.type == "sitemapindex"
    locs = [entry["loc"] for entry in index]
    assert len(locs) >= 4 and any(loc.endswith(".gz") for loc in locs)
    seen: Counter = Counter()
    missing = 0
    for loc in locs:
        try:
            body = _get(loc)
        except urllib.error.HTTPError as exc:
            assert exc.code == 404
            missing += 1
            continue
        sub = Sitemap(gzip.decompress(body) if loc.endswith(".gz") else body)
        entries = list(sub)
        assert all("lastmod" in e for e in entries if "/learn/" not in e["loc"])
        seen.update(e["loc"] for e in entries)
    assert missing == 1
    assert sum(1 for loc in seen if "/learn/" in loc) >= 4000
    programs = {loc for loc in seen if "/professional-certificates/" in loc or "/specializations/" in loc}
    catalog_paths = {real_site.url("coursera_site") + p for p in _program_paths(real_site.catalog)}
    assert catalog_paths <= programs
    assert any(seen[loc] == 2 for loc in catalog_paths)


def _program_paths(catalog) -> set[str]:
    from fixtures.sitemaps import program_path

    return {program_path(p) for p in catalog.programs}
