"""Bad input: random names, HTML and JSON never crash acewatch with anything undocumented.

Property-based (hypothesis, derandomized so CI sees the same examples every run):

* `monitor.names.compare` and `acewatch.check.check` take any text: a Comparison / an
  answer, or ValueError (CheckInputError is one) for input that cannot be a name;
* `crawler.parsing.ace.parse_exhibit` raises only ExhibitParseError,
  `parse_api_page` only ApiPageError, `parse_program_page` only ValueError;
* through the spiders' callbacks a page they cannot read is an `unknown` item, never a
  missing record (which the diff would read as "lost ACE status" / "removed").
"""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scrapy.exceptions import CloseSpider
from scrapy.http import HtmlResponse, Request, TextResponse
from scrapy.utils.test import get_crawler

from acewatch.check import CheckInputError, check
from crawler.items import AceExhibitItem, CourseraProgramItem
from crawler.parsing.ace import ExhibitParseError, parse_exhibit
from crawler.parsing.coursera import ApiPageError, parse_api_page, parse_program_page
from crawler.removal import Page, page_kind
from crawler.spiders.ace import AceSpider
from crawler.spiders.coursera import CourseraSpider
from fixtures.dataset import load_catalog
from fixtures.routes import route
from fixtures.site import program_path
from monitor.names import Comparison, compare
from tests.support import acewatch

FAST = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=150,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# --------------------------------------------------------------------------- text

NAMEISH = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=80) | st.sampled_from(
    [
        "",
        " ",
        "\u00ad",
        "\u200b",
        "®",
        "™",
        "&",
        "-",
        "—",
        "(v.2)",
        "Professional Certificate",
        "Google",
        "Meta Front-End Developer Professional Certificate",
        "شهادة جوجل",
        "\u202eevil\u202c",
        "\x1b[2J",
        "İstanbul ǅ ß ﬁ",
        "a" * 400,
        "Google " * 60,
        "1/1/2020",
        "<script>",
        "]]>",
        "\x00",
    ]
)
NAMES = st.lists(NAMEISH, min_size=1, max_size=3).map(" ".join)


@FAST
@given(NAMES, NAMES, st.none() | NAMES, st.none() | NAMES)
def test_compare_answers_any_text_or_refuses_empty(query, ace_name, query_org, ace_org):
    try:
        result = compare(query, ace_name, query_org=query_org, ace_org=ace_org)
    except ValueError:
        return
    assert isinstance(result, Comparison)
    assert result.verdict in ("exact", "equivalent", "near", "none")
    assert 0 <= result.score <= 100
    if query == ace_name and query_org == ace_org:  # another organization's name is never `exact`
        assert result.verdict == "exact"


@pytest.fixture(scope="module")
def reader(reliability_env):
    from store.reader import StoreReader

    reader = StoreReader(f"sqlite:///{reliability_env.baseline}")
    yield reader
    reader.close()


@settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=120,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    name=NAMES
    | st.sampled_from(
        [
            "google-it-support",
            "https://www.coursera.org/specializations/x",
            "http://127.0.0.1/professional-certificates/google-it-support",
            "https://www.coursera.org/professional-certificates/",
            "-",
        ]
    )
)
def test_check_answers_any_name_or_refuses_it_in_one_line(reader, name):
    try:
        answer = check(name, reader)
    except CheckInputError as exc:
        message = str(exc)
        assert message and "\n" not in message and "Traceback" not in message
        return
    assert answer["exit_code"] in (0, 1, 3, 4, 5)
    assert answer["verdict"] in ("exact", "equivalent", "near", "none")
    json.dumps(answer, default=str)  # --json can always print it


# --------------------------------------------------------------------------- HTML

TAGS = [
    "p",
    "div",
    "td",
    "th",
    "tr",
    "table",
    "tbody",
    "dt",
    "dd",
    "dl",
    "h1",
    "h2",
    "h3",
    "li",
    "ul",
    "main",
    "span",
    "section",
    "strong",
    "br",
    "script",
    "style",
    "input",
    "a",
    "svg",
    "template",
    "html",
    "body",
]
FRAGMENTS = [
    "ACE ID",
    "ACE ID:",
    "ACE ID: GOOG-0001",
    "IBM-0014",
    "ACE Credit Recommendation Period",
    "ACE Credit Recommendation Period:",
    "11/1/2024 - 10/31/2034",
    "2/30/2021 - 1/1/2030",
    "13/45/2020 - present",
    "1/1/2020 to current",
    "0/0/0000",
    "Title",
    "Course Title:",
    "Organization",
    "Length",
    "Location",
    "Description",
    "Credit Recommendations",
    "Level",
    "Semester Hours",
    "Subject",
    "Lower-Division Baccalaureate",
    "Graduate Degree",
    "Vocational Certificate",
    "3",
    "0.5",
    "9" * 400,
    "1e309",
    "In the lower-division baccalaureate/associate degree category, 3 semester hours "
    "in data analytics, and in the graduate degree category, 9" + "9" * 350 + " semester hours in x.",
    " | ",
    "<!--",
    "-->",
    "<![CDATA[",
    "]]>",
    "&amp;",
    "&#0;",
    "&#xD800;",
    "\x00",
    "\x1b[2J",
    "\u202e",
    "<?xml version='1.0' encoding='latin-1'?>",
    "<html",
    "</",
    "<",
    ">",
    '"',
    "'",
]


