"""The offline fixture site: real HTTP on 127.0.0.1, faithful to what is known of the real sites.

These tests fetch over HTTP with urllib/http.client (like a crawler would) and check the
properties the crawler and monitor rely on: API paging and parameters, page paths,
ACE markup in both styles (parsed here by visible labels only), the five day-2
changes, robots.txt, and fault injection.
"""

from __future__ import annotations

import http.client
import json
import re
import urllib.error
import urllib.request
import urllib.robotparser
from datetime import date
from urllib.parse import quote, urlsplit

import lxml.html
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fixtures import generate_filler
from fixtures import site as render
from fixtures.dataset import NORMAL, PROFESSIONAL, CatalogError, load_catalog, load_expected_changes
from fixtures.faults import FaultRule, FaultTable
from fixtures.ids import coursera_id, dynamics_guid
from fixtures.routes import route
from fixtures.server import FixtureSite

SPEC_FIELDS = "name,slug,description,partnerIds,courseIds,tagline,productVariant"
LEVEL_FROM_CELL = {text: level for level, text in render.TABLE_LEVEL_TEXT.items()}
LEVELS = list(render.TABLE_LEVEL_TEXT)


# --------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def site():
    with FixtureSite(day="day1") as s:
        yield s


@pytest.fixture(autouse=True)
def _reset(request):
    """Every test starts on day 1 with no faults (the site is shared for speed)."""
    yield
    if "site" in request.fixturenames:
        s = request.getfixturevalue("site")
        s.set_day("day1")
        s.clear_faults()


