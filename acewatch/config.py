"""acewatch's configuration: one place, read once, passed down.

Precedence, lowest to highest: built-in defaults, the TOML config file,
environment variables (ACEWATCH_*), command-line flags. Nothing else in
acewatch reads the environment or the file; functions receive a `Config`.

Defaults point at the real sites; the default ACE identifiers are only those with
evidence (DEFAULT_ACE_ORGANIZATIONS, DEFAULT_ACE_EXHIBITS).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from monitor.health import HealthConfig
from store.paths import default_db_url


class ConfigError(Exception):
    """A configuration problem: which key, where, and what is wrong."""


def default_config_path(environ: dict[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    home = env.get("HOME") or str(Path.home())
    return Path(env.get("XDG_CONFIG_HOME") or Path(home) / ".config") / "acewatch" / "config.toml"


# Only identifiers with evidence (../shared/sources.md, section 1, "Real identifiers"; none verified
# live): IBM's organization page [M], and five Google/IBM certificate exhibits from a 2022 transfer
# table [M] (Google's organization GUID is not known). The bundled fixture passes its own (with_sites).
DEFAULT_ACE_ORGANIZATIONS = ("6d532c35-75c4-ea11-a812-000d3a33232a",)  # IBM
_GUIDE = "https://www.acenet.edu/National-Guide/Pages/Course.aspx"
DEFAULT_ACE_EXHIBITS = (
    f"{_GUIDE}?org=Google&cid=76f8bc06-34f9-eb11-94ef-000d3a3396c4",  # Google Data Analytics
    f"{_GUIDE}?org=Google&cid=e67577b5-1bf9-eb11-94ef-000d3a3396c4",  # Google UX Design
    f"{_GUIDE}?org=Google&cid=f4125c5d-94c4-ea11-a812-000d3a378a3a",  # Google IT Support
    f"{_GUIDE}?org=IBM&cid=042f274c-682b-ec11-b6e5-000d3a58e694",  # IBM Data Analyst
    f"{_GUIDE}?org=IBM&cid=eb7d51c4-662b-ec11-b6e5-000d3a58e694",  # IBM Data Science
)


@dataclass(frozen=True)
class AceConfig:
    base_url: str = "https://www.acenet.edu"
    # GUIDs or Organization.aspx URLs; reduced to GUIDs when the config is read (crawler/targets.py).
    organizations: tuple[str, ...] = DEFAULT_ACE_ORGANIZATIONS
    # Course.aspx URLs tracked directly, listed by an organization page or not.
    exhibits: tuple[str, ...] = DEFAULT_ACE_EXHIBITS


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
    # "auto": a page that must hold values and arrives as its template is fetched again in headless
    # Chromium; "always": every ACE page is; "never": none (crawler/rendering.py).
    render: str = "auto"
    render_timeout: float = 60.0  # seconds for one rendered page (its own timeout: rendering is slow)
    render_concurrency: int = 2  # rendered pages open at once
    chromium: str = ""  # the Chromium executable; "" = chromium on PATH


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

    def with_sites(self, urls: dict[str, str], organizations: list[str], exhibits: tuple[str, ...] = ()) -> Config:
        """This config pointed at another copy of the sites (the fixture server), with its identifiers."""
        return replace(
            self,
            ace=replace(self.ace, base_url=urls["ace"], organizations=tuple(organizations), exhibits=tuple(exhibits)),
            coursera=replace(self.coursera, api_url=urls["coursera_api"], site_url=urls["coursera_site"]),
        )


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


def load_config(path: str | Path | None = None, db: str | None = None, environ: dict[str, str] | None = None) -> Config:
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
    ace_keys = data.get("ace") if isinstance(data.get("ace"), dict) else {}
    if "organizations" in ace_keys and "exhibits" not in ace_keys:  # the default exhibits go with the default orgs
        config = replace(config, ace=replace(config.ace, exhibits=()))
    config = replace(config, ace=_ace_targets(config.ace, str(config_path)))
    if config.crawl.render not in ("never", "auto", "always"):
        raise ConfigError(
            f'{config_path}: crawl.render must be "never", "auto" or "always", got {config.crawl.render!r}'
        )
    if not config.db:
        config = replace(config, db=default_db_url(env))
    if not config.crawl.cache_dir:
        config = replace(config, crawl=replace(config.crawl, cache_dir=str(default_cache_dir(env))))
    return replace(config, source=str(config_path) if config_path.exists() else "defaults")


def _ace_targets(ace: AceConfig, where: str) -> AceConfig:
    """[ace] organizations and exhibits in their canonical form, or a ConfigError naming the entry."""
    from crawler.targets import exhibit_url, organization_guid

    try:
        organizations = tuple(dict.fromkeys(organization_guid(v) for v in ace.organizations))
        exhibits = tuple(dict.fromkeys(exhibit_url(v) for v in ace.exhibits))
    except ValueError as exc:
        raise ConfigError(f"{where}: [ace] {exc}") from None
    return replace(ace, organizations=organizations, exhibits=exhibits)


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
        raise ConfigError(
            f"{where}: unknown key {prefix}{unknown[0]!s} (known: {', '.join(prefix + k for k in known)})"
        )
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
