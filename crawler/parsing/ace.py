"""Reading an ACE National Guide exhibit by its visible labels.

The real site's element ids and classes are unknown and change with
redesigns, so nothing here depends on them. The exhibit's main content is
flattened into lines of visible text (table cells joined by " | "), and the
fields are found next to the labels a reader sees: "ACE ID", "ACE Credit
Recommendation Period", the credit rows or credit sentences.
"""

from __future__ import annotations

import re
from datetime import date

from lxml import etree
from lxml import html as lxml_html

BLOCK_TAGS = {"p", "div", "li", "dt", "dd", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article",
              "table", "thead", "tbody", "ul", "ol", "dl", "br", "header", "footer", "main", "aside", "caption"}
CELL_TAGS = {"td", "th"}
SKIP_TAGS = {"script", "style", "noscript", "template", "svg", "head"}

ACE_ID = re.compile(r"\bACE\s*ID\s*:?\s*\|?\s*([A-Z][A-Z0-9]{1,9}-\d{3,5})\b", re.I)
DATE = r"(\d{1,2}/\d{1,2}/\d{4})"
PERIOD = re.compile(r"ACE\s+Credit\s+Recommendation\s+Period\s*:?\s*\|?\s*" + DATE +
                    r"\s*(?:-|–|—|to)\s*(" + r"\d{1,2}/\d{1,2}/\d{4}|present|current)?", re.I)
LEVELS = {
    "vocational certificate": "Vocational Certificate",
    "lower-division baccalaureate/associate degree": "Lower-Division Baccalaureate/Associate Degree",
    "lower division baccalaureate/associate degree": "Lower-Division Baccalaureate/Associate Degree",
    "lower-division baccalaureate/associate": "Lower-Division Baccalaureate/Associate Degree",
    "lower-division baccalaureate": "Lower-Division Baccalaureate/Associate Degree",
    "upper-division baccalaureate degree": "Upper-Division Baccalaureate Degree",
    "upper division baccalaureate degree": "Upper-Division Baccalaureate Degree",
    "upper-division baccalaureate": "Upper-Division Baccalaureate Degree",
    "graduate degree": "Graduate Degree",
    "graduate": "Graduate Degree",
}
LEVEL_WORDS = r"(vocational certificate|lower[- ]division baccalaureate(?:/associate)?(?: degree)?|" \
              r"upper[- ]division baccalaureate(?: degree)?|graduate(?: degree)?)"
CREDIT_ROW = re.compile(r"^" + LEVEL_WORDS + r"\s*\|\s*(\d+(?:\.\d+)?)\s*\|\s*(.+?)\s*$", re.I)
CATEGORY = re.compile(r"in the " + LEVEL_WORDS + r" categor(?:y|ies),?\s*(.+?)"
                      r"(?=,?\s*(?:and|or)\s+in the |\.\s+[A-Z]|\.?\s*$)", re.I)
CREDIT_ITEM = re.compile(r"(\d+(?:\.\d+)?)\s+semester hours?\s+in\s+(.+?)"
                         r"(?=,?\s*(?:and\s+)?\d+(?:\.\d+)?\s+semester hours?\s+in\s|$)", re.I)
LABELS = re.compile(r"^(ACE ID|ACE Credit Recommendation Period|Organization|(?:Course )?Title|Length|Location)"
                    r"\s*:?$", re.I)
TITLE_LABEL = re.compile(r"^(?:course\s+)?title\s*:?\s*\|?\s*(.+)$", re.I)
END_LABELS = re.compile(r"^(description|course description|learning outcomes|length|location|instruction|"
                        r"assessment|prerequisites?|related|ace credit recommendation period)\b", re.I)


class ExhibitParseError(ValueError):
    """The page is not a readable exhibit (layout changed, truncated, empty template)."""


class EmptyExhibitTemplate(ExhibitParseError):
    """The exhibit page's labels with no values: what ACE serves for an exhibit it does not have.

    Only this confirms a loss; an empty body, a cut page or another page is a plain
    ExhibitParseError (unreadable), never taken for the template.
    """


