"""The `coursera` spider: sitemaps (or, where robots.txt permits, the catalog API) -> program pages.

`discovery = "sitemap"` (the default; the real hosts forbid `/api/` for every agent): read
the sitemap index robots.txt declares, every sub-sitemap it lists (names change over the
years, so none is hard-coded; gzip ones included), and keep the `/professional-certificates/<slug>`
and `/specializations/<slug>` URLs; `/learn/`, degrees and the rest are never fetched. Each
program page is the record: its key is the page path, title/partner/claim are read from it.
A page that redirects away from its program path, or says (canonical, og:url) it is another
page, is `unknown`, and so is a page that fails, 404 included (the listing still names it: a
program is removed when no healthy listing names it). An unreadable index ends the crawl as incomplete.

`discovery = "api"` goes through the public `onDemandSpecializations.v1` API (string
`paging.next`, absent on the last page); the ACE claim is read from each
program page, whose path depends on `productVariant`.

A listing we cannot trust ends the crawl as `catalog incomplete` (the run is
then failed and held back by the health gate): an API page that fails or
cannot be read, paging that points back to a page already asked for, or a
page repeating programs of an earlier one (the offsets shifted, so others
were skipped). Otherwise programs missing from the listing would read as
"removed from Coursera". A program whose page or partner names could not be
read is stored as `unknown`, never dropped.
"""

from __future__ import annotations

import re
import zlib
from urllib.parse import urlencode, urlsplit

import scrapy
from protego import Protego
from scrapy.exceptions import CloseSpider
from scrapy.utils.gz import gzip_magic_number
from scrapy.utils.sitemap import Sitemap, sitemap_urls_from_robots

from crawler.failures import failure_reason
from crawler.items import CourseraProgramItem
from crawler.parsing.coursera import ApiPageError, parse_api_page, parse_program_page, program_key, program_path

API_FIELDS = "name,slug,description,partnerIds,courseIds,tagline,productVariant"
PARTNER_BATCH = 20  # ~400 ids in one request answers HTTP 414
DISCOVERY = ("sitemap", "api")
# Localized copies of a program page list the same program under another slug (-zhtw, -ptbr...).
LOCALIZED = re.compile(r"-(zhtw|zhcn|ptbr|es|fr|de|ja|ko|ru|ar|it|id|tr|vi|th|pl|nl|uk)$")


