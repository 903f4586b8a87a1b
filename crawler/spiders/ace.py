"""The `ace` spider: organization pages -> course exhibits of the ACE National Guide.

Starts from the configured organizations (Organization.aspx?oid=...), follows
every link to a Course.aspx exhibit, and reads each exhibit by its labels.
Exhibits the last snapshot knew but no organization page lists any more are
fetched directly before the crawl ends: a loss of ACE status is confirmed by
the exhibit's own answer (`crawler.removal`: 404, 410, a redirect away, the
empty template, a page without exhibit fields), never inferred from a missing
link. Anything else (5xx, timeout, a partial page) leaves the exhibit `unknown`:
its own events wait, and it is not counted against the catalog's health.
A gone exhibit is confirmed only when every organization page was read; after
a run whose listings were not all read it waits one more run as `unknown`.
A page that arrives without its values (an organization page without its course
list, the exhibit template) is fetched again in headless Chromium first
(`[crawl] render`, spiders/render_fallback.py): no template counts as gone unrendered.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qs, parse_qsl, unquote_plus, urlencode, urljoin, urlsplit

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider, NotSupported

from crawler.failures import failure_reason
from crawler.items import AceExhibitItem
from crawler.notes import add_note
from crawler.parsing.ace import EmptyExhibitTemplate, ExhibitParseError, parse_exhibit
from crawler.parsing.organization import read_organization
from crawler.removal import (
    HANDLED_STATUSES,
    REDIRECT_STATUSES,
    Answer,
    Evidence,
    Page,
    Verdict,
    judge,
    page_kind,
    waiting_reason,
)
from crawler.spiders.render_fallback import SCRIPT_FILLED, RenderFallback
from crawler.targets import HOW_TO_FIND, exhibit_path

ORGANIZATION_PATH = "/National-Guide/Pages/Organization.aspx?oid={oid}"
EXHIBIT_PATH = "/national-guide/pages/course.aspx"
MAX_MOVES = 3  # redirects of a rechecked exhibit to its own new URL that are followed


def exhibit_cid(url: str) -> str | None:
    """The exhibit GUID of a Course.aspx link (path case varies in the wild), else None."""
    parts = urlsplit(url)
    if parts.path.lower() != EXHIBIT_PATH:
        return None
    cid = parse_qs(parts.query).get("cid", [""])[0].strip().lower()
    return cid or None


def same_site(url: str, base_url: str) -> bool:
    """True when `url` is on the configured ACE host: same hostname and, if the link names a
    port, the base URL's port (a link to another port of the same host is another site)."""
    link, base = urlsplit(url), urlsplit(base_url)
    if (link.hostname or "") != (base.hostname or ""):
        return False
    try:
        port = link.port
    except ValueError:
        return False
    return port is None or port == (base.port or {"http": 80, "https": 443}.get(base.scheme))


GUID = re.compile(r"^\{?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\}?$", re.IGNORECASE)
_OPTION = re.compile(rb"<option\b", re.IGNORECASE)


def version_links(page_url: str, values: Iterable[str]) -> list[str]:
    """Where an exhibit's version drop-down leads: one ACE ID has a cid per version, and the other
    versions may be linked from nowhere else. An option's value that is a cid becomes this page's
    URL with that cid (its other parameters kept); one that is a Course.aspx link is taken as it
    stands; anything else (a date, a label) leads nowhere. Whether the link stays on the site is
    the caller's to check."""
    links = []
    for value in (v.strip() for v in values):
        found = GUID.match(value)
        if found:
            parts = urlsplit(page_url)
            query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k.lower() != "cid"]
            links.append(parts._replace(query=urlencode([*query, ("cid", found.group(1).lower())])).geturl())
        elif value and exhibit_cid(urljoin(page_url, value)):
            links.append(urljoin(page_url, value))
    return links


def organization_of(url: str) -> str:
    return unquote_plus(parse_qs(urlsplit(url).query, keep_blank_values=True).get("org", [""])[0]).strip()


