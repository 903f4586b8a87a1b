"""Compare a certificate title with an ACE exhibit name, word for word.

An ACE credit recommendation belongs to one EXACT name: "Meta Front-End
Developer" is not "Meta Front-End Development".  This module tells a person
how two names relate and, when they differ, which words differ.  Everything
here is deterministic and imports only the stdlib and rapidfuzz, because it
sits on the start-up path of ``acewatch check``.

Verdict ladder (best first; ``compare`` returns exactly one):

``exact``
    The two texts are identical, character for character.
``equivalent``
    Identical after typographic normalisation (``normalize``); the
    comparison lists the rules that made them equal (``normalisations``).
    Never decided by a score.
``near``
    Different words, close enough to show a person.  ``differences`` lists
    them (``Developer -> Development``, ``+ Professional Certificate``).
``none``
    Not close enough to be worth showing.

Organization gate: a candidate of another organization (``other_organization``)
can never be ``exact`` or ``equivalent`` for the query, even with the same
text; it is reported as ``near`` with the vendor word difference (or an
``organization`` difference when the words are the same).  A name's
organization is the one given (canonicalised: ``Google LLC`` = ``Google``),
else the vendor its first word(s) name (a small table: Google, IBM, Meta,
Microsoft, AWS/Amazon, ...).  Two names are of other organizations when
those differ, or when both names lead with different vendors.  Unknown
organizations never count as different.

Thresholds (module constants):

``NEAR_MIN_WORD_EDITS`` = 1 and ``NEAR_MAX_EDIT_FRACTION`` = 0.4
    ``near`` when the names share at least one word and the word-level edit
    distance is at most ``max(1, round(0.4 * n))``, n = the longer name's
    word count.  So a single changed or inserted word in a multi-word name is
    ALWAYS ``near``, whatever the length; 4-5 word names allow 2 edits
    (e.g. ``+ Professional Certificate``), 8-10 word names allow 3-4.
Same content words
    ...or when the names have the same content words, i.e. differ only in
    credential words (``Professional Certificate``, ``Specialization``),
    versions, punctuation, ``&``/``and`` or hyphenation: "Google Project
    Management: Professional Certificate" vs "Google Project Management"
    (3 word edits) is ``near``.
``NEAR_MIN_SCORE`` = 91
    ...or when ``score`` >= 91.  ``score`` is rapidfuzz ``WRatio`` on the
    normalised texts; WRatio caps a pure substring match at 90, so this
    path admits only whole-name closeness: typos inside a word, word order
    swapped (95), ``Front-End`` vs ``Front End``.
Everything else is ``none``.

``score`` (0-100) is WRatio on the normalised texts, 100 only when they
are equal.  A score alone never decides anything: candidates are ordered by
``rank_key`` = (verdict, same organization, fewer content-word edits, higher
score, fewer word edits).  Content words are the words minus credential
words and versions, with ``&`` read as ``and`` and hyphens split; they
matter more than characters because a credential suffix is the most common
difference between a Coursera title and its ACE name.
"""

from __future__ import annotations

import gc
import hashlib
import re
import unicodedata
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from itertools import combinations
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

__all__ = [
    "RULES",
    "NEAR_MIN_WORD_EDITS",
    "NEAR_MAX_EDIT_FRACTION",
    "NEAR_MIN_SCORE",
    "SHORTLIST_SIZE",
    "VERDICTS",
    "Normalized",
    "Difference",
    "Comparison",
    "Candidate",
    "Scored",
    "PreparedName",
    "CandidateIndex",
    "StoredNames",
    "StoredNameIndex",
    "normalize",
    "tokenize",
    "word_differences",
    "compare",
    "best_candidates",
    "vendor_of",
    "canonical_org",
    "prepare_name",
    "compare_prepared",
    "Assessment",
    "assess",
    "rank_key",
    "NAME_KEY_FIELDS",
    "name_key_version",
    "name_key_fields",
    "prepared_from_key",
    "name_key_rows",
]

# --------------------------------------------------------------------------
# Constants
# --------------------------------------------------------------------------

#: Vocabulary of normalisation rules, in the order they are reported.
RULES: tuple[str, ...] = ("unicode", "case", "whitespace", "quotes", "dashes", "marks")

#: Verdicts, best first.
VERDICTS: tuple[str, ...] = ("exact", "equivalent", "near", "none")
_VERDICT_RANK = {v: i for i, v in enumerate(VERDICTS)}

#: ``near`` always allows this many word edits (when the names share a word).
NEAR_MIN_WORD_EDITS = 1
#: ...and up to this fraction of the longer name's words, rounded half up.
NEAR_MAX_EDIT_FRACTION = 0.4
#: ...or any pair whose ``score`` reaches this (WRatio caps substrings at 90).
NEAR_MIN_SCORE = 91.0

