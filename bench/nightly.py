"""What a nightly run costs the sites when nothing changed, against a full crawl, in one run.

Run:  python bench/nightly.py [--nights 3]

On the bundled fixture site (ETags on; Coursera program pages listed in sitemaps with <lastmod>)
it runs real cycles (`acewatch.cycle.run_cycle`: crawl child, store, judge) and reports for each
kind of night the requests the sites answered, the body bytes they sent and the crawl's pages/s:

* full, no cache   ([crawl] cache_dir = "off": every page fetched whole, nothing stored)
* full, cache on   (the weekly full night: every page fetched whole and stored)
* quiet            (the next nights, nothing changed: revalidations and 304s; unmoved <lastmod>
                    program pages not requested)

Ratios are against "full, no cache" of the same run. Targets: quiet bytes <= 20 % of a full
crawl; a full night with the cache on keeps >= 70 % of the pages/s of one without.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from acewatch.cycle import run_cycle  # noqa: E402
from fixtures.server import FixtureSite  # noqa: E402
from store.database import open_engine  # noqa: E402
from tests.support import site_config  # noqa: E402


def night(site, config, engine) -> dict:
    site.clear_requests()
    sent, started = site.bytes_sent, time.monotonic()
    report = run_cycle(config, engine, progress="off")
    seconds = time.monotonic() - started
    pages = sum(run.pages for run in report.runs.values())
    requests = site.requests
    return {
        "requests": len(requests),
        "not_modified": sum(1 for r in requests if r[3] == 304),
        "bytes": site.bytes_sent - sent,
        "pages": pages,
        "seconds": seconds,
        "healthy": report.healthy,
    }


def measure(nights: int) -> dict[str, list[dict]]:
    results: dict[str, list[dict]] = {"full, no cache": [], "full, cache on": [], "quiet": []}
    with tempfile.TemporaryDirectory() as tmp, FixtureSite(day="day1") as site:
        for n in range(nights):
            work = Path(tmp) / f"n{n}"
            work.mkdir()
            db = f"sqlite:///{work / 'a.db'}"
            engine = open_engine(db)
            config = site_config(db, site, work)
            off = replace(config, crawl=replace(config.crawl, cache_dir="off"))
            results["full, no cache"].append(night(site, off, engine))
            results["full, cache on"].append(night(site, config, engine))  # empty cache: a full night
            results["quiet"].append(night(site, config, engine))
            engine.dispose()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nights", type=int, default=3, help="repetitions of each kind of night (medians)")
    args = parser.parse_args(argv)
    results = measure(args.nights)
    base = {key: statistics.median(r[key] for r in results["full, no cache"]) for key in ("requests", "bytes")}
    base_rate = statistics.median(r["pages"] / r["seconds"] for r in results["full, no cache"])
    print(
        f"{'night':<16} {'requests':>9} {'304s':>6} {'body bytes':>12} {'bytes ratio':>12} "
        f"{'pages/s':>8} {'rate ratio':>11}"
    )
    for kind, runs in results.items():
        requests = statistics.median(r["requests"] for r in runs)
        bytes_ = statistics.median(r["bytes"] for r in runs)
        rate = statistics.median(r["pages"] / r["seconds"] for r in runs)
        print(
            f"{kind:<16} {requests:>9.0f} {statistics.median(r['not_modified'] for r in runs):>6.0f} "
            f"{bytes_:>12,.0f} {bytes_ / base['bytes']:>12.3f} {rate:>8.1f} {rate / base_rate:>11.2f}"
        )
    unhealthy = [kind for kind, runs in results.items() if not all(r["healthy"] for r in runs)]
    if unhealthy:
        print(f"unhealthy nights: {unhealthy}")
    return 1 if unhealthy else 0


if __name__ == "__main__":
    raise SystemExit(main())
