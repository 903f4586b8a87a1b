"""The name index: ACE names prepared once, in memory or as the nightly cycle stored them."""

from __future__ import annotations

import gc
import unicodedata
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Protocol

from monitor.names.compare import PreparedName, prepare_name


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
NAME_INDEX_VERSION = "1"


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