class CourseraSpider(scrapy.Spider):
    name = "coursera"

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.api_url = settings.get("COURSERA_API_URL").rstrip("/") + "/"
        spider.site_url = settings.get("COURSERA_SITE_URL").rstrip("/")
        spider.base_url = spider.api_url
        spider.page_size = settings.getint("COURSERA_PAGE_SIZE", 100)
        spider.discovery = settings.get("COURSERA_DISCOVERY", "sitemap")
        spider.max_size = settings.getint("DOWNLOAD_MAXSIZE")
        spider.program_paths: set[str] = set()
        spider.indexes_left = spider.indexes_read = 0
        spider.allowed_domains = sorted({urlsplit(spider.api_url).hostname, urlsplit(spider.site_url).hostname})
        spider.partners: dict[str, str] = {}
        spider.programs_seen: set[str] = set()
        spider.api_starts: set[str] = set()
        return spider

    def api_page_url(self, start: str) -> str:
        query = urlencode({"fields": API_FIELDS, "limit": self.page_size, "start": start}, safe=",")
        return f"{self.api_url}onDemandSpecializations.v1?{query}"

    def api_request(self, start: str) -> scrapy.Request:
        self.api_starts.add(start)
        return scrapy.Request(
            self.api_page_url(start), callback=self.parse_api, errback=self.api_failed, cb_kwargs={"start": start}
        )

    async def start(self):
        """robots.txt first: it declares the sitemaps and says whether the API may be read."""
        if self.discovery not in DISCOVERY:
            raise CloseSpider(f"[coursera] discovery = {self.discovery!r}: expected one of {', '.join(DISCOVERY)}")
        host = self.site_url if self.discovery == "sitemap" else _origin(self.api_url)
        yield scrapy.Request(
            host + "/robots.txt",
            callback=self.parse_robots,
            errback=self.robots_failed,
            dont_filter=True,
            meta={"dont_obey_robotstxt": True},
        )

    def parse_robots(self, response):
        self._robots_lines = response.text.splitlines() if response.status == 200 else []
        robots = Protego.parse("\n".join(self._robots_lines))
        agent = self.settings.get("USER_AGENT")
        if self.discovery == "api":
            needed = self.api_page_url("0")
            if not robots.can_fetch(needed, agent):
                self.forbidden(response.url, needed, 'set [coursera] discovery = "sitemap"')
            yield self.api_request("0")
            return
        declared = (
            list(sitemap_urls_from_robots(response.body, base_url=response.url)) if response.status == 200 else []
        )
        indexes = [url for url in declared if self.on_site(url)]
        for url in sorted(set(declared) - set(indexes)):  # stay on the configured domains
            self.logger.warning("robots.txt declares a sitemap on another host, not followed: %s", url)
        if not indexes:
            self.incomplete(f"{response.url} declares no Sitemap: (cannot list programs)")
        self.indexes_left = len(indexes)
        for index in indexes:
            if not robots.can_fetch(index, agent):
                self.forbidden(response.url, index, 'set [coursera] discovery = "api" if a host permits the API')
            yield scrapy.Request(
                index,
                callback=self.parse_sitemap,
                errback=self.index_failed,
                dont_filter=True,
                cb_kwargs={"index": True},
            )

    def on_site(self, url: str) -> bool:
        """Whether a sitemap is on a configured host (requests marked dont_filter skip Scrapy's offsite check)."""
        return urlsplit(url).hostname in self.allowed_domains

    def forbidden(self, robots_url: str, url: str, change: str):
        """robots.txt forbids what this discovery needs: one line naming the rule and the setting."""
        raise CloseSpider(
            f"robots.txt forbids it: {robots_url} has '{_rule(robots_url, url, self)}' for {url}; {change}"
        )

    def robots_failed(self, failure):
        self.incomplete(f"robots.txt unreadable ({failure_reason(failure)}): {failure.request.url}")

    def parse_sitemap(self, response, index: bool = False):
        """A sitemap index (follow every sub-sitemap) or a urlset (keep program pages only)."""
        body = _sitemap_body(response, self.max_size)
        try:
            sitemap = Sitemap(body) if body else None
        except Exception:  # lxml refuses it
            sitemap = None
        if sitemap is None or sitemap.type not in ("sitemapindex", "urlset"):
            self.sitemap_problem(response.url, "not a sitemap", index)
            if not index:
                self.incomplete(f"sitemap unreadable (not a sitemap): {response.url}")
            return
        if index:
            self.indexes_read += 1
        if sitemap.type == "sitemapindex":
            for entry in sitemap:
                if not self.on_site(entry["loc"]):  # a listed sub-sitemap we may not read: the listing is incomplete
                    self.incomplete(f"sitemap on another host, not followed: {entry['loc']} (listed in {response.url})")
                    continue
                yield scrapy.Request(
                    entry["loc"], callback=self.parse_sitemap, errback=self.sitemap_failed, dont_filter=True
                )
            return
        yield from self.program_requests_from(list(sitemap))

    def program_requests_from(self, entries: list[dict]):
        """One request per program page not yet asked for; localized copies of a listed slug skipped."""
        listed = {}
        for entry in entries:
            path = urlsplit(entry.get("loc", "")).path.rstrip("/")
            if program_key(path) is not None:
                listed.setdefault(path, entry)
        for path, entry in listed.items():
            base = LOCALIZED.sub("", path)
            if path in self.program_paths or (base != path and (base in listed or base in self.program_paths)):
                continue
            self.program_paths.add(path)
            variant, slug = program_key(path)
            item = CourseraProgramItem(program_id=path, slug=slug, url=self.site_url + path, variant=variant)
            yield scrapy.Request(
                item.url,
                callback=self.parse_program,
                errback=self.program_failed,
                cb_kwargs={"item": item},
                meta={"lastmod": entry.get("lastmod", "")},
            )

    def index_failed(self, failure):
        self.sitemap_problem(failure.request.url, failure_reason(failure), index=True)

    def sitemap_failed(self, failure):
        """A sub-sitemap that answers 404/410 is gone (what it listed is no longer listed); any other
        failure leaves the listing incomplete: the run fails naming the sitemap, rather than read
        every program it lists as removed."""
        self.sitemap_problem(failure.request.url, failure_reason(failure))
        response = getattr(failure.value, "response", None)
        if response is None or response.status not in (404, 410):
            self.incomplete(f"sitemap unreadable ({failure_reason(failure)}): {failure.request.url}")

    def sitemap_problem(self, url: str, problem: str, index: bool = False):
        """A sitemap that fails is logged and counted (the health check judges the program count);
        when no sitemap robots.txt declares can be read, the catalog is incomplete."""
        self.crawler.stats.inc_value("acewatch/sitemap_errors")
        self.logger.warning("sitemap unreadable (%s): %s", problem, url)
        if index:
            self.indexes_left -= 1
            if self.indexes_left == 0 and self.indexes_read == 0:
                self.incomplete(f"sitemap index unreadable ({problem}): {url}")

    def incomplete(self, problem: str):
        """The listing cannot be trusted: end the crawl as failed rather than store part of the catalog."""
        self.crawler.stats.inc_value("acewatch/request_errors")
        self.logger.error("catalog incomplete: %s", problem)
        raise CloseSpider(f"catalog incomplete: {problem}"[:300])

    def parse_api(self, response, start: str = "0"):
        try:
            page = parse_api_page(response.body)
            elements = self.new_elements(page.elements, start)
        except ApiPageError as exc:
            self.incomplete(f"catalog API page unreadable ({exc}): {response.url}")
        except CloseSpider:
            raise
        except Exception as exc:  # an element of an unexpected shape (unhashable id, ...)
            self.incomplete(f"catalog API page of an unexpected shape ({type(exc).__name__}): {response.url}")
        if page.next_start is not None:
            if page.next_start in self.api_starts:
                self.incomplete(f"API paging points back to start={page.next_start}: {response.url}")
            yield self.api_request(page.next_start)
        unknown = sorted({p for e in elements for p in e["partnerIds"] if p not in self.partners})
        if not unknown:
            yield from self.program_requests(elements)
            return
        batches = [unknown[n : n + PARTNER_BATCH] for n in range(0, len(unknown), PARTNER_BATCH)]
        # The page's programs wait for every batch, whatever order the answers come in.
        waiting = {"batches": len(batches), "elements": elements, "missing": set()}
        for batch in batches:
            yield scrapy.Request(
                f"{self.api_url}partners.v1?ids={','.join(batch)}&fields=name,shortName",
                callback=self.parse_partners,
                errback=self.partners_failed,
                cb_kwargs={"waiting": waiting, "batch": batch},
            )

    def new_elements(self, elements: list[dict], start: str) -> list[dict]:
        """This page's programs, each once, with their fields as text; repeats of earlier pages end the crawl."""
        fresh: dict[str, dict] = {}
        repeated = 0
        for element in elements:
            key = str(element["id"])
            if key in fresh:
                continue  # listed twice on one page
            if key in self.programs_seen:
                repeated += 1
                continue
            partner_ids = element.get("partnerIds")
            fresh[key] = {
                **{field: _text(element.get(field)) for field in ("slug", "name", "productVariant")},
                "id": key,
                "partnerIds": [str(p) for p in partner_ids if isinstance(p, (str, int))]
                if isinstance(partner_ids, list)
                else [],
            }
        if repeated:
            self.incomplete(
                f"the API page at start={start} repeats {repeated} program(s) of earlier pages "
                "(offset paging shifted, so others may have been skipped)"
            )
        self.programs_seen.update(fresh)
        return list(fresh.values())

    def parse_partners(self, response, waiting, batch=()):
        try:
            page = parse_api_page(response.body)
            self.partners.update({str(p["id"]): _text(p.get("name")) for p in page.elements})
        except Exception as exc:
            self.crawler.stats.inc_value("acewatch/request_errors")
            self.logger.warning("partners page unreadable (%s): %s", exc, response.url)
            waiting["missing"].update(batch)
        yield from self.partners_done(waiting)

    def partners_failed(self, failure):
        self.request_failed(failure)
        waiting = failure.request.cb_kwargs["waiting"]
        waiting["missing"].update(failure.request.cb_kwargs.get("batch", ()))
        yield from self.partners_done(waiting)

    def partners_done(self, waiting):
        waiting["batches"] -= 1
        if waiting["batches"] == 0:
            yield from self.program_requests(waiting["elements"], waiting["missing"])

    def program_requests(self, elements, missing_partners=frozenset()):
        for element in elements:
            path = program_path(element)
            item = CourseraProgramItem(
                program_id=path or element["id"],
                slug=element["slug"],
                url=self.site_url + (path or ""),
                variant=element["productVariant"],
                api_name=element["name"],
                title=element["name"],
                partner=", ".join(self.partners.get(p, "") for p in element["partnerIds"]).strip(", "),
            )
            if path is None:
                yield self.unknown(item, "API element without slug or known productVariant")
                continue
            if missing_partners.intersection(element["partnerIds"]):
                yield self.unknown(item, "partner names could not be read (partners.v1 failed)")
                continue
            yield scrapy.Request(
                item.url, callback=self.parse_program, errback=self.program_failed, cb_kwargs={"item": item}
            )

    def parse_program(self, response, item: CourseraProgramItem):
        try:
            claim = parse_program_page(response.body)
        except Exception as exc:  # whatever the page is, it is `unknown`, never a dropped program
            problem = str(exc) if isinstance(exc, ValueError) else f"unreadable page ({type(exc).__name__})"
            yield self.unknown(item, problem)
            return
        problem = self.not_the_program(response, item, claim.canonical)
        if problem:
            yield self.unknown(item, problem)
            return
        item.title, item.ace_claim, item.ace_credits, item.claim_text = (
            claim.title,
            claim.ace_claim,
            claim.ace_credits,
            claim.claim_text,
        )
        item.partner = item.partner or claim.partner
        yield item

    def not_the_program(self, response, item: CourseraProgramItem, canonical: str) -> str | None:
        """Why this page is not the program page asked for (redirected away, or it says it is another page)."""
        asked = urlsplit(item.url).path.rstrip("/")
        landed = urlsplit(response.url).path.rstrip("/")
        if landed != asked:
            return f"redirected away from the program page to {response.url}"[:300]
        if canonical and urlsplit(canonical).path.rstrip("/") != asked:
            return f"the page says it is {canonical}, not this program page"[:300]
        return None

    def program_failed(self, failure):
        """Any failure of a listed program page is `unknown`, a 404 included: the listing (sitemap
        or API) that names the program contradicts it, and a removed program is one no healthy
        listing names any more (a night of 404s must not read as the catalog retired)."""
        self.request_failed(failure)
        yield self.unknown(failure.request.cb_kwargs["item"], failure_reason(failure))

    def unknown(self, item: CourseraProgramItem, problem: str) -> CourseraProgramItem:
        item.parse_status, item.problem = "unknown", problem
        return item

    def api_failed(self, failure):
        self.logger.warning("request failed: %s (%s)", failure.request.url, failure_reason(failure))
        self.incomplete(f"catalog API page failed ({failure_reason(failure)}): {failure.request.url}")

    def request_failed(self, failure):
        self.crawler.stats.inc_value("acewatch/request_errors")
        self.logger.warning("request failed: %s (%s)", failure.request.url, failure_reason(failure))


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _rule(robots_url: str, url: str, spider) -> str:
    """The Disallow line that matches `url` (longest prefix), for the one-line failure."""
    path = urlsplit(url).path
    return max(
        (
            line.strip()
            for line in getattr(spider, "_robots_lines", [])
            if line.lower().startswith("disallow:") and path.startswith(line.split(":", 1)[1].strip() or "\0")
        ),
        key=len,
        default="Disallow",
    )


_DOCUMENT_END = re.compile(rb"</(?:[\w-]+:)?(?:urlset|sitemapindex)>\s*$")


def _sitemap_body(response, max_size: int) -> bytes | None:
    """The sitemap's XML, or None when it is not whole: gunzipped when the body is gzip (a .xml.gz
    file). A cut gzip stream or a document without its closing tag is refused, where lxml and
    Scrapy's gunzip would read what is there (a sitemap cut in half would list half the programs)."""
    body = response.body
    if gzip_magic_number(response):
        stream = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        try:
            body = stream.decompress(body, max_size + 1)
        except zlib.error:
            return None
        if not stream.eof or len(body) > max_size:
            return None
    return body if _whole(body) else None


def _whole(document: bytes) -> bool:
    """True when the XML document ends with its root's closing tag (trailing comments allowed)."""
    tail = document.rstrip()
    while tail.endswith(b"-->"):
        start = tail.rfind(b"<!--")
        if start < 0:
            return False
        tail = tail[:start].rstrip()
    return _DOCUMENT_END.search(tail[-512:]) is not None


def _text(value) -> str:
    """An API field as text: anything but a string (a list, a number, null) is empty."""
    return value if isinstance(value, str) else ""
