"""Reading an ACE National Guide exhibit the way a person reads it.

The real site's element ids and classes are unknown (and the three layouts seen
so far differ in their labels), so nothing here depends on markup. The page is
flattened into the lines a reader sees: blocks and table/ARIA rows are lines,
cells are joined by " | ", form controls show their value (a read-only input) or
their chosen option (a drop-down), hidden things and comments show nothing. The
fields are then found next to their visible labels, whatever element carries
them and in any letter case:

* ACE ID: "ACE ID" or "ACE Exam Number" (old layout);
* period: "ACE Credit Recommendation Period" or "Dates Offered" (older layouts),
  written M/D/YYYY, with month names or ISO dates, joined by "-", a dash or "to";
* version: "Version";
* credit rows: one line (table, ARIA grid, list item), stacked cells (CSS grid,
  <dl>) or sentences ("In the ... category, 3 semester hours in ...");
* title: a labelled field, else the first heading that is not a page or section
  name (SharePoint titles every exhibit page "Course"), else og:title, else the
  document title without its site suffix.

A value that cannot be found makes the page unreadable (ExhibitParseError with
the reason), never a guessed or partial record: a period label without dates, a
credit table that contradicts the credit sentence, two different ACE IDs.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import date
from itertools import accumulate

from lxml import etree
from lxml import html as lxml_html

BLOCK_TAGS = frozenset(
    {
        "p",
        "div",
        "li",
        "dt",
        "dd",
        "tr",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "section",
        "article",
        "table",
        "thead",
        "tbody",
        "tfoot",
        "ul",
        "ol",
        "dl",
        "br",
        "header",
        "footer",
        "main",
        "aside",
        "caption",
        "nav",
        "form",
        "fieldset",
        "legend",
        "figure",
        "figcaption",
        "blockquote",
        "pre",
        "address",
        "hr",
        "details",
        "summary",
    }
)
CELL_TAGS = frozenset({"td", "th", "label"})
CONTROL_TAGS = frozenset({"input", "select"})
SKIP_TAGS = frozenset({"script", "style", "noscript", "template", "svg", "head", "option", "datalist", "button"})
HEADING_TAGS = frozenset({"h1", "h2", "h3"})
CHROME_TAGS = frozenset({"nav", "footer", "aside"})
ROLE_BLOCKS = frozenset({"row", "heading", "table", "grid", "rowgroup", "list", "listitem", "group", "region"})
ROLE_CELLS = frozenset({"cell", "gridcell", "columnheader", "rowheader"})
CHROME_ROLES = frozenset({"navigation", "banner", "contentinfo", "search", "complementary"})
UNREAD_INPUTS = frozenset({"hidden", "submit", "button", "image", "reset", "checkbox", "radio", "password", "file"})

ID_LABEL = r"ACE\s*ID|ACE\s+Exam\s+Number"
PERIOD_LABEL = r"ACE\s+Credit\s+Recommendation\s+Period|Dates\s+Offered"

_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_DATE = (
    r"\d{1,2}/\d{1,2}/\d{4}|\d{4}-\d{1,2}-\d{1,2}|" + _MONTH + r"\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}|"
    r"\d{1,2}\s+" + _MONTH + r",?\s+\d{4}"
)
DATE_RANGE = re.compile(r"(" + _DATE + r")\s*(?:-|–|—|‒|to|through|until)\s*(" + _DATE + r"|present|current)\b", re.I)
ANY_DATE = re.compile(_DATE, re.I)
MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)

LEVELS = {
    "vocational certificate": "Vocational Certificate",
    "lower-division baccalaureate/associate degree": "Lower-Division Baccalaureate/Associate Degree",
    "lower-division baccalaureate/associate": "Lower-Division Baccalaureate/Associate Degree",
    "lower-division baccalaureate": "Lower-Division Baccalaureate/Associate Degree",
    "lower-division baccalaureate degree": "Lower-Division Baccalaureate/Associate Degree",
    "upper-division baccalaureate degree": "Upper-Division Baccalaureate Degree",
    "upper-division baccalaureate": "Upper-Division Baccalaureate Degree",
    "graduate degree": "Graduate Degree",
    "graduate": "Graduate Degree",
}
LEVEL_WORDS = (
    r"(vocational certificate|lower[- ]division baccalaureate(?:/associate)?(?: degree)?|"
    r"upper[- ]division baccalaureate(?: degree)?|graduate(?: degree)?)"
)
_SEP = r"\s*[|:,–—-]?\s*"
CREDIT_ROW = re.compile(
    r"^" + LEVEL_WORDS + _SEP + r"(\d+(?:\.\d+)?)\s*(?:semester hours?|SH|credits?)?" + _SEP + r"(?:in\s+)?(\S.*?)\s*$",
    re.I,
)
LEVEL_ALONE = re.compile(r"^" + LEVEL_WORDS + r"$", re.I)
HOURS_ALONE = re.compile(r"^(\d+(?:\.\d+)?)(?:\s*(?:semester hours?|SH|credits?))?$", re.I)
COLUMN_LABEL = re.compile(
    r"^(?:(?:credit\s+)?level|credits?(?:\s*\(SH\))?|semester\s+hours|hours|subject)"
    r"\s*(?::\s*|$)",
    re.I,
)
CATEGORY = re.compile(
    r"in the " + LEVEL_WORDS + r" categor(?:y|ies),?\s*(.+?)"
    r"(?=,?\s*(?:and|or)\s+in the |\.\s+[A-Z]|\.?\s*$)",
    re.I,
)
CREDIT_ITEM = re.compile(
    r"(\d+(?:\.\d+)?)\s+semester hours?\s+in\s+(.+?)"
    r"(?=,?\s*(?:and\s+)?\d+(?:\.\d+)?\s+semester hours?\s+in\s|$)",
    re.I,
)

# Labels whose value may stand on the next line (dt/dd, stacked divs, a text rendering).
LABELS = re.compile(
    r"^(ACE\s*ID|ACE\s+Exam\s+Number|ACE\s+Credit\s+Recommendation\s+Period|Dates\s+Offered|Version|"
    r"Organization|(?:Course\s+|Exhibit\s+|Exam\s+)?Title|Course\s+Name|Length|Location|Credit\s+Type)"
    r"\s*:?$",
    re.I,
)
# Page names, section headings and labels: what a heading or document title shows when it is not the name.
NOT_A_NAME = frozenset(
    {
        "course",
        "courses",
        "course summary",
        "course exhibit",
        "exhibit",
        "exam",
        "national guide",
        "ace national guide",
        "the national guide",
        "credit recommendation",
        "credit recommendations",
        "credit recommendation & competencies",
        "credit recommendation and competencies",
        "competencies",
        "recommendations",
        "description",
        "course description",
        "objective",
        "objectives",
        "skills measured",
        "learning outcomes",
        "instruction",
        "assessment",
        "assessment methods",
        "details",
        "summary",
        "versions",
        "version history",
        "organization",
        "about",
        "dates offered",
        "credit type",
        "ace id",
        "ace exam number",
        "ace credit recommendation period",
        "location",
        "length",
        "version",
        "error",
        "home",
        "search",
        "sign in",
        "american council on education",
        "ace",
        "page not found",
        "not found",
    }
)
SITE_SUFFIX = re.compile(
    r"\s+[-|–—:·•]\s+(?:(?:the\s+)?ace\s+)?(?:national\s+guide|american\s+council\s+on\s+education"
    r"|acenet(?:\.edu)?|ace|sharepoint)\s*$",
    re.I,
)


class ExhibitParseError(ValueError):
    """The page is not a readable exhibit (layout changed, truncated, empty template)."""


class EmptyExhibitTemplate(ExhibitParseError):
    """The exhibit page's labels with no values: what ACE serves for an exhibit it does not have.

    Only this confirms a loss; an empty body, a cut page or another page is a plain
    ExhibitParseError (unreadable), never taken for the template.
    """


# Exhibit pages weigh about 80 KB, half of it SharePoint's inline scripts and styles, which
# are never visible text. They are cut out of the bytes before parsing, the way an HTML
# parser ends them (comments are kept whole, so a "<script" inside one is not cut).
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
        if found.group(1) is None:  # keep comments whole, so a "<script" inside one stays a comment
            end = markup.find(b"-->", found.end())
            stop = len(markup) if end < 0 else end + 3
            kept.append(markup[pos:stop])
            pos = stop
            continue
        kept.append(markup[pos : found.start()])
        close = _RAW_END[found.group(1).lower()].search(markup, found.end())
        if close is None:
            break
        tag_end = markup.find(b">", close.end())
        pos = len(markup) if tag_end < 0 else tag_end + 1
    return b"".join(kept)


# Whether a page marks anything hidden or gives elements ARIA roles at all: most pages do
# neither in their content, and then the walk skips three attribute lookups an element.
_HIDING = (re.compile(rb"display\s*:\s*none"), re.compile(rb"hidden[\s/>=]"))


@dataclass(frozen=True)
class _Page:
    root: object
    hiding: bool = True
    roles: bool = True


def _root(markup: str | bytes) -> _Page:
    """The parsed page without scripts; bytes are decoded as the page declares (as lxml does)."""
    if not markup:
        return _Page(lxml_html.fromstring(b"<html></html>"))
    text = isinstance(markup, str)
    raw = markup.encode("utf-8") if text else markup
    stripped = _without_scripts(raw)
    if not stripped.strip() and raw.strip():  # nothing but scripts: an empty page, not a parse error
        stripped = b"<html></html>"
    root = lxml_html.fromstring(stripped, parser=_UTF8_PARSER) if text else lxml_html.fromstring(stripped)
    low = stripped.lower()
    return _Page(root, any(pattern.search(low) for pattern in _HIDING), b"role" in low)


def _main(root):
    main = root.find(".//main")
    return main if main is not None else root


def _control_text(element, tag: str) -> str:
    """What a form control shows: an input's value, a drop-down's chosen (else first) option."""
    if tag == "input":
        return "" if (element.get("type") or "text").lower() in UNREAD_INPUTS else element.get("value") or ""
    options = element.findall(".//option")
    chosen = next((o for o in options if o.get("selected") is not None), options[0] if options else None)
    return "" if chosen is None else chosen.text_content()


def _hidden(element) -> bool:
    """Hidden from every reader: the `hidden` attribute or an inline display:none."""
    if element.get("hidden") is not None:
        return True
    style = element.get("style")
    return bool(style) and "none" in style and re.search(r"display\s*:\s*none", style, re.I) is not None


def _walk_page(page: _Page) -> tuple[list[str], list[str]]:
    """The visible lines of the page's main content, and its h1-h3 headings outside the site chrome."""
    lines: list[str] = []
    headings: list[str] = []
    current: list[str] = []
    append = current.append
    hiding, roles = page.hiding, page.roles

    def flush():
        text = " ".join("".join(current).split())
        if text.strip(" |"):
            lines.append(text.strip(" |").strip())
        current.clear()

    def walk(element, chrome):
        tag = element.tag
        if tag.__class__ is not str or tag in SKIP_TAGS or (hiding and _hidden(element)):
            if element.tail:  # comments, scripts, hidden elements: nothing a browser shows
                append(element.tail)
            return
        if tag in CONTROL_TAGS:
            append(" " + _control_text(element, tag) + " ")
            if element.tail:
                append(element.tail)
            return
        role = element.get("role") if roles else None
        block = tag in BLOCK_TAGS or role in ROLE_BLOCKS
        cell = tag in CELL_TAGS or role in ROLE_CELLS
        heading = (tag in HEADING_TAGS or role == "heading") and not chrome
        if tag in CHROME_TAGS or role in CHROME_ROLES:
            chrome = True
        if block:
            flush()
        elif cell and current and "".join(current).strip():
            append(" | ")
        start = len(lines)
        if element.text:
            append(element.text)
        for child in element:
            walk(child, chrome)
        if block:
            flush()
        elif cell:
            append(" ")
        if heading and len(lines) > start:
            headings.append(" ".join(lines[start:]))
        if element.tail:
            append(element.tail)

    walk(_main(page.root), False)
    flush()
    return lines, headings


