"""Crawling from the monitor's side: begin runs, run the spiders in a child, settle the runs.

The child may die (timeout, SIGKILL, crash); whatever it left `running` is
marked failed here, so a dead crawl reads as a failed run, never as a catalog
that lost every program.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from acewatch.config import Config
from crawler.removal import is_waiting
from crawler.spec import CrawlSpec
from store.runs import begin_run, fail_run, get_run, iter_snapshot, latest_healthy_run

if TYPE_CHECKING:
    from sqlalchemy import Engine

log = logging.getLogger(__name__)
SOURCES = ("ace", "coursera")


def crawl_spec(
    config: Config, run_ids: dict[str, int], sources: tuple[str, ...], progress: str, known: KnownExhibits
) -> CrawlSpec:
    """What the crawl child is told: the config's site and crawl sections, the runs, the exhibits to re-check."""
    return CrawlSpec(
        db=config.db,
        sources=tuple(sources),
        ace=asdict(config.ace),
        coursera=asdict(config.coursera),
        crawl=asdict(config.crawl),
        run_ids=run_ids,
        progress=progress,
        parent_pid=os.getpid(),
        known_exhibits=tuple(known.urls),
        waiting_exhibits=tuple(known.waiting),
        cache_dir=cache_dir(config),
        full_fetch=full_fetch_due(config),
        log_level=logging.getLevelName(logging.getLogger().getEffectiveLevel()),
    )


def base_url(config: Config, source: str) -> str:
    return config.ace.base_url if source == "ace" else config.coursera.api_url


def crawl_sources(
    config: Config, engine: Engine, sources: tuple[str, ...] = SOURCES, progress: str = "auto"
) -> dict[str, int]:
    """Crawl `sources` in a child process; return the run id of each (finished or failed)."""
    run_ids = {source: begin_run(engine, source, base_url(config, source)) for source in sources}
    spec = crawl_spec(config, run_ids, sources, progress, known_exhibits(engine, config.ace.base_url))
    problem = "crawl interrupted"
    try:
        problem = _run_child(spec, config.crawl.timeout_seconds)
        if problem is None and spec.full_fetch and spec.cache_dir:
            _full_fetch_marker(spec.cache_dir).touch()
    finally:  # also on Ctrl-C/SIGTERM: no run is left `running`
        for _source, run_id in run_ids.items():
            if get_run(engine, run_id).outcome == "running":
                fail_run(engine, run_id, problem or "crawler exited without storing its snapshot")
    return run_ids


def cache_dir(config: Config) -> str:
    """The HTTP cache's directory ("" when `[crawl] cache_dir = "off"`)."""
    return "" if config.crawl.cache_dir == "off" else config.crawl.cache_dir


def _full_fetch_marker(directory: str) -> Path:
    Path(directory).mkdir(parents=True, exist_ok=True)
    return Path(directory) / "last-full-fetch"


def full_fetch_due(config: Config) -> bool:
    """Every page fetched whole: without a cache, or when the last full fetch is a week old (by default)."""
    directory = cache_dir(config)
    if not directory:
        return True
    marker = _full_fetch_marker(directory)
    age_days = (time.time() - marker.stat().st_mtime) / 86400 if marker.exists() else float("inf")
    return age_days >= config.crawl.full_fetch_every_days


@dataclass(frozen=True)
class KnownExhibits:
    """Exhibits of the last healthy ACE snapshot on this site, which the spider re-checks if no
    listing links them; `waiting`: those already unlisted with evidence of being gone then."""

    urls: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)


def known_exhibits(engine: Engine, base_url: str) -> KnownExhibits:
    run = latest_healthy_run(engine, "ace")
    if run is None:
        return KnownExhibits()
    site = urlsplit(base_url)[:2]
    records = [
        r
        for r in iter_snapshot(engine, "ace", run.id, columns=("url", "parse_status", "problem"))
        if urlsplit(r["url"])[:2] == site
    ]
    return KnownExhibits(
        [r["url"] for r in records],
        [r["url"] for r in records if r["parse_status"] != "ok" and is_waiting(r["problem"])],
    )


def _run_child(spec: CrawlSpec, timeout: int) -> str | None:
    """Run crawler.run; return why it failed, or None."""
    child = subprocess.Popen(
        [sys.executable, "-m", "crawler.run"], stdin=subprocess.PIPE, start_new_session=True, text=True
    )
    try:
        child.communicate(spec.to_json(), timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
        return f"crawl timed out after {timeout} s"
    except BaseException:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
        raise
    if child.returncode != 0:
        return f"crawler process exited with status {child.returncode}"
    return None
