"""Search: the ACE names nearest to one query (shortlist by content words, then ranked comparisons)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from monitor.names.compare import Comparison, assess, compare_prepared, prepare_name, rank_key
from monitor.names.index import Candidate, CandidateIndex, StoredNameIndex

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
