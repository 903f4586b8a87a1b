"""The command line, documented by its tests: help everywhere, one-line errors, documented exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.support import ROOT, acewatch

COMMANDS = ["run", "check", "changes", "demo", "notify", "status", "history", "export", "schedule"]


def test_top_level_help_lists_every_command(tmp_path):
    result = acewatch("--help", db=f"sqlite:///{tmp_path}/a.db", home=tmp_path)
    assert result.returncode == 0
    for command in COMMANDS:
        assert command in result.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command, tmp_path):
    result = acewatch(command, "--help", db=f"sqlite:///{tmp_path}/a.db", home=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout and len(result.stdout.splitlines()) > 5


def test_check_before_any_crawl_says_what_to_do(tmp_path):
    result = acewatch("check", "Google Data Analytics", db=f"sqlite:///{tmp_path}/none.db", home=tmp_path)
    assert result.returncode == 6
    assert result.stderr.startswith("acewatch: error: no acewatch database")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "name, message",
    [
        ("", "the name is empty"),
        ("   ", "the name is empty"),
        ("Google\x07 Data", "control or direction-override characters"),
        ("Google \u202eatad\u202c Analytics", "control or direction-override characters"),
        ("x" * 5000, "characters long"),
    ],
)
def test_bad_names_get_one_line_errors(demo_store, name, message):
    result = acewatch("check", name, db=demo_store["db"], home=demo_store["home"])
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_one_megabyte_name_from_stdin_is_refused_cleanly(demo_store):
    environ_db = demo_store["db"]
    result = subprocess.run(
        [sys.executable, "-m", "acewatch.cli", "--db", environ_db, "check", "-"],
        input="A" * (1 << 20),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        env={"HOME": str(demo_store["home"]), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 2
    assert "characters long" in result.stderr


def test_right_to_left_name_is_answered_not_crashed(demo_store):
    result = acewatch("check", "شهادة جوجل لتحليل البيانات", "--json", db=demo_store["db"], home=demo_store["home"])
    assert result.returncode in (1, 3), result.stderr
    assert json.loads(result.stdout)["recommended"] is False


def test_unknown_config_key_is_named(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("[crawl]\nretries = 3\n")
    result = acewatch("--config", str(config), "changes", db=f"sqlite:///{tmp_path}/a.db", home=tmp_path)
    assert result.returncode == 6
    assert "unknown key crawl.retries" in result.stderr and str(config) in result.stderr


def test_unreachable_database_is_a_clear_masked_error(tmp_path):
    db = "postgresql://postgres:topsecret@127.0.0.1:1/acewatch"
    for args in (["changes"], ["check", "Google Data Analytics"]):
        result = acewatch(*args, db=db, home=tmp_path)
        assert result.returncode == 6, result.stderr
        assert "cannot open database" in result.stderr
        assert "topsecret" not in result.stderr + result.stdout
        assert "Traceback" not in result.stderr


def test_wrong_scheme_database_url(tmp_path):
    result = acewatch("changes", db="ftp://example.org/acewatch", home=tmp_path)
    assert result.returncode == 6
    assert "database URL" in result.stderr


def test_check_resolves_slugs_and_coursera_urls(demo_store):
    for query in (
        "google-it-automation",
        "https://www.coursera.org/professional-certificates/google-it-automation",
        "https://www.coursera.org/professional-certificates/Google-IT-Automation",  # a slug's case as pasted
        "https://www.coursera.org/professional-certificates/google-it-automation/paidmedia?utm_source=gg",
    ):
        result = acewatch("check", query, "--json", db=demo_store["db"], home=demo_store["home"])
        answer = json.loads(result.stdout)
        assert answer["input"] in ("slug", "url")
        assert answer["name"] == "Google IT Automation with Python Professional Certificate"
        assert answer["verdict"] == "exact" and result.returncode == 0


def test_check_refuses_a_non_coursera_url(demo_store):
    result = acewatch(
        "check", "https://example.org/professional-certificates/x", db=demo_store["db"], home=demo_store["home"]
    )
    assert result.returncode == 2 and "not a Coursera program URL" in result.stderr


def test_check_says_a_course_page_is_not_a_program(demo_store):
    result = acewatch(
        "check", "https://www.coursera.org/learn/foundations-data", db=demo_store["db"], home=demo_store["home"]
    )
    assert (
        result.returncode == 2 and "single course" in result.stderr and "/professional-certificates/" in result.stderr
    )
    assert len(result.stderr.strip().splitlines()) == 1


def test_check_exit_codes_for_expired_and_unrelated_names(demo_store):
    expired = acewatch(
        "check",
        "IBM Cybersecurity Analyst Professional Certificate",
        "--json",
        db=demo_store["db"],
        home=demo_store["home"],
    )
    answer = json.loads(expired.stdout)
    assert expired.returncode == 4 and answer["match"]["status"] == "expired"
    unrelated = acewatch(
        "check", "Underwater Basket Weaving for Astronauts", db=demo_store["db"], home=demo_store["home"]
    )
    assert unrelated.returncode in (1, 3)


def test_changes_json_schema(demo_store):
    result = acewatch("changes", "--json", db=demo_store["db"], home=demo_store["home"])
    data = json.loads(result.stdout)
    assert result.returncode == 0 and data["count"] == len(data["events"]) > 0
    for event in data["events"]:
        assert {
            "id",
            "type",
            "source",
            "subject_key",
            "subject",
            "old",
            "new",
            "evidence_url",
            "from_run_id",
            "to_run_id",
            "detected_at",
            "details",
        } <= set(event)


def test_check_on_a_store_without_a_healthy_crawl_exits_5_no_evidence(tmp_path):
    db = f"sqlite:///{tmp_path / 'empty.db'}"
    acewatch("status", db=db, home=tmp_path)  # opens (and creates) the store, crawls nothing
    result = acewatch("check", "Google Data Analytics", db=db, home=tmp_path)
    assert result.returncode == 5, result.stderr
    assert "no ACE evidence" in result.stderr and len(result.stderr.strip().splitlines()) == 1