# The labels the template keeps (with empty values) once every value is gone.
TEMPLATE_LABELS = (re.compile(r"^ACE\s*ID\s*:?$", re.I),
                   re.compile(r"^ACE\s+Credit\s+Recommendation\s+Period\b", re.I))


# Exhibit pages weigh about 80 KB, half of it SharePoint's inline scripts and styles, which
# are never visible text. They are cut out of the bytes before parsing, the way an HTML
# parser ends them (comments are kept: the walk below reads them as it always did).
_RAW_START = re.compile(rb"<!--|<(script|style)\b", re.I)
_RAW_END = {b"script": re.compile(rb"</script", re.I), b"style": re.compile(rb"</style", re.I)}
_UTF8_PARSER = lxml_html.HTMLParser(recover=True, encoding="utf-8")


def _without_scripts(markup: bytes) -> bytes:
    """The page without its <script> and <style> elements (their tails stay)."""
    kept: list[bytes] = []
    pos = 0
    while True:
        found = _RAW_START.search(markup, pos)
        if found is None:
            kept.append(markup[pos:])
            break
        if found.group(1) is None:  # keep comments whole, so a "<script" inside one stays text
            end = markup.find(b"-->", found.end())
            stop = len(markup) if end < 0 else end + 3
            kept.append(markup[pos:stop])
            pos = stop
            continue
        kept.append(markup[pos:found.start()])
        close = _RAW_END[found.group(1).lower()].search(markup, found.end())
        if close is None:
            break
        tag_end = markup.find(b">", close.end())
        pos = len(markup) if tag_end < 0 else tag_end + 1
    return b"".join(kept)


def _root(markup: str | bytes):
    """The parsed page without scripts; bytes are decoded as the page declares (as lxml does)."""
    if not markup:
        return lxml_html.fromstring(b"<html></html>")
    text = isinstance(markup, str)
    raw = markup.encode("utf-8") if text else markup
    stripped = _without_scripts(raw)
    if not stripped.strip() and raw.strip():  # nothing but scripts: an empty page, not a parse error
        stripped = b"<html></html>"
    return lxml_html.fromstring(stripped, parser=_UTF8_PARSER) if text else lxml_html.fromstring(stripped)


def visible_lines(markup: str | bytes) -> list[str]:
    """The page's visible text, one line per block, table cells joined by ' | '."""
    return _visible_lines(_root(markup))


def _main(root):
    main = root.find(".//main")
    return main if main is not None else root


def _visible_lines(root) -> list[str]:
    lines: list[str] = []
    current: list[str] = []
    append = current.append

    def flush():
        text = " ".join("".join(current).split())
        if text.strip(" |"):
            lines.append(text.strip(" |").strip())
        current.clear()

    def walk(element):
        tag = element.tag
        if tag.__class__ is not str:
            tag = ""
        elif tag in SKIP_TAGS or tag == "input" or element.get("hidden") is not None:
            if element.tail:
                append(element.tail)
            return
        block = tag in BLOCK_TAGS
        cell = tag in CELL_TAGS
        if block:
            flush()
        elif cell and current and "".join(current).strip():
            append(" | ")
        if element.text:
            append(element.text)
        for child in element:
            walk(child)
        if block:
            flush()
        elif cell:
            append(" ")
        if element.tail:
            append(element.tail)

    walk(_main(root))
    flush()
    return lines


def us_date(value: str | None) -> str | None:
    """M/D/YYYY as ISO YYYY-MM-DD (None for an open end)."""
    if not value or not value[0].isdigit():
        return None
    month, day, year = (int(part) for part in value.split("/"))
    return date(year, month, day).isoformat()


def _level(text: str) -> str:
    key = " ".join(text.lower().replace("–", "-").split())
    return LEVELS.get(key, LEVELS.get(key.removesuffix(" degree"), text.strip()))


