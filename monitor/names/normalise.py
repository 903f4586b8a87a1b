"""Typographic normalisation: the declared rules under which two texts are `equivalent`."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

#: Vocabulary of normalisation rules, in the order they are reported.
RULES: tuple[str, ...] = ("unicode", "case", "whitespace", "quotes", "dashes", "marks")


# --------------------------------------------------------------------------
# normalize
# --------------------------------------------------------------------------

# Marks: the symbols, and the ASCII stand-ins "(R)", "(TM)", "(SM)" only when
# glued to the word before them ("Excel(R)").  A spaced "(R)" is left alone:
# "Data Analysis (R)" names the R language.  "(C)" is never removed (C
# language).  An optional space on each side is eaten so that removal does not
# itself leave double spaces (which would wrongly credit the whitespace rule).
_MARK_RE = re.compile(r"( ?)(?:[®™℠©]|(?<=[\w)®™℠©])\((?:R|TM|SM)\))+( ?)", re.IGNORECASE)

# Zero-width and invisible format characters (soft hyphen included: it is
# invisible in a rendered title).  Removed, not turned into a space.
_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e"
_ZERO_WIDTH_TABLE = {ord(c): None for c in _ZERO_WIDTH}

_QUOTES_TABLE = str.maketrans(
    {
        **{c: "'" for c in "\u2018\u2019\u201a\u201b\u2032\u2035"},
        **{c: '"' for c in "\u201c\u201d\u201e\u201f\u2033\u2036\u00ab\u00bb"},
    }
)

# Hyphen, non-breaking hyphen, figure dash, en dash, em dash, horizontal bar,
# hyphen bullet, minus, small/fullwidth forms.
_DASHES_TABLE = str.maketrans({c: "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2043\u2212\ufe58\ufe63\uff0d"})


def _rule_marks(text: str) -> str:
    def repl(m: re.Match) -> str:
        spaced = bool(m.group(1) or m.group(2))
        at_edge = m.start() == 0 or m.end() == len(text)
        return " " if spaced and not at_edge else ""

    return _MARK_RE.sub(repl, text)


def _rule_whitespace(text: str) -> str:
    return " ".join(text.translate(_ZERO_WIDTH_TABLE).split())


def _rule_quotes(text: str) -> str:
    return text.translate(_QUOTES_TABLE)


def _rule_dashes(text: str) -> str:
    return text.translate(_DASHES_TABLE)


def _rule_unicode(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def _rule_case(text: str) -> str:
    """Casefold, then recompose: casefold can decompose a character (``ῒ`` becomes three code
    points) that NFKC would compose again, and the two rules must not undo each other.
    NFC, not NFKC: compatibility mappings (NBSP, ligatures) stay credited to `unicode`."""
    return unicodedata.normalize("NFC", text.casefold())


# Order matters: marks before NFKC (which turns "™" into "TM"), whitespace
# and dashes before NFKC (which turns NBSP into a space and U+2011 into
# U+2010), so that each character is credited to the rule a person expects.
_PIPELINE = (
    ("marks", _rule_marks),
    ("whitespace", _rule_whitespace),
    ("quotes", _rule_quotes),
    ("dashes", _rule_dashes),
    ("unicode", _rule_unicode),
    ("case", _rule_case),
)
_MAX_PASSES = 4


@dataclass(frozen=True, slots=True)
class Normalized:
    """A typographically normalised text and the rules that changed it."""

    text: str
    applied: tuple[str, ...]


def _normalize(text: str, skip: frozenset[str] = frozenset()) -> tuple[str, tuple[str, ...]]:
    """Run the pipeline to a fixed point; returns (text, rules that changed it, in ``RULES`` order).

    Repeating the pipeline (at most a few passes) is what makes ``normalize``
    idempotent: NFKC and casefold can produce characters the earlier rules
    would change (e.g. a presentation-form dash becoming an en dash).
    """
    if text.isascii() and not skip:
        return _normalize_ascii(text)
    applied: set[str] = set()
    for _ in range(_MAX_PASSES):
        before = text
        for name, rule in _PIPELINE:
            if name in skip:
                continue
            new = rule(text)
            if new != text:
                applied.add(name)
                text = new
        if text == before:
            break
    return text, _ordered(applied)


def _normalize_ascii(text: str) -> tuple[str, tuple[str, ...]]:
    """Fast path: ASCII text has no quotes/dashes/unicode work, one pass is a fixed point.

    Returns a tuple of strings (not a set): 100k of them are kept by a
    catalog run, and tuples of strings are cheap to build and to garbage-collect.
    """
    marks = whitespace = case = False
    if "(" in text:
        new = _rule_marks(text)
        marks, text = new != text, new
    new = " ".join(text.split())
    whitespace, text = new != text, new
    new = text.lower()
    case, text = new != text, new
    return text, _ASCII_APPLIED[case, whitespace, marks]


_ASCII_APPLIED = {
    (c, w, m): tuple(name for name, on in (("case", c), ("whitespace", w), ("marks", m)) if on)
    for c in (False, True)
    for w in (False, True)
    for m in (False, True)
}


def _ordered(rules: Iterable[str]) -> tuple[str, ...]:
    rules = set(rules)
    return tuple(r for r in RULES if r in rules)


def normalize(text: str) -> Normalized:
    """Typographic normalisation only; ``applied`` names each rule that changed ``text``.

    Rules (vocabulary ``RULES``): ``unicode`` NFKC; ``case`` casefold;
    ``whitespace`` NBSP and other Unicode spaces to a space, zero-width
    characters removed, runs collapsed, ends stripped; ``quotes`` curly to
    straight; ``dashes`` en/em dash, non-breaking hyphen, minus to ``-``;
    ``marks`` removes ® ™ ℠ © and a glued ``(R)``/``(TM)``/``(SM)``.

    It never touches words, ``&``/``and``, colons or versions: those change
    what a name says, so they are reported as differences instead.
    """
    if not isinstance(text, str):
        raise TypeError(f"normalize() needs a str, got {type(text).__name__}")
    out, applied = _normalize(text)
    return Normalized(out, applied)
