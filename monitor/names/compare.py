"""One query against one ACE name: prepared names, the verdict ladder (exact/equivalent/near/none), ranking."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import NamedTuple

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from monitor.names.normalise import RULES, _normalize, _ordered
from monitor.names.organisations import _CACHE_LIMIT, _org_display, _org_label, _vendor_from_words, canonical_org
from monitor.names.words import Difference, _differences, _words

#: Verdicts, best first.
VERDICTS: tuple[str, ...] = ("exact", "equivalent", "near", "none")
_VERDICT_RANK = {v: i for i, v in enumerate(VERDICTS)}

#: ``near`` always allows this many word edits (when the names share a word).
NEAR_MIN_WORD_EDITS = 1
#: ...and up to this fraction of the longer name's words, rounded half up.
NEAR_MAX_EDIT_FRACTION = 0.4
#: ...or any pair whose ``score`` reaches this (WRatio caps substrings at 90).
NEAR_MIN_SCORE = 91.0


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
