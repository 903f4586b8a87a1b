"""The one JSON encoder of every `--json` command and of the web API: one clock format, one sanitiser.

Why one: a script reading acewatch should meet one time format (ISO 8601 in UTC with `Z`,
to the second) whatever the command, and never a scraped title that drives its terminal
(`json.dumps(ensure_ascii=False)` keeps C1 controls such as U+009B, a CSI, and bidi overrides).
So every output goes through `plain`, which turns times into that format, typed values into
their JSON shape and every string into terminal-safe text (acewatch.text.for_terminal).
"""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

from acewatch.text import for_terminal

#: What every timestamp in JSON output looks like.
TIME_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$"


def utc_iso(moment: datetime | None) -> str | None:
    """`2026-12-02T15:56:43Z`. A naive time is UTC (SQLite returns stored times naive)."""
    if moment is None:
        return None
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def plain(data: Any) -> Any:
    """The data as JSON values: times in the one format, strings terminal-safe, typed values as their shape."""
    if isinstance(data, str):
        return for_terminal(data)
    if isinstance(data, datetime):
        return utc_iso(data)
    if isinstance(data, date):
        return data.isoformat()
    if isinstance(data, Enum):
        return plain(data.value)
    if isinstance(data, dict):
        return {(for_terminal(key) if isinstance(key, str) else key): plain(value) for key, value in data.items()}
    if isinstance(data, (list, tuple, set, frozenset)):
        return [plain(value) for value in data]
    if hasattr(data, "to_json"):
        return plain(data.to_json())
    if dataclasses.is_dataclass(data) and not isinstance(data, type):
        return plain(dataclasses.asdict(data))
    if data is None or isinstance(data, (bool, int, float)):
        return data
    return for_terminal(str(data))


#: What encoded JSON shows of a character `for_terminal` would remove: json's escapes of C0 controls
#: (\n and \t are kept, as for_terminal keeps them), and the C1 controls and bidi overrides it leaves
#: as they are. A literal backslash before such a letter matches too: the slow path, never a miss.
_ESCAPED_CONTROL = re.compile(r"\\(?:u00|[bfr])")
_RAW_CONTROL = re.compile(r"[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _clean(encoded: str) -> bool:
    """Whether JSON text holds no character `for_terminal` would remove (two scans a regex engine
    does fast: one led by a backslash, one only over text that is not all ASCII)."""
    if "\\" in encoded and _ESCAPED_CONTROL.search(encoded):
        return False
    if encoded.isascii():
        return "\x7f" not in encoded  # DEL is ASCII, and json leaves it as it is
    return _RAW_CONTROL.search(encoded) is None


def dumps(data: Any, indent: int | None = 2) -> str:
    """JSON text of `plain(data)`; non-ASCII text stays readable (it is safe once sanitised).

    Encoded directly first (json's C encoder; times and typed values through `plain`), and walked
    by `plain` only when the text shows a character it removes: the same text, several times faster
    on the web app's answers (tests/test_jsonout.py compares the two on hostile text).
    """
    text = json.dumps(data, indent=indent, ensure_ascii=False, default=plain)
    if _clean(text):
        return text
    return json.dumps(plain(data), indent=indent, ensure_ascii=False)
