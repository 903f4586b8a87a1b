"""Metamorphic tests of the ACE exhibit parser: the same exhibit in many markups reads the same.

Every fixture exhibit is rendered here through independent markup transformations (where the
title sits, how credit rows are laid out, which element carries a label, letter case,
entities, wrappers, how a period is written, which control shows it). Each must parse to the
identical record; each has "field missing" twins (ACE ID, title, period, credit rows gone
from the page) that must be unreadable, never a guessed or partial record. A hypothesis test
combines transformations at random. The SharePoint page name "Course" always heads the page,
as on the real site, so a parser that takes the first heading fails every case.

The real text renderings in ../shared/real-pages are read at the end: what a person reads in
them (ACE ID, version, credit rows) is found; what they lack leaves the record unknown.
"""

from __future__ import annotations

import os
from html import escape
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.parsing.ace import ExhibitParseError, parse_exhibit, read_exhibit_text
from fixtures.dataset import load_catalog
from fixtures.site import TABLE_LEVEL_TEXT, credit_sentence

ROOT = Path(__file__).resolve().parent.parent
REAL_PAGES = ROOT.parent / "shared" / "real-pages"
EXHIBITS = {e["cid"]: e for day in ("day1", "day2") for e in load_catalog(day).exhibits}
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]

# One option per axis is the base; a transformation changes one axis.
BASE = {
    "title": "h1",
    "credits": "table",
    "label": "th",
    "colon": True,
    "case": "as_is",
    "nbsp": False,
    "wrap": False,
    "dates": "dash",
    "control": "text",
    "labels": "current",
    "decoys": False,
}
TRANSFORMATIONS = {
    "title in h2": {"title": "h2"},
    "title in h3": {"title": "h3"},
    "title only in <title> with a site suffix": {"title": "doc"},
    "title only in og:title": {"title": "og"},
    "title in a labelled field": {"title": "field"},
    "credits as an ARIA grid of div/span": {"credits": "aria"},
    "credits as a <dl>": {"credits": "dl"},
    "credits as a CSS grid of divs": {"credits": "grid"},
    "credits as list items": {"credits": "list"},
    "credits as sentences": {"credits": "sentence"},
    "labels in <strong>": {"label": "strong"},
    "labels in <span class>, no colon": {"label": "span", "colon": False},
    "labels in <label>": {"label": "label"},
    "labels in upper case": {"case": "upper"},
    "labels in lower case, no colon": {"case": "lower", "colon": False},
    "&nbsp; and entities": {"nbsp": True},
    "nested layout tables and wrappers": {"wrap": True},
    "period with an en dash": {"dates": "endash"},
    "period with 'to'": {"dates": "to"},
    "period with month names": {"dates": "months"},
    "period in a read-only input": {"control": "input"},
    "period in a version drop-down": {"control": "select"},
    "old labels: ACE Exam Number, Dates Offered": {"labels": "old"},
    "decoys in a comment and a hidden element": {"decoys": True},
}
FIELDS = ("ace_id", "title", "period", "credits")


def _date(us: str, style: str) -> str:
    month, day, year = us.split("/")
    return f"{MONTHS[int(month) - 1]} {day}, {year}" if style == "months" else us


def _period_text(period: dict, style: str) -> str:
    joint = {"dash": " - ", "endash": " – ", "to": " to ", "months": " - "}[style]
    return _date(period["start"], style) + joint + _date(period["end"], style)


def _label(text: str, o: dict) -> str:
    text = {"upper": text.upper(), "lower": text.lower()}.get(o["case"], text) + (":" if o["colon"] else "")
    if o["nbsp"]:
        text = text.replace(" ", "&nbsp;")
    return {
        "th": f"<th>{text}</th>",
        "strong": f"<strong>{text}</strong>",
        "span": f'<span class="lbl">{text}</span>',
        "label": f"<label>{text}</label>",
    }[o["label"]]


def _field(label: str, value: str, o: dict) -> str:
    """One label/value pair in the chosen label markup."""
    if o["label"] == "th":
        return f"<table><tr>{_label(label, o)}<td>{value}</td></tr></table>"
    return f"<div>{_label(label, o)} <span>{value}</span></div>"


