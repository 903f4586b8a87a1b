"""acewatch.jsonout.dumps: the direct encoding is taken only when it equals the sanitised one."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from enum import Enum

from hypothesis import given, settings
from hypothesis import strategies as st

from acewatch.api import ExitCode
from acewatch.jsonout import dumps, plain


def reference(data, indent=2) -> str:
    """What dumps must print: every value walked by `plain` first."""
    return json.dumps(plain(data), indent=indent, ensure_ascii=False)


class Colour(Enum):
    RED = "red"


HOSTILE = [
    "Google Data Analytics",
    "Front\x1b[31mEnd\x1b[0m Developer",  # a terminal colour escape
    "Meta\u202eRepparC",  # a right-to-left override
    "C1 control \x9b here",
    "tab\tand\nnewline are kept",
    "carriage\rreturn, back\bspace, form\ffeed, vertical\x0btab, nul\x00",
    "a literal backslash \\u0041 and \\b and \\r",
    "Développement Web ✓ 日本語",
    "\u2066isolate\u2069",
    "\x7f delete",
]


def test_every_hostile_string_encodes_as_the_sanitised_reference():
    for text in HOSTILE:
        for indent in (None, 2):
            data = {"title": text, "nested": [{"t": text}], text: 1}
            assert dumps(data, indent=indent) == reference(data, indent), text
            assert "\x1b" not in json.loads(dumps(data))["title"]


def test_typed_values_encode_as_plain_makes_them():
    data = {
        "at": datetime(2026, 12, 2, 18, 0, 5, tzinfo=UTC),
        "naive": datetime(2026, 12, 2, 18, 0, 5),
        "day": date(2026, 12, 2),
        "code": ExitCode.USAGE,
        "colour": Colour.RED,
        "pair": ("a", 1),
        "empty": None,
    }
    assert dumps(data) == reference(data)
    assert json.loads(dumps(data))["at"] == "2026-12-02T18:00:05Z"
    assert json.loads(dumps(data))["code"] == 2


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@given(json_values)
def test_any_text_encodes_as_the_sanitised_reference(data):
    assert dumps(data, indent=None) == reference(data, None)
