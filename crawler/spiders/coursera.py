"""The `coursera` spider: catalog API pages -> partner names -> program pages.

Discovery goes through the public `onDemandSpecializations.v1` API (string
`paging.next`, absent on the last page); the ACE claim is read from each
program page, whose path depends on `productVariant`.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

import scrapy

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
        return spider

    def api_page_url(self, start: str) -> str:
        query = urlencode({"fields": API_FIELDS, "limit": self.page_size, "start": start}, safe=",")
        return f"{self.api_url}onDemandSpecializations.v1?{query}"

    async def start(self):
        yield scrapy.Request(self.api_page_url("0"), callback=self.parse_api, errback=self.request_failed)

    def parse_api(self, response):
        try:
            page = parse_api_page(response.body)
        except ApiPageError as exc:
            self.crawler.stats.inc_value("acewatch/request_errors")
            self.logger.error("catalog API page unreadable (%s): %s", exc, response.url)
            return
        if page.next_start is not None:
            yield scrapy.Request(self.api_page_url(page.next_start), callback=self.parse_api,
                                 errback=self.request_failed)
        elements = [e for e in page.elements if e["id"] not in self.programs_seen]
        self.programs_seen.update(e["id"] for e in elements)
        unknown = sorted({p for e in elements for p in e.get("partnerIds", []) if p not in self.partners})
        if not unknown:
            yield from self.program_requests(elements)
            return
        batches = [unknown[n:n + PARTNER_BATCH] for n in range(0, len(unknown), PARTNER_BATCH)]
        # The page's programs wait for every batch, whatever order the answers come in.
        waiting = {"batches": len(batches), "elements": elements}
        for batch in batches:
            yield scrapy.Request(f"{self.api_url}partners.v1?ids={','.join(batch)}&fields=name,shortName",
                                 callback=self.parse_partners, errback=self.partners_failed, dont_filter=True,
                                 cb_kwargs={"waiting": waiting})

    def parse_partners(self, response, waiting):
        try:
            page = parse_api_page(response.body)
            self.partners.update({str(p["id"]): p.get("name", "") for p in page.elements})
        except ApiPageError as exc:
            self.crawler.stats.inc_value("acewatch/request_errors")
            self.logger.warning("partners page unreadable (%s): %s", exc, response.url)
        yield from self.partners_done(waiting)

    def partners_failed(self, failure):
        self.request_failed(failure)
        yield from self.partners_done(failure.request.cb_kwargs["waiting"])

    def partners_done(self, waiting):
        waiting["batches"] -= 1
        if waiting["batches"] == 0:
            yield from self.program_requests(waiting["elements"])

    def program_requests(self, elements):
        for element in elements:
            path = program_path(element)
            item = CourseraProgramItem(
                program_id=str(element["id"]), slug=element.get("slug", ""), url=self.site_url + (path or ""),
                variant=element.get("productVariant", ""), api_name=element.get("name", ""),
                title=element.get("name", ""),
                partner=", ".join(self.partners.get(str(p), "") for p in element.get("partnerIds", [])).strip(", "))
            if path is None:
                yield self.unknown(item, "API element without slug or known productVariant")
                continue
            yield scrapy.Request(item.url, callback=self.parse_program, errback=self.program_failed,
                                 cb_kwargs={"item": item})

    def parse_program(self, response, item: CourseraProgramItem):
        try:
            claim = parse_program_page(response.body)
        except ValueError as exc:
            yield self.unknown(item, str(exc))
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

    def request_failed(self, failure):
        self.crawler.stats.inc_value("acewatch/request_errors")
        self.logger.warning("request failed: %s (%s)", failure.request.url, failure_reason(failure))
