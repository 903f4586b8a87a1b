"""The name index: a run's ACE names prepared once for matching, so `acewatch check` never re-normalises them.

The nightly cycle writes it (`write_name_index`: one `name_index` row and
one bulk Core insert of `name_key` rows, in one transaction) for the ACE run
it uses; `store.reader.StoredNameKeys` reads it with plain SQL. The rows come
from `monitor.names.name_key_rows`, which this module does not import: the
store stays independent of the matching code.

Layout (read by `store.reader`): `name_index.cores` and `.orgs` hold each
name's content-word key and canonical organization key ("" for none),
joined by newlines in `position` order. Neither can hold a newline (both are
built from whitespace-split words), so a check splits two strings instead of
fetching a row per name.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Engine, delete, func, insert, select

from store.models import CrawlRun, NameIndex, NameKey
from store.runs import BATCH, _batches, utcnow

SEPARATOR = "\n"


def name_index_version(engine: Engine, ace_run_id: int) -> str | None:
    """The `key_version` of a run's name index, or None when the run has none."""
    with engine.connect() as connection:
        return connection.execute(select(NameIndex.key_version).where(NameIndex.ace_run_id == ace_run_id)).scalar()


def write_name_index(engine: Engine, ace_run_id: int, rows: Iterable[dict[str, Any]]) -> int:
    """Store a run's name keys, whole, in one transaction; returns how many names were written.

    `rows` are `monitor.names.name_key_rows` dicts (each with the same
    `key_version`, `position` 0, 1, 2, ...). Idempotent per run: when the run
    is already indexed, whole, with that `key_version`, nothing is written
    and `rows` (a lazy generator) is consumed no further than its first row;
    an index of another version (or an incomplete one) is replaced. A run
    without names writes nothing.
    """
    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        return 0
    version = first["key_version"]
    with engine.begin() as connection:
        stored = connection.execute(
            select(NameIndex.key_version, NameIndex.names).where(NameIndex.ace_run_id == ace_run_id)
        ).first()
        if stored is not None and stored.key_version == version and stored.names == _count(connection, ace_run_id):
            return 0
        every = [first, *rows]
        names = [{key: value for key, value in row.items() if key != "key_version"} for row in every]
        _check_layout(names, version, [row["key_version"] for row in every])
        if stored is not None:
            connection.execute(delete(NameKey).where(NameKey.ace_run_id == ace_run_id))
            connection.execute(delete(NameIndex).where(NameIndex.ace_run_id == ace_run_id))
        connection.execute(
            insert(NameIndex).values(
                ace_run_id=ace_run_id,
                key_version=version,
                names=len(names),
                written_at=utcnow(),
                cores=SEPARATOR.join(row["core"] for row in names),
                orgs=SEPARATOR.join(row["org"] or "" for row in names),
            )
        )
        for batch in _batches(names, BATCH):
            connection.execute(insert(NameKey.__table__), [{**row, "ace_run_id": ace_run_id} for row in batch])
    return len(names)


def _count(connection, ace_run_id: int) -> int:
    return connection.execute(
        select(func.count()).select_from(NameKey).where(NameKey.ace_run_id == ace_run_id)
    ).scalar_one()


def _check_layout(names: list[dict[str, Any]], version: str, versions: list[str]) -> None:
    """Refuse rows the reader would misread: they would silently change `check`'s answers."""
    if any(v != version for v in versions):
        raise ValueError("name key rows of one run must share one key_version")
    for position, row in enumerate(names):
        if row["position"] != position:
            raise ValueError(f"name key rows must be numbered 0, 1, 2, ...: row {position} has {row['position']}")
        if SEPARATOR in row["core"] or SEPARATOR in (row["org"] or "") or row["org"] == "":
            raise ValueError(f"name key {row['cid']!r}: core/org may not hold a newline or be empty")


def titles_version(engine: Engine) -> tuple:
    """Changes whenever `title_rows` could: a run's records are written in the transaction that finishes it
    (store.runs), so the runs' count, newest id, finished count and records total say when (one small table)."""
    with engine.connect() as connection:
        return tuple(
            connection.execute(
                select(
                    func.count(), func.max(CrawlRun.id), func.count(CrawlRun.finished_at), func.sum(CrawlRun.records)
                )
            ).one()
        )
