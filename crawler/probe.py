"""Single page reads for `acewatch doctor`: fetch plainly, or in headless Chromium, and say what failed.

The nightly crawl goes through Scrapy in a child process; a diagnosis wants a
handful of pages read one after another, each failure named in a sentence
(connection refused, HTTP 404, timed out), so it uses the stdlib's HTTP client
with the crawl's own identity and timeout, and Playwright's sync API with the
same Chromium launch options the crawl uses (crawler/rendering.py).
"""

from __future__ import annotations

import gzip
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Self

from crawler.rendering import (
    BLOCKED_RESOURCES,
    POLL_SECONDS,
    launch_options,
    shows_values,
)

MAX_BODY = 32 * 1024 * 1024


@dataclass
class Fetched:
    url: str
    status: int = 0  # 0: no HTTP answer (see `error`)
    body: bytes = b""
    error: str | None = None  # why there is no answer: "connection refused", "timed out"...
    rendered: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None and 200 <= self.status < 300

    def problem(self) -> str:
        return self.error or f"HTTP {self.status}"


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", exc)
    if isinstance(reason, (socket.timeout, TimeoutError)):
        return "timed out"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, socket.gaierror):
        return f"host not found ({reason.strerror})"
    return str(reason) or type(reason).__name__


def fetch(url: str, user_agent: str, timeout: float) -> Fetched:
    """GET `url` as the crawler identifies itself; any failure becomes `error`, never an exception."""
    request = urllib.request.Request(url, headers={"User-Agent": user_agent, "Accept-Encoding": "identity"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return Fetched(answer.geturl(), answer.status, answer.read(MAX_BODY))
    except urllib.error.HTTPError as exc:
        return Fetched(url, exc.code, exc.read(MAX_BODY) if exc.fp else b"")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return Fetched(url, error=_reason(exc))


def gunzipped(body: bytes) -> bytes:
    """A sitemap's XML, whether it came gzipped (.xml.gz) or not."""
    return gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body


class Renderer:
    """Headless Chromium for a few pages; launched at the first page, closed on exit."""

    def __init__(self, executable: str, timeout: float):
        self.executable, self.timeout = executable, timeout
        self._playwright = self._browser = None
        # What the browser may fetch beyond the page (robots.txt of the page's host, set by the caller).
        self.allowed: Callable[[str], bool] = lambda url: True

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        if self._browser is not None:
            self._browser.close()
        if self._playwright is not None:
            self._playwright.stop()

    def page(self, url: str, user_agent: str, kind: str = "exhibit") -> Fetched:
        """The page's HTML once it shows its values or its network is idle (as the crawl waits,
        crawler.rendering.settle), or the error. One browser tab serves every page (a new
        context costs more than the page)."""
        from playwright.sync_api import Error as PlaywrightError

        try:
            tab = self._tab(user_agent)
            answer = tab.goto(url, wait_until="domcontentloaded", timeout=self.timeout * 1000)
            html = self._settled(tab, kind)
            return Fetched(tab.url, answer.status if answer else 0, html.encode("utf-8"), rendered=True)
        except PlaywrightError as exc:  # includes its TimeoutError
            return Fetched(url, error=f"rendering failed: {str(exc).splitlines()[0]}", rendered=True)

    def _tab(self, user_agent: str):
        if self._browser is None:
            from playwright.sync_api import sync_playwright

            self._playwright = sync_playwright().start()
            self._browser = self._playwright.chromium.launch(**launch_options(self.executable, self.timeout))
            self._page = self._browser.new_context(user_agent=user_agent).new_page()
            self._page.route("**/*", self._route)
        return self._page

    def _route(self, route) -> None:
        """As the crawl's browser: no images, media or fonts, nothing robots.txt forbids."""
        request = route.request
        if request.resource_type in BLOCKED_RESOURCES or not self.allowed(request.url):
            route.abort()
        else:
            route.continue_()

    def _settled(self, page, kind: str) -> str:
        """The page's HTML once it shows its values, or once its network is idle, or at the timeout."""
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        deadline = time.monotonic() + self.timeout
        while True:
            html = page.content()
            if shows_values(kind, html) or time.monotonic() > deadline:
                return html
            try:
                page.wait_for_load_state("networkidle", timeout=POLL_SECONDS * 1000)
                return page.content()
            except PlaywrightTimeout:
                continue
