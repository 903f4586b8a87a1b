"""Opening the store: one SQLAlchemy URL in, a migrated engine out.

SQLite is the embedded default; any SQLAlchemy URL works (PostgreSQL through
psycopg). The schema is owned by Alembic: opening a store upgrades it to the
newest revision this code knows, and refuses a database written by a newer
acewatch rather than guessing at its tables.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, SQLAlchemyError

MIGRATIONS = Path(__file__).with_name("migrations")
# What any store call may raise when the database fails under it (server restarted, connection cut, disk
# full): the program translates it for people without importing the database library itself.
DatabaseFailure = SQLAlchemyError


class StoreError(Exception):
    """A store problem a person can act on; the message never holds a password."""


def mask_url(url: str) -> str:
    """The URL with its password hidden, for logs, errors and `status`."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable database URL>"


def normalise_url(url: str) -> str:
    """Accept `postgresql://` (psycopg 3 is the driver we ship) and create SQLite's folder."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(
            f"not a database URL: {url!r} (expected e.g. sqlite:///path/to/acewatch.db or postgresql://user@host/db)"
        ) from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername.startswith("sqlite") and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        parsed = parsed.set(database=str(Path(parsed.database).expanduser()))
    return parsed.render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """WAL lets `check` read while a crawl writes; foreign keys keep snapshots tied to runs."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def create_store_engine(url: str) -> Engine:
    """An engine for `url`, with clear errors for unknown schemes and unreachable servers."""
    url = normalise_url(url)
    try:
        engine = create_engine(url, pool_pre_ping=True)
    except (ArgumentError, NoSuchModuleError) as exc:
        raise StoreError(f"unsupported database URL {mask_url(url)}: {exc}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    try:
        with engine.connect():
            pass
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise StoreError(f"cannot open database {mask_url(url)}: {reason}") from None
    return engine


def _alembic_config(engine: Engine):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = None
    config.attributes["engine"] = engine
    return config


def upgrade_schema(engine: Engine) -> None:
    """Bring the schema to the newest revision, refusing one we do not know."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    config = _alembic_config(engine)
    script = ScriptDirectory.from_config(config)
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    if current is not None and current not in {rev.revision for rev in script.walk_revisions()}:
        raise StoreError(
            f"the database {mask_url(engine.url.render_as_string(hide_password=False))} has schema revision "
            f"{current}, newer than this acewatch knows (head {script.get_current_head()}); upgrade acewatch"
        )
    if current != script.get_current_head():
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")


def open_engine(url: str) -> Engine:
    """Engine for `url` with the schema migrated: the one way the rest of acewatch opens a store."""
    engine = create_store_engine(url)
    upgrade_schema(engine)
    return engine


def schema_tables(engine: Engine) -> set[str]:
    """Table names present, for tests and `status`."""
    return set(inspect(engine).get_table_names())


def schema_revisions(engine: Engine) -> tuple[str | None, str, bool]:
    """(the store's Alembic revision or None, this acewatch's head, whether the store's is known here);
    read only: `acewatch doctor` reports the schema without upgrading it."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_alembic_config(engine))
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    known = current is None or current in {rev.revision for rev in script.walk_revisions()}
    return current, script.get_current_head(), known
