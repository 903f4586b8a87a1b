"""The README is the front door: what it promises is checked here against the real program.

Every config key it lists exists with the default it shows (and every key the program reads is
listed); every command of its table exists and has `--help` (and every command is in the table);
the event types and exit codes it documents are the program's; its `check` examples answer as
it says on the demo store; each `--json` schema block holds for the command's real output; the
Python API examples run; the architecture diagram names every module of each room, and only those.
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

SCHEMA_HEADING = re.compile(r"^### `(\w+) --json` schema$", re.M)
# The real runs each schema is checked against (on the demo store: day 1 then day 2 of the fixture site).
SCHEMA_RUNS = {
    "check": [
        ["check", "Meta Front-End Developer Professional Certificate"],  # exact: match filled
        ["check", "meta-front-end-developer"],  # a slug: near, with the page's coursera_claim
        ["check", "google-it-automation"],
        ["check", "Underwater Basket Weaving"],  # none
    ],
    "changes": [["changes"], ["changes", "--cycle", "1"]],
    "audit": [["audit"]],
}
FREE_FORM = {"details"}  # an event's details differ by event type (the README lists them in prose)
MAPS = {"verdicts"}  # an object keyed by verdict: every entry has the documented entry's shape


class Schema:
    """Checks real JSON against a documented example: every documented key present (extra keys may be
    added, none removed), `a | b` strings one of their options, numbers, booleans and strings of their kind,
    lists item by item against the documented first item. A documented value may be null in a real answer,
    but every documented object and list must be seen filled in some real answer (`unseen`)."""

    def __init__(self, documented) -> None:
        self.documented = documented
        self.problems: list[str] = []
        self.seen: set[str] = set()

    def check(self, real) -> None:
        self._value(self.documented, real, "")

    def unseen(self) -> set[str]:
        return self._containers(self.documented, "") - self.seen

    def _containers(self, documented, path: str) -> set[str]:
        if isinstance(documented, dict) and path.rsplit(".", 1)[-1] not in FREE_FORM:
            entries = documented.items() if path.rsplit(".", 1)[-1] not in MAPS else [("*", *documented.values())]
            inner = {p for key, value in entries for p in self._containers(value, f"{path}.{key}")}
            return {path} | inner
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
        if name in MAPS:
            (shape,) = documented.values()
            for value in real.values():
                self._value(shape, value, f"{path}.*")
            return
        self.problems += [f"{path}.{key}: documented, missing" for key in documented if key not in real]
        for key in documented.keys() & real.keys():
            self._value(documented[key], real[key], f"{path}.{key}")

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


def _schema_blocks() -> dict[str, dict]:
    blocks = {}
    for heading in SCHEMA_HEADING.finditer(README):
        section = _section(heading.group(0))
        blocks[heading.group(1)] = json.loads(_code_block(section, "json"))
    return blocks


def test_every_json_schema_block_has_real_runs():
    assert set(_schema_blocks()) == set(SCHEMA_RUNS)


@pytest.mark.parametrize("command", sorted(SCHEMA_RUNS))
def test_the_json_schema_holds_for_real_output(demo_store, command):
    schema = Schema(_schema_blocks()[command])
    for args in SCHEMA_RUNS[command]:
        result = acewatch(*args, "--json", db=demo_store["db"], home=demo_store["home"])
        assert result.returncode in (0, 1, 3), (args, result.stderr)
        schema.check(json.loads(result.stdout))
    assert not schema.problems, schema.problems
    assert not schema.unseen(), f"documented but never seen filled: {sorted(schema.unseen())}"


def test_a_schema_that_drifts_fails():
    """The checker itself: a renamed key, a new enum value and a wrong kind are each caught."""
    documented = {"verdict": "exact | near", "score": 1.0, "items": [{"a": "text"}], "details": {"x": 1}, "m": {}}
    schema = Schema(documented)
    schema.check({"verdict": "close", "score": "high", "items": [{"b": "text"}], "details": {"y": 2}, "m": None})
    assert schema.unseen() == {".m"}
    assert sorted(schema.problems) == [
        ".items[].a: documented, missing",
        ".score: 'high' does not fit the documented 1.0",
        ".verdict: 'close' does not fit the documented 'exact | near'",
    ]


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
    with sqlite3.connect(demo_store["db"].removeprefix("sqlite:///")) as source, sqlite3.connect(store) as copy:
        source.backup(copy)
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
