"""`acewatch doctor` per source: reachable, robots.txt, discovery, one record read (see acewatch/doctor/checks.py).

Each function stops at the first problem that makes the next checks meaningless
(an unreachable host has no robots.txt to read), so every problem is one line and
no line follows from another.
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

from protego import Protego

from acewatch.config import Config
from acewatch.doctor.checks import Finding
from crawler.parsing.ace import EmptyExhibitTemplate, ExhibitParseError, parse_exhibit
from crawler.parsing.organization import read_organization
from crawler.probe import Fetched, Renderer, fetch
from crawler.spiders.ace import ORGANIZATION_PATH, configured_exhibits, exhibit_cid
from crawler.spiders.render_fallback import SCRIPT_FILLED

ACE_NEEDS = {
    "organization": "/National-Guide/Pages/Organization.aspx?oid=",
    "exhibit": "/National-Guide/Pages/Course.aspx?cid=",
}


def reach(source: str, base: str, config: Config) -> tuple[list[Finding], Protego | None, Fetched]:
    """robots.txt of `base`: a finding that the host answers (or why not), and its rules."""
    answer = fetch(base.rstrip("/") + "/robots.txt", config.crawl.user_agent, config.crawl.download_timeout)
    if answer.error:
        return [Finding(source, "reachable", False, f"{_host(base)} unreachable: {answer.error}")], None, answer
    found = Finding(source, "reachable", True, f"{_host(base)} answers (robots.txt: HTTP {answer.status})")
    text = answer.body.decode("utf-8", "replace") if answer.status == 200 else ""
    return [found], Protego.parse(text), answer


def robots_allow(source: str, robots: Protego, urls: dict[str, str], user_agent: str, robots_url: str) -> list[Finding]:
    """One finding per needed path robots.txt forbids, or one that all are allowed."""
    forbidden = [
        Finding(source, "robots", False, f"{robots_url} forbids {urlsplit(url).path} (needed for {why})")
        for why, url in urls.items()
        if not robots.can_fetch(url, user_agent)
    ]
    return forbidden or [Finding(source, "robots", True, f"robots.txt allows {', '.join(urls)}")]


# ------------------------------------------------------------------------------------------------ ACE


def ace_findings(config: Config, renderer: Renderer | None) -> list[Finding]:
    base = config.ace.base_url.rstrip("/")
    findings, robots, answer = reach("ace", base, config)
    if robots is None:
        return findings
    needs = {f"[ace] {why}s": base + path + "00000000-0000-0000-0000-000000000000" for why, path in ACE_NEEDS.items()}
    allowed = robots_allow("ace", robots, needs, config.crawl.user_agent, answer.url)
    findings += allowed
    if not all(f.ok for f in allowed):
        return findings
    if renderer is not None:  # the browser's own requests obey the same robots.txt
        renderer.allowed = lambda url: (
            urlsplit(url).netloc != urlsplit(base).netloc or robots.can_fetch(url, config.crawl.user_agent)
        )
    if not config.ace.organizations and not config.ace.exhibits:
        return findings + [Finding("ace", "organization", False, "no [ace] organizations or exhibits configured")]
    exhibit_urls: list[str] = []
    for oid in config.ace.organizations:
        finding, links = organization(base + ORGANIZATION_PATH.format(oid=oid), oid, config, renderer)
        findings.append(finding)
        exhibit_urls += links
    exhibit_urls += list(configured_exhibits(list(config.ace.exhibits), base).values())
    if exhibit_urls:
        findings.append(exhibit(exhibit_urls[0], config, renderer))
    return findings


def _read(url: str, kind: str, config: Config, renderer: Renderer | None, needs_render) -> Fetched:
    """The page plain; rendered too when it lacks its values and rendering is on (as the crawl does)."""
    page = fetch(url, config.crawl.user_agent, config.crawl.download_timeout)
    if renderer is not None and (config.crawl.render == "always" or (page.ok and needs_render(page))):
        return renderer.page(url, config.crawl.user_agent, kind)
    return page


def _exhibit_links(page: Fetched, base: str) -> tuple[str, list[str]]:
    from scrapy.http import HtmlResponse

    response = HtmlResponse(page.url, body=page.body, encoding="utf-8")
    read = read_organization(response)
    links = [urljoin(page.url, href) for href in read.links]
    return read.name, [url for url in links if exhibit_cid(url) and urlsplit(url).netloc == urlsplit(base).netloc]


def organization(url: str, oid: str, config: Config, renderer: Renderer | None) -> tuple[Finding, list[str]]:
    """An organization page: its name and how many exhibits it lists, or why it names none."""
    page = _read(url, "organization", config, renderer, lambda p: not _exhibit_links(p, url)[1])
    if not page.ok:
        return Finding("ace", "organization", False, f"organization {oid}: {page.problem()} <{url}>"), []
    name, links = _exhibit_links(page, url)
    how = "rendered" if page.rendered else "plain"
    if links:
        return Finding(
            "ace",
            "organization",
            True,
            f"organization {name or '?'} ({oid}) lists {len(links)} exhibits (read {how})",
            {"oid": oid, "name": name, "exhibits": len(links)},
        ), links
    if name and config.crawl.render == "never":
        return Finding(
            "ace", "organization", False, f"organization {name} ({oid}) shows no course list: {SCRIPT_FILLED}"
        ), []
    message = (
        f"organization {name} ({oid}) lists no courses on the National Guide"
        if name
        else f"organization {oid} not found on the National Guide"
    )
    return Finding("ace", "organization", False, f"{message}: check [ace] organizations"), []


def exhibit(url: str, config: Config, renderer: Renderer | None) -> Finding:
    """One exhibit read as the crawl reads it, with the fields found."""

    def template(page: Fetched) -> bool:
        try:
            parse_exhibit(page.body)
        except EmptyExhibitTemplate:
            return True
        except ExhibitParseError:
            return False
        return False

    page = _read(url, "exhibit", config, renderer, template)
    if not page.ok:
        return Finding("ace", "exhibit", False, f"exhibit {exhibit_cid(url)}: {page.problem()} <{url}>")
    how = "rendered" if page.rendered else "plain"
    try:
        fields = parse_exhibit(page.body)
    except EmptyExhibitTemplate:
        why = SCRIPT_FILLED if config.crawl.render == "never" else "the empty exhibit template, also rendered"
        return Finding("ace", "exhibit", False, f"exhibit {exhibit_cid(url)} read {how}: {why} <{url}>")
    except ExhibitParseError as exc:
        return Finding("ace", "exhibit", False, f"exhibit {exhibit_cid(url)} read {how}: unreadable ({exc}) <{url}>")
    credits = sum(len(p.get("credits", [])) for p in fields["periods"])
    return Finding(
        "ace",
        "exhibit",
        True,
        f"exhibit {fields['ace_id']} read {how}: ACE ID, title "
        f'"{fields["title"]}", {len(fields["periods"])} period(s), {credits} credit row(s)',
        {"url": url, "rendered": page.rendered, **fields},
    )


# ------------------------------------------------------------------------------------------------ Coursera


def coursera_findings(config: Config) -> list[Finding]:
    from acewatch.doctor.coursera import discovery_findings

    site = config.coursera.site_url.rstrip("/")
    findings, robots, answer = reach("coursera", site, config)
    if robots is None:
        return findings
    return findings + discovery_findings(config, robots, answer)


def _host(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
