"""`acewatch audit`: every Coursera page whose ACE claim the guide does not back, with the evidence.

Reads the newest finished cycle's stored claim verdicts (monitor.claims) and
puts each beside what it was judged from: the page (URL, its ACE sentence,
its credits) and the exhibit (URL, period, credits). A school or an adviser
runs it from cron: exit 0 when nothing is to report, 3 otherwise.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from acewatch.exit_codes import ExitCode
from acewatch.outputs.reports import ReportError, csv_cell, iso
from acewatch.text import for_terminal
from monitor.claims import ABOUT_AN_EXHIBIT, FINDINGS, ClaimVerdict, explain
from monitor.status import exhibit_status
from store.cycles import claim_counts, claim_matches, latest_cycle, latest_judged_cycle
from store.runs import get_run, load_snapshot

if TYPE_CHECKING:
    from sqlalchemy import Engine


@dataclass(frozen=True)
class ExhibitEvidence:
    """The ACE exhibit a claim was judged against, as that cycle's ACE crawl read it."""

    ace_id: str | None
    cid: str
    title: str
    url: str
    status: str  # active | expired | not_yet_active | unknown, on the crawl's day
    credits: float | None  # in the period below
    period: dict[str, str | None] | None  # {"start", "end"}: the period the status is about


@dataclass(frozen=True)
class Finding:
    """One program page whose ACE claim the guide does not back (or a recommendation it does not mention)."""

    verdict: ClaimVerdict
    program_id: str
    slug: str
    title: str
    partner: str
    page_url: str
    claim_text: str | None
    page_credits: float | None
    differences: list[str]
    message: str
    exhibit: ExhibitEvidence | None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "verdict": self.verdict.value}


@dataclass(frozen=True)
class AuditReport:
    cycle: int
    as_of: str | None  # the ACE crawl the verdicts come from
    catalog_as_of: str | None  # the Coursera crawl
    findings: list[Finding]
    unknown: int  # programs whose page or exhibit was unreadable (not judged)

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.ATTENTION if self.findings else ExitCode.OK

    def groups(self) -> list[tuple[ClaimVerdict, list[Finding]]]:
        """Findings by verdict, in the README's order; only verdicts that occur."""
        return [
            (verdict, items) for verdict in FINDINGS if (items := [f for f in self.findings if f.verdict is verdict])
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "cycle": self.cycle,
            "as_of": self.as_of,
            "catalog_as_of": self.catalog_as_of,
            "count": len(self.findings),
            "unknown": self.unknown,
            "verdicts": {verdict.value: [f.to_dict() for f in items] for verdict, items in self.groups()},
            "exit_code": self.exit_code,
        }


def audit(engine: Engine) -> AuditReport:
    """The findings of the newest cycle that judged claims; ReportError when none has yet.

    A cycle whose crawl of either source failed judges no claim (monitor.claims.HeldBack):
    the audit then stays on the last judged cycle, whose dates it gives, rather than
    reporting "nothing to report" on no evidence.
    """
    judged = latest_judged_cycle(engine)
    cycle = latest_cycle(engine, before_id=judged + 1) if judged is not None else None
    if cycle is None:
        raise ReportError(
            "no monitor cycle has judged the Coursera pages' ACE claims yet (healthy ACE and "
            "Coursera crawls of the same cycle): run `acewatch run` first"
        )
    counts = claim_counts(engine, cycle.id)
    ace_run, coursera_run = get_run(engine, cycle.ace_run_id), get_run(engine, cycle.coursera_run_id)
    matches = claim_matches(engine, cycle.id, [verdict.value for verdict in FINDINGS])
    programs = {
        p["program_id"]: p
        for p in load_snapshot(engine, "coursera", coursera_run.id, [m["program_id"] for m in matches])
    }
    cids = sorted({m["cid"] for m in matches if m["cid"]})
    exhibits = {e["cid"]: e for e in load_snapshot(engine, "ace", ace_run.id, cids)}
    day = ace_run.started_at.date()
    findings = [
        finding(m, programs[m["program_id"]], exhibits.get(m["cid"]), day)
        for m in matches
        if m["program_id"] in programs
    ]
    return AuditReport(
        cycle.id,
        iso(ace_run.started_at),
        iso(coursera_run.started_at),
        findings,
        counts.get(ClaimVerdict.UNKNOWN.value, 0),
    )