#: How many fuzzy candidates ``best_candidates`` rescores with ``compare``.
SHORTLIST_SIZE = 20

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


# --------------------------------------------------------------------------
# tokenize and word differences
# --------------------------------------------------------------------------


def tokenize(text: str) -> list[str]:
    """Split on whitespace (any Unicode space, NBSP included); punctuation stays attached.

    Keeping punctuation on its word makes a difference read like the titles a
    person sees: ``Management: -> Management`` for a dropped colon, ``- (v.2)``
    for a version, ``& -> and``.  A stand-alone ``&`` is its own word.
    """
    return text.split()


@dataclass(frozen=True, slots=True)
class Difference:
    """One word-level difference turning the query into the ACE name.

    ``kind`` is ``replace``, ``insert`` (words only the ACE name has),
    ``delete`` (words only the query has) or ``organization`` (same words,
    different organizations; ``old``/``new`` are the organizations).
    ``old``/``new`` are the ORIGINAL words, not the normalised ones.
    """

    kind: str
    old: str
    new: str

    def __str__(self) -> str:
        if self.kind == "insert":
            return f"+ {self.new}"
        if self.kind == "delete":
            return f"- {self.old}"
        if self.kind == "organization":
            return f"organization: {self.old} -> {self.new}"
        return f"{self.old} -> {self.new}"

    def to_dict(self) -> dict:
        return {"kind": self.kind, "old": self.old, "new": self.new, "text": str(self)}


@dataclass(frozen=True, slots=True)
class _Words:
    """Original words, their normalised forms, and which original word each came from."""

    original: tuple[str, ...]
    normalised: tuple[str, ...]
    origin: tuple[int, ...]

    def original_text(self, start: int, end: int) -> str:
        seen: list[int] = []
        for i in self.origin[start:end]:
            if not seen or seen[-1] != i:
                seen.append(i)
        return " ".join(self.original[i] for i in seen)


def _words(text: str, norm_words: tuple[str, ...] | None = None) -> _Words:
    """Normalise word by word so each normalised word knows its original word.

    A word that normalises to nothing (a stand-alone ``®``) disappears; one
    that normalises to several (rare NFKC cases) maps each piece back to it.
    ``norm_words`` (the words of ``normalize(text)``) is a shortcut for ASCII
    text, where normalisation never adds, drops or merges a word.
    """
    original = tuple(tokenize(text))
    if norm_words is not None and text.isascii() and len(norm_words) == len(original):
        return _Words(original, norm_words, tuple(range(len(original))))
    normalised: list[str] = []
    origin: list[int] = []
    for i, word in enumerate(original):
        for piece in _normalize(word)[0].split():
            normalised.append(piece)
            origin.append(i)
    return _Words(original, tuple(normalised), tuple(origin))


def _alnum(words: Sequence[str]) -> str:
    return "".join(ch for w in words for ch in w if ch.isalnum())


def _merge_moves(ops: list[list]) -> list[list]:
    """Collapse an insert and a delete of the same words (a word moved) into one replace.

    Levenshtein reports "Google Analytics Data" vs "Google Data Analytics" as
    ``+ Data`` ... ``- Data``; one ``Analytics Data -> Data Analytics`` reads
    better.  ``ops`` items are [tag, i1, i2, j1, j2].
    """
    changed = True
    while changed:
        changed = False
        for x, a in enumerate(ops):
            for y in range(x + 1, len(ops)):
                b = ops[y]
                pair = {a[0], b[0]}
                if pair != {"insert", "delete"}:
                    continue
                ins, dele = (a, b) if a[0] == "insert" else (b, a)
                ins_len, del_len = ins[4] - ins[3], dele[2] - dele[1]
                if ins_len == del_len and ins[5] == dele[5]:
                    merged = ["replace", a[1], b[2], a[3], b[4], None]
                    ops[x : y + 1] = [merged]
                    changed = True
                    break
            if changed:
                break
    return ops


