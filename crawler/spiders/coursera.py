"""The `coursera` spider: catalog API pages -> partner names -> program pages.

Discovery goes through the public `onDemandSpecializations.v1` API (string
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

from urllib.parse import urlencode, urlsplit

import scrapy
from scrapy.exceptions import CloseSpider

from crawler.failures import failure_reason
from crawler.items import CourseraProgramItem
from crawler.parsing.coursera import ApiPageError, parse_api_page, parse_program_page, program_path

API_FIELDS = "name,slug,description,partnerIds,courseIds,tagline,productVariant"
PARTNER_BATCH = 20  # ~400 ids in one request answers HTTP 414


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
        return scrapy.Request(self.api_page_url(start), callback=self.parse_api, errback=self.api_failed,
                              cb_kwargs={"start": start})

    async def start(self):
        yield self.api_request("0")

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
        batches = [unknown[n:n + PARTNER_BATCH] for n in range(0, len(unknown), PARTNER_BATCH)]
        # The page's programs wait for every batch, whatever order the answers come in.
        waiting = {"batches": len(batches), "elements": elements, "missing": set()}
        for batch in batches:
            yield scrapy.Request(f"{self.api_url}partners.v1?ids={','.join(batch)}&fields=name,shortName",
                                 callback=self.parse_partners, errback=self.partners_failed,
                                 cb_kwargs={"waiting": waiting, "batch": batch})

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
            fresh[key] = {**{field: _text(element.get(field)) for field in ("slug", "name", "productVariant")},
                          "id": key, "partnerIds": [str(p) for p in partner_ids if isinstance(p, (str, int))]
                          if isinstance(partner_ids, list) else []}
        if repeated:
            self.incomplete(f"the API page at start={start} repeats {repeated} program(s) of earlier pages "
                            "(offset paging shifted, so others may have been skipped)")
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
                program_id=element["id"], slug=element["slug"], url=self.site_url + (path or ""),
                variant=element["productVariant"], api_name=element["name"], title=element["name"],
                partner=", ".join(self.partners.get(p, "") for p in element["partnerIds"]).strip(", "))
            if path is None:
                yield self.unknown(item, "API element without slug or known productVariant")
                continue
            if missing_partners.intersection(element["partnerIds"]):
                yield self.unknown(item, "partner names could not be read (partners.v1 failed)")
                continue
            yield scrapy.Request(item.url, callback=self.parse_program, errback=self.program_failed,
                                 cb_kwargs={"item": item})

    def parse_program(self, response, item: CourseraProgramItem):
        try:
            claim = parse_program_page(response.body)
        except Exception as exc:  # whatever the page is, it is `unknown`, never a dropped program
            problem = str(exc) if isinstance(exc, ValueError) else f"unreadable page ({type(exc).__name__})"
            yield self.unknown(item, problem)
            return
        item.title, item.ace_claim, item.ace_credits, item.claim_text = (
            claim.title, claim.ace_claim, claim.ace_credits, claim.claim_text)
        yield item

    def program_failed(self, failure):
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


def _text(value) -> str:
    """An API field as text: anything but a string (a list, a number, null) is empty."""
    return value if isinstance(value, str) else ""
