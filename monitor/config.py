"""acewatch's configuration: one place, read once, passed down.

Precedence, lowest to highest: built-in defaults, the TOML config file,
environment variables (ACEWATCH_*), command-line flags. Nothing else in
acewatch reads the environment or the file; functions receive a `Config`.

Defaults point at the real sites (see DEFAULT_ACE_ORGANIZATIONS for the one
default that could not be verified offline).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from store.paths import default_db_url


class ConfigError(Exception):
    """A configuration problem: which key, where, and what is wrong."""


def default_config_path(environ: dict[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    home = env.get("HOME") or str(Path.home())
    return Path(env.get("XDG_CONFIG_HOME") or Path(home) / ".config") / "acewatch" / "config.toml"


# Organization GUIDs (Organization.aspx?oid=...) whose exhibits carry Coursera programs:
# Google, IBM, Meta, Microsoft, Salesforce, AWT, Coursera, Intuit, SAS, DeepLearning.AI,
# Sophia Learning, McDonald's. The real GUIDs could not be read offline; these are the
# bundled fixture's (synthetic, fixtures/README.md). Set [ace] organizations for the real site.
DEFAULT_ACE_ORGANIZATIONS = (
    "8cf144ea-04c4-ea11-a812-000d3a33232a", "c23c5f79-eac4-ea11-a812-000d3a33232a",
    "38e05920-6ec4-ea11-a812-000d3a33232a", "6e990894-2fc4-ea11-a812-000d3a33232a",
    "3cfb4470-99c4-ea11-a812-000d3a33232a", "b83006bc-67c4-ea11-a812-000d3a33232a",
    "60103d9b-78c4-ea11-a812-000d3a33232a", "82127f57-edc4-ea11-a812-000d3a33232a",
    "1561029a-08c4-ea11-a812-000d3a33232a", "d3e20e1f-7ec4-ea11-a812-000d3a33232a",
    "57ccbfec-7dc4-ea11-a812-000d3a33232a", "c949da53-7ec4-ea11-a812-000d3a33232a",
)


@dataclass(frozen=True)
class AceConfig:
    base_url: str = "https://www.acenet.edu"
    organizations: tuple[str, ...] = DEFAULT_ACE_ORGANIZATIONS


@dataclass(frozen=True)
class CourseraConfig:
    api_url: str = "https://api.coursera.org/api/"
    site_url: str = "https://www.coursera.org"
    page_size: int = 100
    # "sitemap": the sitemaps robots.txt declares (the real hosts forbid /api/); "api": the catalog
    # API, only for a host whose robots.txt permits it.
    discovery: str = "sitemap"


@dataclass(frozen=True)
class CrawlConfig:
    user_agent: str = "acewatch/0.1 (+https://github.com/acewatch/acewatch; catalog change monitor)"
    concurrent_requests: int = 16
    download_timeout: float = 30.0
    retry_times: int = 3
    # "auto": AutoThrottle on for real hosts, off for loopback fixtures.
    autothrottle: str = "auto"
    timeout_seconds: int = 3600
    # Conditional re-fetches (ETag/Last-Modified, sitemap <lastmod>) from this cache; "" is
    # $XDG_CACHE_HOME/acewatch/http, "off" fetches every page whole every night.
    cache_dir: str = ""
    full_fetch_every_days: int = 7


@dataclass(frozen=True)
class HealthConfig:
    max_error_ratio: float = 0.05
    max_unknown_ratio: float = 0.05
    # A run is unhealthy for failed requests (unreadable records) only above the ratio AND at
    # least this many: one or two odd pages of a small catalog hold back only their own events.
    min_failed_requests: int = 3
    min_unreadable_records: int = 3
    # A record still unreadable after this many healthy runs in a row is reported once (record_unreadable).
    unreadable_alert_after: int = 3
    min_fraction_of_median: float = 0.8
    median_of_last: int = 5


@dataclass(frozen=True)
class AlertsConfig:
    urls: tuple[str, ...] = ()
    feed_path: str = ""
    expiring_within_days: int = 60


@dataclass(frozen=True)
class ScheduleConfig:
    cron: str = "30 3 * * *"
    timezone: str = "UTC"
    misfire_grace_seconds: int = 3600


@dataclass(frozen=True)
class CheckConfig:
    max_age_days: int = 8


@dataclass(frozen=True)
class Config:
    db: str = ""
    ace: AceConfig = field(default_factory=AceConfig)
    coursera: CourseraConfig = field(default_factory=CourseraConfig)
    crawl: CrawlConfig = field(default_factory=CrawlConfig)
    health: HealthConfig = field(default_factory=HealthConfig)
    alerts: AlertsConfig = field(default_factory=AlertsConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    check: CheckConfig = field(default_factory=CheckConfig)
    source: str = "defaults"

    def with_sites(self, urls: dict[str, str], organizations: list[str]) -> Config:
        """This config pointed at another copy of the sites (the fixture server)."""
        return replace(self,
                       ace=replace(self.ace, base_url=urls["ace"], organizations=tuple(organizations)),
                       coursera=replace(self.coursera, api_url=urls["coursera_api"],
                                        site_url=urls["coursera_site"]))


ENV_VARS = {
    "ACEWATCH_DB": ("db",),
    "ACEWATCH_ACE_BASE_URL": ("ace", "base_url"),
    "ACEWATCH_COURSERA_API_URL": ("coursera", "api_url"),
    "ACEWATCH_COURSERA_SITE_URL": ("coursera", "site_url"),
    "ACEWATCH_ALERT_URLS": ("alerts", "urls"),
}


def default_cache_dir(environ: dict[str, str]) -> Path:
    """$XDG_CACHE_HOME/acewatch/http, i.e. ~/.cache/acewatch/http: pages kept for conditional re-fetches."""
    home = environ.get("HOME") or str(Path.home())
    return Path(environ.get("XDG_CACHE_HOME") or Path(home) / ".cache") / "acewatch" / "http"


def load_config(path: str | Path | None = None, db: str | None = None,
                environ: dict[str, str] | None = None) -> Config:
    """Build the Config from defaults, file, environment and flags (highest last)."""
    env = os.environ if environ is None else environ
    explicit = path or env.get("ACEWATCH_CONFIG")
    config_path = Path(explicit).expanduser() if explicit else default_config_path(env)
    data: dict[str, Any] = {}
    if config_path.exists():
        data = _read_toml(config_path)
    elif explicit:
        raise ConfigError(f"config file not found: {config_path}")
    for var, key_path in ENV_VARS.items():
        if env.get(var):
            value: Any = env[var]
            if key_path == ("alerts", "urls"):
                value = [u for u in value.replace(",", " ").split() if u]
            _set(data, key_path, value)
    if db:
        data["db"] = db
    config = _build(Config, data, str(config_path) if config_path.exists() else "defaults")
    if not config.db:
        config = replace(config, db=default_db_url(env))
    if not config.crawl.cache_dir:
        config = replace(config, crawl=replace(config.crawl, cache_dir=str(default_cache_dir(env))))
    return replace(config, source=str(config_path) if config_path.exists() else "defaults")


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None


def _set(data: dict[str, Any], key_path: tuple[str, ...], value: Any) -> None:
    for key in key_path[:-1]:
        data = data.setdefault(key, {})
    data[key_path[-1]] = value


def _build(cls, data: dict[str, Any], where: str, prefix: str = ""):
    """Make a frozen dataclass from a dict, naming any unknown or mistyped key."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: [{prefix.rstrip('.')}] must be a table")
    known = {f.name: f for f in fields(cls) if f.name != "source"}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ConfigError(f"{where}: unknown key {prefix}{unknown[0]!s} "
                          f"(known: {', '.join(prefix + k for k in known)})")
    values = {}
    for name, value in data.items():
        f = known[name]
        if isinstance(f.default_factory, type):  # a nested [section]
            values[name] = _build(f.default_factory, value, where, f"{prefix}{name}.")
        else:
            values[name] = _coerce(value, f.default, f"{prefix}{name}", where)
    return cls(**values)


def _coerce(value: Any, default: Any, key: str, where: str) -> Any:
    """Check a value against its default's type; lists become tuples."""
    if isinstance(default, tuple):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where}: {key} must be a list of strings, got {value!r}")
        return tuple(value)
    if isinstance(default, bool) or isinstance(default, str):
        if not isinstance(value, type(default)):
            raise ConfigError(f"{where}: {key} must be a {type(default).__name__}, got {value!r}")
        return value
    if isinstance(default, (int, float)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: {key} must be a number, got {value!r}")
        return type(default)(value)
    return value