def _realign(a: Sequence[str], b: Sequence[str], i1: int, i2: int, j1: int, j2: int):
    """Re-align a mixed run (replace plus insert/delete) pairing the most similar words.

    Levenshtein picks any of the equally short edit scripts: "Meta Front-End
    Developer" vs "... Development Specialization" may come out as ``+
    Development``, ``Developer -> Specialization``.  A small DP over the run
    keeps the minimal number of word edits (the tie-break weight is below one
    edit in total) and among those prefers pairing similar words:
    ``Developer -> Development``, ``+ Specialization``.
    """
    old, new = a[i1:i2], b[j1:j2]
    m, n = len(old), len(new)
    eps = 1.0 / (m + n + 1)
    cost = [[0.0] * (n + 1) for _ in range(m + 1)]
    for i in range(1, m + 1):
        cost[i][0] = cost[i - 1][0] + 1 + eps
    for j in range(1, n + 1):
        cost[0][j] = cost[0][j - 1] + 1 + eps
    for i in range(1, m + 1):
        for j in range(1, n + 1):
            sub = (
                0.0
                if old[i - 1] == new[j - 1]
                else 1 + eps * (1 - Levenshtein.normalized_similarity(old[i - 1], new[j - 1]))
            )
            cost[i][j] = min(cost[i - 1][j - 1] + sub, cost[i - 1][j] + 1 + eps, cost[i][j - 1] + 1 + eps)
    steps: list[tuple[str, int, int]] = []  # (tag, i, j) walking back
    i, j = m, n
    while i or j:
        if i and j:
            sub = (
                0.0
                if old[i - 1] == new[j - 1]
                else 1 + eps * (1 - Levenshtein.normalized_similarity(old[i - 1], new[j - 1]))
            )
            if cost[i][j] == cost[i - 1][j - 1] + sub:
                steps.append(("equal" if sub == 0.0 else "replace", i - 1, j - 1))
                i, j = i - 1, j - 1
                continue
        if i and (not j or cost[i][j] == cost[i - 1][j] + 1 + eps):
            steps.append(("delete", i - 1, j))
            i -= 1
        else:
            steps.append(("insert", i, j - 1))
            j -= 1
    out: list[tuple[str, int, int, int, int]] = []
    for tag, i, j in reversed(steps):
        di, dj = (0 if tag == "insert" else 1), (0 if tag == "delete" else 1)
        if out and out[-1][0] == tag and out[-1][2] == i1 + i and out[-1][4] == j1 + j:
            prev = out[-1]
            out[-1] = (tag, prev[1], prev[2] + di, prev[3], prev[4] + dj)
        else:
            out.append((tag, i1 + i, i1 + i + di, j1 + j, j1 + j + dj))
    return [op for op in out if op[0] != "equal"]


def _difference_ops(wa: _Words, wb: _Words) -> list[tuple[str, int, int, int, int]]:
    """Word-level edit script with readable grouping (see ``word_differences``)."""
    a, b = wa.normalised, wb.normalised
    ops = [[o.tag, o.src_start, o.src_end, o.dest_start, o.dest_end, None] for o in Levenshtein.opcodes(a, b)]
    for op in ops:  # content key for move detection
        op[5] = a[op[1] : op[2]] if op[0] == "delete" else b[op[3] : op[4]] if op[0] == "insert" else None
    ops = _merge_moves(ops)

    out: list[tuple[str, int, int, int, int]] = []
    run: list[list] = []

    def flush() -> None:
        if not run:
            return
        i1, i2, j1, j2 = run[0][1], run[-1][2], run[0][3], run[-1][4]
        # "Front-End" vs "Front End": the same letters split differently is
        # one difference, not a replace plus an insert.
        if len(run) > 1 and _alnum(a[i1:i2]) == _alnum(b[j1:j2]):
            out.append(("replace", i1, i2, j1, j2))
        elif len(run) > 1:
            out.extend(_realign(a, b, i1, i2, j1, j2))
        else:
            out.extend((op[0], op[1], op[2], op[3], op[4]) for op in run)
        run.clear()

    for op in ops:
        if op[0] == "equal":
            flush()
        else:
            run.append(op)
    flush()
    return out


def _differences(wa: _Words, wb: _Words) -> tuple[Difference, ...]:
    return tuple(
        Difference(tag, wa.original_text(i1, i2), wb.original_text(j1, j2))
        for tag, i1, i2, j1, j2 in _difference_ops(wa, wb)
    )


def word_differences(a: str, b: str) -> list[Difference]:
    """Words that differ between ``a`` (query) and ``b`` (ACE name), read as edits a -> b.

    Compared on normalised words (so case or a curly quote is not a
    difference) but reported with the original words.  Consecutive inserted
    or deleted words form one difference (``+ Professional Certificate``); a
    re-split word is one replace (``Front-End -> Front End``); a moved word
    is one replace of the span (``Analytics Data -> Data Analytics``).
    """
    return list(_differences(_words(a), _words(b)))


# --------------------------------------------------------------------------
# Organizations
# --------------------------------------------------------------------------