def fetch(url: str, timeout: float = 5.0) -> tuple[int, dict, bytes]:
    """GET a URL; HTTP errors are returned, not raised."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def get_json(url: str) -> dict:
    status, headers, body = fetch(url)
    assert status == 200, (url, status, body[:200])
    assert headers["Content-Type"].startswith("application/json")
    return json.loads(body)


def api_url(site, resource: str, query: str = "") -> str:
    return site.url("coursera_api", resource + (f"?{query}" if query else ""))


def org_url(site, oid: str) -> str:
    return site.url("ace", f"/National-Guide/Pages/Organization.aspx?oid={oid}")


def exhibit_url(site, cid: str, org: str = "X") -> str:
    return site.url("ace", f"/National-Guide/Pages/Course.aspx?org={quote(org)}&cid={cid}")


def program_url(site, program: dict) -> str:
    return site.url("coursera_site", render.program_path(program))


def _value_after_label(doc, label: str) -> str | None:
    for el in doc.xpath("//th | //dt"):
        if el.text_content().strip().rstrip(":").strip() == label:
            nxt = el.getnext()
            return nxt.text_content().strip() if nxt is not None else ""
    return None


def parse_credit_sentence(sentence: str) -> list[tuple[str, int, str]]:
    """Parse 'In the X category, 3 semester hours in a and 3 semester hours in b, and in the Y category, ...'."""
    rows = []
    text = sentence.strip().rstrip(".")
    parts = re.split(r"(?:^|, and )[Ii]n the (.+?) category, ", text)
    for phrase, rest in zip(parts[1::2], parts[2::2]):
        level = next(lv for lv in LEVELS if lv.lower() == phrase)
        matches = list(re.finditer(r"(\d+) semester hours? in ", rest))
        for i, m in enumerate(matches):
            end = matches[i + 1].start() if i + 1 < len(matches) else len(rest)
            subject = re.sub(r"(?:,\s*and|,|\s+and)\s*$", "", rest[m.end() : end].rstrip())
            rows.append((level, int(m.group(1)), subject.lower()))
    return rows


def parse_exhibit(body: bytes) -> dict:
    """Read an exhibit page by its visible labels only (never by class or id)."""
    doc = lxml.html.fromstring(body)
    periods = []
    for strong in doc.xpath("//strong"):  # table style: 'ACE Credit Recommendation Period: dates' + table
        if strong.text_content().strip().rstrip(":") == "ACE Credit Recommendation Period":
            para = strong.getparent()
            dates = para.text_content().split(":", 1)[1].strip()
            rows = []
            for tr in para.getnext().xpath(".//tr[td]"):
                level, hours, subject = (td.text_content().strip() for td in tr.xpath("td"))
                rows.append((LEVEL_FROM_CELL[level], int(hours), subject.lower()))
            if dates:
                periods.append((dates, tuple(sorted(rows))))
    for dt in doc.xpath("//dt"):  # dl style: period dt/dd then 'Credit Recommendation' dt/dd sentence
        if dt.text_content().strip() == "ACE Credit Recommendation Period":
            dates = dt.getnext().text_content().strip()
            sentence = dt.getnext().getnext().getnext().text_content()
            periods.append((dates, tuple(sorted(parse_credit_sentence(sentence)))))
    return {
        "title": doc.xpath("string(//h1)").strip(),
        "ace_id": _value_after_label(doc, "ACE ID") or "",
        "periods": sorted(periods),
    }


def expected_periods(exhibit: dict) -> list:
    return sorted(
        (render.period_text(p), tuple(sorted((r["level"], r["hours"], r["subject"].lower()) for r in p["credits"])))
        for p in exhibit["periods"]
    )


def current_total(parsed: dict) -> int:
    """Credit total of the period with the latest end date."""

    def end(period):
        m, d, y = map(int, period[0].split(" - ")[1].split("/"))
        return (y, m, d)

    return sum(hours for _, hours, _ in max(parsed["periods"], key=end)[1])


def jsonld_faq(body: bytes) -> dict[str, str]:
    """Question -> answer from every JSON-LD FAQPage on a page."""
    faq = {}
    for block in re.findall(rb'<script type="application/ld\+json">(.*?)</script>', body, re.S):
        for node in json.loads(block).get("@graph", []):
            if node.get("@type") == "FAQPage":
                faq.update({q["name"]: q["acceptedAnswer"]["text"] for q in node["mainEntity"]})
    return faq


def ace_claim_credits(body: bytes) -> int | None:
    """What a program page claims: 'ACE' plus 'N college credits' in the FAQ or the body copy."""
    text = " ".join(jsonld_faq(body).values()) + " " + lxml.html.fromstring(body).xpath("string(//main)")
    if not re.search(r"\bACE\b", text):
        return None
    m = re.search(r"up to (\d+) college credits", text)
    return int(m.group(1)) if m else None


# --------------------------------------------------------------------------- servers


def test_servers_bind_loopback_only(site):
    assert set(site.urls) == {"ace", "coursera_api", "coursera_site"}
    for _role, (host, port) in site.addresses.items():
        assert host == "127.0.0.1" and port > 0
    assert site.urls["coursera_api"].endswith("/api/")
    assert all(url.startswith("http://127.0.0.1:") for url in site.urls.values())
    assert len(site.ace_organization_ids) >= 10


def test_content_types_and_request_log(site):
    site.clear_requests()
    _, headers, _ = fetch(site.url("ace", "/robots.txt"))
    assert headers["Content-Type"].startswith("text/plain")
    _, headers, _ = fetch(org_url(site, site.ace_organization_ids[0]))
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert site.requests == [
        ("ace", "GET", "/robots.txt", 200),
        ("ace", "GET", f"/National-Guide/Pages/Organization.aspx?oid={site.ace_organization_ids[0]}", 200),
    ]


# --------------------------------------------------------------------------- Coursera API


def test_api_paging_follows_string_next_until_absent(site):
    seen, pages, start = [], 0, "0"
    while True:
        data = get_json(api_url(site, "onDemandSpecializations.v1", f"fields={SPEC_FIELDS}&limit=100&start={start}"))
        pages += 1
        assert set(data) == {"elements", "paging", "linked"} and data["linked"] == {}
        assert "total" not in data["paging"]
        seen += [e["id"] for e in data["elements"]]
        if "next" not in data["paging"]:
            assert data["paging"] == {}
            break
        assert isinstance(data["paging"]["next"], str)
        assert data["paging"]["next"] == str(int(start) + 100)
        start = data["paging"]["next"]
    assert pages >= 3
    assert len(seen) == len(set(seen)) == len(site.catalog.programs)
    assert all(len(i) == 22 for i in seen)


def test_api_fields_are_honoured(site):
    bare = get_json(api_url(site, "onDemandSpecializations.v1", "limit=5"))["elements"]
    assert all(set(e) == {"id", "slug", "name"} for e in bare)
    some = get_json(api_url(site, "onDemandSpecializations.v1", "fields=productVariant,courseIds&limit=5"))["elements"]
    assert all(set(e) == {"id", "slug", "name", "productVariant", "courseIds"} for e in some)
    full = get_json(api_url(site, "onDemandSpecializations.v1", f"fields={SPEC_FIELDS}&limit=5"))["elements"]
    assert all(set(e) == {"id", *SPEC_FIELDS.split(",")} for e in full)
    assert {
        e["productVariant"]
        for e in get_json(api_url(site, "onDemandSpecializations.v1", "fields=productVariant"))["elements"]
    } == {PROFESSIONAL, NORMAL}


def test_api_limit_default_cap_and_last_page(site):
    n = len(site.catalog.programs)
    assert len(get_json(api_url(site, "onDemandSpecializations.v1"))["elements"]) == 100
    assert len(get_json(api_url(site, "onDemandSpecializations.v1", "limit=500"))["elements"]) == 100
    tail = get_json(api_url(site, "onDemandSpecializations.v1", f"limit=7&start={n - 3}"))
    assert len(tail["elements"]) == 3 and tail["paging"] == {}
    assert fetch(api_url(site, "onDemandSpecializations.v1", "start=abc"))[0] == 400


def test_api_q_slug_ids_and_errors(site):
    program = site.catalog.program_by_slug["google-data-analytics"]
    by_slug = get_json(
        api_url(site, "onDemandSpecializations.v1", "q=slug&slug=google-data-analytics&fields=productVariant")
    )
    assert by_slug["elements"] == [
        {
            "id": program["id"],
            "slug": "google-data-analytics",
            "name": "Google Data Analytics",
            "productVariant": PROFESSIONAL,
        }
    ]
    assert by_slug["paging"] == {}
    assert get_json(api_url(site, "onDemandSpecializations.v1", "q=slug&slug=nope"))["elements"] == []
    ids = [p["id"] for p in site.catalog.programs[:3]]
    by_ids = get_json(api_url(site, "onDemandSpecializations.v1", "ids=" + ",".join(ids + ["unknownId"])))
    assert [e["id"] for e in by_ids["elements"]] == ids
    all_ids = [p["id"] for p in site.catalog.programs]
    assert fetch(api_url(site, "onDemandSpecializations.v1", "ids=" + ",".join(all_ids[:20])))[0] == 200
    assert fetch(api_url(site, "onDemandSpecializations.v1", "ids=" + ",".join((all_ids * 2)[:400])))[0] == 414
    assert fetch(api_url(site, "onDemandSpecializations.v1", "q=search&query=data"))[0] == 405
    assert fetch(api_url(site, "onDemandSpecializations.v1/" + program["id"]))[0] == 200
    assert fetch(api_url(site, "noSuchResource.v1"))[0] == 404


def test_api_has_no_ace_field_and_name_can_be_shorter_than_page_title(site):
    program = site.catalog.program_by_slug["google-data-analytics"]
    element = get_json(api_url(site, "onDemandSpecializations.v1", f"ids={program['id']}&fields={SPEC_FIELDS}"))[
        "elements"
    ][0]
    assert set(element) == {"id", *SPEC_FIELDS.split(",")}
    assert not re.search(r"\bACE\b|college credit", json.dumps(element, ensure_ascii=False))
    assert element["name"] == "Google Data Analytics" != program["page_title"]


def test_partners_and_courses(site):
    partners = get_json(api_url(site, "partners.v1", "ids=6,367&fields=name,shortName"))
    assert partners["elements"] == [
        {"id": "6", "name": "University of Pennsylvania", "shortName": "penn"},
        {"id": "367", "name": "Google", "shortName": "google-career-certificates"},
    ]
    assert partners["paging"] == {}
    first = get_json(api_url(site, "courses.v1", "fields=s12nIds,partnerIds&limit=100"))
    assert first["paging"]["total"] == len(site.catalog.courses) and first["paging"]["next"] == "100"
    assert "total" not in get_json(api_url(site, "courses.v1", "start=100"))["paging"]
    refs = [ref for c in site.catalog.courses for ref in c["s12nIds"]]
    assert any(r.startswith("child~") for r in refs) and any(not r.startswith("child~") for r in refs)


# --------------------------------------------------------------------------- Coursera pages


def test_variant_decides_the_page_path(site):
    for slug in ("google-data-analytics", "deep-learning"):
        program = site.catalog.program_by_slug[slug]
        status, _, body = fetch(program_url(site, program))
        assert status == 200
        assert lxml.html.fromstring(body).xpath("string(//h1)") == program["page_title"]
        other = "/specializations/" if program["productVariant"] == PROFESSIONAL else "/professional-certificates/"
        assert fetch(site.url("coursera_site", other + slug))[0] == 404
    assert fetch(site.url("coursera_site", "/professional-certificates/no-such-program"))[0] == 404


def test_program_page_shape(site):
    program = site.catalog.program_by_slug["google-data-analytics"]
    _, _, body = fetch(program_url(site, program))
    assert b"__NEXT_DATA__" not in body
    blocks = re.findall(rb'<script type="application/ld\+json">(.*?)</script>', body, re.S)
    assert [n["@type"] for n in json.loads(blocks[0])["@graph"]] == ["FAQPage", "BreadcrumbList"]
    text = lxml.html.fromstring(body).text_content()
    for badge in ("8 course series", "6 months at 10 hours a week", "Beginner level", "(182,314 reviews)"):
        assert badge in text
    assert b'aria-label="4.8 from 182,314 reviews"' in body
    assert re.search(rb'class="[^"]*\bcss-[0-9a-z]{4,7}\b', body)
    assert 20_000 <= len(body) <= 80_000


def test_ace_wordings_on_program_pages(site):
    def page(slug):
        return fetch(program_url(site, site.catalog.program_by_slug[slug]))[2]

    faq = jsonld_faq(page("google-data-analytics"))
    answer = faq["Can I get college credit for taking the Google Data Analytics Certificate?"]
    assert "ACE\u00ae recommendation of up to 12 college credits (or 7 ECTS)" in answer
    assert "Credly badge" in answer and "not guaranteed" in answer
    body = page("google-it-support")
    assert (
        "This program is ACE\u00ae recommended\u2014when you complete, you can earn up to 12 college credits."
        in body.decode()
    )
    assert not any("college credit" in q for q in jsonld_faq(body))
    body = page("salesforce-sales-operations").decode()
    assert "ACE\u00ae Credit Recommendation" in body and "ACE recommendation of up to 9 college credits" in body
    assert ace_claim_credits(page("sas-programmer")) is None  # ACE-listed, page silent
    assert ace_claim_credits(page("meta-data-analyst")) is None  # says "Ace the ... interview"
    assert "Will I earn university credit for completing the Specialization?" in jsonld_faq(
        page("strategic-leadership")
    )


def test_every_page_claim_matches_the_data(site):
    """Rendered without HTTP for speed: each page's claim is exactly its ace_claim, and it
    equals the current ACE credit total of the program's exhibit."""
    catalog = site.catalog
    by_id = {e["ace_id"]: e for e in catalog.exhibits}
    for program in catalog.programs:
        body = route("coursera_site", catalog, "GET", render.program_path(program)).body
        claim = program["ace_claim"]
        assert ace_claim_credits(body) == (claim["credits"] if claim else None), program["slug"]
        if claim and program["truth"].get("claim") is None:
            exhibit = by_id[program["truth"]["ace_id"]]
            assert claim["credits"] == sum(r["hours"] for r in exhibit["periods"][-1]["credits"])
    # The claim hazards (README "Claim verdicts on day 1"): the page disagrees with ACE as declared.
    hazards = {p["slug"]: p for p in catalog.programs if p["truth"].get("claim")}
    assert {p["truth"]["claim"] for p in hazards.values()} == {"credits_differ", "not_yet_active", "no_exhibit"}
    for program in hazards.values():
        assert program["ace_claim"] and program["ace_claim"]["credits"], program["slug"]
        exhibit = by_id.get(program["truth"]["ace_id"])
        if program["truth"]["claim"] == "no_exhibit":
            assert exhibit is None
        else:
            total = sum(r["hours"] for r in exhibit["periods"][-1]["credits"])
            assert (program["ace_claim"]["credits"] != total) == (program["truth"]["claim"] == "credits_differ")


