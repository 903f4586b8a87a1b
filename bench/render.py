"""Rendered pages per second against plain ones, and the share of pages `auto` renders, on the fixture.

    .venv/bin/python bench/render.py [--rounds 3] [--orgs 12]

Two measures, both in one run so they compare on the same (shared, noisy) machine:

* crawl: real ACE crawls (`acewatch.crawl.crawl_sources`, the crawler child, the store) of the
  fixture's organizations: plain site with render = never (plain pages/s), script-filled site with
  render = always (rendered pages/s), and render = auto on both (how many pages it rendered, of
  how many fetched: only those without their values). Rendered pages/s is the pages over what
  rendering adds to the plain crawl of the same pages (both pay the child's start-up, shown by
  a crawl with nothing to fetch, and the plain fetches).
* page: the same exhibit pages read one after another, plainly (urllib) and in headless Chromium
  (the doctor's renderer: one page at a time, network idle), pages/s of each.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from acewatch.config import load_config
from acewatch.crawl import crawl_sources
from crawler.probe import Renderer, fetch
from crawler.rendering import chromium_path
from fixtures.server import FixtureSite
from monitor.notes import rendered_pages
from store.database import open_engine
from store.runs import get_run


def crawl(site: FixtureSite, tmp: Path, render: str, organizations: list[str], name: str) -> dict:
    """One ACE crawl: wall seconds, pages fetched (HTTP responses), pages rendered."""
    db = f"sqlite:///{tmp / (name + '.db')}"
    engine = open_engine(db)
    config = load_config(db=db, environ={"HOME": str(tmp)}).with_sites(site.urls, organizations)
    config = replace(config, crawl=replace(config.crawl, render=render, chromium=chromium_path() or ""))
    started = time.perf_counter()
    run = get_run(engine, crawl_sources(config, engine, ("ace",), "off")["ace"])
    seconds = time.perf_counter() - started
    engine.dispose()
    return {
        "seconds": seconds,
        "pages": run.pages,
        "rendered": rendered_pages(run.health_report),
        "records": run.records,
    }


def crawl_figures(site: FixtureSite, tmp: Path, organizations: list[str], rounds: int) -> dict:
    runs: dict[str, list[dict]] = {"startup": [], "plain": [], "rendered": [], "auto_plain": [], "auto_scripted": []}
    for number in range(rounds):
        site.set_ace_mode()
        runs["startup"].append(crawl(site, tmp, "never", [], f"startup{number}"))
        runs["plain"].append(crawl(site, tmp, "never", organizations, f"plain{number}"))
        runs["auto_plain"].append(crawl(site, tmp, "auto", organizations, f"autoplain{number}"))
        site.set_ace_mode(scripted=True)
        runs["rendered"].append(crawl(site, tmp, "always", organizations, f"always{number}"))
        runs["auto_scripted"].append(crawl(site, tmp, "auto", organizations, f"autoscripted{number}"))
    seconds = {kind: statistics.median(r["seconds"] for r in runs[kind]) for kind in ("startup", "plain", "rendered")}
    pages = runs["rendered"][0]["pages"]
    figures = {kind + "_s": round(value, 2) for kind, value in seconds.items()}
    # What rendering adds to a crawl of the same pages (both pay the child's start-up and the plain fetches).
    figures["pages"] = pages
    figures["rendered_pages_per_s"] = round(pages / max(seconds["rendered"] - seconds["plain"], 1e-3), 2)
    for kind in ("auto_plain", "auto_scripted"):
        last = runs[kind][-1]
        figures[kind] = {
            "pages": last["pages"],
            "rendered": last["rendered"],
            "records": last["records"],
            "share_rendered": round(last["rendered"] / max(last["pages"], 1), 3),
        }
    return figures


def page_figures(site: FixtureSite, executable: str, rounds: int) -> dict:
    """Exhibit pages read plainly and rendered, one after another, in the same process."""
    site.set_ace_mode(scripted=True)
    urls = [site.url("ace", f"/National-Guide/Pages/Course.aspx?cid={e['cid']}") for e in site.catalog.exhibits]
    agent = "acewatch-bench"
    plain, rendered = [], []
    with Renderer(executable, 60.0) as renderer:
        renderer.page(urls[0], agent)  # the browser's start is not a page
        for _ in range(rounds):
            started = time.perf_counter()
            assert all(fetch(url, agent, 30).ok for url in urls)
            plain.append(len(urls) / (time.perf_counter() - started))
            started = time.perf_counter()
            assert all(renderer.page(url, agent).ok for url in urls)
            rendered.append(len(urls) / (time.perf_counter() - started))
    plain_rate, rendered_rate = statistics.median(plain), statistics.median(rendered)
    return {
        "pages": len(urls),
        "plain_pages_per_s": round(plain_rate, 1),
        "rendered_pages_per_s": round(rendered_rate, 1),
        "plain_over_rendered": round(plain_rate / rendered_rate, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--orgs", type=int, default=12, help="fixture organizations crawled (12 = all, 44 exhibits)")
    args = parser.parse_args()
    executable = chromium_path()
    if executable is None:
        print("no Chromium found: apt-get install -y chromium", file=sys.stderr)
        return 2
    with FixtureSite(day="day1") as site, tempfile.TemporaryDirectory() as tmp:
        organizations = site.ace_organization_ids[: args.orgs]
        crawls = crawl_figures(site, Path(tmp), organizations, args.rounds)
        pages = page_figures(site, executable, args.rounds)
    print(f"crawl of {len(organizations)} organizations ({crawls['pages']} pages), median of {args.rounds}:")
    print(
        f"  empty crawl (the child's start-up) {crawls['startup_s']:.2f} s; plain site, render = never "
        f"{crawls['plain_s']:.2f} s; script-filled site, render = always {crawls['rendered_s']:.2f} s"
    )
    print(
        f"  rendering adds {crawls['rendered_s'] - crawls['plain_s']:.2f} s: {crawls['rendered_pages_per_s']} "
        "rendered pages/s (render_concurrency 2)"
    )
    for kind, label in (("auto_plain", "plain site"), ("auto_scripted", "script-filled site")):
        figure = crawls[kind]
        print(
            f"  auto on the {label}: {figure['rendered']} of {figure['pages']} pages fetched were rendered "
            f"({figure['share_rendered']:.0%}), {figure['records']} exhibits stored"
        )
    print(
        f"page by page ({pages['pages']} exhibits, one at a time): plain {pages['plain_pages_per_s']} pages/s, "
        f"rendered {pages['rendered_pages_per_s']} pages/s: plain/rendered {pages['plain_over_rendered']}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
