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
from functools import cached_property, lru_cache

from lxml import etree
from lxml import html as lxml_html
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
    return ApiPage(
        [e for e in data["elements"] if isinstance(e, dict) and e.get("id")],
        str(next_start) if next_start not in (None, "") else None,
    )


def program_path(element: dict) -> str | None:
    """`/professional-certificates/<slug>` or `/specializations/<slug>`; the wrong one is a 404."""
    folder = VARIANT_PATHS.get(element.get("productVariant", ""))
    slug = element.get("slug")
    return f"/{folder}/{slug}" if folder and slug else None


@dataclass(frozen=True)
class PageClaim:
    title: str
    ace_claim: str  # yes | no
    ace_credits: int | None
    claim_text: str | None
    canonical: str = ""  # <link rel=canonical>, else og:url: what page the site says this is
    partner: str = ""  # the "Offered by" names, ", "-joined


PROGRAM_PATH = re.compile(r"^/(professional-certificates|specializations)/([a-z0-9][a-z0-9-]*)/?$")
PATH_VARIANTS = {folder: variant for variant, folder in VARIANT_PATHS.items()}


def program_key(path: str) -> tuple[str, str] | None:
    """(variant, slug) of a program page path, or None for any other page (/learn/, /search, degrees...)."""
    found = PROGRAM_PATH.match(path)
    return (PATH_VARIANTS[found.group(1)], found.group(2)) if found else None


