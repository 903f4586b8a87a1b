"""The baseline crawl: Scrapy following the same links as acewatch's spiders, parsing and storing nothing.

`python bench/baseline_crawl.py < spec.json` (the spec `crawler.run` takes). Same settings as
the real crawl (`crawler.run.scrapy_settings`: crawler/settings.py plus the config), same
spiders and link extraction (organization pages, catalog API pages, partner batches), but
exhibit and program pages are dropped unread and no pipeline is enabled. Prints one JSON line:
pages fetched, wall seconds (process start to exit, as for the real crawl child) and max RSS.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

T0 = time.perf_counter()
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scrapy.crawler import CrawlerProcess  # noqa: E402

from crawler.run import scrapy_settings  # noqa: E402
from crawler.spec import CrawlSpec  # noqa: E402
from crawler.spiders.ace import AceSpider  # noqa: E402
from crawler.spiders.coursera import CourseraSpider  # noqa: E402


class BaselineAce(AceSpider):
    def parse_exhibit(self, response, cid: str, recheck: bool = False):
        return ()


class BaselineCoursera(CourseraSpider):
    def parse_program(self, response, item):
        return ()


SPIDERS = {"ace": BaselineAce, "coursera": BaselineCoursera}


def peak_rss_mb() -> float:
    """VmHWM: this process's own peak (ru_maxrss would start at the parent's peak after fork+exec)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    spec = CrawlSpec.from_json(sys.stdin.read())
    settings = scrapy_settings(spec)
    settings.set("ITEM_PIPELINES", {}, priority="cmdline")
    middlewares = dict(settings.getdict("DOWNLOADER_MIDDLEWARES"))  # the project's, minus parsing ahead
    middlewares["crawler.parsing.offload.ParseAheadMiddleware"] = None
    settings.set("DOWNLOADER_MIDDLEWARES", middlewares, priority="cmdline")
    process = CrawlerProcess(settings)
    crawlers = [process.create_crawler(SPIDERS[source]) for source in spec.sources]
    for crawler in crawlers:
        process.crawl(crawler)
    process.start()
    stats = {c.spider.name: c.stats.get_stats() for c in crawlers}
    print(
        json.dumps(
            {
                "pages": {name: s.get("response_received_count", 0) for name, s in stats.items()},
                "errors": {
                    name: s.get("acewatch/request_errors", 0) + s.get("spider_exceptions/count", 0)
                    for name, s in stats.items()
                },
                "wall": time.perf_counter() - T0,
                "maxrss_mb": peak_rss_mb(),
            }
        ),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