def text_lines(text: str) -> list[str]:
    """The lines of a plain-text rendering of a page (what a person copies out of a browser)."""
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


def parse_date(value: str | None) -> str | None:
    """M/D/YYYY, 'October 1, 2024', '1 Oct 2024' or ISO as YYYY-MM-DD (None for an open end).

    ValueError for a date that does not exist (13/1/2024, February 30)."""
    if not value or not value[0].isalnum() or value.lower() in ("present", "current"):
        return None
    if "/" in value:
        month, day, year = (int(part) for part in value.split("/"))
        return date(year, month, day).isoformat()
    if value[:4].isdigit() and "-" in value:
        year, month, day = (int(part) for part in value.split("-"))
        return date(year, month, day).isoformat()
    words = re.findall(r"[a-z]+|\d+", value.lower())
    name = next(w for w in words if w.isalpha() and w not in ("st", "nd", "rd", "th"))
    month = next((n for n, full in enumerate(MONTHS, 1) if full.startswith(name) and len(name) >= 3), None)
    if month is None:
        raise ValueError(f"no month {name!r}")
    numbers = [int(w) for w in words if w.isdigit()]
    day, year = (numbers[0], numbers[1]) if numbers[1] > 31 else (numbers[1], numbers[0])
    return date(year, month, day).isoformat()


