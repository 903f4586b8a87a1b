"""The `ace` spider: organization pages -> course exhibits of the ACE National Guide.

Starts from the configured organizations (Organization.aspx?oid=...), follows
every link to a Course.aspx exhibit, and reads each exhibit by its labels.
Exhibits the last snapshot knew but no organization page lists any more are
fetched directly before the crawl ends: a loss of ACE status is confirmed by
the exhibit's own page (the empty template), not inferred from a missing link.
"""

from __future__ import annotations

from urllib.parse import parse_qs, unquote_plus, urljoin, urlsplit

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider

from crawler.failures import failure_reason
from crawler.items import AceExhibitItem
from crawler.parsing.ace import EmptyExhibitTemplate, ExhibitParseError, parse_exhibit

ORGANIZATION_PATH = "/National-Guide/Pages/Organization.aspx?oid={oid}"
EXHIBIT_PATH = "/national-guide/pages/course.aspx"


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


def organization_of(url: str) -> str:
    return unquote_plus(parse_qs(urlsplit(url).query, keep_blank_values=True).get("org", [""])[0]).strip()


class AceSpider(scrapy.Spider):
    name = "ace"

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.base_url = settings.get("ACE_BASE_URL").rstrip("/")
        spider.organizations = settings.getlist("ACE_ORGANIZATIONS")
        spider.known_exhibits = settings.getlist("ACE_KNOWN_EXHIBITS")
        spider.allowed_domains = [urlsplit(spider.base_url).hostname]
        spider.seen: set[str] = set()
        spider.rechecked = False
        crawler.signals.connect(spider.recheck_known, signal=signals.spider_idle)
        return spider

    async def start(self):
        if not self.organizations:
            self.logger.error("no ACE organizations configured (ace.organizations)")
            self.crawler.stats.inc_value("acewatch/request_errors")
        for oid in self.organizations:
            yield scrapy.Request(self.base_url + ORGANIZATION_PATH.format(oid=oid),
                                 callback=self.parse_organization, errback=self.request_failed)

    def parse_organization(self, response):
        try:
            links = response.xpath("//a/@href").getall()
        except Exception as exc:  # not HTML at all: its exhibits are re-checked from the last snapshot
            self.crawler.stats.inc_value("acewatch/request_errors")
            self.logger.warning("unreadable organization page %s: %s", response.url, type(exc).__name__)
            return
        if not any(exhibit_cid(urljoin(response.url, href)) for href in links):
            self.logger.warning("organization page lists no exhibits: %s", response.url)
        for href in links:
            url = urljoin(response.url, href)
            cid = exhibit_cid(url)
            if cid and cid not in self.seen and same_site(url, self.base_url):
                self.seen.add(cid)
                yield self.exhibit_request(url, cid)

    def exhibit_request(self, url: str, cid: str, recheck: bool = False) -> scrapy.Request:
        return scrapy.Request(url, callback=self.parse_exhibit, errback=self.exhibit_failed,
                              cb_kwargs={"cid": cid, "recheck": recheck})

    def parse_exhibit(self, response, cid: str, recheck: bool = False):
        organization = organization_of(response.url)
        try:
            fields = parse_exhibit(response.body)
        except Exception as exc:  # anything unreadable is `unknown`, never a missing (= lost) exhibit
            if recheck and isinstance(exc, EmptyExhibitTemplate):
                # Confirmed gone: the exhibit's own page is the complete, empty template.
                self.crawler.stats.inc_value("acewatch/confirmed_gone")
                return
            if not isinstance(exc, ExhibitParseError):
                exc = ExhibitParseError(f"unreadable page ({type(exc).__name__})")
            self.crawler.stats.inc_value("acewatch/unreadable_pages")
            self.logger.warning("unreadable exhibit %s: %s", response.url, exc)
            yield AceExhibitItem(cid=cid, url=response.url, organization=organization,
                                 parse_status="unknown", problem=str(exc))
            return
        yield AceExhibitItem(cid=cid, url=response.url, organization=organization, **fields)

    def exhibit_failed(self, failure):
        self.request_failed(failure)
        request = failure.request
        yield AceExhibitItem(cid=request.cb_kwargs["cid"], url=request.url, organization=organization_of(request.url),
                             parse_status="unknown", problem=failure_reason(failure))

    def request_failed(self, failure):
        self.crawler.stats.inc_value("acewatch/request_errors")
        self.logger.warning("request failed: %s (%s)", failure.request.url, failure_reason(failure))

    def recheck_known(self):
        """Once the listings are done, fetch known exhibits that no listing linked."""
        if self.rechecked:
            return
        self.rechecked = True
        missing = [(url, exhibit_cid(url)) for url in self.known_exhibits if exhibit_cid(url) not in self.seen]
        for url, cid in missing:
            if cid and same_site(url, self.base_url):
                self.seen.add(cid)
                self.crawler.engine.crawl(self.exhibit_request(url, cid, recheck=True))
        if missing:
            raise DontCloseSpider

