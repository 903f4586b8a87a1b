"""A read-only view of the store for `acewatch check`, without SQLAlchemy.

`check` must answer in a fraction of a second; importing SQLAlchemy alone
costs ~0.6 s here. So this module speaks to SQLite through the stdlib and to
PostgreSQL through psycopg directly, with a handful of plain SQL queries
against the tables Alembic created.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit


@cache
def known_revisions() -> set[str]:
    """Alembic revisions this code ships, from the migration file names (`0002_name_index.py`)
    rather than Alembic itself, whose import would cost `check` its start-up budget."""
    versions = Path(__file__).with_name("migrations") / "versions"
    return {path.name.split("_", 1)[0] for path in versions.glob("[0-9]*_*.py")}


class ReaderError(Exception):
    """The store cannot be read; the message never holds a password."""


def _safe(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@", 1)
    return url


def _parse_time(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, (str, bytes)) else value


@dataclass
class Snapshot:
    """The snapshot pair of the newest finished cycle: what `check` answers from."""

    cycle_id: int
    ace_run_id: int | None
    coursera_run_id: int | None
    ace_crawled_at: datetime | None
    coursera_crawled_at: datetime | None


class StoreReader:
    def __init__(self, url: str):
        self.url = url
        self._columns: set[tuple[str, str]] = set()  # (table, column) known to exist
        scheme = urlsplit(url).scheme.split("+")[0]
        try:
            if scheme == "sqlite":
                self._open_sqlite(url)
            elif scheme in ("postgresql", "postgres"):
                self._open_postgres(url)
            else:
                raise ReaderError(f"unsupported database URL {_safe(url)} (use sqlite:/// or postgresql://)")
        except (sqlite3.Error, OSError) as exc:
            raise ReaderError(f"cannot open database {_safe(url)}: {exc}") from None

    def _open_sqlite(self, url: str) -> None:
        path = unquote(url.split(":///", 1)[1]) if ":///" in url else ""
        if not path or not Path(path).expanduser().exists():
            raise ReaderError(f"no acewatch database at {path or url}: run `acewatch run` (or `acewatch demo`) first")
        # Any thread may use the reader, one at a time (the web app keeps a pool of them).
        self.connection = sqlite3.connect(f"file:{Path(path).expanduser()}?mode=ro", uri=True, check_same_thread=False)
        self.marker = "?"
        self.backend = "sqlite"

    def _open_postgres(self, url: str) -> None:
        import psycopg

        try:
            # autocommit: a long-lived reader (the web app) must not sit idle in a transaction, holding locks
            # that a schema upgrade waits for; each SELECT sees the newest committed data either way.
            self.connection = psycopg.connect(
                url.replace("postgresql+psycopg://", "postgresql://"), connect_timeout=10, autocommit=True
            )
        except psycopg.Error as exc:
            raise ReaderError(f"cannot open database {_safe(url)}: {str(exc).strip().splitlines()[0]}") from None
        self.marker = "%s"
        self.backend = "postgresql"

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        try:
            cursor = self.connection.cursor()
            cursor.execute(sql.replace("?", self.marker), params)
            return cursor.fetchall()
        except Exception as exc:  # sqlite3 and psycopg raise unrelated classes
            if "no such table" in str(exc) or "does not exist" in str(exc):
                raise ReaderError(
                    f"{_safe(self.url)} is not an acewatch database yet: run `acewatch run` first"
                ) from None
            raise ReaderError(f"cannot read {_safe(self.url)}: {str(exc).splitlines()[0]}") from None

    def check_schema(self) -> None:
        """Refuse a store written by a newer acewatch, as opening it for writing does."""
        rows = self.query("SELECT version_num FROM alembic_version")
        unknown = [row[0] for row in rows if row[0] not in known_revisions()]
        if unknown:
            raise ReaderError(
                f"the database {_safe(self.url)} has schema revision {unknown[0]}, newer than this "
                "acewatch knows; upgrade acewatch"
            )

    def latest_snapshot(self) -> Snapshot | None:
        rows = self.query(
            "SELECT c.id, c.ace_run_id, c.coursera_run_id, a.started_at, p.started_at FROM cycle c "
            "LEFT JOIN crawl_run a ON a.id = c.ace_run_id LEFT JOIN crawl_run p ON p.id = c.coursera_run_id "
            "WHERE c.outcome = 'finished' AND c.ace_run_id IS NOT NULL ORDER BY c.id DESC LIMIT 1"
        )
        if not rows:
            return None
        cycle_id, ace_run, coursera_run, ace_at, coursera_at = rows[0]
        return Snapshot(cycle_id, ace_run, coursera_run, _parse_time(ace_at), _parse_time(coursera_at))

    def exhibit_names(self, run_id: int) -> list[tuple[str, str, str]]:
        """(cid, title, organization) of every exhibit in a run: the candidates for a name.

        Ordered by cid in Python (not by the database's collation), the order
        of the stored name index, so both break ties between equal candidates alike.
        """
        rows = self.query(
            "SELECT cid, title, organization FROM ace_exhibit WHERE run_id = ? AND title <> ''", (run_id,)
        )
        return sorted(rows, key=lambda row: row[0])

    def has_table(self, name: str) -> bool:
        if self.backend == "sqlite":
            return bool(self.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)))
        return bool(self.query("SELECT to_regclass(?) IS NOT NULL", (name,))[0][0])

    def name_keys(self, run_id: int, version: str) -> StoredNameKeys | None:
        """The run's stored name index, if the nightly cycle wrote one with this `version`.

        None for a store older than the index (no table), a run not indexed,
        or indexed by other code (another fingerprint): `check` then prepares
        the names itself, slower but with the same answer.
        """
        if not self.has_table("name_index"):
            return None
        rows = self.query("SELECT key_version, names, cores, orgs FROM name_index WHERE ace_run_id = ?", (run_id,))
        if not rows or rows[0][0] != version:
            return None
        _, names, cores, orgs = rows[0]
        cores, orgs = cores.split("\n"), orgs.split("\n")
        if not names or len(cores) != names or len(orgs) != names:
            return None
        return StoredNameKeys(self, run_id, cores, orgs)

    def exhibits(self, run_id: int, cids: list[str]) -> dict[str, dict[str, Any]]:
        if not cids:
            return {}
        marks = ",".join("?" * len(cids))
        rows = self.query(
            f"SELECT cid, ace_id, organization, title, url, periods, parse_status FROM ace_exhibit "
            f"WHERE run_id = ? AND cid IN ({marks})",
            (run_id, *cids),
        )
        keys = ("cid", "ace_id", "organization", "title", "url", "periods", "parse_status")
        found = {row[0]: dict(zip(keys, row)) for row in rows}
        for record in found.values():
            record["periods"] = _json(record["periods"])
        return found

    #: Columns of an exhibit version record (`exhibit_versions`, `run_exhibits`).
    VERSION_FIELDS = ("cid", "ace_id", "version", "organization", "title", "url", "periods", "parse_status")

    def exhibit_versions(self, run_id: int, ace_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        """Every version (cid) of these ACE IDs in a run, by ACE ID: `check` answers for the version
        that decides (monitor.versions). A store from before migration 0005 has no version column:
        its rows read as version None."""
        if not ace_ids:
            return {}
        marks = ",".join("?" * len(ace_ids))
        rows = self._version_rows(f"run_id = ? AND ace_id IN ({marks})", (run_id, *ace_ids))
        found: dict[str, list[dict[str, Any]]] = {}
        # Sorted here, not by ORDER BY cid: SQLite would then walk the (run_id, cid) index through every
        # exhibit of the run to skip a sort of a few rows (66 ms instead of 0.03 ms on 40k exhibits).
        for record in sorted(rows, key=lambda record: record["cid"]):
            found.setdefault(record["ace_id"], []).append(record)
        return found

    def run_exhibits(self, run_id: int) -> list[dict[str, Any]]:
        """Every exhibit of a run as a version record, by cid: what a long-lived process keeps in memory
        so that its checks read nothing (one query; about 0.3 s and 30 MB for 40k exhibits)."""
        return sorted(self._version_rows("run_id = ?", (run_id,)), key=lambda record: record["cid"])

    def _version_rows(self, where: str, params: tuple) -> list[dict[str, Any]]:
        version = "version" if self.has_column("ace_exhibit", "version") else "NULL"
        rows = self.query(
            f"SELECT cid, ace_id, {version}, organization, title, url, periods, parse_status FROM ace_exhibit "
            f"WHERE {where}",
            params,
        )
        records = [dict(zip(self.VERSION_FIELDS, row)) for row in rows]
        for record in records:
            record["periods"] = _json(record["periods"])
        return records

    def has_column(self, table: str, column: str) -> bool:
        """Whether the table has the column. A yes is kept for the reader's life (upgrades only add
        columns); a no is asked again, so a long-lived reader sees a column an upgrade adds meanwhile."""
        if (table, column) not in self._columns and self._ask_column(table, column):
            self._columns.add((table, column))
        return (table, column) in self._columns

    def _ask_column(self, table: str, column: str) -> bool:
        if self.backend == "sqlite":
            return any(row[1] == column for row in self.query(f"PRAGMA table_info({table})"))
        return bool(
            self.query(
                "SELECT 1 FROM information_schema.columns WHERE table_name = ? AND column_name = ?", (table, column)
            )
        )

    def first_seen(self, cid: str) -> datetime | None:
        """When acewatch first saw this exhibit in a finished ACE crawl: the "since" of an answer."""
        # One seek per finished run on the (run_id, cid) key: no index leads with cid, so a join from
        # the exhibit side scans every exhibit of every run (14 ms on one run of 40k exhibits).
        rows = self.query(
            "SELECT MIN(r.started_at) FROM crawl_run r WHERE r.outcome = 'finished' "
            "AND EXISTS (SELECT 1 FROM ace_exhibit e WHERE e.run_id = r.id AND e.cid = ?)",
            (cid,),
        )
        return _parse_time(rows[0][0]) if rows and rows[0][0] else None

    def program(self, run_id: int, slug: str) -> dict[str, Any] | None:
        keys = (
            "program_id",
            "slug",
            "title",
            "partner",
            "url",
            "variant",
            "ace_claim",
            "ace_credits",
            "claim_text",
            "parse_status",
        )
        rows = self.query(
            f"SELECT {', '.join(keys)} FROM coursera_program WHERE run_id = ? AND slug = ?", (run_id, slug)
        )
        return dict(zip(keys, rows[0])) if rows else None

    def close(self) -> None:
        self.connection.close()


class StoredNameKeys:
    """One run's name index (see `store.names_index`), as `monitor.names.StoredNameIndex` asks for it.

    The content-word and organization keys of every name come in two strings
    (`name_index.cores`/`.orgs`, one key a line, in `position` order); whole
    `name_key` rows are read only for a check's shortlist, about 20 names.
    """

    #: Columns of a key row: monitor.names.NAME_KEY_FIELDS (a test keeps them equal).
    FIELDS = ("cid", "title", "organization", "norm", "applied", "core_words", "core", "org", "vendor", "org_label")

    def __init__(self, reader: StoreReader, run_id: int, cores: list[str], orgs: list[str]):
        self.reader = reader
        self.run_id = run_id
        self.cores = cores
        self.orgs = orgs  # "" for a name of unknown organization

    def same_norm(self, norm: str) -> list[int]:
        return sorted(
            position
            for (position,) in self.reader.query(
                "SELECT position FROM name_key WHERE ace_run_id = ? AND norm = ?", (self.run_id, norm)
            )
        )

    def key_rows(self, positions) -> dict[int, dict[str, Any]]:
        positions = sorted(positions)
        if not positions:
            return {}
        marks = ",".join("?" * len(positions))
        rows = self.reader.query(
            f"SELECT position, {', '.join(self.FIELDS)} FROM name_key WHERE ace_run_id = ? AND position IN ({marks})",
            (self.run_id, *positions),
        )
        if len(rows) != len(positions):
            raise ReaderError(
                f"the name index of ACE run {self.run_id} in {_safe(self.reader.url)} is incomplete; "
                "`acewatch run` rewrites it"
            )
        return {row[0]: dict(zip(self.FIELDS, row[1:])) for row in rows}

    def all_key_rows(self) -> list[dict[str, Any]]:
        """Every key row, in position order: a long-lived process reads the whole index once."""
        rows = self.reader.query(
            f"SELECT position, {', '.join(self.FIELDS)} FROM name_key WHERE ace_run_id = ?", (self.run_id,)
        )
        rows.sort(key=lambda row: row[0])
        if [row[0] for row in rows] != list(range(len(self.cores))):
            raise ReaderError(
                f"the name index of ACE run {self.run_id} in {_safe(self.reader.url)} is incomplete; "
                "`acewatch run` rewrites it"
            )
        return [dict(zip(self.FIELDS, row[1:])) for row in rows]
