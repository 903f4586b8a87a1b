"""`acewatch doctor` for Coursera: the sitemaps robots.txt declares (or the API), and one program page.

The crawl lists programs from the sitemaps robots.txt declares (the real hosts
forbid /api/); so the doctor reads robots.txt's Sitemap lines, the index, the
first sub-sitemaps until one lists program pages, and one program page, as the
crawl would, and names the first step that fails.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from protego import Protego

from acewatch.config import Config
from acewatch.doctor.checks import Finding
from crawler.parsing.coursera import (
    ApiPageError,
    parse_api_page,
    parse_program_page,
    program_key,
    program_path,
)
from crawler.probe import Fetched, fetch, gunzipped

SUB_SITEMAPS_READ = 10  # sub-sitemaps read at most to find program pages


def discovery_findings(config: Config, robots: Protego, robots_answer: Fetched) -> list[Finding]:
    if config.coursera.discovery == "api":
        return api_findings(config)
    indexes = list(robots.sitemaps)
    if not indexes:
        return [Finding("coursera", "sitemap", False, f"{robots_answer.url} declares no Sitemap: cannot list programs")]
    program = config.coursera.site_url.rstrip("/") + "/professional-certificates/x"
    needs = {"the sitemap index": indexes[0], "program pages": program}
    forbidden = [
        Finding("coursera", "robots", False, f"{robots_answer.url} forbids {urlsplit(url).path} (needed for {why})")
        for why, url in needs.items()
        if not robots.can_fetch(url, config.crawl.user_agent)
    ]
    if forbidden:
        return forbidden
    findings = [Finding("coursera", "robots", True, "robots.txt allows the sitemaps and program pages")]
    finding, programs = sitemap(indexes[0], config)
    findings.append(finding)
    if programs:
        findings.append(program_page(config.coursera.site_url.rstrip("/") + programs[0], config))
    return findings


def _get(url: str, config: Config) -> Fetched:
    return fetch(url, config.crawl.user_agent, config.crawl.download_timeout)


def _entries(page: Fetched) -> tuple[str, list[str]]:
    """(sitemap type, its <loc>s); ("", []) when it is not a sitemap."""
    from scrapy.utils.sitemap import Sitemap

    try:
        parsed = Sitemap(gunzipped(page.body))
    except Exception:  # noqa: BLE001 - lxml or gzip refuses it: not a sitemap, said as such
        return "", []
    return parsed.type, [entry["loc"] for entry in parsed if entry.get("loc")]


def sitemap(index_url: str, config: Config) -> tuple[Finding, list[str]]:
    """The index read, and the program page paths of the first sub-sitemap that lists some."""
    index = _get(index_url, config)
    if not index.ok:
        return Finding("coursera", "sitemap", False, f"sitemap index {index_url}: {index.problem()}"), []
    kind, locations = _entries(index)
    subs = locations if kind == "sitemapindex" else [index_url] if kind == "urlset" else []
    if not subs:
        return Finding("coursera", "sitemap", False, f"{index_url} is not a sitemap"), []
    for sub in subs[:SUB_SITEMAPS_READ]:
        page = index if sub == index_url else _get(sub, config)
        paths = [urlsplit(loc).path for loc in _entries(page)[1]] if page.ok else []
        programs = [path for path in paths if program_key(path.rstrip("/"))]
        if programs:
            return Finding(
                "coursera",
                "sitemap",
                True,
                f"sitemap index lists {len(subs)} sitemap(s); {sub} lists {len(programs)} program pages",
                {"sitemaps": len(subs), "programs": len(programs)},
            ), programs
    return Finding(
        "coursera",
        "sitemap",
        False,
        f"no program page in the first {min(len(subs), SUB_SITEMAPS_READ)} sitemap(s) of {index_url}",
    ), []


def program_page(url: str, config: Config) -> Finding:
    """One program page read plain (Coursera's pages carry their text), with what was found."""
    page = _get(url, config)
    if not page.ok:
        return Finding("coursera", "program", False, f"program {urlsplit(url).path}: {page.problem()}")
    try:
        claim = parse_program_page(page.body)
    except ValueError as exc:
        return Finding("coursera", "program", False, f"program {urlsplit(url).path} unreadable: {exc}")
    ace = f"ACE claim {claim.ace_claim}" + (f" (up to {claim.ace_credits} credits)" if claim.ace_credits else "")
    return Finding(
        "coursera",
        "program",
        True,
        f'program {urlsplit(url).path} read plain: title "{claim.title}", {ace}',
        {"url": url, "title": claim.title, "ace_claim": claim.ace_claim, "ace_credits": claim.ace_credits},
    )


def api_findings(config: Config) -> list[Finding]:
    """discovery = "api": the API host's robots.txt must permit /api/, and one page must read."""
    from acewatch.doctor.sources import reach

    api = config.coursera.api_url.rstrip("/") + "/"
    findings, robots, answer = reach("coursera", api, config)
    if robots is None:
        return findings
    url = f"{api}onDemandSpecializations.v1?" + urlencode({"fields": "name,slug,productVariant", "limit": 1})
    if not robots.can_fetch(url, config.crawl.user_agent):
        return findings + [
            Finding(
                "coursera",
                "robots",
                False,
                f"{answer.url} forbids {urlsplit(url).path} "
                '(needed for [coursera] discovery = "api"): set discovery = "sitemap"',
            )
        ]
    page = _get(url, config)
    try:
        elements = parse_api_page(page.body).elements if page.ok else []
    except ApiPageError as exc:
        return findings + [Finding("coursera", "api", False, f"{url}: {exc}")]
    paths = [path for element in elements if (path := program_path(element))]
    if not paths:
        return findings + [
            Finding("coursera", "api", False, f"{url}: {page.problem() if not page.ok else 'no programs'}")
        ]
    findings.append(Finding("coursera", "api", True, f"the catalog API answers ({len(elements)} program on page 1)"))
    return findings + [program_page(config.coursera.site_url.rstrip("/") + paths[0], config)]