def test_search_listing_cards(site):
    status, _, body = fetch(
        site.url("coursera_site", "/search?productTypeDescription=Professional%20Certificates&page=2")
    )
    assert status == 200 and body.count(b"cds-ProductCard-base") == 12
    assert b'href="/professional-certificates/' in body and b'href="/specializations/' not in body


# --------------------------------------------------------------------------- ACE pages


def test_ace_paths_and_query_keys_are_case_insensitive(site):
    exhibit = site.catalog.exhibits[0]
    reference = fetch(exhibit_url(site, exhibit["cid"]))[2]
    for path in ("/national-guide/pages/course.aspx", "/NATIONAL-GUIDE/Pages/COURSE.ASPX"):
        status, _, body = fetch(site.url("ace", f"{path}?org=X&cid={exhibit['cid'].upper()}"))
        assert status == 200 and parse_exhibit(body)["ace_id"] == exhibit["ace_id"]
    assert parse_exhibit(reference)["ace_id"] == exhibit["ace_id"]
    oid = site.ace_organization_ids[0]
    assert b"ng-org-name" in fetch(site.url("ace", f"/national-guide/pages/organization.aspx?OID={oid}"))[2]


def test_course_without_valid_cid_renders_the_empty_template(site):
    for query in ("", "?org=Google", "?org=Google&cid=00000000-00c4-ea11-a812-000d3a33232a"):
        status, _, body = fetch(site.url("ace", "/National-Guide/Pages/Course.aspx" + query))
        parsed = parse_exhibit(body)
        assert status == 200 and b"__VIEWSTATE" in body
        assert parsed == {"title": "", "ace_id": "", "periods": []}
        assert b"ACE ID:" in body


