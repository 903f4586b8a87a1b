"""Hands each spider's items to the store as one snapshot, with the crawl's figures.

Items stream into the store as they come (`store.runs.SnapshotWriter`: held in memory up
to 20,000 rows, then in a staging table), so memory stays flat at 100k records; they reach the snapshot only
in the one transaction that marks the run finished, when the spider closes: a
crawl that dies half-way leaves its run `running`/`failed`, never a partial
snapshot that looks complete.
"""

from __future__ import annotations

import logging
from dataclasses import fields, is_dataclass

from scrapy import signals

from store.database import create_store_engine, open_engine
from store.runs import SnapshotWriter, begin_run, fail_run

log = logging.getLogger(__name__)
_ENGINES: dict[tuple[str, bool], object] = {}


def _engine(db_url: str, migrated: bool):
    """One engine per store for every spider of this process.

    When the monitor began the runs it has opened (and migrated) the store
    already, so the schema check and Alembic's import (~0.4 s) are skipped.
    """
    key = (db_url, migrated)
    if key not in _ENGINES:
        _ENGINES[key] = create_store_engine(db_url) if migrated else open_engine(db_url)
    return _ENGINES[key]


def crawl_stats(stats: dict) -> dict:
    """The figures the health gate reads, from Scrapy's stats.

    An unlisted exhibit whose own page gave no evidence yet (`acewatch/recheck_unknown`) is a
    result for that exhibit, not an unreadable catalog record: it is left out of `unknown`.
    """
    errors = stats.get("acewatch/request_errors", 0) + stats.get("spider_exceptions/count", 0)
    unknown = stats.get("acewatch/unknown_records", 0) - stats.get("acewatch/recheck_unknown", 0)
    return {
        "pages": stats.get("response_received_count", 0),
        "errors": errors,
        "retries": stats.get("retry/count", 0),
        "unknown": max(unknown, 0),
        "notes": stats.get("acewatch/notes", []),
    }


class SnapshotPipeline:
    def __init__(self, db_url: str, run_ids: dict[str, int]):
        if not db_url:
            raise ValueError("ACEWATCH_DB is not set: pass -s ACEWATCH_DB=<SQLAlchemy URL>")
        self.db_url = db_url
        self.run_ids = dict(run_ids)
        self.writer: SnapshotWriter | None = None

    @classmethod
    def from_crawler(cls, crawler):
        pipeline = cls(crawler.settings.get("ACEWATCH_DB"), crawler.settings.getdict("ACEWATCH_RUN_IDS"))
        pipeline.crawler = crawler
        # Written on spider_closed, not close_spider: only then is the finish reason known.
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def open_spider(self, spider=None):
        spider = spider or self.crawler.spider
        self.engine = _engine(self.db_url, migrated=spider.name in self.run_ids)
        if spider.name not in self.run_ids:
            base_url = getattr(spider, "base_url", "")
            self.run_ids[spider.name] = begin_run(self.engine, spider.name, base_url)
        self.run_id = self.run_ids[spider.name]
        self.writer = SnapshotWriter(self.engine, self.run_id)

    def process_item(self, item, spider=None):
        record = _fields(item)
        for key, value in record.items():
            # NUL bytes in scraped text are refused by PostgreSQL; they carry nothing a reader needs.
            if isinstance(value, str) and "\x00" in value:
                record[key] = value.replace("\x00", "")
        if record.get("parse_status") != "ok":
            self.crawler.stats.inc_value("acewatch/unknown_records")
        self.writer.add(record)  # one record per key, as _unique keeps
        return item

    def spider_closed(self, spider, reason):
        stats = crawl_stats(self.crawler.stats.get_stats())
        if reason != "finished":
            if self.writer is not None:
                self.writer.close()  # nothing staged reaches the snapshot
            fail_run(self.engine, self.run_id, f"crawl ended early: {reason}", stats)
            log.warning("run %s failed: crawl ended early (%s)", self.run_id, reason)
            return
        written = self.writer.finish(stats)
        log.info("run %s stored %d records", self.run_id, written)


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _fields(item) -> dict:
    """The item's fields as a new dict; shallow (unlike asdict), as items are not touched once yielded.

    Field names are looked up once per item class: `dataclasses.fields` rebuilds its
    tuple on every call, and this runs for every record of a crawl.
    """
    names = _FIELD_NAMES.get(item.__class__)
    if names is None:
        if not is_dataclass(item):
            return dict(item)
        names = _FIELD_NAMES[item.__class__] = tuple(f.name for f in fields(item))
    return {name: getattr(item, name) for name in names}