# Vendor -> aliases (normalised words).  Detected from the first word(s) of a
# name when its organization is not given.  Kept small on purpose: vendors
# whose names lead their certificate titles.
_VENDORS: dict[str, tuple[str, ...]] = {
    "Google": ("google", "google cloud"),
    "IBM": ("ibm", "international business machines"),
    "Meta": ("meta", "facebook", "meta platforms"),
    "Microsoft": ("microsoft",),
    "Salesforce": ("salesforce",),
    "AWS": ("aws", "amazon", "amazon web services"),
    "Intuit": ("intuit",),
    "Adobe": ("adobe",),
    "SAS": ("sas",),
    "DeepLearning.AI": ("deeplearning.ai", "deeplearning ai", "deeplearningai"),
    "Oracle": ("oracle",),
    "Cisco": ("cisco",),
    "SAP": ("sap",),
    "Atlassian": ("atlassian",),
    "Autodesk": ("autodesk",),
    "HubSpot": ("hubspot",),
    "MongoDB": ("mongodb",),
    "Databricks": ("databricks",),
    "NVIDIA": ("nvidia",),
    "VMware": ("vmware",),
    "Splunk": ("splunk",),
    "Palo Alto Networks": ("palo alto networks",),
    "Fortinet": ("fortinet",),
    "Linux Foundation": ("linux foundation", "the linux foundation"),
}
_VENDOR_BY_ALIAS: dict[tuple[str, ...], str] = {
    tuple(alias.split()): vendor.casefold() for vendor, aliases in _VENDORS.items() for alias in aliases
}
_VENDOR_DISPLAY = {vendor.casefold(): vendor for vendor in _VENDORS}
_MAX_ALIAS_WORDS = max(len(k) for k in _VENDOR_BY_ALIAS)
_ALIAS_FIRST_WORDS = frozenset(k[0] for k in _VENDOR_BY_ALIAS)
_LEGAL_SUFFIXES = frozenset(
    "inc inc. llc ltd ltd. limited corp corp. corporation co co. company gmbh plc ag sa".split()
)


def _bare(word: str) -> str:
    """A word without edge punctuation or a possessive: ``Google's`` -> ``google``."""
    bare = _BARE.get(word)
    if bare is None:
        bare = word.strip(',:;!?"()[]')
        if bare.endswith("'s"):
            bare = bare[:-2]
        if len(_BARE) < _CACHE_LIMIT:
            _BARE[word] = bare
    return bare


def _vendor_from_words(words: Sequence[str]) -> str | None:
    if not words:
        return None
    maybe = _MAY_START_ALIAS.get(words[0])
    if maybe is None:
        maybe = _bare(words[0]) in _ALIAS_FIRST_WORDS
        if len(_MAY_START_ALIAS) < _CACHE_LIMIT:
            _MAY_START_ALIAS[words[0]] = maybe
    if not maybe:
        return None
    head = [_bare(w) for w in words[:_MAX_ALIAS_WORDS]]
    for n in range(len(head), 0, -1):
        vendor = _VENDOR_BY_ALIAS.get(tuple(head[:n]))
        if vendor:
            return vendor
    return None


def vendor_of(name: str) -> str | None:
    """The vendor named by the first word(s) of ``name`` (a key like ``google``), or None."""
    return _vendor_from_words(_normalize(name)[0].split())


_ORG_CACHE: dict[str, str | None] = {}
_BARE: dict[str, str] = {}
_LABELS: dict[str, str | None] = {}
_MAY_START_ALIAS: dict[str, bool] = {}  # first word -> could it start a vendor alias?
_CACHE_LIMIT = 200_000  # entries per memo dict; names share a small vocabulary


def canonical_org(org: str | None) -> str | None:
    """A comparison key for an organization: vendor key, else normalised words minus legal suffixes.

    ``"Google LLC"``, ``"Google Cloud"`` -> ``google``; ``"IBM Corporation"``
    -> ``ibm``; ``"University of Michigan"`` -> ``university of michigan``.
    """
    if org is None:
        return None
    cached = _ORG_CACHE.get(org)
    if cached is not None or org in _ORG_CACHE:
        return cached
    words = [w.strip(",.") for w in _normalize(org)[0].split()]
    words = [w for w in words if w]
    while words and words[-1] in _LEGAL_SUFFIXES:
        words.pop()
    key = (_vendor_from_words(words) or " ".join(words)) if words else None
    if len(_ORG_CACHE) < _CACHE_LIMIT:
        _ORG_CACHE[org] = key
    return key


def _org_label(org: str) -> str | None:
    """An organization as given, with its whitespace tidied (for people, not comparison)."""
    label = _LABELS.get(org)
    if label is None:
        label = " ".join(org.split()) or None
        if len(_LABELS) < _CACHE_LIMIT:
            _LABELS[org] = label
    return label