def test_unknown_organization_is_a_soft_404(site):
    status, _, body = fetch(org_url(site, "11111111-11c4-ea11-a812-000d3a33232a"))
    assert status == 200 and b"could not be found" in body


def test_every_exhibit_round_trips_through_its_markup(site):
    """Both styles, parsed only by labels, give back exactly the data (ACE ID, periods, credit rows)."""
    styles = set()
    for exhibit in site.catalog.exhibits:
        org = site.catalog.org_by_oid[exhibit["oid"].lower()]
        status, _, body = fetch(site.url("ace", render.ace_exhibit_path(exhibit, org)))
        parsed = parse_exhibit(body)
        assert status == 200 and 10_000 <= len(body) <= 40_000
        assert (parsed["title"], parsed["ace_id"]) == (exhibit["title"], exhibit["ace_id"])
        assert parsed["periods"] == expected_periods(exhibit), exhibit["ace_id"]
        styles.add(render.exhibit_style(exhibit))
        assert re.fullmatch(r"[A-Z]+-\d{4}", exhibit["ace_id"])
        assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{2}c4-ea11-a812-000d3a33232a", exhibit["cid"])
    assert styles == {"table", "dl"}


def test_two_markup_styles_differ_in_structure(site):
    by_id = {e["ace_id"]: e for e in site.catalog.exhibits}
    table = fetch(exhibit_url(site, by_id["GOOG-0001"]["cid"]))[2].decode()
    dl = fetch(exhibit_url(site, by_id["IBM-0014"]["cid"]))[2].decode()
    assert '<th scope="row">ACE ID:</th><td>GOOG-0001</td>' in table
    assert "<strong>ACE Credit Recommendation Period:</strong> 11/1/2024 - 10/31/2034" in table
    assert '<th scope="col">Semester Hours</th>' in table and "<dt>" not in table.split("ngCourseDetail")[1]
    assert '<dt>ACE ID</dt><dd class="exhibit-code">IBM-0014</dd>' in dl
    assert (
        "In the lower-division baccalaureate/associate degree category, 3 semester hours in data analytics, "
        "3 semester hours in spreadsheet applications, and 3 semester hours in Python programming, and in the "
        "upper-division baccalaureate degree category, 3 semester hours in data visualization."
    ) in dl
    assert "ng-credit-table" not in dl


