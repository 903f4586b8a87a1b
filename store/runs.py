"""Crawl runs and their snapshots: written whole, read back by run.

Snapshot rows are prepared once as plain tuples (JSON text and content hash
computed here) and handed to the driver: `executemany` on SQLite, `COPY` on
PostgreSQL. Per-row ORM adds were 27x slower than Core (`bench/run.py` measures the writer);
Core's per-row bind processing was still about 2x the raw driver call.

A crawl streams its records through a `SnapshotWriter`: rows wait in memory,
then in a temporary staging table once there are many (memory stays flat at
100k records), and reach the snapshot table only in the transaction that
marks the run finished, so a half-written snapshot can never look complete.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

import orjson
from sqlalchemy import JSON, Connection, Engine, insert, select, update
from sqlalchemy.exc import DBAPIError

from store.models import AceExhibit, CourseraProgram, CrawlRun

SNAPSHOT_TABLES = {"ace": AceExhibit, "coursera": CourseraProgram}
SNAPSHOT_KEYS = {"ace": "cid", "coursera": "program_id"}
STAT_FIELDS = ("pages", "records", "unknown", "errors", "retries")
BATCH = 5000


def utcnow() -> datetime:
    return datetime.now(UTC)


_NOT_HASHED = frozenset(("id", "run_id", "content_hash"))
_SORTED = orjson.OPT_SORT_KEYS


def content_hash(record: dict[str, Any]) -> str:
    """A stable fingerprint of what a record says, so unchanged records diff in SQL.

    The sha256 of the record's sorted-key JSON, by orjson: with the standard
    json module this was half of a snapshot's store time. A new definition
    makes every stored record look changed once (more work for one diff, no
    false events: changed records are compared field by field); migration
    0003 rehashed the snapshots the next diff reads when this one came in.
    """
    body = record if _NOT_HASHED.isdisjoint(record) else {k: v for k, v in record.items() if k not in _NOT_HASHED}
    return hashlib.sha256(orjson.dumps(body, default=str, option=_SORTED)).hexdigest()[:32]


def begin_run(engine: Engine, source: str, base_url: str = "") -> int:
    """Record that a crawl started; committed at once so a crash leaves a trace."""
    if source not in SNAPSHOT_TABLES:
        raise ValueError(f"unknown source {source!r}; known: {', '.join(SNAPSHOT_TABLES)}")
    with engine.begin() as connection:
        result = connection.execute(
            insert(CrawlRun).values(
                source=source, base_url=base_url, started_at=utcnow(), outcome="running", health_report=[]
            )
        )
        return int(result.inserted_primary_key[0])


def save_snapshot(
    engine: Engine,
    run_id: int,
    records: Iterable[dict[str, Any]],
    stats: dict[str, Any],
    finish_reason: str = "finished",
) -> int:
    """Write a run's records and mark it finished, in one transaction.

    Either the whole snapshot and the `finished` mark land together, or
    neither does: a half-written snapshot can never be taken for a complete one.
    Rows are written in key order, like `SnapshotWriter`'s (see `snapshot_changes`).
    """
    with engine.begin() as connection:
        source = _running_source(connection, run_id)
        maker = _RowMaker(SNAPSHOT_TABLES[source], run_id)
        rows = [maker.make(record) for record in records]
        _insert_in_key_order(connection, source, maker, rows)
        _mark_finished(connection, run_id, len(rows), stats, finish_reason)
    return len(rows)


class SnapshotWriter:
    """Stream a crawl's records into a run's snapshot, committed whole by `finish`.

    Rows wait in memory up to `spill_after` of them (~1 KB each), then spill
    to a temporary table of the writer's own connection, so memory stays flat
    at 100k records (a temp table never locks SQLite's main database: two
    crawls of one process can stage at once). `finish` writes them into the
    snapshot table and marks the run finished in one transaction. One record
    per key is kept: the first readable one (`parse_status == "ok"`), else the first.
    """

    def __init__(self, engine: Engine, run_id: int, spill_after: int = 20_000):
        self.engine, self.run_id, self.spill_after = engine, run_id, spill_after
        self.connection = engine.connect()
        try:
            with self.connection.begin():
                source = _running_source(self.connection, run_id)
        except BaseException:
            self.connection.close()
            raise
        self.source, self.model, self.key = source, SNAPSHOT_TABLES[source], SNAPSHOT_KEYS[source]
        self.rows = _RowMaker(self.model, run_id)
        self.staging = f"acewatch_staging_{source}_{run_id}"
        self.staged = False  # has anything spilled to the staging table
        self.pending: dict[int, tuple] = {}  # seq -> row, not yet staged
        self.kept: dict[str, tuple[int, bool]] = {}  # key -> (seq, readable)
        self.seq = 0

    @property
    def _temp(self) -> str:
        return "temp." if self.engine.dialect.name == "sqlite" else ""

    def add(self, record: dict[str, Any]) -> None:
        key = record.get(self.key)
        readable = record.get("parse_status", "ok") == "ok"
        if key in self.kept:
            seq, was_readable = self.kept[key]
            if was_readable or not readable:
                return  # keep the first record, unless this one is readable and it was not
            if self.pending.pop(seq, None) is None:
                with self.connection.begin():
                    self.connection.exec_driver_sql(f"DELETE FROM {self._temp}{self.staging} WHERE seq = {int(seq)}")
        self.seq += 1
        self.kept[key] = (self.seq, readable)
        self.pending[self.seq] = self.rows.make(record)
        if len(self.pending) >= self.spill_after:
            self._spill()

    def _spill(self) -> None:
        with self.connection.begin():
            if not self.staged:  # the snapshot table's column types, no constraints
                self.connection.exec_driver_sql(f"DROP TABLE IF EXISTS {self._temp}{self.staging}")
                self.connection.exec_driver_sql(
                    f"CREATE TEMPORARY TABLE {self.staging} AS SELECT 0 AS seq, {', '.join(self.rows.columns)} "
                    f"FROM {self.model.__table__.name} WHERE 1 = 0"
                )
                self.staged = True
            rows = [(seq, *row) for seq, row in self.pending.items()]
            _insert_rows(self.connection, self._temp + self.staging, ("seq", *self.rows.columns), rows)
        self.pending.clear()

    def finish(self, stats: dict[str, Any], finish_reason: str = "finished") -> int:
        """Write the rows into the snapshot and mark the run finished, in one transaction.

        Rows go in key order, so a run's rows sit in the table in the order its
        (run_id, key) index reads them: the diff's join then reads pages in
        sequence instead of hopping (100k on SQLite: 0.40 -> 0.10 s).
        """
        try:
            if self.staged and self.pending:
                self._spill()
            with self.connection.begin():
                if self.staged:
                    columns = ", ".join(self.rows.columns)
                    self.connection.exec_driver_sql(
                        f"INSERT INTO {self.model.__table__.name} ({columns}) "
                        f"SELECT {columns} FROM {self._temp}{self.staging} ORDER BY {self.key}"
                    )
                else:
                    _insert_in_key_order(self.connection, self.source, self.rows, self.pending.values())
                _mark_finished(self.connection, self.run_id, len(self.kept), stats, finish_reason)
        finally:
            self.close()
        return len(self.kept)

    def close(self) -> None:
        """Drop what was staged (nothing reaches the snapshot) and release the connection."""
        self.pending.clear()
        if self.connection.closed:
            return
        try:
            if self.connection.in_transaction():
                self.connection.rollback()
            if self.staged:
                with self.connection.begin():
                    self.connection.exec_driver_sql(f"DROP TABLE IF EXISTS {self._temp}{self.staging}")
        finally:
            self.connection.close()


def _running_source(connection: Connection, run_id: int) -> str:
    run = connection.execute(select(CrawlRun.source, CrawlRun.outcome).where(CrawlRun.id == run_id)).one()
    if run.outcome != "running":
        raise ValueError(f"run {run_id} is already {run.outcome}")
    return run.source


def _mark_finished(
    connection: Connection, run_id: int, written: int, stats: dict[str, Any], finish_reason: str
) -> None:
    values: dict[str, Any] = {field: int(stats.get(field, 0)) for field in STAT_FIELDS}
    values["records"] = written
    if stats.get("notes"):  # the crawl's notes (crawler/notes.py), kept until the health gate adds its checks
        values["health_report"] = list(stats["notes"])
    connection.execute(
        update(CrawlRun)
        .where(CrawlRun.id == run_id)
        .values(outcome="finished", finish_reason=finish_reason, finished_at=utcnow(), **values)
    )


class _RowMaker:
    """Records -> row tuples in column order, with the model's defaults, JSON text and content hash.

    JSON columns are written as orjson text (None as JSON null), read back by
    SQLAlchemy's JSON type like any JSON; the content hash is of the record with
    its defaults, so a row read back from the store hashes to the same value.
    """

    def __init__(self, model, run_id: int):
        self.columns = tuple(c.name for c in model.__table__.columns if c.name != "id")
        self.run_id = run_id
        self.defaults = _defaults(model)
        self.json_columns = tuple(c.name for c in model.__table__.columns if c.type._type_affinity is JSON)
        self.known = frozenset(self.columns)
        self.values = itemgetter(*self.columns)

    def make(self, record: dict[str, Any]) -> tuple:
        if not self.known.issuperset(record):
            unknown = sorted(map(str, record.keys() - self.known))
            raise ValueError(f"unknown snapshot column(s): {', '.join(unknown)}")
        row = {**self.defaults, **record}  # hashed with its defaults: a stored row rehashes to the same value
        digest = row.pop("content_hash", None) or content_hash(row)
        row["run_id"], row["content_hash"] = self.run_id, digest
        for name in self.json_columns:
            row[name] = orjson.dumps(row[name]).decode()
        return self.values(row)


def _insert_in_key_order(connection: Connection, source: str, maker: _RowMaker, rows: Iterable[tuple]) -> None:
    """Write a snapshot's rows sorted by key, so they sit in the table in the order
    the (run_id, key) index reads them (see `snapshot_changes`)."""
    position = maker.columns.index(SNAPSHOT_KEYS[source])
    for batch in _batches(sorted(rows, key=lambda row: str(row[position])), BATCH):
        _insert_rows(connection, SNAPSHOT_TABLES[source].__table__.name, maker.columns, batch)


def _insert_rows(connection: Connection, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
    """One batch through the driver: COPY on PostgreSQL, executemany elsewhere."""
    if not rows:
        return
    if connection.dialect.name == "postgresql":
        statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        cursor = connection.connection.driver_connection.cursor()
        try:
            with cursor.copy(statement) as copy:
                for row in rows:
                    copy.write_row(row)
        except (
            connection.dialect.loaded_dbapi.Error
        ) as exc:  # the raw driver's error, as SQLAlchemy's (DatabaseFailure)
            raise DBAPIError.instance(statement, None, exc, connection.dialect.loaded_dbapi.Error) from exc
        finally:
            cursor.close()
        return
    marks = ", ".join("?" if connection.dialect.paramstyle == "qmark" else "%s" for _ in columns)
    connection.exec_driver_sql(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)


def fail_run(engine: Engine, run_id: int, reason: str, stats: dict[str, Any] | None = None) -> None:
    """Mark a run failed with nothing from it counted; earlier snapshots stay as they were."""
    values = {field: int((stats or {}).get(field, 0)) for field in STAT_FIELDS}
    with engine.begin() as connection:
        connection.execute(
            update(CrawlRun)
            .where(CrawlRun.id == run_id)
            .values(
                outcome="failed",
                finish_reason=reason[:500],
                finished_at=utcnow(),
                healthy=False,
                health_report=[{"check": "finished", "ok": False, "message": reason[:500]}],
                **values,
            )
        )


def set_health(engine: Engine, run_id: int, healthy: bool, report: list[dict[str, Any]]) -> None:
    with engine.begin() as connection:
        connection.execute(update(CrawlRun).where(CrawlRun.id == run_id).values(healthy=healthy, health_report=report))


def get_run(engine: Engine, run_id: int) -> CrawlRun:
    with engine.connect() as connection:
        row = connection.execute(select(CrawlRun).where(CrawlRun.id == run_id)).mappings().one()
    return CrawlRun(**row)


def recent_runs(
    engine: Engine, source: str, limit: int = 10, healthy: bool | None = None, before_id: int | None = None
) -> list[CrawlRun]:
    """Newest first; `healthy=True` gives only runs the health gate accepted."""
    query = select(CrawlRun).where(CrawlRun.source == source)
    if healthy is not None:
        query = (
            query.where(CrawlRun.healthy == healthy, CrawlRun.outcome == "finished")
            if healthy
            else query.where(CrawlRun.healthy == healthy)
        )
    if before_id is not None:
        query = query.where(CrawlRun.id < before_id)
    with engine.connect() as connection:
        rows = connection.execute(query.order_by(CrawlRun.id.desc()).limit(limit)).mappings().all()
    return [CrawlRun(**row) for row in rows]


def latest_healthy_run(engine: Engine, source: str, before_id: int | None = None) -> CrawlRun | None:
    runs = recent_runs(engine, source, limit=1, healthy=True, before_id=before_id)
    return runs[0] if runs else None


def load_snapshot(
    engine: Engine, source: str, run_id: int, keys: Sequence[str] | None = None, columns: Sequence[str] | None = None
) -> list[dict]:
    """The records of one run (optionally only those keys and columns), as plain dicts."""
    return list(iter_snapshot(engine, source, run_id, keys, columns))


def iter_snapshot(
    engine: Engine, source: str, run_id: int, keys: Sequence[str] | None = None, columns: Sequence[str] | None = None
) -> Iterator[dict]:
    """Stream the records of one run (in key order when `keys` is None) as plain dicts.

    A whole 100k-record ACE snapshot is ~400 MB as dicts, mostly the parsed
    periods: the monitor streams it, or asks only for the columns it uses.
    """
    table = SNAPSHOT_TABLES[source].__table__
    key = table.c[SNAPSHOT_KEYS[source]]
    query = select(*([table.c[name] for name in columns] if columns else [table])).where(table.c.run_id == run_id)
    with engine.connect() as connection:
        if keys is None:
            yield from map(dict, connection.execution_options(yield_per=1000).execute(query.order_by(key)).mappings())
            return
        for batch in _batches(keys, 500):
            yield from map(dict, connection.execute(query.where(key.in_(batch))).mappings())


def unreadable_records(engine: Engine, source: str, run_id: int) -> dict[str, dict]:
    """The run's `unknown` records by key (key, title, url, problem): few, read in one query."""
    table = SNAPSHOT_TABLES[source].__table__
    key = SNAPSHOT_KEYS[source]
    query = select(table.c[key], table.c.title, table.c.url, table.c.problem).where(
        table.c.run_id == run_id, table.c.parse_status != "ok"
    )
    with engine.connect() as connection:
        return {row[key]: dict(row) for row in connection.execute(query).mappings()}


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
            query = (
                select(model.__table__)
                .join(CrawlRun, CrawlRun.id == model.run_id)
                .where(
                    key.in_(batch), model.parse_status == "ok", CrawlRun.healthy.is_(True), model.run_id < before_run_id
                )
                .order_by(model.run_id)
            )
            for row in connection.execute(query).mappings():
                found[row[SNAPSHOT_KEYS[source]]] = dict(row)  # later runs overwrite earlier ones
    return found


