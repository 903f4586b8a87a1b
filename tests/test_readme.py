"""The README is the front door: what it promises is checked here against the real program.

Every config key it lists exists with the default it shows (and every key the program reads is
listed); every command of its table exists and has `--help` (and every command is in the table);
the event types and exit codes it documents are the program's; its `check` examples answer as
it says on the demo store; each JSON schema block holds for the command's real output (every key both
ways); the Python API examples run; the architecture diagram names every module of each room, and only those.
"""

from __future__ import annotations

import json
import re
import sqlite3
import tomllib
from dataclasses import fields, is_dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from acewatch import ExitCode
from acewatch.cli import app
from acewatch.config import Config
from monitor.events import EVENT_TYPES
from tests.support import ROOT, acewatch

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
PLACEHOLDERS = {("db",), ("ace", "organizations"), ("ace", "exhibits")}  # shown as examples, not as the defaults


def _section(heading: str) -> str:
    start = README.index(f"\n{heading}\n")
    following = re.search(r"\n#{2,3} ", README[start + len(heading) + 2 :])
    return README[start : start + len(heading) + 2 + (following.start() if following else len(README))]


def _code_block(text: str, language: str) -> str:
    return re.search(rf"```{language}\n(.*?)```", text, re.S).group(1)


def _settings(obj, prefix=()) -> dict[tuple[str, ...], object]:
    out = {}
    for f in fields(obj):
        if f.name == "source":
            continue
        value = getattr(obj, f.name)
        out.update(_settings(value, prefix + (f.name,)) if is_dataclass(value) else {prefix + (f.name,): value})
    return out


def _flatten(table: dict, prefix=()) -> dict[tuple[str, ...], object]:
    out = {}
    for key, value in table.items():
        out.update(_flatten(value, prefix + (key,)) if isinstance(value, dict) else {prefix + (key,): value})
    return out


def test_the_configuration_block_lists_every_key_with_its_default():
    documented = _flatten(tomllib.loads(_code_block(_section("## Configuration"), "toml")))
    defaults = _settings(Config())
    assert not set(defaults) - set(documented), f"keys missing from the README: {set(defaults) - set(documented)}"
    assert not set(documented) - set(defaults), (
        f"README keys the program does not read: {set(documented) - set(defaults)}"
    )
    for key, value in documented.items():
        if key not in PLACEHOLDERS:
            expected = defaults[key]
            assert (list(expected) if isinstance(expected, tuple) else expected) == value, key


def _readme_commands() -> set[str]:
    return set(re.findall(r"^\| `acewatch (\w[\w-]*)", _section("## Commands"), re.M))


def test_every_command_is_in_the_table_and_has_help():
    program = {command.name or command.callback.__name__ for command in app.registered_commands}
    assert _readme_commands() == program
    runner = CliRunner()
    for name in sorted(program):
        result = runner.invoke(app, [name, "--help"])
        assert result.exit_code == 0 and "Usage" in result.output, (name, result.output)


def test_the_changes_schema_lists_every_event_type():
    schema = _code_block(_section("### `changes --json` schema"), "json")
    types = re.search(r'"type": "([^"]+)"', schema).group(1).split(" | ")
    assert types == list(EVENT_TYPES)


def test_the_check_exit_codes_are_the_programs():
    """Each row of the check table names its ExitCode member; its number is that member's (the doc cannot drift)."""
    rows = re.findall(r"^\| (\d) \| `(\w+)` \| (.+?) \|$", _section("### `check`: verdicts and exit codes"), re.M)
    assert [int(value) for value, _, _ in rows] == list(range(7))
    for value, name, _ in rows:
        assert int(value) == ExitCode[name], (value, name)
    meaning = {name: text for _, name, text in rows}
    assert "no evidence" in meaning["NO_EVIDENCE"] and "bad input" in meaning["USAGE"]
    assert "`near`" in meaning["NEAR"] and "`none`" in meaning["NO_MATCH"] and "recommended" in meaning["RECOMMENDED"]


