"""Is an exhibit gone? What the page of a known exhibit that no organization lists any more says.

Why a rule of its own: a removed exhibit's URL answers in many ways on real sites (404, 410, a
redirect to a search page, a generic page, the labelled template without values), and so does a
struggling server (5xx, a timeout, a cut-off page). The first kind is evidence the exhibit is gone;
the second is not evidence of anything, so the exhibit stays `unknown` and waits. Mixing them up
either invents losses (safety) or keeps the source red for good (liveness). The rule is a table,
here, pure; the spider only gathers the `Answer`.

| answer of the exhibit's own URL                 | evidence |
|-------------------------------------------------|----------|
| 404, 410                                        | gone     |
| redirect to a page that is not an exhibit       | gone     |
| 200, the labelled empty template                | gone     |
| 200, none of an exhibit's labels                | gone     |
| 200, the exhibit readable                       | exhibit (still there, only unlisted) |
| redirect to the same exhibit (moved URL)        | follow   |
| redirect to another exhibit                     | unknown  |
| 200 with some fields, or an empty body          | unknown  |
| 5xx, other 4xx, timeout, reset, cut-off body    | unknown  |
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from urllib.parse import urlsplit

from crawler.parsing.ace import ID_LABEL, PERIOD_LABEL, EmptyExhibitTemplate, ExhibitParseError, read_exhibit

GONE_STATUSES = frozenset({404, 410})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
#: Statuses a recheck handles itself instead of Scrapy's redirect/error middlewares.
HANDLED_STATUSES = sorted(GONE_STATUSES | REDIRECT_STATUSES)
#: A line that starts with a label only an exhibit shows, as a label (then a colon, a cell or the line's end):
#: prose that mentions credit recommendations on a generic page is not one.
EXHIBIT_LABELS = re.compile(
    r"^\s*(?:" + ID_LABEL + r"|" + PERIOD_LABEL + r"|Credit\s+Recommendations?(?:\s*&\s*Competencies)?)\s*(?::|\||$)",
    re.I | re.M,
)


class Page(Enum):
    """What a 200 answer's body holds, as a reader sees it."""

    EXHIBIT = "exhibit"  # every field readable
    TEMPLATE = "template"  # the exhibit's labels, no values
    NO_FIELDS = "no_fields"  # not one exhibit label: a generic page
    PARTIAL = "partial"  # some fields or labels, not a readable exhibit
    EMPTY = "empty"  # no body at all


class Verdict(Enum):
    GONE = "gone"
    UNKNOWN = "unknown"
    EXHIBIT = "exhibit"
    FOLLOW = "follow"


@dataclass(frozen=True)
class Answer:
    """What the exhibit's own URL answered: a status (0 for no answer) and, for 3xx, where to."""

    status: int
    page: Page | None = None  # for a 200
    redirect_cid: str | None = None  # for a 3xx: the cid its Location names, None when not an exhibit
    location: str = ""
    failure: str = ""  # for no answer: timeout, reset, cut-off body


@dataclass(frozen=True)
class Evidence:
    verdict: Verdict
    reason: str  # for logs, the record's problem and the digest ("exhibit page answers 404")


def judge(answer: Answer, cid: str) -> Evidence:
    """The table above, for the known exhibit `cid`."""
    status = answer.status
    if status == 0:
        return Evidence(Verdict.UNKNOWN, f"no answer from the exhibit page ({answer.failure or 'failed'})")
    if status in GONE_STATUSES:
        return Evidence(Verdict.GONE, f"exhibit page answers {status}")
    if status in REDIRECT_STATUSES:
        return _redirect(answer, cid)
    if status != 200:
        return Evidence(Verdict.UNKNOWN, f"exhibit page answers {status}")
    return PAGE_EVIDENCE[answer.page]


def _redirect(answer: Answer, cid: str) -> Evidence:
    where = urlsplit(answer.location).path or answer.location or "nowhere"
    if answer.redirect_cid == cid:
        return Evidence(Verdict.FOLLOW, f"exhibit page moved to {answer.location}")
    if answer.redirect_cid:
        return Evidence(Verdict.UNKNOWN, f"exhibit page redirects to another exhibit ({answer.redirect_cid})")
    return Evidence(Verdict.GONE, f"exhibit page redirects to {where}, not an exhibit")


PAGE_EVIDENCE = {
    Page.EXHIBIT: Evidence(Verdict.EXHIBIT, "exhibit page still readable"),
    Page.TEMPLATE: Evidence(Verdict.GONE, "exhibit page is the empty template"),
    Page.NO_FIELDS: Evidence(Verdict.GONE, "exhibit page shows none of an exhibit's fields"),
    Page.PARTIAL: Evidence(Verdict.UNKNOWN, "exhibit page shows some fields but cannot be read"),
    Page.EMPTY: Evidence(Verdict.UNKNOWN, "exhibit page answered an empty body"),
    None: Evidence(Verdict.UNKNOWN, "exhibit page answered 200 without a body"),
}


#: Ends the `problem` of an exhibit whose page showed it gone in a run that could not read every
#: listing: the next healthy run's gone-evidence confirms the loss whatever the listings say.
WAITING = "unlisted; confirmed if still gone next run"


def waiting_reason(evidence: Evidence) -> str:
    return f"{evidence.reason}; {WAITING}"


def is_waiting(problem: str | None) -> bool:
    return bool(problem) and problem.endswith(WAITING)


def page_kind(body: bytes) -> Page:
    """Sort a 200 body into the kinds the table knows, with the exhibit parser."""
    if not body.strip():
        return Page.EMPTY
    try:
        reading = read_exhibit(body)
    except ExhibitParseError:  # not HTML at all: nothing of an exhibit on it
        return Page.NO_FIELDS
    try:
        reading.record()
    except EmptyExhibitTemplate:
        return Page.TEMPLATE
    except ExhibitParseError:
        if reading.ace_id or reading.periods or reading.credits or has_exhibit_labels(reading.text):
            return Page.PARTIAL
        return Page.NO_FIELDS
    return Page.EXHIBIT


def has_exhibit_labels(text: str) -> bool:
    """True when a page's visible text carries any label only an exhibit shows."""
    return EXHIBIT_LABELS.search(text) is not None
