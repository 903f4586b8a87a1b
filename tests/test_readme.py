"""The README is the front door: what it promises is checked here against the real program.

Every config key it lists exists with the default it shows (and every key the program reads is
listed); every command of its table exists and has `--help` (and every command is in the table);
the event types and exit codes it documents are the program's; its `check` examples answer as
it says on the demo store.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import fields, is_dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from acewatch import check as check_module
from acewatch.cli import app
from acewatch.config import Config
from monitor.diff import EVENT_TYPES
from tests.support import acewatch

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
    table = dict(re.findall(r"^\| (\d) \| (.+?) \|$", _section("### `check`: verdicts and exit codes"), re.M))
    codes = {name: value for name, value in vars(check_module).items() if name.startswith("EXIT_")}
    assert sorted(map(int, table)) == sorted(codes.values())
    assert "no evidence" in table[str(codes["EXIT_NO_EVIDENCE"])]
    assert "bad input" in table[str(codes["EXIT_USAGE"])]


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
