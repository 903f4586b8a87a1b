"""What `status`, `history` and `export` report, as plain JSON-able data.

These functions only read the store; the commands in acewatch.server_cli
decide how the data looks. Scraped strings come back as stored: anything that
prints them passes them through acewatch.text, or acewatch.jsonout for JSON.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from acewatch.check import as_url
from acewatch.jsonout import dumps, utc_iso
from acewatch.schedule import stored_next_run
from acewatch.text import for_terminal
from acewatch.titles import title_lookups
from monitor.diff import RECOMMENDED
from monitor.events import Event
from monitor.names import normalize
from monitor.notes import note_is_problem, notes_of, rendered_pages
from monitor.status import exhibit_status
from store import reports as stored
from store.cycles import cycle_events, cycle_matches, latest_cycle
from store.database import mask_url
from store.locks import holder_of
from store.outbox import backlog
from store.reports import CycleRuns, aware
from store.runs import load_snapshot, recent_runs

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from store.models import CrawlRun

SOURCES = ("ace", "coursera")
EXPORT_FIELDS = (
    "slug",
    "title",
    "partner",
    "url",
    "verdict",
    "differences",
    "status",
    "credits",
    "ace_id",
    "ace_title",
    "exhibit_url",
    "as_of",
    "claim",
    "claim_credits",
    "claim_text",
)
# A stored next run this far in the past means no daemon is advancing it.
OVERDUE_AFTER = timedelta(minutes=5)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class ReportError(Exception):
    """Nothing to report yet (no cycle, no catalog); the message says what to run first."""


# --------------------------------------------------------------------------
# Shared helpers
# --------------------------------------------------------------------------


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime | None) -> str | None:
    return utc_iso(moment)


def age_text(hours: float) -> str:
    return f"{hours:.1f} hours" if hours < 48 else f"{hours / 24:.1f} days"


# --------------------------------------------------------------------------
# status
# --------------------------------------------------------------------------


def status_data(
    engine: Engine, db_url: str, runs: int = 5, max_age_days: float | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """Runs, data age, the next scheduled run, alert backlog and the lock: one look at a server.

    `problems` lists what a person (or a monitoring probe) should act on.
    """
    now = now or utcnow()
    sources = {source: source_status(engine, source, runs, now) for source in SOURCES}
    data = {
        "database": mask_url(db_url),
        "checked_at": iso(now),
        "sources": sources,
        "latest_cycle": cycle_summary(engine),
        "next_run": next_run(engine, now),
        "deliveries": delivery_counts(engine),
        "lock": lock_status(engine, now),
    }
    data["problems"] = status_problems(data, max_age_days)
    return data


def run_summary(run: CrawlRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "started_at": iso(run.started_at),
        "finished_at": iso(run.finished_at),
        "outcome": run.outcome,
        "healthy": run.healthy,
        "pages": run.pages,
        "records": run.records,
        "errors": run.errors,
        "unknown": run.unknown,
        "finish_reason": run.finish_reason,
        "failing_checks": [
            check.get("message", check.get("check")) for check in run.health_report or [] if not check.get("ok", True)
        ],
        "notes": [
            {"message": note["message"], "attention": note_is_problem(note)} for note in notes_of(run.health_report)
        ],
        "rendered_pages": rendered_pages(run.health_report),
    }


def source_status(engine: Engine, source: str, limit: int, now: datetime) -> dict[str, Any]:
    """The last `limit` runs of a source and how old its newest healthy data is."""
    runs = recent_runs(engine, source, limit=limit)
    healthy = recent_runs(engine, source, limit=1, healthy=True)
    last = healthy[0] if healthy else None
    hours = (now - aware(last.started_at)).total_seconds() / 3600 if last else None
    return {
        "runs": [run_summary(run) for run in runs],
        "last_healthy": run_summary(last) if last else None,
        "data_age_hours": round(hours, 2) if hours is not None else None,
        "data_age": age_text(hours) if hours is not None else None,
    }


def cycle_summary(engine: Engine) -> dict[str, Any] | None:
    """The newest cycle, finished or not, with its event count."""
    cycle = stored.newest_cycle(engine)
    if cycle is None:
        return None
    return {
        "id": cycle.id,
        "started_at": iso(cycle.started_at),
        "finished_at": iso(cycle.finished_at),
        "outcome": cycle.outcome,
        "ace_run_id": cycle.ace_run_id,
        "coursera_run_id": cycle.coursera_run_id,
        "events": cycle.events,
    }


def next_run(engine: Engine, now: datetime) -> dict[str, Any] | None:
    """The scheduler's persisted next run, read from its table without starting a scheduler."""
    at = stored_next_run(engine)
    if at is None:
        return None
    return {"at": iso(at), "in_seconds": round((at - now).total_seconds()), "overdue": at < now - OVERDUE_AFTER}


