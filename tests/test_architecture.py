"""The rooms of ../shared/architecture.md hold by test: imports point one way.

store/ and monitor/ import nothing of ours; crawler/ imports only store/; only acewatch/
composes. monitor/ (the pure judging core) also stays free of the database, CLI, network
and terminal libraries, so its rules can be table-tested without an engine.
"""

from __future__ import annotations

import ast
import re
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
PENDING: set[tuple[str, str]] = set()


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


# --- store/ owns every SQL statement ---------------------------------------------------------------

# The database libraries; the program reaches the database only through store/ (store.database.open_engine).
DATABASE_LIBRARIES = {"sqlalchemy", "sqlmodel", "alembic", "psycopg", "psycopg2", "sqlite3"}
# An `Engine` type hint may be imported for type checkers only: it runs nothing.
TYPE_ONLY = {("sqlalchemy", "Engine")}
# SQL in a string: what a statement looks like, not a lone keyword in an English sentence.
SQL_TEXT = re.compile(
    r"\b(select\s[\w\s,.*()]+?\sfrom\b|insert\s+into|update\s+\w+\s+set|delete\s+from|"
    r"(create|drop|alter)\s+(table|index)|pragma\s+\w+)",
    re.IGNORECASE,
)
DRIVER_CALLS = {"execute", "executemany", "executescript", "exec_driver_sql"}
# Known SQL outside store/, each with why it is still there (remove an entry when it moves; the list only shrinks).
SQL_ALLOWED: dict[tuple[str, str], str] = {}


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    """ids of every node inside an `if TYPE_CHECKING:` block (never run)."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
            inside |= {id(child) for statement in node.body for child in ast.walk(statement)}
    return inside


def _docstrings(tree: ast.AST) -> set[int]:
    owners = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    return {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, owners) and node.body and isinstance(node.body[0], ast.Expr)
    }


def _import_findings(node: ast.AST, type_only: bool) -> list[str]:
    if isinstance(node, ast.Import):
        modules = [(alias.name, None) for alias in node.names]
    elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        modules = [(node.module, alias.name) for alias in node.names]
    else:
        return []
    findings = []
    for module, name in modules:
        root = module.split(".")[0]
        if root in DATABASE_LIBRARIES and not (type_only and (module, name) in TYPE_ONLY):
            findings.append(f"imports {root}")
        elif module == "store.models" and not type_only:
            findings.append("imports store.models (the tables statements are built from)")
    return findings


def sql_findings(path: Path) -> list[str]:
    """Everything in a file that speaks to the database itself: imports, driver calls, SQL text."""
    tree = ast.parse(path.read_text(), str(path))
    type_only, docstrings = _type_checking_nodes(tree), _docstrings(tree)
    findings = []
    for node in ast.walk(tree):
        findings += _import_findings(node, id(node) in type_only)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in DRIVER_CALLS:
            findings.append(f"calls .{node.func.attr}()")
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            if match := SQL_TEXT.search(node.value):
                findings.append(f"SQL text {match.group(0)!r}")
    return sorted(set(findings))


@pytest.mark.parametrize("room", ["acewatch", "crawler", "monitor"])
def test_no_sql_outside_the_store(room):
    """store/ owns every statement: the program, the crawler and the judging core only call its functions."""
    found = [
        f"{name}: {finding}"
        for path in room_files(room)
        for name in [str(path.relative_to(ROOT))]
        for finding in sql_findings(path)
        if (name, finding) not in SQL_ALLOWED
    ]
    assert not found, found


def test_the_sql_allow_list_holds_only_what_is_still_there():
    """An entry whose finding is gone must be removed, so the list can only shrink."""
    stale = [key for key in SQL_ALLOWED if key[1] not in sql_findings(ROOT / key[0])]
    assert not stale, stale


def test_the_sql_checker_sees_each_kind(tmp_path):
    """The checker can fail: imports (also inside functions), driver calls, SQL text in any case."""
    module = tmp_path / "m.py"
    module.write_text(
        '"""Docstrings may say SELECT id FROM cycle."""\n'
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from sqlalchemy import Engine\n    from store.models import Cycle\n"
        "def f(engine, cursor):\n"
        "    from sqlmodel import select\n"
        "    from store.models import Delivery\n"
        "    cursor.execute('delete from delivery')\n"
        '    return f"SELECT next_run_time FROM {engine} WHERE id = 1"\n'
    )
    assert sql_findings(module) == [
        "SQL text 'SELECT next_run_time FROM'",
        "SQL text 'delete from'",
        "calls .execute()",
        "imports sqlmodel",
        "imports store.models (the tables statements are built from)",
    ]
    module.write_text("if TYPE_CHECKING:\n    from sqlalchemy import Engine, text\n")
    assert sql_findings(module) == ["imports sqlalchemy"]  # only the Engine hint is type-only