EXAMPLES = re.findall(r'acewatch check "([^"]+)"\s+# (\w+)', README)


def test_the_readme_has_check_examples():
    assert len(EXAMPLES) >= 2


@pytest.mark.parametrize("name, verdict", EXAMPLES)
def test_the_check_examples_answer_as_the_readme_says(demo_store, name, verdict):
    result = acewatch("check", name, "--json", db=demo_store["db"], home=demo_store["home"])
    answer = json.loads(result.stdout)
    assert answer["verdict"] == verdict, answer
    line = next(line for line in README.splitlines() if f'check "{name}"' in line)
    credits = re.search(r"(\d+) credits", line)
    if credits:
        assert answer["match"]["credits"] == float(credits.group(1))
    words = re.search(r"(\w[\w-]*) -> (\w[\w-]*)", line)
    if words:
        assert any(d["text"] == words.group(0) for d in answer["candidates"][0]["differences"]), answer


def test_the_exit_code_table_is_the_one_enum():
    rows = re.findall(r"^\| (\d) \| `(\w+)` \| .+ \|$", _section("### Exit codes"), re.M)
    assert [(int(value), name) for value, name in rows] == [(code.value, code.name) for code in ExitCode]


# --------------------------------------------------------------------------
# JSON schemas: each documented block holds for the command's real output
# --------------------------------------------------------------------------

SCHEMA_HEADING = re.compile(r"^### `(\w+)(?: [A-Z]+)? (?:--json|--format json)` schema$", re.M)
# The real runs each schema is checked against. check, changes and audit on the demo store (day 1 then day 2 of
# the fixture site); run, status, history and export on a copy of it that `schema_store` crawls once more.
SCHEMA_RUNS = {
    "check": [
        ["check", "Meta Front-End Developer Professional Certificate", "--json"],  # exact: match filled
        ["check", "meta-front-end-developer", "--json"],  # a slug: near, with the page's coursera_claim
        ["check", "google-it-automation", "--json"],
        ["check", "Underwater Basket Weaving", "--json"],  # none
    ],
    "changes": [["changes", "--json"], ["changes", "--cycle", "1", "--json"]],
    "audit": [["audit", "--json"]],
    "run": [],  # the schema store's own run: its output is schema_store["run"]
    "status": [["status", "--json"]],
    "history": [
        ["history", "SFDC-0002", "--json"],  # removed on day 2, back on day 1: `{"cid", "status": "removed"}`
        ["history", "google-it-support", "--json"],  # quiet from cycle 1 to 2: `through`
    ],
    "export": [["export", "--format", "json"]],
}
ON_THE_SCHEMA_STORE = {"run", "status", "history", "export"}
FREE_FORM = {"details"}  # an event's details differ by event type (the README lists them in prose)
MAPS = {"verdicts"}  # an object keyed by verdict: every entry has the documented entry's shape
# Documented but not to be met on a crawl of the fixture site: no Coursera program leaves its catalog.
NOT_ON_THE_FIXTURE_SITE = {".timeline[].coursera[1]"}
WRONG_GUID = "8cf144ea-0000-ea11-a812-000d3a33232a"  # an [ace] organization the Guide does not know