class AceSpider(RenderFallback, scrapy.Spider):
    name = "ace"

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.base_url = settings.get("ACE_BASE_URL").rstrip("/")
        spider.organizations = settings.getlist("ACE_ORGANIZATIONS")
        spider.known_exhibits = settings.getlist("ACE_KNOWN_EXHIBITS")
        spider.waiting = {exhibit_cid(url) for url in settings.getlist("ACE_WAITING_EXHIBITS")}
        spider.configured_exhibits = configured_exhibits(settings.getlist("ACE_EXHIBITS"), spider.base_url)
        spider.allowed_domains = [urlsplit(spider.base_url).hostname]
        spider.seen: set[str] = set()
        spider.rechecked = False
        spider.listings_read = True  # every organization page read and listing exhibits
        crawler.signals.connect(spider.recheck_known, signal=signals.spider_idle)
        spider.setup_render(crawler)
        return spider

    async def start(self):
        if not self.organizations:
            self.listings_read = False
        if not self.organizations and not self.configured_exhibits:
            self.logger.error("no ACE organizations or exhibits configured")
            self.crawler.stats.inc_value("acewatch/request_errors")
            add_note(self.crawler.stats, "no_targets", f"no [ace] organizations or exhibits configured: {HOW_TO_FIND}")
        for oid in self.organizations:
            yield self.page_request(
                self.base_url + ORGANIZATION_PATH.format(oid=oid),
                "organization",
                callback=self.parse_organization,
                errback=self.organization_failed,
                cb_kwargs={"oid": oid},
            )

    def organization_failed(self, failure):
        self.listings_read = False
        self.request_failed(failure)

    def parse_organization(self, response, oid: str = ""):
        try:
            page = read_organization(response)
        except Exception as exc:  # not HTML at all: its exhibits are re-checked from the last snapshot
            self.crawler.stats.inc_value("acewatch/request_errors")
            self.logger.warning("unreadable organization page %s: %s", response.url, type(exc).__name__)
            self.listings_read = False
            return
        self.count_rendered(response, "organization")
        links = page.links
        if not any(exhibit_cid(urljoin(response.url, href)) for href in links):
            again = self.render_again(response, "organization")  # its course list may be filled in by script
            if again is not None:
                yield again
                return
            self.listings_read = False
            if not self.organization_shell(response, page.name):
                self.organization_not_listed(response, oid, page.name)
        for href in links:
            url = urljoin(response.url, href)
            cid = exhibit_cid(url)
            if cid and cid not in self.seen and same_site(url, self.base_url):
                self.seen.add(cid)
                yield self.exhibit_request(url, cid)

    def organization_not_listed(self, response, oid: str, name: str) -> None:
        """An organization page without a course list: say which one, never a silent zero."""
        self.logger.warning("organization page lists no exhibits: %s", response.url)
        message = (
            f"organization {name} ({oid}) lists no courses on the National Guide"
            if name
            else f"organization {oid} not found on the National Guide"
        )
        add_note(
            self.crawler.stats,
            "organization_not_found",
            f"{message}: check [ace] organizations",
            oid=oid,
            name=name,
            url=response.url,
        )

    def exhibit_request(self, url: str, cid: str) -> scrapy.Request:
        return self.page_request(
            url, "exhibit", callback=self.parse_exhibit, errback=self.exhibit_failed, cb_kwargs={"cid": cid}
        )

    def follow_versions(self, response):
        """Requests for the other versions the page's version drop-down lists: same site, each cid once."""
        if not _OPTION.search(response.body):  # most pages have no drop-down: skip building a selector
            return
        try:
            values = response.xpath("//select//option/@value").getall()
        except (NotSupported, ValueError):  # not text, not HTML: nothing to follow
            return
        for url in version_links(response.url, values):
            cid = exhibit_cid(url)
            if cid and cid not in self.seen and same_site(url, self.base_url):
                self.seen.add(cid)
                yield self.exhibit_request(url, cid)

    def parse_exhibit(self, response, cid: str):
        self.count_rendered(response, "exhibit")
        yield from self.follow_versions(response)
        try:
            fields = parse_exhibit(response.body)
        except Exception as exc:  # anything unreadable is `unknown`, never a missing (= lost) exhibit
            if isinstance(exc, EmptyExhibitTemplate):  # listed, yet labels without values: filled by script?
                again = self.render_again(response, "exhibit")
                if again is not None:
                    yield again
                    return
                exc = self.template_problem(response)
            if not isinstance(exc, ExhibitParseError):
                exc = ExhibitParseError(f"unreadable page ({type(exc).__name__})")
            self.crawler.stats.inc_value("acewatch/unreadable_pages")
            self.logger.warning("unreadable exhibit %s: %s", response.url, exc)
            yield self.unknown_item(cid, response.url, str(exc))
            return
        yield AceExhibitItem(cid=cid, url=response.url, organization=organization_of(response.url), **fields)

    def unknown_item(self, cid: str, url: str, problem: str) -> AceExhibitItem:
        return AceExhibitItem(
            cid=cid, url=url, organization=organization_of(url), parse_status="unknown", problem=problem
        )

    def exhibit_failed(self, failure):
        self.request_failed(failure)
        yield self.unknown_item(failure.request.cb_kwargs["cid"], failure.request.url, failure_reason(failure))

    def request_failed(self, failure):
        self.crawler.stats.inc_value("acewatch/request_errors")
        self.logger.warning("request failed: %s (%s)", failure.request.url, failure_reason(failure))

    # ------------------------------------------------------------------ known exhibits no listing links

    def recheck_known(self):
        """Once the listings are done, fetch known exhibits that no listing linked."""
        if self.rechecked:
            return
        self.rechecked = True
        missing = [
            (url, exhibit_cid(url))
            for url in [*self.known_exhibits, *self.configured_exhibits.values()]
            if exhibit_cid(url) not in self.seen
        ]
        for url, cid in missing:
            if cid and same_site(url, self.base_url):
                self.seen.add(cid)
                self.crawler.engine.crawl(self.recheck_request(url, cid))
        if missing:
            raise DontCloseSpider

    def recheck_request(self, url: str, cid: str, moves: int = 0) -> scrapy.Request:
        """The exhibit's own URL, its 404/410/3xx answers handled here (they are the evidence)."""
        meta = {"handle_httpstatus_list": HANDLED_STATUSES, "dont_redirect": True}
        return self.page_request(
            url,
            "exhibit",
            callback=self.parse_rechecked,
            errback=self.recheck_failed,
            dont_filter=True,
            meta=meta,
            cb_kwargs={"cid": cid, "moves": moves},
        )

    def parse_rechecked(self, response, cid: str, moves: int):
        self.count_rendered(response, "exhibit")
        location = ""
        if response.status in REDIRECT_STATUSES:
            location = urljoin(response.url, response.headers.get("Location", b"").decode("latin-1"))
        answer = Answer(
            response.status,
            page=page_kind(response.body) if response.status == 200 else None,
            redirect_cid=exhibit_cid(location) if location else None,
            location=location,
        )
        evidence = judge(answer, cid)
        if answer.page in SCRIPT_FILLABLE:  # gone by its content, which a script may fill in: rendered first
            again = self.render_again(response, "exhibit")
            if again is not None:
                yield again
                return
            if self.template_is_evidence():
                evidence = Evidence(Verdict.UNKNOWN, SCRIPT_FILLED)
        if evidence.verdict is Verdict.EXHIBIT:
            yield from self.parse_exhibit(response, cid)
        elif evidence.verdict is Verdict.FOLLOW and moves < MAX_MOVES and same_site(location, self.base_url):
            yield self.recheck_request(location, cid, moves + 1)
        else:
            yield from self.conclude_recheck(cid, response.url, evidence)

    def recheck_failed(self, failure):
        request = failure.request
        answer = Answer(getattr(getattr(failure.value, "response", None), "status", 0), failure=failure_reason(failure))
        yield from self.conclude_recheck(request.cb_kwargs["cid"], request.url, judge(answer, request.cb_kwargs["cid"]))

    def conclude_recheck(self, cid: str, url: str, evidence: Evidence):
        """Gone (no record: the diff reports the loss), or an `unknown` record that waits.

        Gone-evidence confirms the loss when every organization page was read this run, or when
        the exhibit was already waiting with gone-evidence in the last healthy run (an organization
        whose last exhibit was withdrawn lists nothing, night after night). A recheck's unknown is
        the result for that one exhibit: counted apart (`recheck_unknown`), so it never weighs on
        the catalog's unreadable ratio or its failed requests.
        """
        gone = evidence.verdict is Verdict.GONE
        if gone and (self.listings_read or cid in self.waiting):
            self.crawler.stats.inc_value("acewatch/confirmed_gone")
            self.logger.info("exhibit %s gone: %s", url, evidence.reason)
            self.configured_exhibit_gone(cid, url, evidence.reason)
            return
        reason = waiting_reason(evidence) if gone else evidence.reason
        self.crawler.stats.inc_value("acewatch/recheck_unknown")
        self.logger.warning("exhibit %s unlisted, kept unknown: %s", url, reason)
        yield self.unknown_item(cid, url, reason)

    def configured_exhibit_gone(self, cid: str, url: str, reason: str) -> None:
        """An exhibit of [ace] exhibits that is gone: the operator should know."""
        if cid in self.configured_exhibits:
            add_note(
                self.crawler.stats,
                "exhibit_not_found",
                f"exhibit {cid} not found on the National Guide ({reason}): check [ace] exhibits",
                cid=cid,
                url=url,
            )


#: Recheck answers that are gone-evidence by their content alone: a script may still fill them in.
SCRIPT_FILLABLE = frozenset({Page.TEMPLATE, Page.NO_FIELDS})


def configured_exhibits(urls: list[str], base_url: str) -> dict[str, str]:
    """[ace] exhibits by cid, each asked of the configured ACE host (the fixture's in tests)."""
    return {cid: base_url + exhibit_path(url) for url in urls if (cid := exhibit_cid(url))}
