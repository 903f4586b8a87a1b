"""What `[ace] organizations` and `[ace] exhibits` may hold, and their one canonical form.

Operators copy identifiers out of a browser's address bar, so both keys take a
bare GUID or the full National Guide URL (any host or path case, `{braces}`,
extra query keys). They are reduced here, once, to what the spider needs:
organization GUIDs, and exhibit URLs whose `cid` is a valid GUID. Anything
else is a configuration error naming the entry, never an organization that
silently lists nothing.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
ORGANIZATION_PAGE = "/national-guide/pages/organization.aspx"
EXHIBIT_PAGE = "/national-guide/pages/course.aspx"
HOW_TO_FIND = (
    "to find an organization's GUID, open https://www.acenet.edu/National-Guide/ in a browser, "
    "search for the organization, open its page and copy the address (it ends in "
    "Organization.aspx?oid=<GUID>) into [ace] organizations; an exhibit's address "
    "(Course.aspx?...&cid=<GUID>) goes into [ace] exhibits"
)


def plain_guid(value: str) -> str | None:
    """The lower-case GUID in `value` (braces allowed), or None."""
    text = value.strip().strip("{}").lower()
    return text if GUID.match(text) else None


def _query_guid(url: str, page: str, key: str) -> str | None:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or parts.path.lower() != page:
        return None
    values = {k.lower(): v for k, v in parse_qs(parts.query).items()}
    return plain_guid(values.get(key, [""])[0])


def organization_guid(value: str) -> str:
    """A GUID or an Organization.aspx URL -> the organization GUID (ValueError if neither)."""
    guid = plain_guid(value) or _query_guid(value, ORGANIZATION_PAGE, "oid")
    if guid is None:
        raise ValueError(f"{value!r} is neither an organization GUID nor an Organization.aspx?oid=<GUID> URL")
    return guid


def exhibit_url(value: str) -> str:
    """A Course.aspx URL with a GUID `cid` -> the same URL, trimmed (ValueError otherwise)."""
    if _query_guid(value, EXHIBIT_PAGE, "cid") is None:
        raise ValueError(f"{value!r} is not a National Guide exhibit URL (Course.aspx?...cid=<GUID>)")
    return value.strip()


def exhibit_path(url: str) -> str:
    """The path and query of an exhibit URL, to be asked of the configured ACE host."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")
