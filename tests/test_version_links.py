"""The `ace` spider follows an exhibit's version drop-down to the other versions' cids, on the site only."""

from __future__ import annotations

import scrapy
from scrapy.http import HtmlResponse, Request, Response
from scrapy.utils.test import get_crawler

from crawler.items import AceExhibitItem
from crawler.spiders.ace import AceSpider, version_links

BASE = "http://127.0.0.1:9"
PAGE = f"{BASE}/National-Guide/Pages/Course.aspx?org=Google&cid=a11823ac-d7c4-ea11-a812-000d3a33232a&oid=8cf1"
V2 = "13a87d2e-47c4-ea11-a812-000d3a33232a"


def test_an_option_that_is_a_cid_leads_to_this_page_with_that_cid():
    assert version_links(PAGE, [f" {{{V2.upper()}}} "]) == [
        f"{BASE}/National-Guide/Pages/Course.aspx?org=Google&oid=8cf1&cid={V2}"
    ]


def test_an_option_that_is_an_exhibit_link_is_taken_as_it_stands():
    assert version_links(
        PAGE, [f"course.aspx?cid={V2}", f"https://elsewhere.example/national-guide/pages/Course.aspx?cid={V2}"]
    ) == [
        f"{BASE}/National-Guide/Pages/course.aspx?cid={V2}",
        f"https://elsewhere.example/national-guide/pages/Course.aspx?cid={V2}",
    ]


def test_other_option_values_lead_nowhere():
    assert (
        version_links(
            PAGE, ["", "2", "Version 2: 7/1/2025 - 6/30/2035", "/National-Guide/Pages/default.aspx", "not-a-guid-0000"]
        )
        == []
    )


def _spider() -> AceSpider:
    crawler = get_crawler(AceSpider, {"ACE_BASE_URL": BASE, "ACE_ORGANIZATIONS": ["x"]})
    return AceSpider.from_crawler(crawler)


def _page(options: str) -> HtmlResponse:
    body = (
        f"<html><head><title>Google Business Intelligence - National Guide</title></head><body><h1>Course</h1>"
        f"<div>ACE ID: GOOG-0009</div><div>Dates Offered: <select>{options}</select></div></body></html>"
    )
    return HtmlResponse(PAGE, body=body.encode(), request=Request(PAGE))


def test_the_spider_follows_each_other_version_once_and_stays_on_the_site():
    spider = _spider()
    spider.seen.add("a11823ac-d7c4-ea11-a812-000d3a33232a")  # the page itself, reached from its organization
    options = (
        f'<option value="a11823ac-d7c4-ea11-a812-000d3a33232a" selected>Version 1</option>'
        f'<option value="{V2}">Version 2</option>'
        f'<option value="https://elsewhere.example/National-Guide/Pages/Course.aspx?cid=00000000-0000-0000-0000-'
        f'000000000001">Version 3</option>'
        f'<option value="http://127.0.0.1:10/National-Guide/Pages/Course.aspx?cid=00000000-0000-0000-0000-'
        f'000000000002">Version 4</option>'
    )
    out = list(spider.parse_exhibit(_page(options), cid="a11823ac-d7c4-ea11-a812-000d3a33232a"))
    requests = [r for r in out if isinstance(r, scrapy.Request)]
    assert [(r.url, r.cb_kwargs["cid"]) for r in requests] == [
        (f"{BASE}/National-Guide/Pages/Course.aspx?org=Google&oid=8cf1&cid={V2}", V2)
    ]
    assert [type(item) for item in out if not isinstance(item, scrapy.Request)] == [AceExhibitItem]
    again = list(spider.parse_exhibit(_page(options), cid=V2))  # version 2's own drop-down: nothing new
    assert not [r for r in again if isinstance(r, scrapy.Request)]


def test_a_body_that_is_not_html_follows_nothing():
    spider = _spider()
    response = Response(PAGE, body=b'<option value="' + V2.encode() + b'">', request=Request(PAGE))
    assert not [r for r in spider.follow_versions(response)]