def _credits(rows: list[dict], layout: str) -> str:
    cells = [(escape(TABLE_LEVEL_TEXT[r["level"]]), f"{r['hours']:g}", escape(r["subject"])) for r in rows]
    head = ("Level", "Credits (SH)", "Subject")
    if layout == "table":
        body = "".join(f"<tr><td>{a}</td><td>{b}</td><td>{c}</td></tr>" for a, b, c in cells)
        return f"<table><tr>{''.join(f'<th>{h}</th>' for h in head)}</tr>{body}</table>"
    if layout == "aria":
        row = '<div role="row">' + "{}</div>"
        body = "".join(row.format("".join(f'<span role="cell">{x}</span>' for x in c)) for c in cells)
        return (
            f'<div role="table">{row.format("".join(f"<span role=columnheader>{h}</span>" for h in head))}{body}</div>'
        )
    if layout == "dl":
        return "".join(
            f"<dl><dt>Level</dt><dd>{a}</dd><dt>Credits (SH)</dt><dd>{b}</dd><dt>Subject</dt><dd>{c}</dd></dl>"
            for a, b, c in cells
        )
    if layout == "grid":
        items = [*head, *(x for c in cells for x in c)]
        return (
            '<div style="display:grid;grid-template-columns:1fr 1fr 1fr">'
            + "".join(f"<div>{x}</div>" for x in items)
            + "</div>"
        )
    if layout == "list":
        return "<ul>" + "".join(f"<li>{a}: {b} semester hours in {c}</li>" for a, b, c in cells) + "</ul>"
    return f"<p>{escape(credit_sentence(rows))}</p>"


def render(exhibit: dict, options: dict, missing: str | None = None) -> str:
    """The exhibit in the markup `options` describe; `missing` names a field left without its value."""
    o = {**BASE, **options}
    name = "" if missing == "title" else escape(exhibit["title"])
    doc_title = f"{name} - National Guide" if o["title"] == "doc" and name else "Course - National Guide"
    og = f'<meta property="og:title" content="{name} | ACE">' if o["title"] == "og" and name else ""
    id_label, period_label = (
        ("ACE ID", "ACE Credit Recommendation Period")
        if o["labels"] == "current"
        else ("ACE Exam Number", "Dates Offered")
    )
    body = ["<h1>Course</h1>"]
    if o["title"] in ("h1", "h2", "h3") and name:
        body.append(f"<{o['title']}>{name}</{o['title']}>")
    if o["title"] == "field" and name:
        body.append(f"<table><tr><th>Course Title:</th><td>{name}</td></tr></table>")
    if o["decoys"]:
        body.append(
            '<!-- ACE ID: FAKE-0001 --><div hidden>ACE ID: FAKE-0002</div><p style="display: none">Title: Decoy</p>'
        )
    body.append(_field(id_label, "" if missing == "ace_id" else exhibit["ace_id"], o))
    body.append(_field("Length", escape(exhibit["length"]), o))
    for n, period in enumerate(exhibit["periods"]):
        text = "" if missing == "period" and n == 0 else _period_text(period, o["dates"])
        if o["control"] == "input":
            value = f'<input type="text" readonly value="{text}">'
        elif o["control"] == "select":
            value = f'<select><option value="x">{text}</option></select>'
        else:
            value = text
        body.append(_field(period_label, value, o))
        body.append("<h2>Credit Recommendation &amp; Competencies</h2>")
        if not (missing == "credits" and n == 0):
            body.append(_credits(period["credits"], o["credits"]))
    body.append("<h2>Description</h2><p>" + escape(exhibit["description"]) + "</p>")
    main = "".join(body)
    if o["wrap"]:
        main = (
            '<table class="layout"><tr><td><div><div class="ms-rte"><section>'
            f"{main}</section></div></div></td></tr></table>"
        )
    return (
        f"<!DOCTYPE html><html><head><title>{doc_title}</title>{og}</head>"
        f"<body><nav><h2>Menu</h2></nav>{main}</body></html>"
    )


def expected(exhibit: dict) -> dict:
    def iso(us):
        month, day, year = (int(p) for p in us.split("/"))
        return f"{year:04d}-{month:02d}-{day:02d}"

    return {
        "ace_id": exhibit["ace_id"],
        "title": exhibit["title"],
        "version": None,  # these pages name none
        "periods": [
            {
                "start": iso(p["start"]),
                "end": iso(p["end"]),
                "credits": [
                    {"level": r["level"], "hours": float(r["hours"]), "subject": r["subject"]} for r in p["credits"]
                ],
            }
            for p in exhibit["periods"]
        ],
    }


