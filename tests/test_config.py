"""Config comes from one place, in a documented order, and bad keys are named."""

from __future__ import annotations

import pytest

from acewatch.config import ConfigError, load_config


def write(tmp_path, text: str):
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_point_at_the_real_sites_and_the_embedded_store(tmp_path):
    config = load_config(environ={"HOME": str(tmp_path)})
    assert config.ace.base_url == "https://www.acenet.edu"
    assert config.coursera.api_url == "https://api.coursera.org/api/"
    assert config.coursera.site_url == "https://www.coursera.org"
    assert config.db == f"sqlite:///{tmp_path}/.local/share/acewatch/acewatch.db"


def test_precedence_file_then_environment_then_flag(tmp_path):
    path = write(tmp_path, 'db = "sqlite:///from-file.db"\n[coursera]\npage_size = 50\n')
    assert load_config(path, environ={}).db == "sqlite:///from-file.db"
    assert load_config(path, environ={"ACEWATCH_DB": "sqlite:///from-env.db"}).db == "sqlite:///from-env.db"
    config = load_config(path, db="sqlite:///from-flag.db", environ={"ACEWATCH_DB": "sqlite:///from-env.db"})
    assert config.db == "sqlite:///from-flag.db"
    assert config.coursera.page_size == 50


def test_alert_urls_from_environment_are_split(tmp_path):
    config = load_config(environ={"HOME": str(tmp_path), "ACEWATCH_ALERT_URLS": "json://a/ mailto://b"})
    assert config.alerts.urls == ("json://a/", "mailto://b")


@pytest.mark.parametrize(
    "text, message",
    [
        ("[ace]\nbase_ulr = 'x'\n", "unknown key ace.base_ulr"),
        ("colour = 'red'\n", "unknown key colour"),
        ("[coursera]\npage_size = 'many'\n", "coursera.page_size must be a number"),
        ("[ace]\norganizations = 'one'\n", "ace.organizations must be a list of strings"),
        ("ace = 3\n", "[ace] must be a table"),
        ("[ace\n", "not valid TOML"),
    ],
)
def test_bad_config_names_the_key_and_the_file(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as error:
        load_config(path, environ={})
    assert message in str(error.value)
    assert str(path) in str(error.value)


def test_missing_explicit_config_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.toml", environ={})


def test_render_mode_is_checked(tmp_path):
    path = write(tmp_path, '[crawl]\nrender = "sometimes"\n')
    with pytest.raises(ConfigError, match='crawl.render must be "never", "auto" or "always"'):
        load_config(path, environ={})
    assert load_config(environ={"HOME": str(tmp_path)}).crawl.render == "auto"


def test_the_fixture_site_as_a_file_reads_as_the_fixture_site_config(tmp_path):
    """tests.support writes the fixture site's config two ways (a Config, a TOML file for the real
    command line): the file must read back as the same settings, or CLI tests would crawl elsewhere."""
    from dataclasses import replace

    from fixtures.server import FixtureSite
    from tests.support import site_config, write_site_config

    with FixtureSite(day="day1") as site:
        path = write_site_config(tmp_path / "acewatch.toml", site, alert_urls=["json://127.0.0.1:9/hook"])
        from_file = load_config(path, db="sqlite:///x.db", environ={"HOME": str(tmp_path)})
        direct = site_config("sqlite:///x.db", site, tmp_path, timeout_seconds=120, retry_times=1)
    assert from_file.alerts.urls == ("json://127.0.0.1:9/hook",)
    assert replace(from_file, alerts=direct.alerts, source=direct.source) == direct
