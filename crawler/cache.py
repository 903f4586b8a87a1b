"""Conditional re-fetches: a night with nothing new costs validators and 304s, not whole pages.

Scrapy's HTTP cache with an RFC 2616 policy, narrowed to what a monitor can trust:

- only a 200 that carries a validator (`ETag` or `Last-Modified`) is stored;
- every stored page is revalidated (`If-None-Match` / `If-Modified-Since`): never served on its
  age alone, whatever its `Cache-Control` says; a `304` gives back the stored page, which the
  spider reads again, so an unchanged page keeps its record (it is not "removed", and a 304 of an
  exhibit is evidence of nothing but "unchanged");
- a page a sitemap lists with a `<lastmod>` older than the stored copy is not fetched at all;
- a failure (5xx, timeout) is never replaced by the stored page (Scrapy's default does both):
  a page that fails is `unknown`, as without the cache;
- on a full night (`ACEWATCH_FULL_FETCH`, once a week by default) nothing is revalidated: every
  page is fetched whole and the cache refreshed.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from email.utils import parsedate_to_datetime

from scrapy.downloadermiddlewares.httpcache import HttpCacheMiddleware
from scrapy.extensions.httpcache import RFC2616Policy


def _lastmod(value: str) -> datetime | None:
    """A sitemap <lastmod> (W3C datetime) as the latest moment it can mean: a bare date is its day's end."""
    value = value.strip()
    try:
        if len(value) == 10:
            return datetime.combine(datetime.fromisoformat(value).date() + timedelta(days=1), time(), UTC)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def unchanged_since(lastmod: str | None, stored_at: str | None) -> bool:
    """True when the page's <lastmod> is before the moment its stored copy was fetched (the same
    second is not before: an edit in the second of the fetch may have come after it)."""
    if not lastmod or not stored_at:
        return False
    changed = _lastmod(lastmod)
    try:
        fetched = parsedate_to_datetime(stored_at)
    except (TypeError, ValueError):
        return False
    return changed is not None and fetched.tzinfo is not None and changed < fetched


class ConditionalPolicy(RFC2616Policy):
    def __init__(self, settings):
        super().__init__(settings)
        self.full = settings.getbool("ACEWATCH_FULL_FETCH")

    def should_cache_response(self, response, request) -> bool:
        headers = response.headers
        return (
            response.status == 200
            and (b"ETag" in headers or b"Last-Modified" in headers)
            and b"no-store" not in self._parse_cachecontrol(response)
        )

    def is_cached_response_fresh(self, cachedresponse, request) -> bool:
        if self.full:
            return False
        date = cachedresponse.headers.get(b"Date")
        if unchanged_since(request.meta.get("lastmod"), date.decode("latin-1") if date else None):
            return True
        self._set_conditional_validators(request, cachedresponse)
        return False

    def is_cached_response_valid(self, cachedresponse, response, request) -> bool:
        return response.status == 304 and not self.full


class ConditionalCacheMiddleware(HttpCacheMiddleware):
    """Scrapy's cache middleware without its error recovery (a stored page standing in for a failure)."""

    def process_exception(self, request, exception, spider=None):
        request.meta.pop("cached_response", None)
        return None
