"""The plain records a diff of two runs reads, gathered here so the judging (monitor.diff) needs no database.

Only the changed keys are found in SQL (store.runs.snapshot_changes); only their rows are loaded. On the
old night an unreadable row stands for its last readable version: a page we could not read is no evidence
of a change, so it is judged as last seen. For ACE, every other version of the ACE IDs involved comes too
(a new version is not a new program, see monitor.versions).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine

from store.runs import (
    SNAPSHOT_KEYS,
    exhibit_versions,
    last_known_records,
    load_snapshot,
    snapshot_changes,
    unreadable_keys,
)


def snapshot_pair(engine: Engine, source: str, old_run_id: int, new_run_id: int) -> dict[str, Any]:
    """The keys added, removed and changed between two runs, with their rows by key: `old` (removed and
    changed; an unreadable one replaced by its last readable version, if any) and `new` (added and changed)."""
    changes = snapshot_changes(engine, source, old_run_id, new_run_id)
    key = SNAPSHOT_KEYS[source]
    old = {r[key]: r for r in load_snapshot(engine, source, old_run_id, changes["removed"] + changes["changed"])}
    unreadable = [k for k, r in old.items() if r["parse_status"] != "ok"]
    old.update(last_known_records(engine, source, unreadable, old_run_id))
    new = {r[key]: r for r in load_snapshot(engine, source, new_run_id, changes["added"] + changes["changed"])}
    return {**changes, "old": old, "new": new}


def ace_snapshot_pair(engine: Engine, old_run_id: int, new_run_id: int, dated: Sequence[str] = ()) -> dict[str, Any]:
    """`snapshot_pair` for ACE plus, per night, every version of the ACE IDs the changed rows carry
    (`old_versions`, `new_versions`: (ACE ID, row) pairs; see `version_rows`). The `dated` cids, unchanged
    pages whose status the calendar moved, join `old` and `new` as changed ones do (not `changed`: their
    text is the same)."""
    pair = snapshot_pair(engine, "ace", old_run_id, new_run_id)
    extra = sorted(set(dated) - pair["old"].keys() - pair["new"].keys())
    if extra:
        pair["old"].update((r["cid"], r) for r in load_snapshot(engine, "ace", old_run_id, extra))
        pair["new"].update((r["cid"], r) for r in load_snapshot(engine, "ace", new_run_id, extra))
    ace_ids = sorted({r["ace_id"] for rows in (pair["old"], pair["new"]) for r in rows.values() if r.get("ace_id")})
    return {
        **pair,
        "old_versions": version_rows(engine, old_run_id, ace_ids, substitute=True),
        "new_versions": version_rows(engine, new_run_id, ace_ids, substitute=False),
    }


def version_rows(engine: Engine, run_id: int, ace_ids: Sequence[str], substitute: bool) -> list[tuple[str, dict]]:
    """A run's rows of these ACE IDs as (ACE ID, row): the readable ones, then each unreadable row whose last
    readable copy belongs to one of them, with that copy in its place when `substitute` (the old night), else
    the unreadable row itself (it carries no ACE ID of its own, so the copy names it)."""
    rows = [(row["ace_id"], row) for row in exhibit_versions(engine, run_id, list(ace_ids))]
    cids = unreadable_keys(engine, "ace", run_id) if ace_ids else []
    if not cids:
        return rows
    wanted = set(ace_ids)
    copies = {cid: r for cid, r in last_known_records(engine, "ace", cids, run_id).items() if r["ace_id"] in wanted}
    if substitute:
        return rows + [(r["ace_id"], r) for r in copies.values()]
    return rows + [(copies[r["cid"]]["ace_id"], r) for r in load_snapshot(engine, "ace", run_id, sorted(copies))]
