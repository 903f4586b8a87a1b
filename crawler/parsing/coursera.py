"""Reading Coursera: the catalog API's JSON and what a program page says about ACE.

The API has no ACE field, so the claim comes from the page: its FAQPage
JSON-LD, or older body copy ("This program is ACE® recommended ... up to 12
college credits"). Wording varies, so we look for ACE together with
"N college credits", never for one fixed sentence.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from bs4 import BeautifulSoup
from parsel import Selector

VARIANT_PATHS = {"ProfessionalCertificateS12n": "professional-certificates", "NormalS12n": "specializations"}
ACE_MENTION = re.compile(r"\bACE\b", re.I)
CREDITS = re.compile(r"up to\s+(\d{1,3})\s+college\s+credits?", re.I)


class ApiPageError(ValueError):
    """An API page that is not the JSON shape we know (so the crawl is incomplete)."""


@dataclass(frozen=True)
class ApiPage:
    elements: list[dict]
    next_start: str | None


def parse_api_page(body: bytes | str) -> ApiPage:
    """`elements` and the string `paging.next` offset (absent on the last page)."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiPageError(f"invalid JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("elements"), list):
        raise ApiPageError("no 'elements' list")
    if not isinstance(data.get("paging"), dict):
        raise ApiPageError("no 'paging' object (cannot tell whether this is the last page)")
    next_start = data["paging"].get("next")
    return ApiPage([e for e in data["elements"] if isinstance(e, dict) and e.get("id")],
                   str(next_start) if next_start not in (None, "") else None)


def program_path(element: dict) -> str | None:
    """`/professional-certificates/<slug>` or `/specializations/<slug>`; the wrong one is a 404."""
    folder = VARIANT_PATHS.get(element.get("productVariant", ""))
    slug = element.get("slug")
    return f"/{folder}/{slug}" if folder and slug else None


@dataclass(frozen=True)
class PageClaim:
    title: str
    ace_claim: str            # yes | no
    ace_credits: int | None
    claim_text: str | None


def _faq_answers(selector: Selector) -> list[str]:
    """Question and answer texts of every FAQPage in the page's JSON-LD."""
    texts = []
    for raw in selector.xpath('//script[@type="application/ld+json"]/text()').getall():
        try:
            data = json.loads(raw)
        except ValueError:
            continue
        nodes = data.get("@graph", [data]) if isinstance(data, dict) else data if isinstance(data, list) else []
        for node in nodes:
            if isinstance(node, dict) and node.get("@type") == "FAQPage":
                for question in node.get("mainEntity") or []:
                    answer = (question.get("acceptedAnswer") or {}).get("text", "")
                    # Answers carry HTML; BeautifulSoup on this small fragment only.
                    texts.append(f"{question.get('name', '')} {BeautifulSoup(answer, 'lxml').get_text(' ')}")
    return texts


def _body_texts(selector: Selector) -> list[str]:
    return [" ".join(t.split()) for t in selector.xpath(
        "//body//*[not(self::script) and not(self::style)]/text()[contains(., 'ACE')]/..").xpath("string()").getall()]


def find_claim(texts: list[str]) -> tuple[int | None, str | None]:
    for text in texts:
        if ACE_MENTION.search(text):
            credits = CREDITS.search(text)
            if credits:
                return int(credits.group(1)), " ".join(text.split())[:500]
    return None, None


def parse_program_page(body: bytes | str) -> PageClaim:
    """The page title and its ACE claim; ValueError if the page has no title (not a program page)."""
    selector = Selector(text=body.decode("utf-8", "replace") if isinstance(body, bytes) else body)
    title = " ".join(" ".join(selector.xpath("//h1//text()").getall()).split())
    if not title:
        raise ValueError("program page without an <h1> title")
    credits, text = find_claim(_faq_answers(selector))
    if credits is None:
        credits, text = find_claim(_body_texts(selector))
    return PageClaim(title, "yes" if credits is not None else "no", credits, text)