class Schema:
    """Checks real JSON against a documented example, both ways: every key of a real object is documented
    and every documented key is there (a key written `"name?"` may be absent); `a | b` strings are one of
    their options, numbers, booleans and strings of their kind. A list is checked item by item against the
    documented item, or, when several objects are documented, each item against the one its keys are;
    an object whose one documented key is `a | b` is keyed by those words, each entry of the documented
    shape. A documented value may be null in a real answer, but every documented object, list, kind of
    item and key word must be seen filled in some real answer (`unseen`)."""

    def __init__(self, documented) -> None:
        self.documented = documented
        self.problems: list[str] = []
        self.seen: set[str] = set()

    def check(self, real) -> None:
        self._value(self.documented, real, "")

    def unseen(self) -> set[str]:
        return self._containers(self.documented, "") - self.seen

    def _containers(self, documented, path: str) -> set[str]:
        name = path.rsplit(".", 1)[-1]
        if isinstance(documented, dict) and name not in FREE_FORM:
            if name in MAPS:
                return {path} | self._containers(*documented.values(), f"{path}.*")
            if _keyed(documented):
                (words, shape), *_ = documented.items()
                return {path, *(f"{path}.{word}" for word in words.split(" | "))} | self._containers(shape, f"{path}.*")
            required = [(key, value) for key, value in documented.items() if not key.endswith("?")]
            return {path} | {p for key, value in required for p in self._containers(value, f"{path}.{key}")}
        if _kinds(documented):
            return {path} | {p for i, kind in enumerate(documented) for p in self._containers(kind, f"{path}[{i}]")}
        if isinstance(documented, list) and documented and isinstance(documented[0], (dict, list)):
            return {path} | self._containers(documented[0], f"{path}[]")
        return set()

    def _value(self, documented, real, path: str) -> None:
        if real is None:
            return
        if isinstance(documented, dict):
            self._object(documented, real, path)
        elif isinstance(documented, list):
            if not isinstance(real, list):
                self.problems.append(f"{path}: {real!r} is not a list")
            elif documented and real:
                self.seen.add(path)
                for item in real:
                    if _kinds(documented):
                        i = _kind_of(documented, item)
                        self._value(documented[i], item, f"{path}[{i}]")
                    else:
                        self._value(documented[0], item, f"{path}[]")
        else:
            self._scalar(documented, real, path)

    def _object(self, documented: dict, real, path: str) -> None:
        if not isinstance(real, dict):
            self.problems.append(f"{path}: {real!r} is not an object")
            return
        self.seen.add(path)
        name = path.rsplit(".", 1)[-1]
        if name in FREE_FORM:
            return
        if name in MAPS or _keyed(documented):
            (words, shape), *_ = documented.items()
            for key, value in real.items():
                if name not in MAPS and key not in words.split(" | "):
                    self.problems.append(f"{path}.{key}: not one of the documented {words!r}")
                    continue
                self.seen.add(f"{path}.{key}")
                self._value(shape, value, f"{path}.*")
            return
        keys = {key.removesuffix("?"): key for key in documented}
        missing = [key for key in documented if not key.endswith("?") and key not in real]
        self.problems += [f"{path}.{key}: documented, missing" for key in missing]
        self.problems += [f"{path}.{key}: not documented" for key in real if key not in keys]
        for key in keys.keys() & real.keys():
            self._value(documented[keys[key]], real[key], f"{path}.{key}")

    def _scalar(self, documented, real, path: str) -> None:
        if isinstance(documented, bool) or isinstance(real, bool):
            ok = isinstance(documented, bool) == isinstance(real, bool)
        elif isinstance(documented, (int, float)):
            ok = isinstance(real, (int, float))
        elif " | " in documented:
            ok = real in documented.split(" | ")
        else:
            ok = isinstance(real, str)
        if not ok:
            self.problems.append(f"{path}: {real!r} does not fit the documented {documented!r}")


def _keyed(documented: dict) -> bool:
    """`{"ace | coursera": {...}}`: an object keyed by those words."""
    return len(documented) == 1 and " | " in next(iter(documented))


def _kinds(documented) -> bool:
    """`[{...}, {...}]`: a list of objects of several kinds."""
    return isinstance(documented, list) and len(documented) > 1 and all(isinstance(d, dict) for d in documented)


def _kind_of(kinds: list[dict], real) -> int:
    """The documented kind whose keys the real item has (all its required ones, no others), else the nearest."""
    if not isinstance(real, dict):
        return 0

    def distance(kind: dict) -> int:
        keys = {key.removesuffix("?") for key in kind}
        required = {key for key in kind if not key.endswith("?")}
        return len(required - real.keys()) + len(real.keys() - keys)

    return min(range(len(kinds)), key=lambda i: distance(kinds[i]))


def _schema_blocks() -> dict[str, dict]:
    blocks = {}
    for heading in SCHEMA_HEADING.finditer(README):
        section = _section(heading.group(0))
        blocks[heading.group(1)] = json.loads(_code_block(section, "json"))
    return blocks