def finding(match: dict, program: dict, exhibit: dict | None, day: date) -> Finding:
    """One stored verdict with its evidence; the exhibit only when the verdict is about it."""
    verdict = ClaimVerdict(match["claim"])
    evidence = _evidence(exhibit, day) if exhibit and verdict in ABOUT_AN_EXHIBIT else None
    words = list(match["differences"] or []) if verdict is ClaimVerdict.NAME_DIFFERS else []
    ace_credits = evidence.credits if evidence else None
    return Finding(
        verdict,
        program["program_id"],
        program["slug"],
        program["title"],
        program["partner"],
        program["url"],
        program["claim_text"],
        program["ace_credits"],
        words,
        explain(verdict, match["claim_credits"], ace_credits, words),
        evidence,
    )


def _evidence(exhibit: dict, day: date) -> ExhibitEvidence:
    status = exhibit_status(exhibit["periods"], exhibit["parse_status"], day)
    period = {"start": status.period.get("start"), "end": status.period.get("end")} if status.period else None
    return ExhibitEvidence(
        exhibit["ace_id"], exhibit["cid"], exhibit["title"], exhibit["url"], status.status, status.credits, period
    )


CSV_FIELDS = (
    "verdict",
    "slug",
    "title",
    "partner",
    "page_url",
    "claim_text",
    "page_credits",
    "differences",
    "ace_id",
    "ace_title",
    "exhibit_url",
    "exhibit_status",
    "ace_credits",
    "period_start",
    "period_end",
    "message",
)


def render_csv(report: AuditReport) -> str:
    """One row a finding, spreadsheet-safe (acewatch.outputs.reports.csv_cell)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for _verdict, items in report.groups():
        for item in items:
            writer.writerow({key: csv_cell(value) for key, value in csv_row(item).items()})
    return buffer.getvalue()


def csv_row(item: Finding) -> dict[str, Any]:
    exhibit = item.exhibit
    period = (exhibit.period or {}) if exhibit else {}
    return {
        "verdict": item.verdict.value,
        "slug": item.slug,
        "title": item.title,
        "partner": item.partner,
        "page_url": item.page_url,
        "claim_text": item.claim_text,
        "page_credits": _number(item.page_credits),
        "differences": item.differences,
        "ace_id": exhibit and exhibit.ace_id,
        "ace_title": exhibit and exhibit.title,
        "exhibit_url": exhibit and exhibit.url,
        "exhibit_status": exhibit and exhibit.status,
        "ace_credits": _number(exhibit and exhibit.credits),
        "period_start": period.get("start"),
        "period_end": period.get("end"),
        "message": item.message,
    }


def render_text(report: AuditReport) -> str:
    """Grouped by verdict, each program with its page and its exhibit; scraped text made terminal-safe."""
    if not report.findings:
        return for_terminal(
            f"audit of cycle {report.cycle}: every Coursera ACE claim is backed by the ACE guide "
            f"(ACE as of {report.as_of})" + _unknown_note(report)
        )
    lines = [
        f"audit of cycle {report.cycle}: {len(report.findings)} Coursera page(s) and the ACE guide disagree "
        f"(ACE as of {report.as_of}, Coursera as of {report.catalog_as_of})" + _unknown_note(report)
    ]
    for verdict, items in report.groups():
        lines += ["", f"{verdict.value} ({len(items)})"]
        for item in items:
            lines.append(f"  - {item.title}: {item.message}")
            lines.append(f"      page: {item.page_url}" + (f'  "{item.claim_text}"' if item.claim_text else ""))
            if item.exhibit:
                lines.append(
                    f'      ACE: {item.exhibit.ace_id} "{item.exhibit.title}", {_period(item.exhibit)}'
                    f"  {item.exhibit.url}"
                )
    return "\n".join(for_terminal(line) for line in lines)


def _period(exhibit: ExhibitEvidence) -> str:
    span = exhibit.period or {}
    credits = f", {exhibit.credits:g} credits" if exhibit.credits is not None else ""
    return f"{exhibit.status.replace('_', ' ')} ({span.get('start')} to {span.get('end') or 'open'}{credits})"


def _unknown_note(report: AuditReport) -> str:
    return f"; {report.unknown} program(s) unreadable, not judged" if report.unknown else ""


def _number(value: float | None) -> str | None:
    return None if value is None else f"{float(value):g}"