def test_organization_pages_link_every_exhibit_and_carry_crawler_traps(site):
    robots = urllib.robotparser.RobotFileParser()
    robots.parse(fetch(site.url("ace", "/robots.txt"))[2].decode().splitlines())
    for oid in site.ace_organization_ids:
        status, _, body = fetch(org_url(site, oid))
        org = site.catalog.org_by_oid[oid]
        links = lxml.html.fromstring(body).xpath("//a/@href")
        course_links = [h for h in links if h.startswith("Course.aspx?")]
        assert sorted(h.rsplit("cid=", 1)[1] for h in course_links) == sorted(
            e["cid"] for e in site.catalog.exhibits_of(oid)
        )
        assert all(
            h.startswith("Course.aspx?org=" + render.ace_org_param(org["name"], org["link_encoding"]))
            for h in course_links
        )
        assert any(h.startswith("https://www.credly.com/") for h in links)
        assert any(h.startswith("https://twitter.com/") for h in links)
        disallowed = [h for h in links if h.startswith("/") and not robots.can_fetch("*", h)]
        assert any(h.startswith("/Search/") for h in disallowed) and any(h.startswith("/_layouts/") for h in disallowed)
        assert course_links and robots.can_fetch("*", "/National-Guide/Pages/" + course_links[0])
    names = {o["name"]: o for o in site.catalog.organizations}
    assert (
        render.ace_org_param("Advancing Women in Tech (AWT)", "percent") == "Advancing%20Women%20in%20Tech%20%28AWT%29"
    )
    assert render.ace_org_param("McDonald's Corporation") == "McDonald%27s+Corporation"
    assert names["Advancing Women in Tech (AWT)"]["link_encoding"] == "percent"