def delivery_counts(engine: Engine) -> dict[str, Any]:
    """Alert outbox backlog: pending digests, those of them that already failed, and the newest error.

    A failed send goes back to `pending` with attempts + 1 (acewatch.alerts), so
    "failing" is pending with attempts > 0; its last_error is already masked.
    """
    counts = backlog(engine)
    return {
        "pending": counts.pending,
        "failing": counts.failing,
        "sending": counts.sending,
        "sent": counts.sent,
        "last_error": counts.last_error,
    }


def lock_status(engine: Engine, now: datetime) -> dict[str, Any] | None:
    info = holder_of(engine)
    return info.to_dict(now) if info else None


def status_problems(data: dict[str, Any], max_age_days: float | None) -> list[str]:
    problems = []
    for source, info in data["sources"].items():
        newest = info["runs"][0] if info["runs"] else None
        if newest is None:
            problems.append(f"{source}: never crawled")
            continue
        finished = next((run for run in info["runs"] if run["outcome"] != "running"), None)
        problems.extend(
            f"{source}: {note['message']}" for note in (finished or {}).get("notes", []) if note["attention"]
        )
        if newest["outcome"] != "running" and not newest["healthy"]:
            reason = "; ".join(newest["failing_checks"]) or newest["outcome"]
            problems.append(f"{source}: newest run {newest['id']} is unhealthy ({reason})")
        age = info["data_age_hours"]
        if age is not None and max_age_days is not None and age > max_age_days * 24:
            problems.append(f"{source}: newest healthy data is {info['data_age']} old (limit {max_age_days:g} days)")
    if data["next_run"] and data["next_run"]["overdue"]:
        problems.append(f"the scheduled run due {data['next_run']['at']} is overdue: is `acewatch schedule` running?")
    if data["deliveries"]["failing"]:
        error = data["deliveries"]["last_error"]
        problems.append(
            f"{data['deliveries']['failing']} alert deliveries are failing"
            + (f" (last error: {error})" if error else "")
        )
    if data["lock"] and data["lock"]["expired"]:
        problems.append(f"the run lock of {data['lock']['holder']} expired: that run died without releasing it")
    return problems


# --------------------------------------------------------------------------
# changes
# --------------------------------------------------------------------------


def changes_data(engine: Engine, cycle: int | None = None) -> dict[str, Any]:
    """A cycle's events as `changes --json` prints them: the newest finished cycle unless one is named.

    One function for the CLI and the web page, so both show the same cycle.
    """
    from acewatch.outputs.render import events_dict

    chosen = cycle if cycle is not None else getattr(latest_cycle(engine), "id", None)
    if chosen is None:
        raise ReportError("no monitor cycle in this store yet: run `acewatch run` (or `acewatch demo`) first")
    return events_dict(chosen, [Event.from_row(row) for row in cycle_events(engine, chosen)])


# --------------------------------------------------------------------------
# history
# --------------------------------------------------------------------------


def history_data(engine: Engine, name: str) -> dict[str, Any]:
    """A program's timeline across cycles: titles, ACE status, credits, match verdicts and events.

    `name` may be an ACE or Coursera title (exact or typographically equal),
    an ACE id or cid, a Coursera slug, program id or program URL. A program
    and the exhibit its title matched word for word are followed together,
    so a rename on either side shows up in one timeline.
    """
    cids, program_ids = find_subjects(engine, name)
    found = {"ace": [], "coursera": []}
    if not cids and not program_ids:
        return {"query": name, "found": found, "timeline": []}
    cycles = stored.finished_cycles(engine)
    programs = stored.record_versions(engine, "coursera", program_ids)
    matches = stored.program_matches(engine, program_ids)
    matched_cids = {m["cid"] for m in matches.values() if m["cid"]}
    exhibits = stored.record_versions(engine, "ace", cids | matched_cids)
    run_dates = stored.run_start_times(engine, {c.ace_run_id for c in cycles} | {c.coursera_run_id for c in cycles})
    events = _events(engine, cids | program_ids)
    found = {
        "ace": _subjects(exhibits, "cid", sorted(cids), ("ace_id",)),
        "coursera": _subjects(programs, "program_id", sorted(program_ids), ("slug",)),
    }
    timeline = _timeline(cycles, sorted(cids), sorted(program_ids), exhibits, programs, matches, run_dates, events)
    return {"query": name, "found": found, "timeline": timeline}


