"""Downloader middleware acewatch puts in place of Scrapy's own.

`StrictRobotsTxtMiddleware`: Scrapy's robots.txt middleware, except that every request
that waited for a host's robots.txt is checked against it. Since Scrapy made
`robot_parser` a coroutine (scrapy/scrapy#6802, in 2.19 here), the requests waiting for
one host's robots.txt all await the same Deferred through `maybe_deferred_to_future`,
whose callback returns None: the first waiter gets the parsed file, every later one gets
None, which the middleware reads as "no robots.txt, allow everything". On the fixture
site 7 to 9 Coursera program pages a `Disallow` forbade were fetched that way, the
first batch of requests to the host. The parsed file is stored per host once the
Deferred fires, so it is read from there.
"""

from __future__ import annotations

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred


class StrictRobotsTxtMiddleware(RobotsTxtMiddleware):
    async def robot_parser(self, request):
        parser = await super().robot_parser(request)
        stored = self._parsers.get(urlparse_cached(request).netloc, parser)
        return parser if isinstance(stored, Deferred) else stored