def credits_in(lines: list[str]) -> list[dict]:
    """Credit rows from table lines or from sentences, in page order."""
    credits = []
    for line in lines:
        row = CREDIT_ROW.match(line)
        if row:
            credits.append({"level": _level(row.group(1)), "hours": float(row.group(2)),
                            "subject": row.group(3).strip()})
            continue
        for category in CATEGORY.finditer(line):
            for item in CREDIT_ITEM.finditer(category.group(2)):
                credits.append({"level": _level(category.group(1)), "hours": float(item.group(1)),
                                "subject": item.group(2).strip().rstrip(".,; ").strip()})
    return credits


def join_labels(lines: list[str]) -> list[str]:
    """`ACE ID` on one line and `GOOG-0003` on the next (dt/dd, stacked divs) become one line."""
    joined: list[str] = []
    for line in lines:
        if joined and LABELS.match(joined[-1]) and not LABELS.match(line):
            joined[-1] = f"{joined[-1].rstrip(':').strip()}: {line}"
        else:
            joined.append(line)
    return joined


def periods_in(lines: list[str]) -> list[dict]:
    """Each recommendation period with the credit rows that follow it."""
    starts = [(i, m) for i, line in enumerate(lines) for m in [PERIOD.search(line)] if m]
    periods = []
    for n, (index, found) in enumerate(starts):
        stop = starts[n + 1][0] if n + 1 < len(starts) else len(lines)
        block = [lines[index][found.end():]] + lines[index + 1: stop]
        periods.append({"start": us_date(found.group(1)), "end": us_date(found.group(2)),
                        "credits": credits_in(block)})
    return periods


#: Answers a worker process computed ahead for a body object (crawler.parsing.offload), used once.
PREPARSED: dict[int, tuple] = {}


def parse_exhibit(markup: str | bytes) -> dict:
    """ace_id, title and periods of an exhibit page; ExhibitParseError if it cannot be read
    (EmptyExhibitTemplate when the page is the exhibit template without values)."""
    hit = PREPARSED.pop(id(markup), None) if PREPARSED else None
    if hit is not None and hit[0] is markup:
        parsed, answer = hit[1]
        if parsed:
            return answer
        raise answer
    try:
        root = _root(markup)
    except (etree.LxmlError, ValueError) as exc:  # e.g. a body of whitespace or comments only
        raise ExhibitParseError(f"not an HTML page ({type(exc).__name__})") from None
    lines = join_labels(_visible_lines(root))
    text = "\n".join(lines)
    ace_id = ACE_ID.search(text.replace("\n", " | "))
    periods = periods_in(lines)
    title = exhibit_title(root, lines)
    if not ace_id and not periods and not title:
        if all(any(label.match(line) for line in lines) for label in TEMPLATE_LABELS):
            raise EmptyExhibitTemplate("empty exhibit template (its labels without values)")
        raise ExhibitParseError("not an exhibit page (no title, ACE ID, period or their labels)")
    missing = [label for label, value in (("ACE ID", ace_id), ("title", title),
                                          ("ACE Credit Recommendation Period", periods)) if not value]
    if missing:
        raise ExhibitParseError(f"exhibit without {', '.join(missing)}")
    if not all(period["credits"] for period in periods):
        raise ExhibitParseError("a recommendation period without readable credit rows")
    return {"ace_id": ace_id.group(1).upper(), "title": title, "periods": periods}


def exhibit_title(page, lines: list[str]) -> str:
    """The exhibit's title: its labelled 'Title' field, else the main heading.

    `page` is the parsed page (or its markup)."""
    for line in lines:
        labelled = TITLE_LABEL.match(line)
        if labelled and not END_LABELS.match(line):
            return labelled.group(1).strip()
    root = _root(page) if isinstance(page, (str, bytes)) else page
    scope = _main(root)
    headings = [" ".join(h.text_content().split()) for h in scope.iter("h1")]
    return next((h for h in headings if h), "")