def find_subjects(engine: Engine, name: str) -> tuple[set[str], set[str]]:
    """ACE cids and Coursera program ids that go by `name`, plus their word-for-word partners."""
    query = name.strip()
    key = normalize(query).text
    ace, coursera = title_lookups(engine)  # kept until a run is written: no scan of every title per question
    cids = ace.find(query, key, alias=query)
    program_ids = coursera.find(query, key, alias=_slug_of(query))
    return _with_partners(engine, cids, program_ids)


def _slug_of(query: str) -> str:
    """A Coursera URL's last path segment, or the query itself."""
    parts = urlsplit(as_url(query, ("www.coursera.org", "coursera.org")))
    if parts.scheme in ("http", "https"):
        return parts.path.rstrip("/").rsplit("/", 1)[-1]
    return query


def _with_partners(engine: Engine, cids: set[str], program_ids: set[str]) -> tuple[set[str], set[str]]:
    """Add the other side of any exact/equivalent match, in any cycle (one hop)."""
    if not cids and not program_ids:
        return cids, program_ids
    rows = stored.matched_pairs(engine, cids, program_ids, RECOMMENDED)
    return cids | {cid for _pid, cid in rows if cid}, program_ids | {pid for pid, _cid in rows}


def _events(engine: Engine, keys: set[str]) -> dict[int, list[Event]]:
    by_cycle: dict[int, list[Event]] = defaultdict(list)
    for row in stored.subject_events(engine, keys):
        by_cycle[row["cycle_id"]].append(Event.from_row(row))
    return by_cycle


def _subjects(rows: dict[tuple[int, str], dict], key: str, wanted: list[str], extra: tuple[str, ...]) -> list[dict]:
    """Each record's ids and every title it has had, oldest first."""
    subjects = []
    for value in wanted:
        versions = [row for (run_id, k), row in sorted(rows.items()) if k == value]
        titles = list(dict.fromkeys(row["title"] for row in versions))
        latest = versions[-1] if versions else {}
        subjects.append({key: value, **{name: latest.get(name) for name in extra}, "titles": titles})
    return subjects


def _timeline(cycles, cids, program_ids, exhibits, programs, matches, run_dates, events) -> list[dict]:
    """One entry per cycle where something changed or happened; quiet stretches fold into `through`."""
    timeline: list[dict[str, Any]] = []
    seen: set[str] = set()
    for cycle in cycles:
        ace_day = run_dates.get(cycle.ace_run_id)
        state = {
            "ace": [_ace_state(exhibits, cycle.ace_run_id, cid, ace_day, seen) for cid in cids],
            "coursera": [_program_state(programs, matches, exhibits, cycle, pid, seen) for pid in program_ids],
        }
        state = {side: [s for s in items if s is not None] for side, items in state.items()}
        happened = events.get(cycle.id, [])
        if timeline and not happened and timeline[-1]["state"] == state:
            timeline[-1]["through"] = {"cycle": cycle.id, "date": iso(cycle.started_at)}
            continue
        timeline.append(
            {
                "cycle": cycle.id,
                "date": iso(cycle.started_at),
                "ace_as_of": iso(ace_day),
                "coursera_as_of": iso(run_dates.get(cycle.coursera_run_id)),
                "state": state,
                "events": happened,
                "through": None,
            }
        )
    return [{**{k: v for k, v in entry.items() if k != "state"}, **entry["state"]} for entry in timeline]


def _ace_state(exhibits, run_id, cid, day, seen) -> dict[str, Any] | None:
    """The exhibit as this cycle's ACE snapshot had it: status and credits that day, or removed."""
    if run_id is None:
        return None
    row = exhibits.get((run_id, cid))
    if row is None:
        return {"cid": cid, "status": "removed"} if f"ace:{cid}" in seen else None
    seen.add(f"ace:{cid}")
    period = exhibit_status(row["periods"], row["parse_status"], day.date())
    return {
        "cid": cid,
        "ace_id": row["ace_id"],
        "title": row["title"],
        "status": period.status,
        "credits": period.credits,
        "period": _period_span(period.period),
        "url": row["url"],
    }


def _program_state(programs, matches, exhibits, cycle: CycleRuns, program_id, seen) -> dict[str, Any] | None:
    """The program as this cycle's Coursera snapshot had it, with the cycle's match verdict."""
    if cycle.coursera_run_id is None:
        return None
    row = programs.get((cycle.coursera_run_id, program_id))
    if row is None:
        return {"program_id": program_id, "status": "removed"} if f"coursera:{program_id}" in seen else None
    seen.add(f"coursera:{program_id}")
    match = matches.get((cycle.id, program_id)) or {}
    exhibit = exhibits.get((cycle.ace_run_id, match.get("cid"))) if match.get("cid") else None
    return {
        "program_id": program_id,
        "slug": row["slug"],
        "title": row["title"],
        "url": row["url"],
        "status": match.get("status", "unknown"),
        "verdict": match.get("verdict"),
        "credits": match.get("credits"),
        "differences": match.get("differences") or [],
        "claim": match.get("claim"),
        "claim_credits": match.get("claim_credits"),
        "ace_id": exhibit and exhibit["ace_id"],
        "ace_title": exhibit and exhibit["title"],
    }


