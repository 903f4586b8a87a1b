"""The Python API (`acewatch.Acewatch`) on real stores: what the CLI answers, it answers, with the same guarantees.

The run lock, the alert-URL check and the store-error translation live in the API, so a caller of
`Acewatch.run` cannot crawl beside another run or start a cycle whose alerts would fail; every
failure is an `AcewatchError` with its documented exit code. The stores are filled by the real
`acewatch demo` (tests/conftest.py `demo_store`) or left empty.
"""

from __future__ import annotations

import ast
import json
import sqlite3
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from acewatch import Acewatch, AcewatchError, BadInput, ExitCode, NoEvidence, RunLocked, StoreFailed
from acewatch import api as api_module
from acewatch import check as check_module
from acewatch import exit_codes as exit_codes_module
from acewatch.config import load_config
from tests.support import ROOT, acewatch

EXACT = "Meta Front-End Developer Professional Certificate"
NEAR = "Meta Front-End Development Professional Certificate"


def watch_of(db: str, home: Path, **alerts) -> Acewatch:
    config = load_config(db=db, environ={"HOME": str(home)})
    if alerts:
        config = replace(config, alerts=replace(config.alerts, **alerts))
    return Acewatch(config)


@pytest.fixture
def demo_copy(demo_store, tmp_path):
    """A private copy of the demo store (SQLite's backup API), for tests that damage it."""
    source = demo_store["db"].removeprefix("sqlite:///")
    target = tmp_path / "copy.db"
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return {"db": f"sqlite:///{target}", "home": tmp_path}


