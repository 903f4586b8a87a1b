"""What the spiders yield: one item per record, shaped like the store's snapshot rows.

Plain dataclasses (Scrapy handles them through itemadapter), so the store can
take them as dicts without knowing Scrapy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class AceExhibitItem:
    cid: str
    url: str
    ace_id: str | None = None
    # The exhibit's "Version" (one ACE ID, one cid per version); None when the page names none (old layout).
    version: int | None = None
    organization: str = ""
    title: str = ""
    # [{"start": "YYYY-MM-DD", "end": "YYYY-MM-DD" | None, "credits": [{"level", "hours", "subject"}]}]
    periods: list[dict[str, Any]] = field(default_factory=list)
    # "unknown" when the page could not be read: never taken as "not recommended".
    parse_status: str = "ok"
    problem: str | None = None


@dataclass
class CourseraProgramItem:
    program_id: str
    slug: str
    url: str
    variant: str = ""
    api_name: str = ""
    title: str = ""
    partner: str = ""
    # "yes" | "no" | "unknown": what the program page says about ACE credit.
    ace_claim: str = "unknown"
    ace_credits: int | None = None
    claim_text: str | None = None
    parse_status: str = "ok"
    problem: str | None = None