def _period_span(period: dict | None) -> dict | None:
    return {"start": period.get("start"), "end": period.get("end")} if period else None


# --------------------------------------------------------------------------
# export
# --------------------------------------------------------------------------


def export_data(engine: Engine) -> dict[str, Any]:
    """The current catalog: the newest finished cycle's programs with their ACE match.

    `as_of` is the older of the two crawls the cycle used: the data is at
    least that fresh (a cycle reuses the last healthy snapshot of a source
    whose newest crawl was unhealthy).
    """
    cycle = latest_cycle(engine)
    if cycle is None or cycle.coursera_run_id is None:
        raise ReportError("no monitor cycle with a healthy Coursera crawl in this store yet: run `acewatch run` first")
    dates = stored.run_start_times(engine, {cycle.ace_run_id, cycle.coursera_run_id})
    as_of = iso(min(dates.values()))
    matches = {m["program_id"]: m for m in cycle_matches(engine, cycle.id)}
    cids = sorted({m["cid"] for m in matches.values() if m["cid"]})
    exhibits = {e["cid"]: e for e in load_snapshot(engine, "ace", cycle.ace_run_id, cids)} if cycle.ace_run_id else {}
    programs = sorted(
        load_snapshot(engine, "coursera", cycle.coursera_run_id),
        key=lambda p: (p["slug"], p["variant"], p["program_id"]),
    )
    rows = [export_row(program, matches.get(program["program_id"]), exhibits, as_of) for program in programs]
    return {"cycle": cycle.id, "as_of": as_of, "count": len(rows), "programs": rows}


def export_row(program: dict, match: dict | None, exhibits: dict[str, dict], as_of: str) -> dict[str, Any]:
    """One program's row. `credits` only when the program is recommended under its exact name:
    a near match's exhibit credits are not the program's (ace_title says whose they are)."""
    match = match or {}
    verdict = match.get("verdict")
    status = match.get("status", "unknown")
    exhibit = exhibits.get(match.get("cid")) if verdict and verdict != "none" else None
    return {
        "slug": program["slug"],
        "title": program["title"],
        "partner": program["partner"],
        "url": program["url"],
        "verdict": verdict,
        "differences": list(match.get("differences") or []),
        "status": status,
        "credits": match.get("credits") if status == "recommended" else None,
        "ace_id": exhibit and exhibit["ace_id"],
        "ace_title": exhibit and exhibit["title"],
        "exhibit_url": exhibit and exhibit["url"],
        "as_of": as_of,
        **claim_columns(program, match),
    }


def claim_columns(program: dict, match: dict) -> dict[str, Any]:
    """The page's own ACE claim and its verdict (monitor.claims); credits as the page states them."""
    credits = match.get("claim_credits")
    return {
        "claim": match.get("claim"),
        "claim_credits": int(credits) if credits is not None else None,
        "claim_text": program.get("claim_text"),
    }


def export_csv(rows: Iterable[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=EXPORT_FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({field: csv_cell(row[field]) for field in EXPORT_FIELDS})
    return buffer.getvalue()


def csv_cell(value: Any) -> str:
    """A terminal-safe cell that a spreadsheet will not run as a formula.

    Scraped titles are untrusted; a cell beginning with = + - @ is a formula
    to Excel and LibreOffice, so it gets a leading apostrophe (OWASP's advice).
    """
    if value is None:
        return ""
    if isinstance(value, list):
        value = "; ".join(str(v) for v in value)
    text = for_terminal(value) if isinstance(value, str) else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def export_json(data: dict[str, Any]) -> str:
    return dumps(data) + "\n"


def render_export(data: dict[str, Any], fmt: str) -> str:
    if fmt == "csv":
        return export_csv(data["programs"])
    if fmt == "json":
        return export_json(data)
    raise ValueError(f"unknown export format {fmt!r} (csv or json)")


def write_atomic(path: str | Path, text: str) -> None:
    """Write `path` whole or not at all: a reader never sees half an export.

    A temporary file in the same folder, fsynced, then renamed over the
    target (a rename within one file system is atomic).
    """
    target = Path(path).expanduser()
    mode = target.stat().st_mode & 0o777 if target.exists() else 0o644
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
