"""CrawlSpec: everything one crawl child is told, and nothing else of the app.

The app (acewatch/crawl.py) builds it from the config and the store; the child
(`python -m crawler.run`) reads it from stdin as JSON. Typed, so a field the
app forgot or misspelt fails at the boundary with its name instead of as a
missing Scrapy setting halfway through a crawl.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any


class SpecError(ValueError):
    """The spec on stdin is not a CrawlSpec (a field missing or unknown)."""


@dataclass(frozen=True)
class CrawlSpec:
    db: str  # the store's SQLAlchemy URL: the pipeline writes each run's snapshot there
    sources: tuple[str, ...]  # "ace", "coursera"
    ace: dict[str, Any]  # the config's [ace] section (base_url, organizations, exhibits)
    coursera: dict[str, Any]  # the config's [coursera] section (api_url, site_url, page_size, discovery)
    crawl: dict[str, Any]  # the config's [crawl] section (identity, limits, render)
    run_ids: dict[str, int] = field(default_factory=dict)  # run already recorded by the app, per source
    progress: str = "auto"  # auto | bar | log | off
    parent_pid: int | None = None  # the app's pid: the child dies with it
    known_exhibits: tuple[str, ...] = ()  # exhibits of the last healthy snapshot, re-checked if unlisted
    waiting_exhibits: tuple[str, ...] = ()  # of those, the ones already unlisted with evidence of being gone
    cache_dir: str = ""  # the HTTP cache ("" = no cache)
    full_fetch: bool = True  # fetch every page whole tonight (no conditional requests)
    log_level: str = "WARNING"

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> CrawlSpec:
        data = json.loads(text)
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise SpecError(f"unknown crawl spec field(s): {', '.join(unknown)}")
        tuples = {name: tuple(data[name]) for name in ("sources", "known_exhibits", "waiting_exhibits") if name in data}
        try:
            return cls(**{**data, **tuples})
        except TypeError as exc:  # a required field missing
            raise SpecError(f"crawl spec: {exc}") from None