us_date = parse_date  # the former name


def _level(text: str) -> str:
    key = " ".join(text.lower().replace("–", "-").replace(" division", "-division").split())
    return LEVELS.get(key, LEVELS.get(key.removesuffix(" degree"), text.strip()))


def _row(level: str, hours: str, subject: str) -> dict:
    return {"level": _level(level), "hours": float(hours), "subject": subject.strip().rstrip(".,;").strip()}


def table_rows(lines: list[str], hints=None) -> list[dict]:
    """Credit rows laid out as rows: one line each (table, ARIA grid, list item, text rendering),
    or one cell a line (CSS grid, <dl>, stacked divs), column labels ignored.

    `hints`: the indexes of the lines that name a credit level (computed once a page)."""
    rows, skip = [], -1
    for i in range(len(lines)) if hints is None else hints:
        if i <= skip:
            continue
        line = COLUMN_LABEL.sub("", lines[i], count=1)
        found = CREDIT_ROW.match(line)
        if found:
            rows.append(_row(*found.groups()))
        elif LEVEL_ALONE.match(line):
            cells = [
                (j, cell)
                for j in range(i + 1, min(i + 6, len(lines)))
                for cell in [COLUMN_LABEL.sub("", lines[j], count=1)]
                if cell
            ][:2]
            if (
                len(cells) == 2
                and HOURS_ALONE.match(cells[0][1])
                and not LEVEL_ALONE.match(cells[1][1])
                and not LABELS.match(cells[1][1])
            ):
                rows.append(_row(line, HOURS_ALONE.match(cells[0][1]).group(1), cells[1][1]))
                skip = cells[1][0]
    return rows


