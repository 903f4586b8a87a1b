"""scrapy-playwright's download handler, starting Playwright at the first page to render.

The stock handler starts Playwright's driver when the crawl starts. In `[crawl] render =
"auto"` most crawls render nothing (the pages arrive with their values), so the driver
and the browser start only when the first request marked `playwright` arrives: a crawl
that renders nothing costs no extra process.
"""

from __future__ import annotations

import asyncio

from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler


class LazyBrowserHandler(ScrapyPlaywrightDownloadHandler):
    async def _maybe_launch_in_thread(self) -> None:
        """Not at engine start (see the module docstring)."""

    def _engine_started(self):
        """Not at engine start (the pre-2.14 Scrapy signal path)."""

    async def _download_request(self, request, spider=None):
        if not self.__dict__.get("_started"):
            lock = self.__dict__.setdefault("_start_lock", asyncio.Lock())
            async with lock:  # the first rendered pages arrive together: one start for all
                if not self.__dict__.get("_started"):
                    await self._launch()
                    self._started = True
        return await super()._download_request(request, spider)
