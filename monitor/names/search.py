"""Search: the ACE names nearest to one query (shortlist by content words, then ranked comparisons)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from operator import itemgetter

from rapidfuzz import fuzz, process

from monitor.names.compare import Comparison, assess, compare_prepared, prepare_name, rank_key
from monitor.names.index import MAX_KEPT_POOLS, Candidate, CandidateIndex, NameIndex

#: How many fuzzy candidates ``best_candidates`` rescores with ``compare``.
SHORTLIST_SIZE = 20


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


def best_candidates(
    query: str,
    names: Sequence[Candidate] | NameIndex,
    limit: int = 5,
    query_org: str | None = None,
) -> list[Scored]:
    """The ``limit`` best ACE names for one query, best first.

    1. Blocking: names with the same normalised text (a dict lookup, all
       organizations; exact text is a special case) are always candidates.
    2. Shortlist: the ``max(SHORTLIST_SIZE, limit)`` best ``fuzz.ratio``
       scores over precomputed sorted content-word keys, within the query's
       organization (plus names of unknown organization); all names when the
       organization is unknown or has none.  ``shortlist`` scans every key
       (the reference); an index kept by a long-lived process searches with
       ``CoreSearch``, which gives the same shortlist scoring a few keys.
    3. Rescore the shortlist with ``compare`` and order by ``rank_key``.

    Pass a ``CandidateIndex`` when calling more than once, or a
    ``StoredNameIndex`` over names the nightly cycle prepared (same answers,
    nothing normalised again).  Ties are broken by position in the index.
    """
    index = names if isinstance(names, NameIndex) else CandidateIndex(list(names))
    q = prepare_name(query, query_org, role="query")
    shortlist = set(index.same_norm(q.norm))  # same text is same normalised text
    pool, cores = index.pool_cores(q.org)
    size = max(SHORTLIST_SIZE, limit)
    search = core_search(index, q.org) if index.keep else None
    for pos in search.top(q.core, size) if search else top_scores(q.core, cores, size):
        shortlist.add(pool[pos] if pool is not None else pos)
    entries = index.entries(shortlist)
    assessed = sorted(
        ((assess(q, entries[i][1]), i) for i in shortlist),
        key=lambda pair: (rank_key(pair[0]), pair[1]),
    )
    return [Scored(entries[i][0], compare_prepared(q, entries[i][1], s)) for s, i in assessed[:limit]]


def top_scores(query: str, cores: Sequence[str], k: int) -> list[int]:
    """Positions of the ``k`` best ``fuzz.ratio`` scores, best first, ties by position: every key scored.

    The reference ``CoreSearch`` must equal (tests/test_names_search.py).
    """
    return [pos for _core, _score, pos in process.extract(query, cores, scorer=fuzz.ratio, processor=None, limit=k)]


def core_search(index: NameIndex, org: str | None) -> CoreSearch | None:
    """The fast search over ``index.pool_cores(org)``, kept with the index; None the first time a pool is asked.

    A search costs more to build than one scan, so it is built when a kept index is asked about the
    same pool a second time: a process that checks one name (the CLI, even through the API's kept
    index) scans and never imports numpy; a long-lived one (the web app) builds it once.
    """
    search = index.searches.get(org)
    if search is None:
        if org not in index.searches:
            if len(index.searches) < MAX_KEPT_POOLS:
                index.searches[org] = None  # asked once: scan this time
            return None
        search = CoreSearch(index.pool_cores(org)[1])
        index.searches[org] = search
    return search


class CoreSearch:
    """``top_scores`` over fixed keys, scoring only the keys that can reach the ``k`` best.

    ``fuzz.ratio`` is 200 * LCS / (len(a) + len(b)), and a longest common
    subsequence cannot hold more of a character than both strings have, so
    200 * H / (len(a) + len(b)), H the size of the two strings' character
    multiset intersection, bounds it from above.  H comes from per-character
    count columns (numpy, one vector operation per distinct character of the
    query), so bounding all keys costs a fraction of scoring them.  Then:
    score the keys whose bound reaches the highest level (95, 90, ...) that
    at least ``FIRST * k`` reach; the k-th best score ``s`` found there is at
    most the true k-th best, so every position of the true top k, ties
    included, has a bound >= ``s``; score those not scored yet too and take
    the top k by (score, position), as ``process.extract`` orders them.  Equal keys (versions of a
    program share a name; generated catalogs repeat content words) are
    bounded and scored once.  Exact by construction; tests/test_names_search.py
    compares it with ``top_scores``.  Built once per key list (about 0.2 s
    for 40k) by a process that keeps its index (the web app); a one-shot
    ``check`` scans instead and never imports numpy.
    """

    LEVELS = (95.0, 90.0, 85.0, 80.0, 75.0, 70.0, 65.0, 60.0, 55.0, 50.0, 40.0, 0.0)
    #: The first pass scores at least this many times k keys: a better k-th score there leaves fewer for the second
    #: (on 40k generated names, 8 x 20 keys first leaves about 2,000 in all to score, 20 leaves 7,500).
    FIRST = 8
    #: Added to every bound: float32 arithmetic is off by well under 1e-4 at 100, rapidfuzz's score computed
    #: another way by far less.  Slack only makes more keys scored, never fewer.
    SLACK = 1e-3
    #: Below the k-th score when asking rapidfuzz for every key reaching it (its cutoff test rounds its own way).
    CUTOFF_SLACK = 1e-2
    #: Count columns precomputed as deficits max(0, m - count) for a query holding a character m <= 3 times.
    DEFICITS = 3

    def __init__(self, cores: Sequence[str]) -> None:
        import numpy as np  # lazy: only a long-lived process builds a search

        self.np = np
        self.cores, self.size = cores, len(cores)
        where: dict[str, list[int]] = {}
        for position, core in enumerate(cores):
            where.setdefault(core, []).append(position)
        self.keys = list(where)  # distinct keys, by first position: rapidfuzz's tie order is position order
        self.positions = list(where.values())
        self.repeats = np.fromiter(map(len, self.positions), dtype=np.int64, count=len(self.positions))
        lengths = np.fromiter(map(len, self.keys), dtype=np.int64, count=len(self.keys))
        self.lengths = lengths.astype(np.float32)
        self.usable = bool(len(lengths)) and int(lengths.max()) < np.iinfo(np.uint16).max
        self.counts, self.column = self._counts(lengths)
        self.deficits = [(m - np.minimum(self.counts, m)).astype(np.uint8) for m in range(1, self.DEFICITS + 1)]
        self._scale: dict[int, object] = {}

    def _counts(self, lengths):
        """How often each character occurs in each key: one row per character, one column per key."""
        np = self.np
        codes = np.frombuffer("".join(self.keys).encode("utf-32-le"), dtype=np.uint32)
        rows = np.repeat(np.arange(len(self.keys)), lengths)
        order = np.argsort(codes, kind="stable")
        chars, starts = np.unique(codes[order], return_index=True)
        counts = np.zeros((len(chars), len(self.keys)), dtype=np.uint16)
        for c, (start, end) in enumerate(zip(starts.tolist(), [*starts[1:].tolist(), len(codes)])):
            counts[c] = np.bincount(rows[order[start:end]], minlength=len(self.keys))
        return counts, {chr(c): i for i, c in enumerate(chars.tolist())}

    def bounds(self, query: str):
        """Upper bound of ``fuzz.ratio(query, key)`` for every distinct key (a numpy array, by key)."""
        np = self.np
        missing = np.zeros(len(self.keys), dtype=np.uint8 if len(query) < 256 else np.uint16)
        absent = 0  # query characters no key holds
        for ch, m in Counter(query).items():
            c = self.column.get(ch)
            if c is None:
                absent += m
            elif m <= self.DEFICITS:
                np.add(missing, self.deficits[m - 1][c], out=missing)
            else:
                np.add(missing, m - np.minimum(self.counts[c], m), out=missing, casting="unsafe")
        common = (len(query) - absent) - missing.astype(np.float32)
        common *= self._scale_for(len(query))
        common += self.SLACK
        return common

    def _scale_for(self, length: int):
        """200 / (len(query) + len(key)) by key, kept for the query lengths seen (a few dozen)."""
        scale = self._scale.get(length)
        if scale is None:
            scale = (200.0 / (length + self.lengths)).astype(self.np.float32)
            if len(self._scale) < 128:
                self._scale[length] = scale
        return scale

    def top(self, query: str, k: int) -> list[int]:
        """Exactly ``top_scores(query, cores, k)`` for the ``cores`` this search was built on."""
        np = self.np
        if k >= self.size or not self.usable:
            return top_scores(query, self.cores, k)
        bound = self.bounds(query)
        level = self._first_level(bound, self.FIRST * k)
        keys = np.flatnonzero(bound >= level)
        scores = self._scores(query, keys)
        kth = self._kth(scores, keys, k)  # at most the true k-th best score
        if kth < level:  # keys below the first level may still reach it: score those whose bound does
            below = np.flatnonzero((bound >= kth) & (bound < level))
            keys, scores = np.concatenate([keys, below]), np.concatenate([scores, self._scores(query, below)])
        reaching = scores >= kth
        found = [
            (score, pos)
            for key, score in zip(keys[reaching].tolist(), scores[reaching].tolist())
            for pos in self.positions[key]
        ]
        found.sort(key=lambda pair: (-pair[0], pair[1]))
        return [pos for _score, pos in found[:k]]

    def _first_level(self, bound, wanted: int) -> float:
        """The highest level that at least ``wanted`` keys' bounds reach (counting is cheap; listing is not)."""
        np = self.np
        for level in self.LEVELS:
            if np.count_nonzero(bound >= level) >= wanted:
                return level
        return 0.0

    def _scores(self, query: str, keys):
        """``fuzz.ratio(query, key)`` of these keys, as rapidfuzz's scan computes it (float64), in one array."""
        at = keys.tolist()
        if not at:
            return self.np.zeros(0)
        texts = [self.keys[at[0]]] if len(at) == 1 else itemgetter(*at)(self.keys)
        return process.cdist([query], texts, scorer=fuzz.ratio, processor=None, dtype=self.np.float64)[0]

    def _kth(self, scores, keys, k: int) -> float:
        """The k-th best score over the positions of these keys (a key stands for all its positions)."""
        np = self.np
        order = np.argsort(-scores, kind="stable")
        reached = np.cumsum(self.repeats[keys[order]])
        return float(scores[order[int(np.searchsorted(reached, k))]])