# --------------------------------------------------------------------------- day 2


def _change(kind: str) -> dict:
    return next(c for c in load_expected_changes() if c["change"] == kind)


def _listed(site, change: dict) -> bool:
    return change["cid"] in fetch(org_url(site, change["oid"]))[2].decode()


def _coursera(site, change: dict) -> bytes:
    return fetch(site.url("coursera_site", change["coursera_path"]))[2]


def test_expected_changes_file_lists_exactly_five_changes():
    kinds = [c["change"] for c in load_expected_changes()]
    assert kinds == ["gained_ace", "lost_ace", "credits_changed", "renamed", "recommendation_ended"]


@pytest.mark.parametrize("day", ["day1", "day2"])
def test_gained_and_lost(site, day):
    site.set_day(day)
    gained, lost = _change("gained_ace"), _change("lost_ace")
    for change in (gained, lost):
        state = change[day]
        assert _listed(site, change) is state["ace_listed"]
        parsed = parse_exhibit(fetch(exhibit_url(site, change["cid"], change["organization"]))[2])
        assert parsed["ace_id"] == (change["ace_id"] if state["ace_listed"] else "")
        assert ace_claim_credits(_coursera(site, change)) == state["coursera_claim_credits"]


@pytest.mark.parametrize("day", ["day1", "day2"])
def test_credits_changed(site, day):
    site.set_day(day)
    change = _change("credits_changed")
    parsed = parse_exhibit(fetch(exhibit_url(site, change["cid"]))[2])
    assert current_total(parsed) == change[day]["ace_credits_total"]
    row = change[day]["changed_row"]
    assert (row["level"], row["hours"], row["subject"].lower()) in parsed["periods"][0][1]
    assert ace_claim_credits(_coursera(site, change)) == change[day]["coursera_claim_credits"]


@pytest.mark.parametrize("day", ["day1", "day2"])
def test_renamed_on_coursera_only(site, day):
    site.set_day(day)
    change = _change("renamed")
    element = get_json(api_url(site, "onDemandSpecializations.v1", f"q=slug&slug={change['coursera_slug']}"))[
        "elements"
    ][0]
    assert element == {
        "id": change["coursera_id"],
        "slug": change["coursera_slug"],
        "name": change[day]["coursera_name"],
    }
    h1 = lxml.html.fromstring(_coursera(site, change)).xpath("string(//h1)")
    assert h1 == change[day]["coursera_page_title"]
    assert (h1 == change["ace_title"]) is change[day]["title_matches_ace"]
    assert parse_exhibit(fetch(exhibit_url(site, change["cid"]))[2])["title"] == change["ace_title"]


@pytest.mark.parametrize("day", ["day1", "day2"])
def test_recommendation_ended(site, day):
    site.set_day(day)
    change = _change("recommendation_ended")
    assert _listed(site, change)
    parsed = parse_exhibit(fetch(exhibit_url(site, change["cid"]))[2])
    assert [p[0] for p in parsed["periods"]] == [change[day]["period"]]


def _end_date(period: dict) -> date:
    m, d, y = map(int, period["end"].split("/"))
    return date(y, m, d)


def _sides_changed(change: dict) -> set[str]:
    """Which source a change touches, read from its day1/day2 facts ('ace' or 'coursera')."""
    keys = {k for k in change["day1"].keys() | change["day2"].keys() if change["day1"].get(k) != change["day2"].get(k)}
    return {"coursera" if k.startswith(("coursera", "title_matches")) else "ace" for k in keys}