@st.composite
def html_documents(draw) -> str:
    """Nested tags around label-like and value-like text: reaches the label logic, not just the tokenizer."""

    def element(depth: int) -> str:
        if depth > 4 or draw(st.booleans()):
            return draw(st.sampled_from(FRAGMENTS) | st.text(max_size=20))
        tag = draw(st.sampled_from(TAGS))
        children = "".join(element(depth + 1) for _ in range(draw(st.integers(0, 4))))
        close = draw(st.sampled_from([f"</{tag}>", f"</{tag}>", "", "</div>"]))
        return f"<{tag}>{children}{close}"

    return "".join(element(0) for _ in range(draw(st.integers(0, 6))))


def _fixture_pages():
    catalog = load_catalog("day1")
    exhibit = catalog.exhibits[0]
    program = next(p for p in catalog.programs if p.get("ace_claim"))
    return (
        route("ace", catalog, "GET", f"/National-Guide/Pages/Course.aspx?cid={exhibit['cid']}").body,
        route("ace", catalog, "GET", "/National-Guide/Pages/Course.aspx?cid=none").body,
        route("coursera_site", catalog, "GET", program_path(program)).body,
    )


EXHIBIT_PAGE, TEMPLATE_PAGE, PROGRAM_PAGE = _fixture_pages()


@st.composite
def mutated(draw, page: bytes) -> bytes:
    """A real page cut, spliced or sprinkled with junk: what a flaky proxy or a redesign might serve."""
    start = draw(st.integers(0, len(page)))
    stop = draw(st.integers(start, len(page)))
    junk = draw(st.binary(max_size=40) | st.sampled_from([f.encode("utf-8", "surrogatepass") for f in FRAGMENTS]))
    how = draw(st.sampled_from(["cut", "drop", "insert", "tail"]))
    if how == "cut":
        return page[:start]
    if how == "drop":
        return page[:start] + page[stop:]
    if how == "insert":
        return page[:start] + junk + page[start:]
    return page[start:]


HTMLISH = (
    html_documents()
    | st.text(max_size=300)
    | st.binary(max_size=300)
    | mutated(EXHIBIT_PAGE)
    | mutated(TEMPLATE_PAGE)
    | mutated(PROGRAM_PAGE)
)


@FAST
@given(HTMLISH)
def test_parse_exhibit_raises_only_exhibit_parse_error(markup):
    try:
        fields = parse_exhibit(markup)
    except ExhibitParseError:
        return
    assert fields["ace_id"] and fields["title"] and fields["periods"]
    for period in fields["periods"]:
        assert period["credits"]
        assert all(math.isfinite(row["hours"]) for row in period["credits"])
    json.dumps(fields, allow_nan=False)  # storable as JSON on PostgreSQL too


SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(
        ["ACE® recommendation of up to 12 college credits", "up to 999999999999 college credits", "<b>ACE</b> &amp;"]
    )
)
ANY_JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
QUESTIONS = st.fixed_dictionaries(
    {},
    optional={
        "@type": st.just("Question") | ANY_JSON,
        "name": ANY_JSON,
        "acceptedAnswer": ANY_JSON | st.fixed_dictionaries({}, optional={"text": ANY_JSON}),
    },
)
FAQ_NODES = st.fixed_dictionaries(
    {"@type": st.just("FAQPage") | ANY_JSON},
    optional={"mainEntity": ANY_JSON | st.lists(QUESTIONS | ANY_JSON, max_size=3) | QUESTIONS},
)
JSON_LD = (
    FAQ_NODES
    | ANY_JSON
    | st.fixed_dictionaries({"@graph": st.lists(FAQ_NODES | ANY_JSON, max_size=3) | ANY_JSON})
    | st.lists(FAQ_NODES, max_size=2)
)


def _with_json_ld(value) -> bytes:
    script = b'<script type="application/ld+json">' + json.dumps(value).encode() + b"</script>"
    return PROGRAM_PAGE.replace(b"</head>", script + b"</head>", 1)


@FAST
@given(HTMLISH | JSON_LD.map(_with_json_ld))
def test_parse_program_page_raises_only_value_error(body):
    try:
        claim = parse_program_page(body)
    except ValueError:
        return
    assert claim.title and claim.ace_claim in ("yes", "no")
    assert claim.ace_credits is None or isinstance(claim.ace_credits, int)


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                ["elements", "paging", "next", "id", "name", "slug", "partnerIds", "productVariant", "linked", "total"]
            )
            | st.text(max_size=4),
            inner,
            max_size=4,
        )
    ),
    max_leaves=20,
)


@FAST
@given(JSONISH.map(lambda v: json.dumps(v)) | st.binary(max_size=200) | st.text(max_size=200))
def test_parse_api_page_raises_only_api_page_error(body):
    try:
        page = parse_api_page(body)
    except ApiPageError:
        return
    assert all(isinstance(e, dict) and e.get("id") for e in page.elements)
    assert page.next_start is None or isinstance(page.next_start, str)