def _org_display(key: str | None) -> str | None:
    return _VENDOR_DISPLAY.get(key, key) if key else None


# --------------------------------------------------------------------------
# Prepared names and comparison
# --------------------------------------------------------------------------

# Words that say what kind of credential a name is, not what it teaches.
# Dropped from the content words (shortlist key, ranking, the "same content
# words" near rule) so "Google Cybersecurity Professional Certificate" finds
# "Google Cybersecurity".  Exact/equivalent always use every character.
_CREDENTIAL_WORDS = frozenset(
    "certificate certificates certification specialization specialisation professional".split()
)
_VERSION_RE = re.compile(r"^\(?v(?:er(?:sion)?)?\.?\d+(?:\.\d+)*\)?$")


_CORE_PARTS: dict[str, tuple[str, ...]] = {}  # word -> its content parts (names share words)


def _core_parts(word: str) -> tuple[str, ...]:
    if word == "&":
        return ("and",)
    word = word.strip(",:;()[]\"'.")
    if not word or word in _CREDENTIAL_WORDS or _VERSION_RE.match(word):
        return ()
    return tuple(part for part in re.split(r"[-/]", word) if part)


def _core_words(words: Sequence[str]) -> tuple[str, ...]:
    """Content words: what a name teaches (shortlist, ranking, near rule; never exact/equivalent).

    Drops credential words and versions, maps ``&`` to ``and``, strips edge
    punctuation and splits hyphenated words, so that ``Front-End`` and ``Front
    End``, or a title with ``Professional Certificate``, rank next to their
    ACE name.  Falls back to all words if nothing is left.
    """
    core: list[str] = []
    for w in words:
        parts = _CORE_PARTS.get(w)
        if parts is None:
            parts = _core_parts(w)
            if len(_CORE_PARTS) < _CACHE_LIMIT:
                _CORE_PARTS[w] = parts
        core.extend(parts)
    return tuple(core) or tuple(words)


class PreparedName(NamedTuple):
    """A name with everything comparisons need, computed once.

    ``org`` is the effective organization key: the given organization when
    there is one, else the vendor named by the first words.  ``vendor`` is
    always the vendor named by the first words (or None).  A NamedTuple, not a
    frozen dataclass: the nightly run builds 100k of them and a frozen
    dataclass costs 5x more to construct.
    """

    text: str
    norm: str
    applied: tuple[str, ...]
    words: tuple[str, ...]
    core_words: tuple[str, ...]
    core: str
    org: str | None
    vendor: str | None
    org_label: str | None  # for people: the organization as given, else the vendor's name


def prepare_name(name: str, org: str | None = None, *, role: str = "name") -> PreparedName:
    """Prepare ``name`` once for many comparisons; ValueError if it is empty after normalisation."""
    if not isinstance(name, str):
        raise TypeError(f"{role} must be a str, got {type(name).__name__}")
    norm, applied = _normalize(name)
    if not norm:
        raise ValueError(f"{role} is empty (nothing left after normalisation): {name!r}")
    words = tuple(norm.split())
    vendor = _vendor_from_words(words)
    org_key = canonical_org(org) if org else vendor
    core = _core_words(words)
    label = _org_label(org) if org else _org_display(vendor)
    return PreparedName(name, norm, applied, words, core, " ".join(sorted(core)), org_key, vendor, label)


def _other_organization(q: PreparedName, a: PreparedName) -> bool:
    """Different effective organizations, or the two names lead with different vendors."""
    if q.org and a.org and q.org != a.org:
        return True
    return bool(q.vendor and a.vendor and q.vendor != a.vendor)


def _near_edit_budget(n_words: int) -> int:
    return max(NEAR_MIN_WORD_EDITS, int(NEAR_MAX_EDIT_FRACTION * n_words + 0.5))


class Assessment(NamedTuple):
    """The cheap part of a comparison (no word differences): enough to rank candidates."""

    verdict: str
    score: float
    word_edits: int
    core_edits: int
    other_organization: bool
    text_verdict: str  # verdict before the organization gate


def assess(q: PreparedName, a: PreparedName) -> Assessment:
    """Verdict, score and word edits for two prepared names; a few microseconds."""
    other = _other_organization(q, a)
    if q.norm == a.norm:
        text_verdict = "exact" if q.text == a.text else "equivalent"
        return Assessment("near" if other else text_verdict, 100.0, 0, 0, other, text_verdict)
    score = min(fuzz.WRatio(q.norm, a.norm, processor=None), 99.9)
    edits = Levenshtein.distance(q.words, a.words)
    core_edits = Levenshtein.distance(q.core_words, a.core_words)
    near = (
        core_edits == 0
        or score >= NEAR_MIN_SCORE
        or (edits <= _near_edit_budget(max(len(q.words), len(a.words))) and not set(q.words).isdisjoint(a.words))
    )
    verdict = "near" if near else "none"
    return Assessment(verdict, score, edits, core_edits, other, verdict)


