"""Making scraped text safe to show on a terminal and in Rich output.

Everything acewatch scraped is untrusted. A title could carry terminal escape
sequences (to rewrite a screen) or Rich [markup]; these helpers neutralise it
before it is printed. (The Atom feed escapes through ElementTree, acewatch/outputs/feed.py.)
"""

from __future__ import annotations

import re

_ESCAPES = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def for_terminal(text: object) -> str:
    """Plain text with escape sequences and control/bidi-override characters removed."""
    text = "" if text is None else str(text)
    if text.isascii() and text.isprintable():  # most text: nothing to remove (an escape is not printable)
        return text
    return _CONTROLS.sub("", _ESCAPES.sub("", text))


def for_rich(text: object) -> str:
    """Terminal-safe text that Rich prints literally (no [markup] from a scraped title)."""
    from rich.markup import escape

    return escape(for_terminal(text))
