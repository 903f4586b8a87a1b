"""Hands each spider's items to the store as one snapshot, with the crawl's figures.

Items are kept in memory until the spider closes, then written in one
transaction: a crawl that dies half-way leaves its run `running`/`failed`,
never a partial snapshot that looks complete.
"""

from __future__ import annotations

import logging
from dataclasses import asdict

from scrapy import signals

from store.database import open_engine
from store.runs import begin_run, fail_run, save_snapshot

log = logging.getLogger(__name__)


def crawl_stats(stats: dict) -> dict[str, int]:
    """The figures the health gate reads, from Scrapy's stats."""
    errors = stats.get("acewatch/request_errors", 0) + stats.get("spider_exceptions/count", 0)
    return {
        "pages": stats.get("response_received_count", 0),
        "errors": errors,
        "retries": stats.get("retry/count", 0),
        "unknown": stats.get("acewatch/unknown_records", 0),
    }


class SnapshotPipeline:
    def __init__(self, db_url: str, run_ids: dict[str, int]):
        if not db_url:
            raise ValueError("ACEWATCH_DB is not set: pass -s ACEWATCH_DB=<SQLAlchemy URL>")
        self.db_url = db_url
        self.run_ids = dict(run_ids)
        self.records: list[dict] = []

    @classmethod
    def from_crawler(cls, crawler):
        pipeline = cls(crawler.settings.get("ACEWATCH_DB"), crawler.settings.getdict("ACEWATCH_RUN_IDS"))
        pipeline.crawler = crawler
        # Written on spider_closed, not close_spider: only then is the finish reason known.
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def open_spider(self, spider=None):
        spider = spider or self.crawler.spider
        self.engine = open_engine(self.db_url)
        if spider.name not in self.run_ids:
            base_url = getattr(spider, "base_url", "")
            self.run_ids[spider.name] = begin_run(self.engine, spider.name, base_url)
        self.run_id = self.run_ids[spider.name]

    def process_item(self, item, spider=None):
        # NUL bytes in scraped text are refused by PostgreSQL; they carry nothing a reader needs.
        record = {k: v.replace("\x00", "") if isinstance(v, str) else v for k, v in asdict(item).items()}
        if record.get("parse_status") != "ok":
            self.crawler.stats.inc_value("acewatch/unknown_records")
        self.records.append(record)
        return item

    def spider_closed(self, spider, reason):
        stats = crawl_stats(self.crawler.stats.get_stats())
        if reason != "finished":
            fail_run(self.engine, self.run_id, f"crawl ended early: {reason}", stats)
            log.warning("run %s failed: crawl ended early (%s)", self.run_id, reason)
            return
        written = save_snapshot(self.engine, self.run_id, _unique(self.records), stats)
        log.info("run %s stored %d records", self.run_id, written)


def _unique(records: list[dict]) -> list[dict]:
    """Keep one record per key (a page listed twice must not break the snapshot)."""
    seen: dict[str, dict] = {}
    for record in records:
        key = record.get("cid") or record.get("program_id")
        if key not in seen or (seen[key].get("parse_status") != "ok" and record.get("parse_status") == "ok"):
            seen[key] = record
    return list(seen.values())
