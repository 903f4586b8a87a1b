"""The name index: ACE names prepared once, in memory or as the nightly cycle stored them."""

from __future__ import annotations

import copy
import gc
import unicodedata
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol

from monitor.names.compare import PreparedName, prepare_name
from monitor.names.normalise import _normalize


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


class NameRows(Protocol):
    """Where a name index reads what it does not keep in memory: names of one normalised text, whole rows."""

    def same_norm(self, norm: str) -> Sequence[int]:
        """Positions of the names with this normalised text, ascending."""

    def entries(self, positions: Collection[int]) -> dict[int, tuple[Candidate, PreparedName]]:
        """The candidate and its prepared name at each of these positions."""


class NameIndex:
    """The name index: ACE names at positions 0..n-1, searched by content-word key within an organization.

    One index for every caller: the catalog matcher and a check over names
    prepared in memory (``CandidateIndex``), and ``check`` over the keys the
    nightly cycle stored (``StoredNameIndex``).  It keeps each name's
    content-word key (``cores``) and organization key (``orgs``); whole rows
    come from ``rows``.  ``keep=True`` (a long-lived process, see
    ``acewatch.check.IndexMemo``) also keeps organization pools and the fast
    shortlist search (``monitor.names.search.CoreSearch``) between queries.
    """

    def __init__(self, cores: list[str], orgs: Sequence[str | None], rows: NameRows, keep: bool = False) -> None:
        self.cores = cores
        self.orgs = orgs
        self.rows = rows
        self.keep = keep
        self._by_org: dict[str | None, list[int]] | None = None
        self._pools: dict[str | None, tuple[list[int] | None, list[str]]] = {}
        self.searches: dict[str | None, Any] = {}  # org -> CoreSearch, filled by monitor.names.search
        self._entries: dict[int, tuple[Candidate, PreparedName]] = {}

    def __len__(self) -> int:
        return len(self.cores)

    def bound_to(self, rows: NameRows) -> NameIndex:
        """The same index (sharing what it keeps) reading rows through ``rows``: one per thread's reader."""
        if self.keep:
            self.by_org  # noqa: B018 (built once here, so that every view shares it)
        view = copy.copy(self)
        view.rows = rows
        return view

    @property
    def by_org(self) -> dict[str | None, list[int]]:
        if self._by_org is None:
            by_org: dict[str | None, list[int]] = {}
            for i, org in enumerate(self.orgs):
                by_org.setdefault(org, []).append(i)
            self._by_org = by_org
        return self._by_org

    def has_org(self, org: str | None) -> bool:
        return org in self.by_org

    def pool(self, org: str | None) -> list[int] | None:
        """Positions to search for a query of ``org``: its names plus those of unknown organization.

        None means "everything": the query's organization is unknown, or it
        has no names at all (an interactive check then shows the closest
        names of other organizations, flagged, rather than nothing).
        """
        if org is None or org not in self.by_org:
            return None
        return self.by_org[org] + self.by_org.get(None, [])

    def pool_cores(self, org: str | None) -> tuple[list[int] | None, list[str]]:
        """``pool(org)`` and the content-word keys at those positions (all keys when the pool is everything)."""
        found = self._pools.get(org)
        if found is None:
            pool = self.pool(org)
            found = (pool, self.cores if pool is None else [self.cores[i] for i in pool])
            if self.keep and len(self._pools) < MAX_KEPT_POOLS:
                self._pools[org] = found
        return found

    def same_norm(self, norm: str) -> Sequence[int]:
        return self.rows.same_norm(norm)

    def entries(self, indices: Collection[int]) -> dict[int, tuple[Candidate, PreparedName]]:
        """The candidate and prepared name at each position; a kept index keeps those it read."""
        if not self.keep:
            return self.rows.entries(indices)
        kept = self._entries
        missing = [i for i in indices if i not in kept]
        if missing:
            read = self.rows.entries(missing)
            if len(kept) < MAX_KEPT_ENTRIES:
                kept.update(read)
            return {i: kept[i] if i in kept else read[i] for i in indices}
        return {i: kept[i] for i in indices}


#: Organizations whose pools (and fast searches) a kept index holds (ACE lists a few hundred).
MAX_KEPT_POOLS = 512
#: Names whose rows a kept index holds once read (a finished run's rows never change): about 1 KB each.
MAX_KEPT_ENTRIES = 50_000


class _Prepared:
    """Rows of names prepared in memory."""

    def __init__(self, candidates: list[Candidate], prepared: list[PreparedName]) -> None:
        self.candidates = candidates
        self.prepared = prepared
        self.by_norm: dict[str, list[int]] = {}
        for i, p in enumerate(prepared):
            self.by_norm.setdefault(p.norm, []).append(i)

    def same_norm(self, norm: str) -> Sequence[int]:
        return self.by_norm.get(norm, ())

    def entries(self, positions: Collection[int]) -> dict[int, tuple[Candidate, PreparedName]]:
        return {i: (self.candidates[i], self.prepared[i]) for i in positions}


class CandidateIndex(NameIndex):
    """A name index over names prepared here, once (for repeated ``best_candidates`` calls).

    Building it normalises every name (about 2-5 us each, so 0.2-0.5 s for
    100k): build it once per process and pass it instead of the sequence.
    Names that are empty after normalisation are skipped (they can never
    match); ``candidates`` and ``prepared`` are the kept ones, by position.
    """

    def __init__(self, candidates: Iterable[Candidate], keep: bool = False) -> None:
        kept: list[Candidate] = []
        prepared: list[PreparedName] = []
        with _gc_paused():
            for c in candidates:
                try:
                    prepared.append(prepare_name(c.name, c.org))
                except ValueError:
                    continue
                kept.append(c)
        self.candidates, self.prepared = kept, prepared
        super().__init__([p.core for p in prepared], [p.org for p in prepared], _Prepared(kept, prepared), keep)

    @property
    def by_norm(self) -> dict[str, list[int]]:
        return self.rows.by_norm


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