def sentence_rows(lines: list[str], hints=None) -> list[dict]:
    """Credit stated as sentences: 'In the X category, 3 semester hours in a and 3 ... in b.'"""
    rows = []
    for i in range(len(lines)) if hints is None else hints:
        line = lines[i]
        if CREDIT_ROW.match(line):
            continue
        for category in CATEGORY.finditer(line):
            for item in CREDIT_ITEM.finditer(category.group(2)):
                rows.append(_row(category.group(1), item.group(1), item.group(2)))
    return rows


def credits_in(lines: list[str]) -> list[dict]:
    """Credit rows from table lines or from sentences, in page order (no agreement check)."""
    return table_rows(lines) or sentence_rows(lines)


def _row_key(rows: list[dict]) -> list[tuple]:
    return sorted((r["level"], r["hours"], " ".join(r["subject"].lower().split())) for r in rows)


def join_labels(lines: list[str]) -> list[str]:
    """`ACE ID` on one line and `GOOG-0003` on the next (dt/dd, stacked divs) become one line."""
    joined: list[str] = []
    label = False
    for line in lines:
        is_label = len(line) < 40 and LABELS.match(line) is not None
        if label and not is_label and not _section(line) and not CREDIT_ROW.match(line) and not LEVEL_ALONE.match(line):
            joined[-1] = f"{joined[-1].rstrip(':').strip()}: {line}"
            label = False
        else:
            joined.append(line)
            label = is_label
    return joined


