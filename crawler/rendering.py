"""Rendering a page in headless Chromium (scrapy-playwright) when its first HTML lacks the values.

Whether the National Guide fills its exhibits by script is not known: a plain GET of
a script-filled exhibit shows its labels without values, which is also what a removed
exhibit shows. So a page that must hold values and arrives as its template is fetched
again in a real browser before anything is concluded from it (`[crawl] render =
"auto"`), or every page is (`"always"`), or none (`"never"`).

Playwright cannot download its own browsers here, so the system's Chromium (Debian's
`chromium`) is launched by path, with `--no-sandbox` (it runs as root in containers).
Rendering is slow (a third-party scan timed out loading acenet.edu after 30 s): it has
its own navigation timeout and at most `render_concurrency` pages open at once, and
only the Scrapy crawler of the ACE spider gets the browser download handler.
"""

from __future__ import annotations

import asyncio
import re
import shutil
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request

RENDER_MODES = ("never", "auto", "always")
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
RENDERED = "acewatch_rendered"  # request meta: this request goes (went) through the browser
# Nothing a reader needs comes in these; blocking them keeps a rendered page to its HTML and scripts.
BLOCKED_RESOURCES = frozenset({"image", "media", "font"})
HANDLER = "crawler.browser_handler.LazyBrowserHandler"
EXHIBIT_LINK = re.compile(r"course\.aspx\?[^\"'>]*cid=", re.IGNORECASE)
POLL_SECONDS = 0.1


def chromium_path(configured: str = "") -> str | None:
    """The Chromium to launch: the configured path, else the first of CHROMIUM_NAMES on PATH."""
    if configured:
        return configured if shutil.which(configured) else None
    return next((path for name in CHROMIUM_NAMES if (path := shutil.which(name))), None)


def launch_options(executable: str, timeout: float) -> dict[str, Any]:
    """Playwright's launch options for the system Chromium (shared with `acewatch doctor`)."""
    return {
        "executable_path": executable,
        "headless": True,
        "timeout": timeout * 1000,
        "args": ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
    }


def playwright_settings(executable: str, timeout: float, concurrency: int) -> dict[str, Any]:
    """Scrapy settings that send requests marked `playwright` through headless Chromium."""
    return {
        "DOWNLOAD_HANDLERS": {"http": HANDLER, "https": HANDLER},
        "PLAYWRIGHT_BROWSER_TYPE": "chromium",
        "PLAYWRIGHT_LAUNCH_OPTIONS": launch_options(executable, timeout),
        "PLAYWRIGHT_MAX_CONTEXTS": 1,
        "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": max(1, concurrency),
        "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": timeout * 1000,
        "PLAYWRIGHT_ABORT_REQUEST": "crawler.rendering.abort_request",
    }


#: robots.txt of each host this process crawled, as Scrapy parsed it (netloc -> RobotParser), and the
#: crawl's user agent: the rendering browser's own requests (scripts, styles, XHR) obey them too.
ROBOTS: dict[str, object] = {}
AGENT: list[str] = ["*"]


def remember_robots(robotparser, request, **_signal) -> None:
    """`robots_parsed` signal handler: keep the host's rules for the browser's requests."""
    ROBOTS[urlsplit(request.url).netloc] = robotparser


def abort_request(request) -> bool:
    """What a rendering browser must not fetch: images, media and fonts (nothing a reader needs), and
    any path robots.txt forbids on a host this crawl read robots.txt of (SharePoint pages load
    scripts from /_layouts/, which the National Guide's robots.txt disallows)."""
    if request.resource_type in BLOCKED_RESOURCES:
        return True
    rules = ROBOTS.get(urlsplit(request.url).netloc)
    return rules is not None and not rules.allowed(request.url, AGENT[0])


def shows_values(kind: str, html: str) -> bool:
    """Whether a rendered page already shows what it is read for: an exhibit that parses, an
    organization page with exhibit links."""
    from crawler.parsing.ace import ExhibitParseError, parse_exhibit

    if kind == "organization":
        return bool(EXHIBIT_LINK.search(html))
    try:
        parse_exhibit(html)
    except ExhibitParseError:
        return False
    return True


async def settle(page, kind: str) -> None:
    """Wait until the page shows its values, or else until its network is idle.

    Not the load event alone: a script-filled page gets its values from requests its
    scripts make after it. Not network idle alone: that waits 500 ms after the last
    request (and analytics may never stop), where the values are usually there sooner;
    the page is read as soon as the parser finds them."""
    idle = asyncio.ensure_future(page.wait_for_load_state("networkidle"))
    try:
        while not idle.done():
            if shows_values(kind, await page.content()):
                return
            await asyncio.wait({idle}, timeout=POLL_SECONDS)
    finally:
        if not idle.done():
            idle.cancel()


def rendered(request: Request, timeout: float, kind: str) -> Request:
    """The same request, to be fetched by headless Chromium and read once it settles (see `settle`)."""
    from scrapy_playwright.page import PageMethod

    # Scrapy's own per-download keys (download_latency, download_slot, retry_times...) stay behind.
    kept = {
        key: value
        for key, value in request.meta.items()
        if not key.startswith(("download_", "retry_", "redirect_", "_"))
    }
    # Never from the HTTP cache: a cached plain answer would pass for the rendered page.
    meta = {
        **kept,
        "playwright": True,
        RENDERED: True,
        "download_timeout": timeout,
        "dont_cache": True,
        "playwright_page_goto_kwargs": {"wait_until": "domcontentloaded"},
        "playwright_page_methods": [PageMethod(settle, kind)],
    }
    # Nor with the cache's validators the plain request carried: a 304 to a browser navigation aborts it.
    headers = {
        key: value
        for key, value in request.headers.items()
        if key.lower() not in (b"if-none-match", b"if-modified-since")
    }
    return request.replace(meta=meta, headers=headers, dont_filter=True)


def was_rendered(response) -> bool:
    return bool(response.meta.get(RENDERED))