#: The version of what ``prepare_name`` computes (normalised text, rules applied, content words,
#: organization keys).  Bump it with any change that alters a prepared name: the nightly cycle then
#: rewrites the stored index, and until it does ``check`` prepares the names itself.  Declared, not a
#: hash of the code, so that an edit which changes nothing prepared (a docstring, the search, the
#: verdict rules, which read prepared names but are not stored) keeps every stored index valid.
#: tests/test_names_index.py pins the prepared form of a corpus of hazard names to this version,
#: so a change that forgets the bump fails there.
NAME_INDEX_VERSION = "2"


@cache
def name_key_version() -> str:
    """``NAME_INDEX_VERSION`` plus Python's Unicode database version (NFKC, casefold and
    ``str.split`` follow it), stored with every name index; an index of another version is
    ignored by ``check``, so stored keys can never give an answer this code would not give."""
    return f"names-{NAME_INDEX_VERSION}/unicode-{unicodedata.unidata_version}"


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

    cores: list[str]  # content-word keys by position
    orgs: list[str]  # organization keys by position, "" for none

    def same_norm(self, norm: str) -> Sequence[int]:
        """Positions of the names with this normalised text."""

    def key_rows(self, positions: Collection[int]) -> dict[int, Mapping[str, Any]]:
        """The stored rows (``NAME_KEY_FIELDS``) at these positions."""

    def all_key_rows(self) -> list[Mapping[str, Any]]:
        """Every stored row, in position order."""


class _StoredRows:
    """Rows of a stored index: only the shortlist's are ever read whole."""

    def __init__(self, stored: StoredNames) -> None:
        self.stored = stored

    def same_norm(self, norm: str) -> Sequence[int]:
        return self.stored.same_norm(norm)

    def entries(self, positions: Collection[int]) -> dict[int, tuple[Candidate, PreparedName]]:
        rows = self.stored.key_rows(positions)
        return {
            i: (Candidate(key=row["cid"], name=row["title"], org=row["organization"]), prepared_from_key(row))
            for i, row in rows.items()
        }


class StoredNameIndex(NameIndex):
    """Names prepared by the nightly cycle and stored: what ``check`` searches without normalising.

    Equivalent to a ``CandidateIndex`` over the same exhibits in the same
    order (``best_candidates`` gives identical answers; tests compare the
    two), but only the shortlist's rows are ever read whole: a check on 40k
    names fetches their content-word keys and about 20 full rows.
    """

    def __init__(self, stored: StoredNames, keep: bool = False) -> None:
        self.stored = stored
        super().__init__(stored.cores, [org or None for org in stored.orgs], _StoredRows(stored), keep)

    def reading(self, stored: StoredNames) -> StoredNameIndex:
        """This index (sharing what it keeps) reading rows through another reader's keys."""
        view = self.bound_to(_StoredRows(stored))
        view.stored = stored
        return view


class ResidentNameIndex(NameIndex):
    """A stored index read whole into memory once: what a long-lived process (the web app) searches.

    A ``StoredNameIndex`` reads about 20 rows per check (a third of a check's
    cost on 40k names); this one reads every row once (about 0.3 s and 40 MB
    for 40k names) and then answers from memory, with the same answers.
    """

    def __init__(self, stored: StoredNames) -> None:
        rows = stored.all_key_rows()
        with _gc_paused():
            candidates = [Candidate(key=row["cid"], name=row["title"], org=row["organization"]) for row in rows]
            prepared = [prepared_from_key(row) for row in rows]
        super().__init__(stored.cores, [org or None for org in stored.orgs], _Prepared(candidates, prepared), True)

    def entries(self, indices: Collection[int]) -> dict[int, tuple[Candidate, PreparedName]]:
        return self.rows.entries(indices)  # all in memory already: nothing to keep


class TitleLookup:
    """Who goes by a name: the ids whose title is it or normalises like it, or whose id or alias is it.

    Built once from (id, title, alias) rows (an ACE cid with its ACE ID, a Coursera program id
    with its slug); each question is then three dict lookups, where a scan normalised every title
    ever stored on every question (``acewatch history``, the web app's /history).
    """

    def __init__(self, rows: Iterable[tuple[str, str | None, str | None]]) -> None:
        self.exact: dict[str, set[str]] = {}  # id or title -> ids
        self.by_norm: dict[str, set[str]] = {}  # normalised title -> ids
        self.by_alias: dict[str, set[str]] = {}
        with _gc_paused():
            for ident, title, alias in rows:
                self.exact.setdefault(ident, set()).add(ident)
                if title is not None:
                    self.exact.setdefault(title, set()).add(ident)
                if title:
                    self.by_norm.setdefault(_normalize(title)[0], set()).add(ident)
                if alias is not None:
                    self.by_alias.setdefault(alias, set()).add(ident)

    def find(self, text: str, norm: str, alias: str) -> set[str]:
        """Ids whose id or title is ``text``, whose title normalises to ``norm``, or whose alias is ``alias``."""
        return self.exact.get(text, set()) | self.by_norm.get(norm, set()) | self.by_alias.get(alias, set())