def snapshot_changes(engine: Engine, source: str, old_run: int, new_run: int) -> dict[str, list[str]]:
    """Keys added, removed and changed between two runs, computed in SQL.

    Only the keys come back, so the monitor loads just the rows that changed;
    two 100k snapshots diff with flat memory. Two statements: the new run's
    rows against the old run's by key (added: no old row; changed: another
    content hash), then old keys missing from the new run (index only).
    On SQLite the new run is read in key order through the (run_id, key)
    index, so each probe of the old run lands next to the previous one; both
    runs' rows were written in key order, so the table pages are read in
    sequence too (100k: 0.47 s in crawl order -> ~0.15 s).
    """
    table = SNAPSHOT_TABLES[source].__table__.name
    key = SNAPSHOT_KEYS[source]
    with engine.connect() as connection:
        hint = _key_index_hint(connection, table, key)
        found = connection.exec_driver_sql(
            f"SELECT n.{key}, o.id IS NULL FROM {table} n{hint} LEFT JOIN {table} o "
            f"ON o.run_id = {int(old_run)} AND o.{key} = n.{key} "
            f"WHERE n.run_id = {int(new_run)} AND (o.id IS NULL OR o.content_hash <> n.content_hash)"
        ).all()
        removed = (
            connection.exec_driver_sql(
                f"SELECT o.{key} FROM {table} o WHERE o.run_id = {int(old_run)} AND NOT EXISTS "
                f"(SELECT 1 FROM {table} n WHERE n.run_id = {int(new_run)} AND n.{key} = o.{key})"
            )
            .scalars()
            .all()
        )
    added = [k for k, is_added in found if is_added]
    changed = [k for k, is_added in found if not is_added]
    return {"added": sorted(added), "removed": sorted(removed), "changed": sorted(changed)}


