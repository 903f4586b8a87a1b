"""Run acewatch's spiders in this process: `python -m crawler.run < spec.json`.

The monitor starts this as a child process for every crawl, because Scrapy's
Twisted reactor cannot be restarted inside one process (a daemon runs many
crawls). The spec on stdin carries the store URL, the run ids the monitor
already recorded, and the site/crawl sections of acewatch's config.
"""

from __future__ import annotations

import ctypes
import gc
import ipaddress
import logging
import os
import signal
import sys
from urllib.parse import urlsplit

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from crawler.spec import CrawlSpec
from crawler.spiders.ace import AceSpider
from crawler.spiders.coursera import CourseraSpider

SPIDERS = {"ace": AceSpider, "coursera": CourseraSpider}
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def scrapy_settings(spec: CrawlSpec) -> Settings:
    """Scrapy settings from the spec: crawler.settings plus the config's values."""
    ace, coursera, crawl = spec.ace, spec.coursera, spec.crawl
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    hosts = [ace["base_url"], coursera["api_url"], coursera["site_url"]]
    autothrottle = crawl["autothrottle"]
    settings.setdict(
        {
            "ACEWATCH_DB": spec.db,
            "ACEWATCH_RUN_IDS": spec.run_ids,
            "ACEWATCH_PROGRESS": spec.progress,
            "ACE_BASE_URL": ace["base_url"],
            "ACE_ORGANIZATIONS": list(ace["organizations"]),
            "ACE_KNOWN_EXHIBITS": list(spec.known_exhibits),
            "ACE_WAITING_EXHIBITS": list(spec.waiting_exhibits),
            "ACE_EXHIBITS": list(ace.get("exhibits", [])),
            "COURSERA_API_URL": coursera["api_url"],
            "COURSERA_SITE_URL": coursera["site_url"],
            "COURSERA_PAGE_SIZE": coursera["page_size"],
            "COURSERA_DISCOVERY": coursera.get("discovery", "sitemap"),
            "USER_AGENT": crawl["user_agent"],
            "CONCURRENT_REQUESTS": crawl["concurrent_requests"],
            "DOWNLOAD_TIMEOUT": crawl["download_timeout"],
            "RETRY_TIMES": crawl["retry_times"],
            "HTTPCACHE_ENABLED": bool(spec.cache_dir),
            "HTTPCACHE_DIR": spec.cache_dir or "httpcache",
            "ACEWATCH_FULL_FETCH": spec.full_fetch,
            "ACEWATCH_RENDER": crawl.get("render", "never"),
            "ACEWATCH_RENDER_TIMEOUT": crawl.get("render_timeout", 60.0),
            "ACEWATCH_RENDER_CONCURRENCY": crawl.get("render_concurrency", 2),
            "ACEWATCH_CHROMIUM": crawl.get("chromium", ""),
            "AUTOTHROTTLE_ENABLED": (not all(map(is_loopback, hosts)))
            if autothrottle == "auto"
            else autothrottle in ("on", "true", "yes"),
            "LOG_LEVEL": spec.log_level,
        },
        priority="cmdline",
    )
    return settings


def crawl(spec: CrawlSpec) -> None:
    """Crawl the spec's sources at once, in one reactor, until all are done."""
    settings = scrapy_settings(spec)
    process = CrawlerProcess(settings)
    # Scrapy leaves its loggers at NOTSET and drops records below LOG_LEVEL in its handler, so its
    # DEBUG lines ("Crawled (200)", "Scraped from" with the item's repr) were built for every page
    # and item, then thrown away. Its loggers now stop them before a record is made.
    logging.getLogger("scrapy").setLevel(settings.get("LOG_LEVEL"))
    for source in spec.sources:
        process.crawl(SPIDERS[source])
    # What exists by now (modules, settings, the crawlers, the store's engine) lives as long as the
    # crawl: out of the collector's sight, so full collections stop re-walking it (at 10k, 28 full
    # collections took 4.3 s of the reactor's ~50 s CPU, the collector 11 s in all).
    gc.freeze()
    process.start()


def die_with_parent(parent_pid: int | None) -> None:
    """Be killed when the monitor that started this crawl dies without stopping it (kill -9, OOM).

    The crawl runs in a session of its own, so the monitor stops it on every
    exit it lives through; an orphan would go on fetching pages nobody reads,
    beside the next run. Linux only (prctl); elsewhere this does nothing.
    """
    try:
        if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL) != 0:
            return
    except (OSError, AttributeError):
        return
    if parent_pid and os.getppid() != parent_pid:  # the monitor died before prctl took effect
        os._exit(1)


def main() -> int:
    spec = CrawlSpec.from_json(sys.stdin.read())
    die_with_parent(spec.parent_pid)
    crawl(spec)
    return 0


if __name__ == "__main__":
    sys.exit(main())