def rank_key(a: Assessment) -> tuple:
    """Order candidates: better verdict, same organization, fewer content-word edits, higher score, fewer word edits.

    Content-word edits come before the score because character scores reward
    the wrong thing on credential suffixes: for "Google Front-End Development
    Professional Certificate", WRatio prefers "Google Front-End Development
    with Kubernetes Professional Certificate" (95) to "Google Front-End
    Development" (90), while the content words say the latter is identical.
    """
    return (_VERDICT_RANK[a.verdict], a.other_organization, a.core_edits, -a.score, a.word_edits)


@dataclass(frozen=True, slots=True)
class Comparison:
    """How a query relates to one ACE name (see the module docstring for the ladder)."""

    query: str
    ace_name: str
    verdict: str
    score: float
    differences: tuple[Difference, ...] = ()
    normalisations: tuple[str, ...] = ()
    other_organization: bool = False
    word_edits: int = 0
    query_org: str | None = None
    ace_org: str | None = None

    def to_dict(self) -> dict:
        return {
            "query": self.query,
            "ace_name": self.ace_name,
            "verdict": self.verdict,
            "score": round(self.score, 1),
            "differences": [d.to_dict() for d in self.differences],
            "normalisations": list(self.normalisations),
            "other_organization": self.other_organization,
            "word_edits": self.word_edits,
            "query_org": self.query_org,
            "ace_org": self.ace_org,
        }


def _normalisations_that_matter(q: PreparedName, a: PreparedName) -> tuple[str, ...]:
    """The smallest set of rules that alone make the two texts equal.

    Listing every rule either side triggered would be noise ("case" when both
    are capitalised the same way).  Rules overlap (NFKC also turns NBSP into
    a space), so instead of testing rules one by one this tries subsets of
    the rules actually applied, smallest first, in vocabulary order.
    """
    used = _ordered(q.applied + a.applied)
    for size in range(1, len(used) + 1):
        for subset in combinations(used, size):
            skip = frozenset(RULES) - set(subset)
            if _normalize(q.text, skip)[0] == _normalize(a.text, skip)[0]:
                return subset
    return used


def compare_prepared(q: PreparedName, a: PreparedName, assessment: Assessment | None = None) -> Comparison:
    """Full comparison (with differences) of two prepared names."""
    s = assessment or assess(q, a)
    differences: tuple[Difference, ...] = ()
    normalisations: tuple[str, ...] = ()
    if s.text_verdict == "equivalent":
        normalisations = _normalisations_that_matter(q, a)
    if s.text_verdict in ("exact", "equivalent"):
        if s.other_organization:
            old = q.org_label or "?"
            new = a.org_label or "?"
            differences = (Difference("organization", old, new),)
    else:
        differences = _differences(_words(q.text, q.words), _words(a.text, a.words))
    return Comparison(
        query=q.text,
        ace_name=a.text,
        verdict=s.verdict,
        score=s.score,
        differences=differences,
        normalisations=normalisations,
        other_organization=s.other_organization,
        word_edits=s.word_edits,
        query_org=q.org_label,
        ace_org=a.org_label,
    )


def compare(query: str, ace_name: str, *, query_org: str | None = None, ace_org: str | None = None) -> Comparison:
    """Compare a query title with one ACE name; ValueError if either is empty.

    ``query_org``/``ace_org`` are the organizations when known; otherwise
    the vendor is read from the first word(s) of each name.
    """
    q = prepare_name(query, query_org, role="query")
    a = prepare_name(ace_name, ace_org, role="ace_name")
    return compare_prepared(q, a)


# --------------------------------------------------------------------------
# One query against many names
# --------------------------------------------------------------------------


