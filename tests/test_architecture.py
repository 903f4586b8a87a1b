"""The rooms of ../shared/architecture.md hold by test: imports point one way.

store/ and monitor/ import nothing of ours; crawler/ imports only store/; only acewatch/
composes. monitor/ (the pure judging core) also stays free of the database, CLI, network
and terminal libraries, so its rules can be table-tested without an engine.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OURS = {"acewatch", "crawler", "monitor", "store", "fixtures", "tests", "bench"}
ALLOWED_OURS = {
    "store": {"store"},
    "monitor": {"monitor"},
    "crawler": {"crawler", "store"},
    "acewatch": {
        "acewatch",
        "crawler",
        "monitor",
        "store",
        "fixtures",
    },  # fixtures: `acewatch demo` serves the bundled site
}
# Third-party packages the pure core must never import (it judges records; it does not fetch, store or print).
NOT_IN_MONITOR = {
    "sqlalchemy",
    "sqlmodel",
    "alembic",
    "psycopg",
    "typer",
    "rich",
    "apprise",
    "apscheduler",
    "scrapy",
    "starlette",
    "uvicorn",
    "jinja2",
    "requests",
    "httpx",
    "bs4",
    "lxml",
}
# Known crossings being moved out (remove an entry when its module is fixed; the list only shrinks).
PENDING: set[tuple[str, str]] = {("monitor/diff.py", "sqlalchemy"), ("monitor/diff.py", "store")}


def imported_roots(path: Path) -> set[str]:
    """Top-level package of every import in the file, including imports inside functions."""
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def room_files(room: str) -> list[Path]:
    return sorted(p for p in (ROOT / room).rglob("*.py") if "migrations" not in p.parts)


@pytest.mark.parametrize("room", sorted(ALLOWED_OURS))
def test_a_room_imports_only_the_rooms_below_it(room):
    crossings = []
    for path in room_files(room):
        name = str(path.relative_to(ROOT))
        for root in imported_roots(path) & OURS - ALLOWED_OURS[room]:
            if (name, root) not in PENDING:
                crossings.append(f"{name} imports {root}")
    assert not crossings, crossings


def test_the_judging_core_imports_no_database_cli_or_network_library():
    crossings = [
        f"{path.relative_to(ROOT)} imports {root}"
        for path in room_files("monitor")
        for root in imported_roots(path) & NOT_IN_MONITOR
        if (str(path.relative_to(ROOT)), root) not in PENDING
    ]
    assert not crossings, crossings


def test_the_rule_checker_sees_a_crossing(tmp_path):
    """The checker itself can fail: an import inside a function is still an import."""
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from acewatch.cli import main\n    import sqlalchemy.orm\n")
    assert imported_roots(module) == {"acewatch", "sqlalchemy"}


def test_the_crawler_is_told_only_a_typed_spec():
    """The app -> crawler boundary is one CrawlSpec; a misspelt or missing field fails there, by name."""
    from crawler.spec import CrawlSpec, SpecError

    spec = CrawlSpec(db="sqlite://", sources=("ace",), ace={}, coursera={}, crawl={}, known_exhibits=("u",))
    assert CrawlSpec.from_json(spec.to_json()) == spec
    with pytest.raises(SpecError, match="known_exhibit"):
        CrawlSpec.from_json(spec.to_json().replace('"known_exhibits"', '"known_exhibit"'))
    with pytest.raises(SpecError, match="db"):
        CrawlSpec.from_json('{"sources": [], "ace": {}, "coursera": {}, "crawl": {}}')