def test_importing_acewatch_stays_cheap():
    """`acewatch check` starts at `import acewatch`: the API must not pull in the heavy libraries."""
    code = (
        "import sys; from acewatch import Acewatch; import acewatch.cli; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'sqlalchemy', 'sqlmodel', 'scrapy', 'twisted', 'alembic', 'numpy', 'apprise', 'starlette'}))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert result.stdout.strip() == "[]"


def test_exit_codes_are_one_enum():
    assert ExitCode is api_module.ExitCode is exit_codes_module.ExitCode  # one enum, re-exported
    assert [int(code) for code in ExitCode] == list(range(8))
    assert (ExitCode.RECOMMENDED, ExitCode.NO_MATCH, ExitCode.DELIVERY_FAILED) == (0, 3, 1)
    exact = {"verdict": "exact"}
    answers = (
        ({**exact, "match": {"status": "active"}}, ExitCode.RECOMMENDED),
        ({**exact, "match": {"status": "expired"}}, ExitCode.NOT_ACTIVE),
        ({**exact, "match": {"status": "not_yet_active"}}, ExitCode.NOT_ACTIVE),
        ({**exact, "match": {"status": "unknown"}}, ExitCode.NO_EVIDENCE),
        ({"verdict": "near", "match": None}, ExitCode.NEAR),
        ({"verdict": "none", "match": None}, ExitCode.NO_MATCH),
    )
    for answer, code in answers:
        assert check_module.exit_code(answer) is code, answer  # a member, not a bare int


def test_check_answers_as_the_cli_does(demo_store):
    watch = watch_of(demo_store["db"], demo_store["home"])
    for name, verdict, code in ((EXACT, "exact", ExitCode.OK), (NEAR, "near", ExitCode.NEAR)):
        answer = watch.check(name)
        assert (answer.verdict, answer.exit_code, answer.recommended) == (verdict, code, code == ExitCode.OK)
        cli = acewatch("check", name, "--json", db=demo_store["db"], home=demo_store["home"])
        assert cli.returncode == code
        assert json.loads(cli.stdout) == json.loads(json.dumps(answer.to_dict(), default=str))
    assert watch.check(EXACT).match["credits"] == 12.0
    assert watch.check(NEAR, limit=2).candidates[0]["differences"][0]["text"] == "Development -> Developer"


def test_reports_are_the_cli_json(demo_store):
    watch = watch_of(demo_store["db"], demo_store["home"])

    def same(data):  # as the CLI prints it (datetimes through str)
        return json.loads(json.dumps(data, default=str))

    def cli_json(*args: str):
        return json.loads(acewatch(*args, "--json", db=demo_store["db"], home=demo_store["home"]).stdout)

    changes = watch.changes()
    assert same(changes.to_dict()) == cli_json("changes") and changes.cycle == 2 and changes.events
    assert watch.changes(cycle=1).cycle == 1
    history = watch.history("META-0001")
    assert same(history.to_dict()) == cli_json("history", "META-0001") and history.exit_code == ExitCode.OK
    assert watch.history("no such program anywhere").exit_code == ExitCode.ATTENTION
    status, cli_status = same(watch.status().to_dict()), cli_json("status")
    assert {k: v for k, v in status.items() if k != "checked_at"} == {
        k: v for k, v in cli_status.items() if k != "checked_at"
    }
    catalog = watch.export()
    assert json.loads(catalog.render("json")) == json.loads(
        acewatch("export", "--format", "json", db=demo_store["db"], home=demo_store["home"]).stdout
    )
    assert catalog.count == len(catalog.programs) > 200
    assert watch.audit().exit_code == ExitCode.ATTENTION  # the fixture's claim hazards


def test_failures_carry_their_exit_codes(demo_store, tmp_path):
    watch = watch_of(demo_store["db"], demo_store["home"])
    with pytest.raises(BadInput, match="empty") as bad:
        watch.check("   ")
    assert bad.value.exit_code == ExitCode.USAGE == 2
    with pytest.raises(BadInput, match="csv or json"):
        watch.export().render("xml")
    with pytest.raises(StoreFailed, match="no acewatch database"):  # a store never created: as `check` says
        watch_of(f"sqlite:///{tmp_path / 'none.db'}", tmp_path).check(EXACT)
    empty = watch_of(f"sqlite:///{tmp_path / 'empty.db'}", tmp_path)
    empty.engine  # noqa: B018  (created and migrated: a store with no crawl yet)
    for ask in (lambda: empty.check(EXACT), empty.changes, empty.export, empty.audit):
        with pytest.raises(NoEvidence, match="acewatch run") as nothing:
            ask()
        assert nothing.value.exit_code == ExitCode.NO_EVIDENCE == 5
    unreachable = watch_of("postgresql://postgres:topsecret@127.0.0.1:1/acewatch", tmp_path)
    for ask in (lambda: unreachable.check(EXACT), unreachable.status):
        with pytest.raises(StoreFailed) as failed:
            ask()
        assert failed.value.exit_code == ExitCode.ERROR and "topsecret" not in str(failed.value)
    (tmp_path / "bad.toml").write_text("[crawl]\nretries = 3\n")
    with pytest.raises(AcewatchError, match="unknown key crawl.retries") as config:
        Acewatch.from_config(tmp_path / "bad.toml", db=demo_store["db"])
    assert config.value.exit_code == ExitCode.ERROR


def test_a_store_that_fails_while_read_is_one_line_not_a_traceback(demo_copy):
    """A table gone under a running reader (a restore, a hand-made mistake): StoreFailed, exit 6 from the CLI."""
    with sqlite3.connect(demo_copy["db"].removeprefix("sqlite:///")) as connection:
        connection.execute("DROP TABLE change_event")
    with pytest.raises(StoreFailed, match="the store failed") as failed:
        watch_of(demo_copy["db"], demo_copy["home"]).changes()
    assert "\n" not in str(failed.value)
    result = acewatch("changes", db=demo_copy["db"], home=demo_copy["home"])
    assert result.returncode == 6 and result.stderr.startswith("acewatch: error: the store failed")
    assert "Traceback" not in result.stderr


def test_run_holds_the_lock_and_checks_alert_urls_before_crawling(db_url, tmp_path):
    """Two refusals a Python caller gets as the CLI does; neither starts a crawl (no run row is written)."""
    from sqlmodel import Session, select

    from store.locks import DEFAULT_NAME, acquire, release
    from store.models import CrawlRun

    db = db_url
    watch = watch_of(db, tmp_path)
    assert acquire(watch.engine, DEFAULT_NAME, "cron on another host", 600)
    with pytest.raises(RunLocked, match="cron on another host") as locked:
        watch.run()
    assert locked.value.exit_code == ExitCode.LOCKED == 7
    release(watch.engine, DEFAULT_NAME, "cron on another host")
    bad_urls = watch_of(db, tmp_path, urls=("json://ok.example/hook", "notascheme://token@x"))
    with pytest.raises(AcewatchError, match=r"alert URL 2 \(notascheme://\.\.\.\) is not a valid Apprise URL"):
        bad_urls.run()
    with Session(watch.engine) as session:
        assert session.exec(select(CrawlRun)).all() == []
    bad_urls.close()
    with watch as same:
        assert same.status().to_dict()["lock"] is None  # released: the API took nothing it kept
    assert watch._engine is None  # closed on leaving the block


def test_the_web_app_reads_through_the_api():
    """No route reaches the report functions, the engine or SQL except through `Acewatch`."""
    forbidden = {"acewatch.outputs.reports", "acewatch.outputs.feed", "store.database", "sqlalchemy", "sqlmodel"}
    for path in (ROOT / "acewatch" / "web").glob("*.py"):
        tree = ast.parse(path.read_text())
        imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
        imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        assert not {name for name in imported if name.split(".")[0] in forbidden or name in forbidden}, path.name