def _same(parsed: dict, exhibit: dict) -> bool:
    """Identical record; subjects compared without letter case (a sentence may lower-case them)."""

    def norm(record):
        return {
            **record,
            "periods": [
                {**p, "credits": sorted((c["level"], c["hours"], c["subject"].lower()) for c in p["credits"])}
                for p in record["periods"]
            ],
        }

    return norm(parsed) == norm(expected(exhibit))


def test_there_are_at_least_twelve_transformations():
    assert len(TRANSFORMATIONS) >= 12


@pytest.mark.parametrize("name", list(TRANSFORMATIONS))
def test_every_exhibit_reads_the_same_in_every_markup(name):
    for exhibit in EXHIBITS.values():
        parsed = parse_exhibit(render(exhibit, TRANSFORMATIONS[name]))
        assert _same(parsed, exhibit), (exhibit["ace_id"], parsed)


@pytest.mark.parametrize("name", list(TRANSFORMATIONS))
@pytest.mark.parametrize("missing", FIELDS)
def test_a_missing_field_is_unreadable_never_guessed(name, missing):
    for exhibit in EXHIBITS.values():
        with pytest.raises(ExhibitParseError):
            parse_exhibit(render(exhibit, TRANSFORMATIONS[name], missing=missing))


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(sorted(EXHIBITS)),
    st.lists(st.sampled_from(sorted(TRANSFORMATIONS)), max_size=6),
    st.sampled_from((None, *FIELDS)),
)
def test_transformations_combined_at_random(cid, names, missing):
    options = {}
    for name in names:
        options.update(TRANSFORMATIONS[name])
    page = render(EXHIBITS[cid], options, missing=missing)
    if missing:
        with pytest.raises(ExhibitParseError):
            parse_exhibit(page)
    else:
        assert _same(parse_exhibit(page), EXHIBITS[cid])


def test_a_table_and_a_sentence_that_disagree_are_unknown():
    exhibit = next(e for e in EXHIBITS.values() if len(e["periods"]) == 1)
    page = render(exhibit, {})
    wrong = [dict(r, hours=r["hours"] + 1) for r in exhibit["periods"][0]["credits"]]
    page = page.replace("<h2>Description</h2>", f"<p>{escape(credit_sentence(wrong))}</p><h2>Description</h2>")
    with pytest.raises(ExhibitParseError, match="disagree"):
        parse_exhibit(page)


# --------------------------------------------------------------------------- the real renderings


def _real(name: str) -> str:
    path = REAL_PAGES / name
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"real page copy missing in CI: {path}")
        pytest.skip(f"real page copies not found at {path}")
    return path.read_text()


LD, UD = "Lower-Division Baccalaureate/Associate Degree", "Upper-Division Baccalaureate Degree"


@pytest.mark.parametrize(
    "name, ace_id, version, rows",
    [
        ("ace-dli-0282-v2.pages.txt", "DLI-0282", 2, [(LD, 6.0, "respective target language")]),
        ("ace-dli-0286.pages.txt", "DLI-0286", None, [(UD, 4.0, "Foreign Language"), (LD, 4.0, "Foreign Language")]),
        ("ace-dli-1284306f-old-layout.pages.txt", None, None, [(UD, 4.0, "Foreign Language")]),
    ],
)
def test_real_renderings_give_what_a_person_reads_and_nothing_else(name, ace_id, version, rows):
    reading = read_exhibit_text(_real(name))
    assert (reading.ace_id, reading.version) == (ace_id, version)
    assert [(r["level"], r["hours"], r["subject"]) for r in reading.credits] == rows
    assert reading.title is None and reading.periods == []  # never "Course", never a made-up period
    with pytest.raises(ExhibitParseError) as unreadable:
        reading.record()
    assert "title" in str(unreadable.value) and "Period" in str(unreadable.value)


def test_the_old_layouts_contradicting_sentence_is_named():
    reading = read_exhibit_text(_real("ace-dli-1284306f-old-layout.pages.txt"))
    assert any("disagree" in problem for problem in reading.problems)