@pytest.fixture(scope="module")
def schema_store(demo_store, tmp_path_factory):
    """A copy of the demo store that `acewatch run --json` crawls once more (the fixture site back at day 1:
    changes to report; an [ace] organization the Guide does not know: a note; an alert URL that refuses:
    alerts), then with the run lock held and the scheduler's job stored, as on a server."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    from acewatch.schedule import JOB_ID, run_job
    from fixtures.server import FixtureSite
    from store.database import open_engine
    from store.locks import acquire
    from tests.support import write_site_config

    home = tmp_path_factory.mktemp("schema-store")
    db = _copy_store(demo_store, home / "acewatch.db")
    with FixtureSite(day="day1") as site:
        organizations = [*site.ace_organization_ids, WRONG_GUID]
        config = write_site_config(
            home / "config.toml", site, alert_urls=["json://127.0.0.1:9/hook"], organizations=organizations
        )
        run = acewatch("--config", str(config), "run", "--progress", "off", "--json", db=db, home=home)
    assert run.returncode == 0, run.stderr
    engine = open_engine(db)
    assert acquire(engine, "run", "worker-7:31337", ttl_seconds=600)
    scheduler = BackgroundScheduler(jobstores={"default": SQLAlchemyJobStore(engine=engine)}, timezone="UTC")
    scheduler.start(paused=True)  # stores the job (due in a day) without ever running it
    scheduler.add_job(run_job, "interval", hours=24, id=JOB_ID, kwargs={"config_path": None, "timeout_seconds": 60})
    scheduler.shutdown(wait=False)
    engine.dispose()
    return {"db": db, "home": home, "run": run.stdout}


def _copy_store(demo_store, path: Path) -> str:
    with sqlite3.connect(demo_store["db"].removeprefix("sqlite:///")) as source, sqlite3.connect(path) as copy:
        source.backup(copy)
    return f"sqlite:///{path}"


def test_every_json_schema_block_has_real_runs():
    assert set(_schema_blocks()) == set(SCHEMA_RUNS)


@pytest.mark.parametrize("command", sorted(SCHEMA_RUNS))
def test_the_json_schema_holds_for_real_output(request, command):
    store = request.getfixturevalue("schema_store" if command in ON_THE_SCHEMA_STORE else "demo_store")
    schema = Schema(_schema_blocks()[command])
    outputs = [store["run"]] if command == "run" else []
    for args in SCHEMA_RUNS[command]:
        result = acewatch(*args, db=store["db"], home=store["home"])
        assert result.returncode in (0, 1, 3), (args, result.stderr)
        outputs.append(result.stdout)
    for output in outputs:
        schema.check(json.loads(output))
    assert not schema.problems, sorted(set(schema.problems))
    unseen = schema.unseen() - NOT_ON_THE_FIXTURE_SITE
    assert not unseen, f"documented but never seen filled: {sorted(unseen)}"


def test_a_schema_that_drifts_fails():
    """The checker itself: a renamed key, an undocumented key, a new enum value, a new map key, an item of
    no documented kind and a wrong kind are each caught; an optional key may be absent."""
    documented = {
        "verdict": "exact | near",
        "score": 1.0,
        "items": [{"a": "text", "n?": 1}],
        "details": {"x": 1},
        "m": {},
        "runs": {"ace | coursera": {"id": 1}},
        "health": [{"check": "text", "ok": True}, {"note": "text", "count?": 1}],
    }
    schema = Schema(documented)
    schema.check(
        {
            "verdict": "close",
            "score": "high",
            "items": [{"b": "text"}, {"a": "text"}],
            "details": {"y": 2},
            "m": None,
            "runs": {"ace": {"id": 1}, "udemy": {"id": 2}},
            "health": [{"check": "finished", "ok": True}, {"check": "x", "ok": True, "extra": 1}],
            "new": 1,
        }
    )
    assert schema.unseen() == {".m", ".runs.coursera", ".health[1]"}
    assert sorted(schema.problems) == [
        ".health[0].extra: not documented",
        ".items[].a: documented, missing",
        ".items[].b: not documented",
        ".new: not documented",
        ".runs.udemy: not one of the documented 'ace | coursera'",
        ".score: 'high' does not fit the documented 1.0",
        ".verdict: 'close' does not fit the documented 'exact | near'",
    ]


def test_every_schema_heading_is_read():
    """A heading the pattern misses would be a block nobody checks."""
    headings = re.findall(r"^### `[^`]*` schema$", README, re.M)
    assert len(headings) == len(SCHEMA_HEADING.findall(README)) == len(SCHEMA_RUNS)


# --------------------------------------------------------------------------
# The Python API examples
# --------------------------------------------------------------------------

PYTHON_EXAMPLES = re.findall(r"```python\n(.*?)```", _section("## Python API"), re.S)


def test_the_python_api_examples_run(demo_store, tmp_path, monkeypatch, capsys):
    """The README's blocks, in order, in one namespace, on a copy of the demo store; the last block's
    run crawls the fixture site (day 2 again) through a config file, as `Acewatch.from_config()` reads it."""
    from fixtures.server import FixtureSite
    from tests.test_schedule import write_site_config

    assert len(PYTHON_EXAMPLES) >= 3
    store = tmp_path / "acewatch.db"
    _copy_store(demo_store, store)
    with FixtureSite(day="day2") as site:
        config = write_site_config(tmp_path / "config.toml", site)
        monkeypatch.setenv("ACEWATCH_CONFIG", str(config))
        monkeypatch.setenv("ACEWATCH_DB", f"sqlite:///{store}")
        monkeypatch.setenv("HOME", str(tmp_path))
        monkeypatch.chdir(tmp_path)
        namespace: dict = {}
        for block in PYTHON_EXAMPLES:
            exec(compile(block, "README.md (Python API)", "exec"), namespace)
    printed = capsys.readouterr().out
    assert "exact 12.0" in printed and "near Development -> Developer" in printed
    assert "the name is empty" in printed and "USAGE\n" in printed
    assert (tmp_path / "catalog.csv").read_text().startswith("slug,title,")
    assert namespace["result"].healthy and namespace["result"].cycle_id == 3


# --------------------------------------------------------------------------
# The architecture diagram
# --------------------------------------------------------------------------

ROOMS = ("crawler", "store", "monitor", "acewatch")


def _diagram_rooms() -> dict[str, str]:
    """The diagram's text for each room (from its `room/` line to the next room's)."""
    diagram = _code_block(_section("## How it is built"), "")
    starts = {room: re.search(rf"^ {{2}}{room}/", diagram, re.M) for room in ROOMS}
    assert all(starts.values()), starts
    bounds = sorted((match.start(), room) for room, match in starts.items()) + [(len(diagram), "")]
    return {room: diagram[start : bounds[i + 1][0]] for i, (start, room) in enumerate(bounds[:-1])}


def _mentioned(text: str) -> set[str]:
    """`name.py` and `name/` as the diagram names a room's own modules and packages (not `a/b.py`)."""
    names = {f"{m.group(1)}{m.group(2)}" for m in re.finditer(r"(?<![/\w.])([a-z_]+)(\.py|/)", text)}
    return names - {f"{room}/" for room in ROOMS}


def _present(room: str) -> set[str]:
    modules = {p.name for p in (ROOT / room).glob("*.py") if p.name != "__init__.py"}
    packages = {f"{p.name}/" for p in (ROOT / room).iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    return modules | packages | ({"migrations/"} if room == "store" else set())


@pytest.mark.parametrize("room", ROOMS)
def test_the_diagram_names_every_module_of_each_room(room):
    mentioned, present = _mentioned(_diagram_rooms()[room]), _present(room)
    assert not present - mentioned, f"add to the README's {room}/ diagram: {sorted(present - mentioned)}"
    assert not mentioned - present, f"the README's {room}/ diagram names what is not there: {mentioned - present}"
