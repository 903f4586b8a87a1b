"""Helpers the end-to-end tests share: run real cycles against the fixture site, run the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from acewatch.config import Config, load_config

ROOT = Path(__file__).resolve().parent.parent
EXPECTED_CHANGES = json.loads((ROOT / "fixtures" / "catalog" / "expected_changes.json").read_text())


def site_config(db_url: str, site, tmp_path: Path, **crawl) -> Config:
    """A config for the fixture site: quick timeouts and retries so fault tests stay short."""
    config = load_config(db=db_url, environ={"HOME": str(tmp_path)})
    config = config.with_sites(site.urls, site.ace_organization_ids)
    crawl = {"download_timeout": 5.0, "retry_times": 2, "timeout_seconds": 240, **crawl}
    return replace(config, crawl=replace(config.crawl, **crawl))


def write_site_config(
    path: Path,
    site,
    *,
    alert_urls: Sequence[str] = (),
    feed_path: str = "",
    organizations: Sequence[str] | None = None,
    **crawl,
) -> Path:
    """The fixture site as a TOML config file, for tests that run the real command line or daemon.

    The one writer of the file's layout (keys as in acewatch/config.py); a command-line run
    gets shorter limits than `site_config` (one retry, two minutes), `crawl` overrides them.
    """
    crawl = {"timeout_seconds": 120, "download_timeout": 5.0, "retry_times": 1, **crawl}
    sections = {
        "ace": {"base_url": site.urls["ace"], "organizations": list(organizations or site.ace_organization_ids)},
        "coursera": {"api_url": site.urls["coursera_api"], "site_url": site.urls["coursera_site"]},
        "crawl": crawl,
        "alerts": {"urls": list(alert_urls), "feed_path": feed_path},
    }
    lines = [
        line
        for name, values in sections.items()
        for line in (f"[{name}]", *(f"{key} = {json.dumps(value)}" for key, value in values.items()), "")
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def acewatch(*args: str, db: str, home: Path, check: bool = False, **env) -> subprocess.CompletedProcess:
    """Run the real `acewatch` command line in a fresh process."""
    environ = {**os.environ, "HOME": str(home), "ACEWATCH_DB": db, "COLUMNS": "200", **env}
    environ.pop("ACEWATCH_CONFIG", None)
    result = subprocess.run(
        [sys.executable, "-m", "acewatch.cli", *args],
        capture_output=True,
        text=True,
        env=environ,
        timeout=300,
        cwd=ROOT,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"acewatch {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
    return result


def events_by_type(events: list[dict]) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {}
    for event in events:
        grouped.setdefault(event.type, []).append(event)
    return grouped


def fresh_store_url(request, tmp_path: Path | None = None, backend: str | None = None) -> str:
    """A new SQLite file in `tmp_path` or a new PostgreSQL database (dropped when `request` ends), by `backend`
    (default `request.param`).

    PostgreSQL comes through the `pg_admin` fixture: a server that is not there fails the test, never skips it.
    """
    backend = backend or request.param
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'acewatch.db'}"
    from tests.conftest import _drop_pg_database, _fresh_pg_database

    admin = request.getfixturevalue("pg_admin")
    db_url, name = _fresh_pg_database(admin)
    request.addfinalizer(lambda: _drop_pg_database(admin, name))
    return db_url


def crawl_two_days(
    request, tmp_path: Path, days: tuple[str, str] = ("day1", "day2"), backend: str | None = None
) -> dict:
    """Day 1 then day 2 of the fixture site (or another pair of `days`), crawled for real into a fresh
    store of `backend` (default `request.param`); the store and its engine last as long as `request`."""
    from acewatch.cycle import run_cycle
    from fixtures.server import FixtureSite
    from store.database import open_engine

    db_url = fresh_store_url(request, tmp_path, backend)
    engine = open_engine(db_url)
    request.addfinalizer(engine.dispose)
    with FixtureSite(day=days[0]) as site:
        config = site_config(db_url, site, tmp_path)
        day1 = run_cycle(config, engine, progress="off")
        day1_requests = site.requests
        site.clear_requests()
        site.set_day(days[1])
        day2 = run_cycle(config, engine, progress="off")
        day2_requests = site.requests
    return {
        "db": db_url,
        "engine": engine,
        "day1": day1,
        "day2": day2,
        "home": tmp_path,
        "requests": day1_requests,
        "day2_requests": day2_requests,
    }


def engine_at_revision(db_url: str, revision: str):
    """An engine on a new store whose schema stops at migration `revision`, as an older acewatch left it
    (for upgrade tests: fill it by hand, dispose it, then `open_engine` upgrades it to head)."""
    from alembic import command

    from store.database import _alembic_config, create_store_engine

    engine = create_store_engine(db_url)
    config = _alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    return engine