def _key(text: str) -> str:
    return " ".join(text.lower().replace("&amp;", "&").strip(" :|").split())


def _section(line: str) -> bool:
    """A section heading or column header line, never a field's value."""
    key = _key(line)
    return key in NOT_A_NAME or key.startswith("level |") or key.startswith("level credits")


def name_or_none(text: str | None) -> str | None:
    """`text` if a reader would take it for the exhibit's name (not a page name, section or label)."""
    if not text:
        return None
    name = " ".join(text.split())
    while SITE_SUFFIX.search(name):
        name = SITE_SUFFIX.sub("", name)
    if (
        not name
        or name.endswith(":")
        or _key(name) in NOT_A_NAME
        or LABELS.match(name)
        or len(name) > 300
        or not any(ch.isalpha() for ch in name)
    ):
        return None
    return name


@dataclass
class ExhibitReading:
    """Everything a reader could make out of one exhibit page, and what stops it being a record."""

    ace_id: str | None = None
    title: str | None = None
    version: int | None = None
    periods: list[dict] = field(default_factory=list)
    credits: list[dict] = field(default_factory=list)  # every credit row on the page, in page order
    problems: list[str] = field(default_factory=list)
    text: str = ""  # the page's joined visible lines, for the template check

    def record(self) -> dict:
        """ace_id, title, version and periods; ExhibitParseError if any but the version cannot be read
        (the old layout names no version: None)."""
        if not (self.ace_id or self.periods or self.title or self.credits):
            if TEMPLATE_ID.search(self.text) and TEMPLATE_PERIOD.search(self.text):
                raise EmptyExhibitTemplate("empty exhibit template (its labels without values)")
            raise ExhibitParseError("not an exhibit page (no title, ACE ID, period or their labels)")
        missing = [
            label
            for label, value in (
                ("ACE ID", self.ace_id),
                ("title", self.title),
                ("ACE Credit Recommendation Period", self.periods),
            )
            if not value
        ]
        problems = ([f"exhibit without {', '.join(missing)}"] if missing else []) + self.problems
        if problems:
            raise ExhibitParseError("; ".join(problems))
        return {"ace_id": self.ace_id, "title": self.title, "version": self.version, "periods": self.periods}


# Found over the page's lower-cased text at once, not line by line: patterns that start with a
# literal and no IGNORECASE let the regex engine skip ahead (5-10x faster on a page's 2 KB).
TEMPLATE_ID = re.compile(r"^(?:" + ID_LABEL + r")\s*:?$", re.I | re.M)
TEMPLATE_PERIOD = re.compile(r"^(?:" + PERIOD_LABEL + r")\b", re.I | re.M)
LOW_ID = re.compile(r"ace(?:\s*id|\s+exam\s+number)\b\s*[:|]?\s*\|?\s*:?\s*([a-z][a-z0-9]{1,9}-\d{3,5})\b")
LOW_PERIODS = (
    re.compile(r"ace\s+credit\s+recommendation\s+period\b[ \t]*:?"),
    re.compile(r"dates\s+offered\b[ \t]*:?"),
)
# The number ends the value ("Version: 2", "Version | 2", a drop-down's "Version 2: 10/1/2024 - ..."):
# "Version 2 of the program ..." in a description is prose, not the label.
LOW_VERSION = re.compile(r"version[ \t]*:?[ \t]*\|?[ \t]*(\d+)(?:\.0)?(?=[ \t]*(?:$|[|:]))", re.MULTILINE)
VERSION_ALONE = re.compile(r"^Version[ \t]*:?[ \t]*(?:\|[ \t]*)?$", re.I | re.M)
LEVEL_HINTS = ("division", "graduate", "vocational")
TITLE_LINES = re.compile(
    r"^(?:(?:course|exhibit|exam)[ \t]+)?(?:title|name)[ \t]*[:|][ \t]*\|?[ \t]*(\S.*)$", re.I | re.M
)


