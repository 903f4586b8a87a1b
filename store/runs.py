"""Crawl runs and their snapshots: written whole, read back by run.

Writes go through SQLAlchemy Core `insert` with executemany (one statement for
thousands of rows); per-row ORM adds were 27x slower here (see baselines.md).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Engine, and_, insert, select, update

from store.models import AceExhibit, CourseraProgram, CrawlRun

SNAPSHOT_TABLES = {"ace": AceExhibit, "coursera": CourseraProgram}
SNAPSHOT_KEYS = {"ace": "cid", "coursera": "program_id"}
STAT_FIELDS = ("pages", "records", "unknown", "errors", "retries")
BATCH = 5000


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def content_hash(record: dict[str, Any]) -> str:
    """A stable fingerprint of what a record says, so unchanged records diff in SQL."""
    body = {k: v for k, v in record.items() if k not in ("id", "run_id", "content_hash")}
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()[:32]


def begin_run(engine: Engine, source: str, base_url: str = "") -> int:
    """Record that a crawl started; committed at once so a crash leaves a trace."""
    if source not in SNAPSHOT_TABLES:
        raise ValueError(f"unknown source {source!r}; known: {', '.join(SNAPSHOT_TABLES)}")
    with engine.begin() as connection:
        result = connection.execute(insert(CrawlRun).values(
            source=source, base_url=base_url, started_at=utcnow(), outcome="running", health_report=[]))
        return int(result.inserted_primary_key[0])


def save_snapshot(engine: Engine, run_id: int, records: Iterable[dict[str, Any]],
                  stats: dict[str, Any], finish_reason: str = "finished") -> int:
    """Write a run's records and mark it finished, in one transaction.

    Either the whole snapshot and the `finished` mark land together, or
    neither does: a half-written snapshot can never be taken for a complete one.
    """
    with engine.begin() as connection:
        run = connection.execute(select(CrawlRun.source, CrawlRun.outcome).where(CrawlRun.id == run_id)).one()
        if run.outcome != "running":
            raise ValueError(f"run {run_id} is already {run.outcome}")
        model = SNAPSHOT_TABLES[run.source]
        defaults = _defaults(model)
        written = 0
        for batch in _batches(records, BATCH):
            rows = [_row(run_id, record, defaults) for record in batch]
            connection.execute(insert(model.__table__), rows)
            written += len(rows)
        values = {field: int(stats.get(field, 0)) for field in STAT_FIELDS}
        values["records"] = written
        connection.execute(update(CrawlRun).where(CrawlRun.id == run_id).values(
            outcome="finished", finish_reason=finish_reason, finished_at=utcnow(), **values))
    return written


def fail_run(engine: Engine, run_id: int, reason: str, stats: dict[str, Any] | None = None) -> None:
    """Mark a run failed with nothing from it counted; earlier snapshots stay as they were."""
    values = {field: int((stats or {}).get(field, 0)) for field in STAT_FIELDS}
    with engine.begin() as connection:
        connection.execute(update(CrawlRun).where(CrawlRun.id == run_id).values(
            outcome="failed", finish_reason=reason[:500], finished_at=utcnow(), healthy=False,
            health_report=[{"check": "finished", "ok": False, "message": reason[:500]}], **values))


def set_health(engine: Engine, run_id: int, healthy: bool, report: list[dict[str, Any]]) -> None:
    with engine.begin() as connection:
        connection.execute(update(CrawlRun).where(CrawlRun.id == run_id).values(
            healthy=healthy, health_report=report))


def get_run(engine: Engine, run_id: int) -> CrawlRun:
    with engine.connect() as connection:
        row = connection.execute(select(CrawlRun).where(CrawlRun.id == run_id)).mappings().one()
    return CrawlRun(**row)


def recent_runs(engine: Engine, source: str, limit: int = 10, healthy: bool | None = None,
                before_id: int | None = None) -> list[CrawlRun]:
    """Newest first; `healthy=True` gives only runs the health gate accepted."""
    query = select(CrawlRun).where(CrawlRun.source == source)
    if healthy is not None:
        query = query.where(CrawlRun.healthy == healthy, CrawlRun.outcome == "finished") if healthy \
            else query.where(CrawlRun.healthy == healthy)
    if before_id is not None:
        query = query.where(CrawlRun.id < before_id)
    with engine.connect() as connection:
        rows = connection.execute(query.order_by(CrawlRun.id.desc()).limit(limit)).mappings().all()
    return [CrawlRun(**row) for row in rows]


def latest_healthy_run(engine: Engine, source: str, before_id: int | None = None) -> CrawlRun | None:
    runs = recent_runs(engine, source, limit=1, healthy=True, before_id=before_id)
    return runs[0] if runs else None


def load_snapshot(engine: Engine, source: str, run_id: int, keys: Sequence[str] | None = None) -> list[dict]:
    """The records of one run (optionally only those keys), as plain dicts."""
    model = SNAPSHOT_TABLES[source]
    key = getattr(model, SNAPSHOT_KEYS[source])
    query = select(model.__table__).where(model.run_id == run_id)
    with engine.connect() as connection:
        if keys is None:
            return [dict(row) for row in connection.execute(query.order_by(key)).mappings()]
        found: list[dict] = []
        for batch in _batches(keys, 500):
            found.extend(dict(row) for row in connection.execute(query.where(key.in_(batch))).mappings())
        return found


def last_known_records(engine: Engine, source: str, keys: Sequence[str], before_run_id: int) -> dict[str, dict]:
    """For each key, its newest readable record in a healthy run before `before_run_id`.

    When a page was unreadable in the last run, the next diff compares against
    what was last actually seen, so a flicker neither hides nor invents a change.
    """
    if not keys:
        return {}
    model = SNAPSHOT_TABLES[source]
    key = getattr(model, SNAPSHOT_KEYS[source])
    found: dict[str, dict] = {}
    with engine.connect() as connection:
        for batch in _batches(keys, 500):
            query = (select(model.__table__).join(CrawlRun, CrawlRun.id == model.run_id)
                     .where(key.in_(batch), model.parse_status == "ok", CrawlRun.healthy.is_(True),
                            model.run_id < before_run_id).order_by(model.run_id))
            for row in connection.execute(query).mappings():
                found[row[SNAPSHOT_KEYS[source]]] = dict(row)  # later runs overwrite earlier ones
    return found


def snapshot_changes(engine: Engine, source: str, old_run: int, new_run: int) -> dict[str, list[str]]:
    """Keys added, removed and changed between two runs, computed in SQL.

    Only the keys come back, so the monitor loads just the rows that changed;
    two 100k snapshots diff with flat memory.
    """
    table = SNAPSHOT_TABLES[source].__table__
    key = SNAPSHOT_KEYS[source]
    old, new = table.alias("old"), table.alias("new")
    joined_on = and_(old.c[key] == new.c[key], old.c.run_id == old_run)
    with engine.connect() as connection:
        added = connection.execute(
            select(new.c[key]).select_from(new.outerjoin(old, joined_on))
            .where(new.c.run_id == new_run, old.c.id.is_(None))).scalars().all()
        removed = connection.execute(
            select(old.c[key]).select_from(old.outerjoin(new, and_(old.c[key] == new.c[key], new.c.run_id == new_run)))
            .where(old.c.run_id == old_run, new.c.id.is_(None))).scalars().all()
        changed = connection.execute(
            select(new.c[key]).select_from(new.join(old, joined_on))
            .where(new.c.run_id == new_run, old.c.content_hash != new.c.content_hash)).scalars().all()
    return {"added": sorted(added), "removed": sorted(removed), "changed": sorted(changed)}


def _defaults(model) -> dict[str, Any]:
    """Column defaults, since Core inserts skip the model's Python-side defaults."""
    return {name: field.get_default(call_default_factory=True)
            for name, field in model.model_fields.items() if name != "id"}


def _row(run_id: int, record: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    row = {**defaults, **record}
    row["run_id"] = run_id
    row["content_hash"] = row.get("content_hash") or content_hash(record)
    return row


def _batches(items: Iterable, size: int):
    batch: list = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