def test_day2_differs_from_day1_only_by_the_five_changes():
    day1, day2 = load_catalog("day1"), load_catalog("day2")
    changes = load_expected_changes()
    ex1, ex2 = day1.exhibit_by_cid, day2.exhibit_by_cid
    assert {cid for cid in ex1.keys() | ex2.keys() if ex1.get(cid) != ex2.get(cid)} == {
        c["cid"] for c in changes if "ace" in _sides_changed(c)
    }
    assert {s for s in day1.program_by_slug if day1.program_by_slug[s] != day2.program_by_slug[s]} == {
        c["coursera_slug"] for c in changes if "coursera" in _sides_changed(c)
    }
    assert day1.organizations == day2.organizations and day1.partners == day2.partners
    ended = ex2[_change("recommendation_ended")["cid"]]
    assert all(_end_date(p) < date(2025, 7, 1) for p in ended["periods"])


def test_current_recommendations_are_clock_independent_until_2032():
    """Every exhibit a Coursera program claims covers 2025-07..2031 on day 1; the 2013 MOOCs ended in 2016."""
    catalog = load_catalog("day1")
    by_id = {e["ace_id"]: e for e in catalog.exhibits}
    for program in catalog.programs:
        if program["ace_claim"] and program["truth"].get("claim") is None:  # claim hazards: see above
            latest = max(by_id[program["truth"]["ace_id"]]["periods"], key=_end_date)
            assert _end_date(latest) >= date(2032, 1, 1)
            m, d, y = map(int, latest["start"].split("/"))
            assert date(y, m, d) <= date(2025, 7, 1)
        elif program["truth"].get("claim") == "not_yet_active":  # begins after any clock the tests run on
            starts = [p["start"].split("/") for p in by_id[program["truth"]["ace_id"]]["periods"]]
            assert all(date(int(y), int(m), int(d)) >= date(2035, 1, 1) for m, d, y in starts)
    for ace_id in ("CRSA-0001", "CRSA-0002", "CRSA-0003", "CRSA-0004", "CRSA-0005"):
        assert [render.period_text(p) for p in by_id[ace_id]["periods"]] == ["2/1/2013 - 1/31/2016"]


def test_ids_follow_the_documented_recipes():
    """The stored ids are the ones fixtures.ids makes, so new records can be added consistently."""
    catalog = load_catalog("day2")
    assert all(e["cid"] == dynamics_guid("cid:" + e["ace_id"]) for e in catalog.exhibits)
    assert all(o["oid"] == dynamics_guid("oid:" + o["ace_prefix"]) for o in catalog.organizations)
    assert all(p["id"] == coursera_id("s12n:" + p["slug"]) for p in catalog.programs)
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{22}", c["id"]) for c in catalog.courses)


def test_filler_is_deterministic_and_never_ace():
    assert generate_filler.render_filler() == generate_filler.FILLER_PATH.read_text(encoding="utf-8")
    catalog = load_catalog("day1")
    titles = {e["title"].lower() for e in catalog.exhibits}
    filler = generate_filler.build_filler()["coursera"]["programs"]
    assert len(filler) >= 200
    assert all(p["ace_claim"] is None and p["page_title"].lower() not in titles for p in filler)
    with pytest.raises(CatalogError):
        load_catalog("day9")


# --------------------------------------------------------------------------- faults


def test_fault_status_500_only_where_matched(site):
    site.set_faults([{"role": "coursera_api", "path": r"start=100\b", "kind": "status:500"}])
    assert fetch(api_url(site, "onDemandSpecializations.v1", "start=100"))[0] == 500
    assert fetch(api_url(site, "onDemandSpecializations.v1", "start=0"))[0] == 200
    assert fetch(site.url("ace", "/robots.txt"))[0] == 200


def test_fault_count_limited_then_recovers(site):
    site.set_faults({("ace", r"(?i)organization\.aspx"): {"kind": "status:503", "count": 2}})
    statuses = [fetch(org_url(site, site.ace_organization_ids[0]))[0] for _ in range(4)]
    assert statuses == [503, 503, 200, 200]
    assert site.faults_applied == [2]


def test_fault_truncate_and_reset(site):
    site.clear_requests()
    site.set_faults(
        [
            {"role": "coursera_site", "path": "google-data-analytics", "kind": "truncate"},
            {"role": "ace", "path": "robots", "kind": "reset"},
        ]
    )
    host, port = site.addresses["coursera_site"]
    conn = http.client.HTTPConnection(host, port, timeout=5)
    conn.request("GET", "/professional-certificates/google-data-analytics")
    resp = conn.getresponse()
    assert resp.status == 200 and int(resp.headers["Content-Length"]) > 20_000
    with pytest.raises(http.client.IncompleteRead):
        resp.read()
    conn.close()
    with pytest.raises((ConnectionError, urllib.error.URLError, http.client.RemoteDisconnected)):
        urllib.request.urlopen(site.url("ace", "/robots.txt"), timeout=5).read()
    assert ("ace", "GET", "/robots.txt", 0) in site.requests