class _Lines:
    """A page's joined lines with their text, to find labels in one regex pass."""

    def __init__(self, lines: list[str]):
        self.lines = lines
        self.text = "\n".join(lines)
        low = self.text.lower()
        self.low = low if len(low) == len(self.text) else "".join(ch.lower()[0] for ch in self.text)
        self.starts = list(accumulate((len(line) + 1 for line in lines[:-1]), initial=0))
        self.level_lines = sorted({self.line_of(at) for word in LEVEL_HINTS for at in self.find_all(word)})

    def find_all(self, word: str):
        """Offsets of `word` in the lower-cased text."""
        at = self.low.find(word)
        while at >= 0:
            yield at
            at = self.low.find(word, at + 1)

    def after(self, position: int, marks: str) -> bool:
        """True if only blanks stand between `position` and a line start or one of `marks` before it."""
        low = self.low
        while position > 0 and low[position - 1] in " \t":
            position -= 1
        return position == 0 or low[position - 1] == "\n" or low[position - 1] in marks

    def word_start(self, position: int) -> bool:
        return position == 0 or not self.low[position - 1].isalnum()

    def line_of(self, position: int) -> int:
        return bisect_right(self.starts, position) - 1

    def hints(self, start: int, stop: int) -> list[int]:
        """The lines in [start, stop) that name a credit level."""
        return self.level_lines[bisect_left(self.level_lines, start) : bisect_left(self.level_lines, stop)]


def _read_id(page: _Lines, reading: ExhibitReading) -> None:
    found = {m.group(1).upper() for m in LOW_ID.finditer(page.low.replace("\n", "|")) if page.word_start(m.start())}
    if len(found) > 1:
        reading.problems.append(f"different ACE IDs on one page ({', '.join(sorted(found))})")
    elif found:
        reading.ace_id = found.pop()


def _read_version(page: _Lines, reading: ExhibitReading) -> None:
    found = {int(m.group(1)) for m in LOW_VERSION.finditer(page.low) if page.after(m.start(), "|:")}
    if len(found) > 1:
        reading.problems.append(f"different versions on one page ({', '.join(map(str, sorted(found)))})")
    elif found:
        reading.version = found.pop()
    elif "version" in page.low and VERSION_ALONE.search(page.text):
        reading.problems.append("Version without a number")


def _read_periods(page: _Lines, reading: ExhibitReading) -> None:
    """Each period label opens a block holding the credit rows that follow it."""
    lines = page.lines
    found = sorted(
        (m.start(), m.end())
        for pattern in LOW_PERIODS
        for m in pattern.finditer(page.low)
        if page.after(m.start(), "|")
    )
    starts = [(page.line_of(start), end - page.starts[page.line_of(start)]) for start, end in found]
    first = starts[0][0] if starts else len(lines)
    before = table_rows(lines, page.hints(0, first)) or sentence_rows(lines, page.hints(0, first))
    if before:
        reading.problems.append("credit rows outside any recommendation period")
        reading.credits += before
    for n, (index, end) in enumerate(starts):
        stop = starts[n + 1][0] if n + 1 < len(starts) else len(lines)
        value = lines[index][end:]
        block = [value] + lines[index + 1 : stop]
        hints = [i - index for i in page.hints(index, stop)]
        credits = _block_credits(block, hints, reading)
        reading.credits += credits
        dates = DATE_RANGE.search(value)
        if dates is None:
            reading.problems.append(
                "ACE Credit Recommendation Period without its dates"
                if not ANY_DATE.search(value)
                else "a recommendation period without its end"
            )
            continue
        try:
            start, end_ = parse_date(dates.group(1)), parse_date(dates.group(2))
        except (ValueError, StopIteration, IndexError):
            reading.problems.append(f"a recommendation period with an impossible date ({dates.group(0)})")
            continue
        if not credits:
            reading.problems.append("a recommendation period without readable credit rows")
        reading.periods.append({"start": start, "end": end_, "credits": credits})