def _key_index_hint(connection: Connection, table: str, key: str) -> str:
    """SQLite: ` INDEXED BY` the unique (run_id, key) index, which reads a run in key order; else ""."""
    if connection.dialect.name != "sqlite":
        return ""
    for index in connection.exec_driver_sql(f"PRAGMA index_list({table})").all():
        name, unique = index[1], index[2]
        columns = [c[2] for c in connection.exec_driver_sql(f"PRAGMA index_info('{name}')").all()]
        if unique and columns == ["run_id", key]:
            return f' INDEXED BY "{name}"'
    return ""


def _defaults(model) -> dict[str, Any]:
    """Column defaults, since Core inserts skip the model's Python-side defaults."""
    return {
        name: field.get_default(call_default_factory=True)
        for name, field in model.model_fields.items()
        if name not in _NOT_HASHED
    }


def _batches(items: Iterable, size: int):
    batch: list = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def exhibit_versions(engine: Engine, run_id: int, ace_ids: Sequence[str]) -> list[dict]:
    """Every exhibit of these ACE IDs in one run (each version is its own cid), through the
    (run_id, ace_id) index: the diff judges an ACE ID's versions together (monitor.versions)."""
    table = AceExhibit.__table__
    found: list[dict] = []
    with engine.connect() as connection:
        for batch in _batches(sorted(set(ace_ids)), 500):
            query = select(table).where(table.c.run_id == run_id, table.c.ace_id.in_(batch)).order_by(table.c.cid)
            found += map(dict, connection.execute(query).mappings())
    return found


def unreadable_keys(engine: Engine, source: str, run_id: int) -> list[str]:
    """The keys of a run's unreadable records (few: the health gate fails a run with many)."""
    model = SNAPSHOT_TABLES[source]
    key = getattr(model, SNAPSHOT_KEYS[source])
    with engine.connect() as connection:
        return list(
            connection.execute(
                select(key).where(model.run_id == run_id, model.parse_status != "ok").order_by(key)
            ).scalars()
        )