# --------------------------------------------------------------------------- through the spiders

BASE = "http://127.0.0.1:9"


def _spider(cls, **settings_):
    crawler = get_crawler(
        cls,
        {
            "ACE_BASE_URL": BASE,
            "ACE_ORGANIZATIONS": ["x"],
            "COURSERA_API_URL": BASE + "/api/",
            "COURSERA_SITE_URL": BASE,
            **settings_,
        },
    )
    return cls.from_crawler(crawler)


ACE_SPIDER = _spider(AceSpider)
COURSERA_SPIDER = _spider(CourseraSpider)


@FAST
@given(HTMLISH, st.booleans())
def test_ace_spider_stores_an_unreadable_exhibit_as_unknown(body, recheck):
    url = f"{BASE}/National-Guide/Pages/Course.aspx?org=Google&cid=abc"
    response = HtmlResponse(
        url, body=body if isinstance(body, bytes) else body.encode("utf-8", "surrogatepass"), request=Request(url)
    )
    ACE_SPIDER.setup_render(ACE_SPIDER.crawler)  # each page on its own: no script-filled evidence from another
    if recheck:  # a known exhibit no listing linked: its answer may also be evidence it is gone
        items = list(ACE_SPIDER.parse_rechecked(response, cid="abc", moves=0))
    else:
        items = list(ACE_SPIDER.parse_exhibit(response, cid="abc"))
    try:
        parse_exhibit(response.body)
        readable = True
    except ExhibitParseError:
        readable = False
    if recheck and not items:  # a confirmed loss: only a page that is nothing of an exhibit, or its template
        assert page_kind(response.body) in (Page.TEMPLATE, Page.NO_FIELDS)
        return
    (item,) = items
    assert isinstance(item, AceExhibitItem) and item.cid == "abc"
    assert item.parse_status == ("ok" if readable else "unknown")


@FAST
@given(HTMLISH)
def test_coursera_spider_stores_an_unreadable_program_page_as_unknown(body):
    url = f"{BASE}/professional-certificates/x"
    response = HtmlResponse(
        url, body=body if isinstance(body, bytes) else body.encode("utf-8", "surrogatepass"), request=Request(url)
    )
    item = CourseraProgramItem(program_id="p1", slug="x", url=url, title="X")
    (out,) = list(COURSERA_SPIDER.parse_program(response, item=item))
    assert out.program_id == "p1" and out.parse_status in ("ok", "unknown")
    assert out.parse_status == "unknown" or out.title


@FAST
@given(JSONISH.map(lambda v: json.dumps(v).encode()) | st.binary(max_size=100))
def test_coursera_spider_never_trusts_an_unreadable_listing(body):
    spider = _spider(CourseraSpider)
    url = f"{BASE}/api/onDemandSpecializations.v1?start=0"
    response = TextResponse(url, body=body, request=Request(url), encoding="utf-8")
    try:
        out = list(spider.parse_api(response, start="0"))
    except CloseSpider as stop:
        assert stop.reason.startswith("catalog incomplete")
        return
    page = parse_api_page(body)  # it was accepted, so it must be a readable page
    assert all(isinstance(r, Request) for r in out)
    pages = [r for r in out if "professional-certificates" in r.url or "specializations" in r.url]
    assert len(pages) <= len(page.elements)


# --------------------------------------------------------------------------- command line


@pytest.mark.parametrize("name", ["®", "™ ®", "\u00ad"])
def test_a_name_with_nothing_to_compare_is_bad_input(reliability_env, tmp_path, name):
    result = acewatch("check", name, db=f"sqlite:///{reliability_env.baseline}", home=tmp_path)
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def _store_of_a_newer_acewatch(tmp_path, reliability_env):
    """A copy of the baseline store whose schema revision this acewatch does not know."""
    import shutil
    import sqlite3

    db = tmp_path / "newer.db"
    shutil.copyfile(reliability_env.baseline, db)
    with sqlite3.connect(db) as connection:
        connection.execute("update alembic_version set version_num = '9999_future'")
    return db


def test_changes_on_a_newer_schema_is_a_one_line_error(tmp_path, reliability_env):
    db = _store_of_a_newer_acewatch(tmp_path, reliability_env)
    for args in (["changes"], ["changes", "--json"], ["run", "--progress", "off"]):
        result = acewatch(*args, db=f"sqlite:///{db}", home=tmp_path)
        assert result.returncode == 6, (args, result.stderr)
        assert "newer than this acewatch knows" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_check_on_a_newer_schema_is_a_one_line_error(tmp_path, reliability_env):
    db = _store_of_a_newer_acewatch(tmp_path, reliability_env)
    result = acewatch("check", "Google IT Support Professional Certificate", db=f"sqlite:///{db}", home=tmp_path)
    assert result.returncode == 6, result.stdout
    assert "newer than this acewatch knows" in result.stderr and len(result.stderr.strip().splitlines()) == 1