def _block_credits(block: list[str], hints: list[int], reading: ExhibitReading) -> list[dict]:
    """The block's credit rows; a table and a sentence that disagree make the page unreadable."""
    rows, said = table_rows(block, hints), sentence_rows(block, hints)
    if rows and said and _row_key(rows) != _row_key(said):
        reading.problems.append(
            "the credit table and the credit sentence disagree ("
            + "; ".join(f"{r['level']} {r['hours']:g} {r['subject']}" for r in rows)
            + " vs "
            + "; ".join(f"{r['level']} {r['hours']:g} {r['subject']}" for r in said)
            + ")"
        )
    return rows or said


def _read_title(page: _Lines, headings: list[str], fallbacks) -> str | None:
    """A labelled title, else the first heading that names the exhibit, else og:title or <title>."""
    for labelled in TITLE_LINES.findall(page.text) if "title" in page.low or "name" in page.low else ():
        if name_or_none(labelled):
            return name_or_none(labelled)
    for heading in headings:
        if name_or_none(heading):
            return name_or_none(heading)
    for text in fallbacks():
        if name_or_none(text):
            return name_or_none(text)
    return None


def _page_titles(root):
    """og:title, then the document <title>: where a browser shows a name the body does not."""

    def titles() -> list[str]:
        found = root.xpath("//meta[@property='og:title' or @name='og:title']/@content")
        title = root.find(".//title")
        return [*found, *([title.text_content()] if title is not None else [])]

    return titles


def read_lines(lines: list[str], headings: list[str] = (), fallback_titles=lambda: ()) -> ExhibitReading:
    """Read an exhibit out of its visible lines (a parsed page or a plain-text rendering)."""
    page = _Lines(join_labels(lines))
    reading = ExhibitReading(text=page.text)
    _read_id(page, reading)
    _read_version(page, reading)
    _read_periods(page, reading)
    reading.title = _read_title(page, list(headings), fallback_titles)
    return reading


def read_exhibit(markup: str | bytes) -> ExhibitReading:
    """What a reader makes of an exhibit page (ExhibitParseError only if it is not HTML at all)."""
    try:
        page = _root(markup)
    except (etree.LxmlError, ValueError) as exc:  # e.g. a body of whitespace or comments only
        raise ExhibitParseError(f"not an HTML page ({type(exc).__name__})") from None
    lines, headings = _walk_page(page)
    return read_lines(lines, headings, _page_titles(page.root))


def read_exhibit_text(text: str) -> ExhibitReading:
    """What a reader makes of a plain-text rendering of an exhibit (no headings, no document title)."""
    return read_lines(text_lines(text))


#: Answers a worker process computed ahead for a body object (crawler.parsing.offload), used once.
PREPARSED: dict[int, tuple] = {}


def parse_exhibit(markup: str | bytes) -> dict:
    """ace_id, title, version and periods of an exhibit page; ExhibitParseError if it cannot be read
    (EmptyExhibitTemplate when the page is the exhibit template without values)."""
    hit = PREPARSED.pop(id(markup), None) if PREPARSED else None
    if hit is not None and hit[0] is markup:
        parsed, answer = hit[1]
        if parsed:
            return answer
        raise answer
    return read_exhibit(markup).record()