def test_fault_429_timeout_empty_redirect(site):
    site.set_faults(
        [
            {"role": "coursera_api", "path": "partners", "kind": "429"},
            {"role": "coursera_api", "path": "courses", "kind": "timeout", "seconds": 1},
            {"role": "coursera_site", "path": "^/$", "kind": "empty"},
            {"role": "ace", "path": "default", "kind": "redirect_loop"},
        ]
    )
    status, headers, _ = fetch(api_url(site, "partners.v1"))
    assert status == 429 and headers["Retry-After"] == "1"
    with pytest.raises((TimeoutError, urllib.error.URLError)):
        urllib.request.urlopen(api_url(site, "courses.v1"), timeout=0.2).read()
    status, _, body = fetch(site.url("coursera_site", "/"))
    assert status == 200 and body == b""
    status, headers, _ = fetch(site.url("ace", "/National-Guide/Pages/default.aspx"))
    assert status == 302 and headers["Location"] == "/National-Guide/Pages/default.aspx"


def test_fault_payload_shapes(site):
    site.set_faults(
        [
            {"role": "coursera_api", "path": "limit=3$", "kind": "missing_paging"},
            {"role": "coursera_api", "path": "limit=4$", "kind": "invalid_json"},
            {"role": "coursera_api", "path": "limit=20$", "kind": "duplicate_records"},
            {"role": "coursera_api", "path": "limit=50$", "kind": "reorder_records"},
            {"role": "coursera_api", "path": "limit=5$", "kind": "huge", "size": 2_000_000},
            {"role": "ace", "path": "(?i)course\\.aspx", "kind": "layout_changed"},
        ]
    )
    assert "paging" not in get_json(api_url(site, "onDemandSpecializations.v1", "limit=3"))
    with pytest.raises(ValueError):
        json.loads(fetch(api_url(site, "onDemandSpecializations.v1", "limit=4"))[2])
    ids = [e["id"] for e in get_json(api_url(site, "onDemandSpecializations.v1", "limit=20"))["elements"]]
    assert len(ids) == 20 and len(set(ids)) < 20
    orders = [
        [e["id"] for e in get_json(api_url(site, "onDemandSpecializations.v1", "limit=50"))["elements"]]
        for _ in range(2)
    ]
    assert orders[0] != orders[1]
    body = fetch(api_url(site, "onDemandSpecializations.v1", "limit=5"))[2]
    assert len(body) >= 2_000_000 and len(json.loads(body)["elements"]) == 5
    exhibit = site.catalog.exhibits[0]
    changed = fetch(exhibit_url(site, exhibit["cid"]))[2].decode()
    assert "Course Code" in changed and "ACE ID" not in changed and "Semester Hours" not in changed
    assert parse_exhibit(changed.encode())["ace_id"] == ""


def test_seeded_random_faults_are_reproducible():
    def decisions():
        table = FaultTable([FaultRule(kind=["status:503", "reset"], rate=0.3, seed=7)])
        return [(c[1] if c else None) for c in (table.choose("ace", f"/p{i % 10}") for i in range(60))]

    first = decisions()
    assert first == decisions()
    assert 5 < sum(d is not None for d in first) < 35 and {"status:503", "reset"} <= set(first)
    with pytest.raises(ValueError):
        FaultRule(kind="explode")


# --------------------------------------------------------------------------- escaping


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    title=st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=60).filter(
        lambda t: t.strip() == t and t.strip()
    )
)
def test_exhibit_text_is_escaped(title):
    catalog = load_catalog("day1")
    exhibit = dict(catalog.exhibits[0], title=title)
    org = catalog.org_by_oid[exhibit["oid"].lower()]
    for style in ("table", "dl"):
        html = render.render_ace_exhibit(exhibit, org, style=style)
        assert lxml.html.fromstring(html).xpath("string(//h1)") == title
        assert urlsplit(render.ace_exhibit_path(exhibit, org)).path == "/National-Guide/Pages/Course.aspx"