# Program pages weigh about 300 KB, most of it inline scripts (Apollo state, bundles) and
# styles. Building a tree of the whole page cost ~1.5 ms a page, more than the crawl itself;
# what the claim needs is small: the JSON-LD scripts, the <h1> and, rarely, the visible text
# around "ACE". So one scan over the bytes cuts out <script>/<style> elements (keeping the
# JSON-LD ones' text) and comments, the way an HTML parser ends them, and only the small
# fragments left are parsed. Nothing read here lives in scripts, styles or comments
# (XPath text() never returns them), so the answers are those of a full parse.
_RAW_START = re.compile(rb"<!--|<(script|style)\b", re.I)
_RAW_END = {b"script": re.compile(rb"</script", re.I), b"style": re.compile(rb"</style", re.I)}
_TYPE_ATTR = re.compile(rb"""\stype\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.I)
_H1 = re.compile(rb"""<h1\b(?:[^>"']|"[^"]*"|'[^']*')*>(.*?)</h1\s*>""", re.I | re.S)
_CANONICAL = re.compile(rb"""<link\b[^>]*\brel\s*=\s*["']?canonical\b[^>]*>""", re.I)
_OG_URL = re.compile(rb"""<meta\b[^>]*\bproperty\s*=\s*["']og:url["'][^>]*>""", re.I)
_HREF = re.compile(rb"""\b(?:href|content)\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.I)
_HTML_PARSER = lxml_html.HTMLParser(recover=True, encoding="utf-8", huge_tree=True)


def _split_page(body: bytes) -> tuple[bytes, list[bytes]]:
    """The page without scripts, styles and comments, and the text of its JSON-LD scripts."""
    kept: list[bytes] = []
    ld: list[bytes] = []
    pos = 0
    while True:
        found = _RAW_START.search(body, pos)
        if found is None:
            kept.append(body[pos:])
            break
        kept.append(body[pos : found.start()])
        if found.group(1) is None:  # a comment runs to the first "-->" (or the end)
            end = body.find(b"-->", found.end())
            pos = len(body) if end < 0 else end + 3
            continue
        name = found.group(1).lower()
        open_end = body.find(b">", found.end())
        if open_end < 0:
            pos = len(body)
            break
        close = _RAW_END[name].search(body, open_end + 1)
        content_end = len(body) if close is None else close.start()
        if name == b"script":
            attr = _TYPE_ATTR.search(body, found.end(), open_end)
            value = attr and next(v for v in attr.groups() if v is not None)
            if value == b"application/ld+json" and content_end > open_end + 1:
                ld.append(body[open_end + 1 : content_end])
        if close is None:
            pos = len(body)
            break
        tag_end = body.find(b">", close.end())
        pos = len(body) if tag_end < 0 else tag_end + 1
    return b"".join(kept), ld


def _answer_text(answer: str) -> str:
    """Visible text of an FAQ answer (answers may carry HTML)."""
    if "<" not in answer and "&" not in answer:
        return answer  # plain text: what BeautifulSoup would return, without its ~0.3 ms set-up
    from bs4 import BeautifulSoup  # imported only when needed (~0.25 s)

    # BeautifulSoup on this small fragment only.
    return BeautifulSoup(answer, "lxml").get_text(" ")


def _faq_answers(scripts: list[str]) -> list[str]:
    """Question and answer texts of every FAQPage in the page's JSON-LD."""
    texts = []
    for raw in scripts:
        try:
            data = json.loads(raw)
        except ValueError:
            continue
        nodes = data.get("@graph", [data]) if isinstance(data, dict) else data
        for node in _as_list(nodes):
            if isinstance(node, dict) and node.get("@type") == "FAQPage":
                # Scraped JSON: a single Question may stand for the list, and any field may be of any type.
                for question in _as_list(node.get("mainEntity")):
                    if not isinstance(question, dict):
                        continue
                    answer = question.get("acceptedAnswer")
                    answer = answer.get("text", "") if isinstance(answer, dict) else ""
                    name = question.get("name", "")
                    texts.append(
                        f"{name if isinstance(name, str) else ''} "
                        f"{_answer_text(answer) if isinstance(answer, str) else ''}"
                    )
    return texts


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value] if isinstance(value, dict) else []


_BODY_ACE = "//body//*[not(self::script) and not(self::style)]/text()[contains(., 'ACE')]/.."
_H1_TEXT = "//h1//text()"
# The same nodes as "//*[self::h2 or self::h3][normalize-space()='Offered by']/following-sibling::*[1]//text()",
# in the same (document) order, without testing every element of the page.
_OFFERED_BY = "(//h2|//h3)[normalize-space()='Offered by']/following-sibling::*[1]//text()"


def _body_texts(tree: _Tree) -> list[str]:
    return [" ".join(t.split()) for t in tree.strings(_BODY_ACE)]


def _title(markup: bytes) -> str:
    """Text of the page's <h1> elements, whitespace collapsed."""
    parts = []
    for inner in _H1.findall(markup):
        heading = lxml_html.fromstring(b"<div>" + inner + b"</div>", parser=_HTML_PARSER)
        parts.extend(heading.xpath(".//text()"))
    return " ".join(" ".join(parts).split())


def find_claim(texts: list[str]) -> tuple[int | None, str | None]:
    for text in texts:
        if ACE_MENTION.search(text):
            credits = CREDITS.search(text)
            if credits:
                return int(credits.group(1)), " ".join(text.split())[:500]
    return None, None


#: Answers a worker process computed ahead for a body object (crawler.parsing.offload), used once.
PREPARSED: dict[int, tuple] = {}


def parse_program_page(body: bytes | str) -> PageClaim:
    """The page title and its ACE claim; ValueError if the page has no title (not a program page)."""
    hit = PREPARSED.pop(id(body), None) if PREPARSED else None
    if hit is not None and hit[0] is body:
        parsed, answer = hit[1]
        if parsed:
            return answer
        raise answer
    if isinstance(body, str):
        body = body.encode("utf-8")
    markup, scripts = _split_page(body)
    tree = _Tree(markup)
    title = _title(markup)
    if not title and re.search(rb"<h1\b", markup, re.I):  # an unclosed <h1>: let the parser decide
        title = " ".join(" ".join(tree.texts(_H1_TEXT)).split())
    if not title:
        raise ValueError("program page without an <h1> title")
    credits, text = find_claim(_faq_answers([s.decode("utf-8", "replace") for s in scripts]))
    if credits is None and b"ACE" in markup:  # body copy can only mention ACE if its bytes do
        credits, text = find_claim(_body_texts(tree))
    return PageClaim(title, "yes" if credits is not None else "no", credits, text, _canonical(markup), _partner(tree))


def _canonical(markup: bytes) -> str:
    """The page's own URL as it declares it: <link rel=canonical>, else og:url ("" if neither)."""
    for pattern in (_CANONICAL, _OG_URL):
        tag = pattern.search(markup)
        value = tag and _HREF.search(tag.group(0))
        if value:
            return lxml_html.fromstring(b"<p>" + (value.group(1) or value.group(2) or b"") + b"</p>").text_content()
    return ""


def _partner(tree: _Tree) -> str:
    """Who offers the program, as a reader sees it: the text after the "Offered by" heading."""
    if b"Offered by" not in tree.markup:
        return ""
    text = " ".join(" ".join(tree.texts(_OFFERED_BY)).split())
    return ", ".join(part.strip() for part in text.split(" and ") if part.strip())


_XML_OR_JSON = re.compile(r"[\s\ufeff]*(?:<\?xml\s|[\[{])")


class _Tree:
    """A program page's tree, parsed once (when first asked) for every XPath question about it.

    It is the tree parsel's `Selector(text=...)` builds (the same text clean-up, libxml2 HTML
    parser and options), read with lxml directly: parsel gives every element lxml.html's
    element classes and wraps every answer, which cost as much as the parse (~1 ms a program
    page). Text that parsel would take for XML or JSON is still read through parsel.
    """

    def __init__(self, markup: bytes):
        self.markup = markup

    @cached_property
    def _parsed(self) -> Selector | etree._Element:
        """The lxml root, or a parsel Selector for text parsel would read as XML or JSON; parsed on first use."""
        text = self.markup.decode("utf-8", "replace")
        if _XML_OR_JSON.match(text):
            return Selector(text=text)
        parser = etree.HTMLParser(recover=True, encoding="utf-8", huge_tree=True)
        root = etree.fromstring(text.strip().replace("\x00", "").encode("utf-8") or b"<html/>", parser=parser)
        return root if root is not None else etree.fromstring(b"<html/>", parser=parser)

    def texts(self, query: str) -> list[str]:
        """What `Selector(text=...).xpath(query).getall()` answers."""
        if isinstance(self._parsed, Selector):
            return self._parsed.xpath(query).getall()
        return [str(found) for found in _xpath(query)(self._parsed)]

    def strings(self, query: str) -> list[str]:
        """What `Selector(text=...).xpath(query).xpath("string()").getall()` answers."""
        if isinstance(self._parsed, Selector):
            return self._parsed.xpath(query).xpath("string()").getall()
        return [str(element.xpath("string()")) for element in _xpath(query)(self._parsed)]


@lru_cache(maxsize=16)
def _xpath(query: str) -> etree.XPath:
    return etree.XPath(query)
