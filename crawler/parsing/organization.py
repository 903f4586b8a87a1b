"""What an organization page of the National Guide shows: its name and its exhibit links.

An organization page that names no organization, or lists no exhibit, is not
"an organization with zero courses": it is a wrong GUID, a removed organization
or a page whose list a script fills in. The spider needs to tell the operator
which, so this reads the name a person sees (the first non-empty <h1>, else the
document title without the site's suffix) and the exhibit links.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

GENERIC_NAMES = frozenset(
    {"", "organization", "organizations", "national guide", "course", "error", "page not found", "not found"}
)
SITE_SUFFIX = re.compile(r"\s+[-|–—]\s+(?:(?:the\s+)?ace\s+)?national\s+guide\s*$", re.IGNORECASE)


@dataclass
class OrganizationPage:
    name: str = ""
    links: list[str] = field(default_factory=list)


def _clean(text: str) -> str:
    return " ".join(text.split())


def organization_name(selector) -> str:
    """The organization's name as a reader sees it, or "" when the page names none."""
    for heading in selector.xpath("//h1"):
        text = _clean(" ".join(heading.xpath(".//text()").getall()))
        if text:
            return "" if text.lower() in GENERIC_NAMES else text
    title = SITE_SUFFIX.sub("", _clean(" ".join(selector.xpath("//title//text()").getall())))
    return "" if title.lower() in GENERIC_NAMES else title


def read_organization(selector) -> OrganizationPage:
    """Name and every link of an organization page (a Scrapy selector)."""
    return OrganizationPage(organization_name(selector), selector.xpath("//a/@href").getall())
