"""Shared fixtures: a fresh store on SQLite and on the PostgreSQL server, and the fixture site."""

from __future__ import annotations

import os
import uuid

import pytest

PG_ADMIN_URL = os.environ.get("ACEWATCH_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
# Every store test runs on both (tests.support.fresh_store_url makes a new store of either).
BACKENDS = ["sqlite", "postgresql"]


def _pg_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL.replace("postgresql://", "postgresql://", 1), connect_timeout=3):
            return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def pg_admin():
    """The PostgreSQL server the brief provides; its absence is a failure, not a skip."""
    if not _pg_available():
        pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL}; the store tests need it")
    return PG_ADMIN_URL


def _fresh_pg_database(admin_url: str) -> tuple[str, str]:
    import psycopg

    name = f"acewatch_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + f"/{name}", name


def _drop_pg_database(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path):
    """A new, empty store URL on each backend."""
    from tests.support import fresh_store_url

    return fresh_store_url(request, tmp_path)


@pytest.fixture
def engine(db_url):
    """A migrated engine on a new store of each backend, disposed after the test."""
    from store.database import open_engine

    engine = open_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def fixture_crawls(request, tmp_path_factory):
    """backend -> day 1 then day 2 of the fixture site crawled for real into a fresh store of that backend
    (tests.support.crawl_two_days), each crawled on first use and kept for the session."""
    from tests.support import crawl_two_days

    crawls: dict[str, dict] = {}

    def crawled(backend: str) -> dict:
        if backend not in crawls:
            workdir = tmp_path_factory.mktemp(f"two-days-{backend}")
            crawls[backend] = crawl_two_days(request, workdir, backend=backend)
        return crawls[backend]

    return crawled


@pytest.fixture(scope="module", params=BACKENDS)
def two_days(request, fixture_crawls):
    """Day 1 then day 2 of the fixture site, crawled once per backend for the whole session and shared by
    every module that asks for it, so a module may only read it (`acewatch check`, reports, queries).

    Keys: db, engine, home (the crawl's HOME), day1 and day2 (the cycles' reports), requests and
    day2_requests (what each day's crawl asked the site). A module that writes to its store, or crawls
    other days, builds its own with tests.support.crawl_two_days (tests/test_versions_e2e.py).
    """
    return fixture_crawls(request.param)


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory):
    """A SQLite store filled by the real `acewatch demo` command (day 1 then day 2)."""
    from tests.support import acewatch

    home = tmp_path_factory.mktemp("demo-home")
    db = f"sqlite:///{home / 'acewatch.db'}"
    result = acewatch("demo", "--progress", "off", db=db, home=home)
    assert result.returncode == 0, result.stderr
    return {"db": db, "home": home, "stdout": result.stdout}
