"""Crawl progress: a Rich bar on a terminal, plain periodic log lines elsewhere.

Under cron or systemd there is no terminal, so a bar would only fill logs with
escape codes; there we log a parseable line every N pages instead.
"""

from __future__ import annotations

import logging
import sys

from scrapy import signals

log = logging.getLogger("acewatch.progress")
LOG_EVERY = 200


class CrawlProgress:
    def __init__(self, crawler, mode: str):
        self.crawler = crawler
        self.mode = ("bar" if sys.stderr.isatty() else "log") if mode == "auto" else mode
        self.pages = self.items = 0
        self.progress = None
        if self.mode == "off":
            # Nothing to show: no receivers at all, so Scrapy dispatches nothing to us per page and
            # per item (each item_scraped receiver is an asyncio task of its own).
            return
        crawler.signals.connect(self.opened, signal=signals.spider_opened)
        crawler.signals.connect(self.response, signal=signals.response_received)
        crawler.signals.connect(self.item, signal=signals.item_scraped)
        crawler.signals.connect(self.closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler, crawler.settings.get("ACEWATCH_PROGRESS", "auto"))

    def opened(self, spider):
        self.name = spider.name
        if self.mode == "bar":
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self.progress = Progress(
                SpinnerColumn(),
                TextColumn("[bold]{task.description}"),
                TextColumn("{task.fields[pages]} pages, {task.fields[items]} records"),
                TimeElapsedColumn(),
                transient=False,
            )
            self.task = self.progress.add_task(f"crawling {spider.name}", total=None, pages=0, items=0)
            self.progress.start()

    def response(self, response, request, spider):
        self.pages += 1
        self._update()
        if self.mode == "log" and self.pages % LOG_EVERY == 0:
            log.info("source=%s pages=%d records=%d", self.name, self.pages, self.items)

    def item(self, item, response, spider):
        self.items += 1
        self._update()

    def _update(self):
        if self.progress is not None:
            self.progress.update(self.task, pages=self.pages, items=self.items)

    def closed(self, spider, reason):
        if self.progress is not None:
            self.progress.update(self.task, description=f"{spider.name}: {reason}")
            self.progress.stop()
        elif self.mode == "log":
            log.info("source=%s finished=%s pages=%d records=%d", spider.name, reason, self.pages, self.items)
