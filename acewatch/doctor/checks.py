"""`acewatch doctor`: what a server operator runs first, one line per finding.

A nightly run that fails tells its story in figures; the first nights on a new
server need the reasons instead: the host does not answer, robots.txt forbids a
path the configuration needs, a GUID names no organization, the exhibits are filled
by script, the sitemap cannot be read, the store's schema is behind, an alert URL
does not parse. Each of these is checked here with the configuration a run uses and
said in one line that names what to change. The store is opened without migrating it
(SQLite creates an empty file), and alert URLs are only shown masked.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from acewatch.config import Config


@dataclass
class Finding:
    source: str  # ace | coursera | store | alerts | browser
    check: str  # reachable | robots | organization | exhibit | sitemap | program | schema | url
    ok: bool
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'}  {self.source:<8} {self.check:<12} {self.message}"


def diagnose(config: Config) -> list[Finding]:
    """Every finding for this configuration, sources first, then the store and the alerts."""
    from acewatch.doctor.sources import ace_findings, coursera_findings
    from crawler.probe import Renderer
    from crawler.rendering import chromium_path

    findings: list[Finding] = []
    executable = chromium_path(config.crawl.chromium) if config.crawl.render != "never" else None
    if config.crawl.render != "never":
        findings.append(
            Finding(
                "browser",
                "chromium",
                executable is not None,
                f'Chromium {executable} (render = "{config.crawl.render}")'
                if executable
                else f'render = "{config.crawl.render}" but no Chromium found: apt-get install chromium '
                "or set [crawl] chromium",
            )
        )
    with Renderer(executable or "", config.crawl.render_timeout) as renderer:
        findings += ace_findings(config, renderer if executable else None)
    findings += coursera_findings(config)
    findings += store_findings(config)
    findings += alert_findings(config)
    return findings


def store_findings(config: Config) -> list[Finding]:
    """The store opens, and its schema is this acewatch's Alembic head (read, never upgraded here)."""
    from store.database import (
        create_store_engine,
        mask_url,
        schema_revisions,
    )

    where = mask_url(config.db)
    try:
        engine = create_store_engine(config.db)
        try:
            current, head, known = schema_revisions(engine)
        finally:
            engine.dispose()
    except Exception as exc:  # noqa: BLE001 - any driver error is the finding, in one line
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        return [Finding("store", "opens", False, f"{where} does not open: {reason}")]
    if current == head:
        return [Finding("store", "schema", True, f"{where} opens; schema at head {head}")]
    if current is None:
        return [Finding("store", "schema", True, f"{where} opens; new store, its schema is created by the first run")]
    if not known:
        return [
            Finding(
                "store",
                "schema",
                False,
                f"{where} has schema {current}, newer than this acewatch (head {head}): upgrade acewatch",
            )
        ]
    return [
        Finding(
            "store",
            "schema",
            False,
            f"{where} has schema {current}, behind head {head}: the next "
            "`acewatch run` upgrades it (back the database up first)",
        )
    ]


def alert_findings(config: Config) -> list[Finding]:
    """Each alert URL parses as an Apprise URL; shown masked, never with its token."""
    from acewatch.alerts import masked_label, validate_urls

    if not config.alerts.urls:
        return [Finding("alerts", "urls", True, "no alert URLs configured ([alerts] urls): changes are only printed")]
    problems = validate_urls(config.alerts.urls)
    findings = [Finding("alerts", "url", False, problem) for problem in problems]
    bad = {int(p.split()[2]) for p in problems if p.startswith("alert URL ")}
    findings += [
        Finding("alerts", "url", True, f"alert URL {number} {masked_label(url)} parses")
        for number, url in enumerate(config.alerts.urls, start=1)
        if number not in bad
    ]
    return findings


def report(findings: list[Finding]) -> dict[str, Any]:
    """The --json shape: ok overall, and every finding."""
    return {
        "ok": all(f.ok for f in findings),
        "problems": [f.line() for f in findings if not f.ok],
        "findings": [asdict(f) for f in findings],
    }