@contextmanager
def _gc_paused():
    """Pause the cyclic garbage collector while preparing many names at once.

    Prepared names are tuples and strings without reference cycles, but
    allocating 100k of them triggers repeated collections that cost 20-45%
    of a catalog run (measured with bench/match.py).  Restored on exit, even
    on error; a no-op if GC was already off.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@dataclass(frozen=True, slots=True)
class Candidate:
    """An ACE exhibit (or a Coursera program): opaque ``key`` (the ACE cid), ``name``, ``org``."""

    key: str
    name: str
    org: str | None = None

    def to_dict(self) -> dict:
        return {"key": self.key, "name": self.name, "org": self.org}


@dataclass(frozen=True, slots=True)
class Scored:
    """A candidate with its comparison to the query."""

    candidate: Candidate
    comparison: Comparison

    @property
    def verdict(self) -> str:
        return self.comparison.verdict

    def to_dict(self) -> dict:
        return {
            "key": self.candidate.key,
            "name": self.candidate.name,
            "org": self.candidate.org,
            **self.comparison.to_dict(),
        }


@dataclass
class CandidateIndex:
    """Names prepared once for repeated ``best_candidates`` calls.

    Building it normalises every name (about 2-5 us each, so 0.2-0.5 s for
    100k): build it once per process and pass it instead of the sequence.
    Names that are empty after normalisation are skipped (they can never match).
    """

    candidates: list[Candidate]
    prepared: list[PreparedName] = field(init=False)
    by_norm: dict[str, list[int]] = field(init=False)
    by_org: dict[str | None, list[int]] = field(init=False)
    cores: list[str] = field(init=False)

    def __post_init__(self) -> None:
        with _gc_paused():
            self._build()

    def _build(self) -> None:
        kept: list[Candidate] = []
        self.prepared = []
        for c in self.candidates:
            try:
                p = prepare_name(c.name, c.org)
            except ValueError:
                continue
            kept.append(c)
            self.prepared.append(p)
        self.candidates = kept
        self.by_norm, self.by_org = {}, {}
        for i, p in enumerate(self.prepared):
            self.by_norm.setdefault(p.norm, []).append(i)
            self.by_org.setdefault(p.org, []).append(i)
        self.cores = [p.core for p in self.prepared]
        self._org_cores: dict[str | None, list[str]] = {}

    def __len__(self) -> int:
        return len(self.candidates)

    def pool(self, org: str | None) -> list[int] | None:
        """Indices to search for a query of ``org``: its exhibits plus those of unknown org.

        None means "everything": the query's organization is unknown, or it
        has no exhibits at all (an interactive check then shows the closest
        names of other organizations, flagged, rather than nothing).
        """
        if org is None or org not in self.by_org:
            return None
        return self.by_org[org] + self.by_org.get(None, [])

    def pool_cores(self, org: str | None) -> tuple[list[int] | None, list[str]]:
        pool = self.pool(org)
        if pool is None:
            return None, self.cores
        if org not in self._org_cores:
            self._org_cores[org] = [self.cores[i] for i in pool]
        return pool, self._org_cores[org]

    def same_norm(self, norm: str) -> Sequence[int]:
        return self.by_norm.get(norm, ())

    def entries(self, indices: Collection[int]) -> dict[int, tuple[Candidate, PreparedName]]:
        return {i: (self.candidates[i], self.prepared[i]) for i in indices}


def best_candidates(
    query: str,
    names: Sequence[Candidate] | CandidateIndex | StoredNameIndex,
    limit: int = 5,
    query_org: str | None = None,
) -> list[Scored]:
    """The ``limit`` best ACE names for one query, best first.

    1. Blocking: names with the same normalised text (a dict lookup, all
       organizations; exact text is a special case) are always candidates.
    2. Shortlist: ``process.extract`` with ``fuzz.ratio`` over precomputed
       sorted content-word keys, within the query's organization (plus
       names of unknown organization); all names when the organization is
       unknown or has none.
    3. Rescore the shortlist with ``compare`` and order by ``rank_key``.

    Pass a ``CandidateIndex`` when calling more than once, or a
    ``StoredNameIndex`` over names the nightly cycle prepared (same answers,
    nothing normalised again).  Ties are broken by position in the index.
    """
    if isinstance(names, (CandidateIndex, StoredNameIndex)):
        index = names
    else:
        index = CandidateIndex(list(names))
    q = prepare_name(query, query_org, role="query")
    shortlist = set(index.same_norm(q.norm))  # same text is same normalised text
    pool, cores = index.pool_cores(q.org)
    for _core, _score, pos in process.extract(
        q.core, cores, scorer=fuzz.ratio, processor=None, limit=max(SHORTLIST_SIZE, limit)
    ):
        shortlist.add(pool[pos] if pool is not None else pos)
    entries = index.entries(shortlist)
    assessed = sorted(
        ((assess(q, entries[i][1]), i) for i in shortlist),
        key=lambda pair: (rank_key(pair[0]), pair[1]),
    )
    return [Scored(entries[i][0], compare_prepared(q, entries[i][1], s)) for s, i in assessed[:limit]]


# --------------------------------------------------------------------------
# Stored prepared names: the nightly name index that ``acewatch check`` reads
# --------------------------------------------------------------------------

#: The stored form of a ``PreparedName`` (plus the exhibit's ``cid`` and
#: ``organization``): one ``name_key`` row.  ``words`` is not stored (it is
#: ``norm.split()``); ``applied`` is comma-joined and ``core_words``
#: space-joined (no content word holds a space, no rule name a comma).
NAME_KEY_FIELDS: tuple[str, ...] = (
    "cid",
    "title",
    "organization",
    "norm",
    "applied",
    "core_words",
    "core",
    "org",
    "vendor",
    "org_label",
)


@cache
def name_key_version() -> str:
    """Fingerprint of the code and data that ``prepare_name`` depends on.

    A hash of this module's source and of Python's Unicode database version
    (NFKC, casefold and ``str.split`` follow it).  Stored with every name key
    row; rows of another fingerprint are ignored by ``check``, which then
    prepares names itself, so stored keys can never give an answer this code
    would not give.  Any edit to this file changes it (conservative on
    purpose: the next nightly cycle rewrites the keys).
    """
    digest = hashlib.sha256(Path(__file__).read_bytes())
    digest.update(unicodedata.unidata_version.encode())
    return digest.hexdigest()[:32]


def name_key_fields(p: PreparedName) -> dict[str, Any]:
    """The stored fields of a prepared name (without ``cid``/``organization``)."""
    return {
        "title": p.text,
        "norm": p.norm,
        "applied": ",".join(p.applied),
        "core_words": " ".join(p.core_words),
        "core": p.core,
        "org": p.org,
        "vendor": p.vendor,
        "org_label": p.org_label,
    }


def prepared_from_key(row: Mapping[str, Any]) -> PreparedName:
    """A ``PreparedName`` rebuilt from its stored fields, without normalising anything."""
    norm, applied = row["norm"], row["applied"]
    return PreparedName(
        row["title"],
        norm,
        tuple(applied.split(",")) if applied else (),
        tuple(norm.split()),
        tuple(row["core_words"].split(" ")),
        row["core"],
        row["org"],
        row["vendor"],
        row["org_label"],
    )


def name_key_rows(exhibits: Iterable[Mapping[str, Any]]) -> Iterator[dict[str, Any]]:
    """Name key rows for a run's exhibits (dicts with ``cid``, ``title``, ``organization``).

    The rows are the names ``check`` would consider (a title that is empty,
    or empty after normalisation, can never match), ordered by ``cid`` and
    numbered by ``position``, the order ``check`` searches them in; each
    carries ``key_version``.  A generator: nothing is prepared until the rows
    are consumed, so a writer can first see whether the run already has them.
    """
    version = name_key_version()
    rows: list[dict[str, Any]] = []
    with _gc_paused():
        for e in sorted((e for e in exhibits if e["title"]), key=lambda e: e["cid"]):
            try:
                p = prepare_name(e["title"], e["organization"])
            except ValueError:
                continue
            rows.append(
                {
                    "position": len(rows),
                    "cid": e["cid"],
                    "organization": e["organization"],
                    **name_key_fields(p),
                    "key_version": version,
                }
            )
    yield from rows


class StoredNames(Protocol):
    """A run's stored name keys, as ``store.reader.StoredNameKeys`` serves them (no SQLAlchemy)."""

    def same_norm(self, norm: str) -> Sequence[int]:
        """Positions of the names with this normalised text."""

    def pool_cores(self, org: str | None) -> tuple[list[int] | None, list[str]]:
        """Positions and content-word keys to search for a query of ``org`` (``CandidateIndex.pool``)."""

    def key_rows(self, positions: Collection[int]) -> dict[int, Mapping[str, Any]]:
        """The stored rows (``NAME_KEY_FIELDS``) at these positions."""


class StoredNameIndex:
    """Names prepared by the nightly cycle and stored: what ``check`` searches without normalising.

    Equivalent to a ``CandidateIndex`` over the same exhibits in the same
    order (``best_candidates`` gives identical answers; tests compare the
    two), but only the shortlist's rows are ever read whole: a check on 40k
    names fetches their content-word keys and about 20 full rows.
    """

    def __init__(self, stored: StoredNames):
        self.stored = stored

    def same_norm(self, norm: str) -> Sequence[int]:
        return self.stored.same_norm(norm)

    def pool_cores(self, org: str | None) -> tuple[list[int] | None, list[str]]:
        return self.stored.pool_cores(org)

    def entries(self, indices: Collection[int]) -> dict[int, tuple[Candidate, PreparedName]]:
        rows = self.stored.key_rows(indices)
        return {
            i: (Candidate(key=row["cid"], name=row["title"], org=row["organization"]), prepared_from_key(row))
            for i, row in rows.items()
        }
