"""Change events between two monitor cycles.

Snapshots are compared in SQL (only changed keys come back), then each change
is read as typed events. Anything `unknown` on either side produces no event:
a page we could not read is not evidence that a program changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import Engine

from monitor.names import word_differences
from monitor.status import ACTIVE, UNKNOWN, exhibit_status
from store.runs import SNAPSHOT_KEYS, last_known_records, load_snapshot, snapshot_changes

EVENT_TYPES = ("gained_ace", "lost_ace", "credits_changed", "renamed", "name_mismatch", "new_program",
               "removed_program", "recommendation_expiring", "record_unreadable", "source_unhealthy",
               "source_recovered")
RECOMMENDED = ("exact", "equivalent")


def event(type_: str, source: str, key: str, subject: str, old=None, new=None, url=None,
          runs: tuple[int | None, int | None] = (None, None), **details) -> dict[str, Any]:
    assert type_ in EVENT_TYPES, type_
    return {"type": type_, "source": source, "subject_key": key, "subject": subject,
            "old": None if old is None else str(old), "new": None if new is None else str(new),
            "evidence_url": url, "from_run_id": runs[0], "to_run_id": runs[1], "details": details}


def _differences(old: str, new: str) -> list[str]:
    return [str(d) for d in word_differences(old, new)]


def _with_last_known(engine: Engine, source: str, records: list[dict], run_id: int) -> dict[str, dict]:
    """Records by key, an unreadable one replaced by its last readable version (if any)."""
    key = SNAPSHOT_KEYS[source]
    by_key = {r[key]: r for r in records}
    unreadable = [k for k, r in by_key.items() if r["parse_status"] != "ok"]
    by_key.update(last_known_records(engine, source, unreadable, run_id))
    return by_key


def ace_events(engine: Engine, old_run, new_run) -> list[dict[str, Any]]:
    """Exhibits that appeared, vanished, expired, changed credits or were renamed."""
    changes = snapshot_changes(engine, "ace", old_run.id, new_run.id)
    old_day, new_day = old_run.started_at.date(), new_run.started_at.date()
    keys = changes["removed"] + changes["changed"]
    old = _with_last_known(engine, "ace", load_snapshot(engine, "ace", old_run.id, keys), old_run.id)
    new = {r["cid"]: r for r in load_snapshot(engine, "ace", new_run.id, changes["added"] + changes["changed"])}
    runs = (old_run.id, new_run.id)
    events = []
    for cid in changes["added"]:
        events += _exhibit_events(None, new[cid], old_day, new_day, runs)
    for cid in changes["removed"]:
        events += _exhibit_events(old[cid], None, old_day, new_day, runs)
    for cid in changes["changed"]:
        events += _exhibit_events(old[cid], new[cid], old_day, new_day, runs)
    return events


def _exhibit_events(old: dict | None, new: dict | None, old_day: date, new_day: date, runs) -> list[dict]:
    before = exhibit_status(old["periods"], old["parse_status"], old_day) if old else None
    after = exhibit_status(new["periods"], new["parse_status"], new_day) if new else None
    if UNKNOWN in (getattr(before, "status", None), getattr(after, "status", None)):
        return []
    record = new or old
    base = dict(source="ace", key=record["cid"], subject=record["title"], url=record["url"], runs=runs,
                ace_id=record.get("ace_id"), organization=record.get("organization"))
    was, now = bool(before and before.status == ACTIVE), bool(after and after.status == ACTIVE)
    if now and not was:
        return [event("gained_ace", old=before and before.status, new=f"{after.credits:g} credits",
                      credits=after.credits, period=after.period, **base)]
    if was and not now:
        reason = ("exhibit removed from the National Guide" if after is None
                  else f"recommendation period ended {after.period and after.period.get('end')}")
        return [event("lost_ace", old=f"{before.credits:g} credits", new=after.status if after else "removed",
                      reason=reason, **base)]
    events = []
    if was and now and before.credits != after.credits:
        events.append(event("credits_changed", old=f"{before.credits:g}", new=f"{after.credits:g}",
                            old_period=before.period, new_period=after.period, **base))
    if old and new and old["title"] != new["title"]:
        events.append(event("renamed", old=old["title"], new=new["title"],
                            differences=_differences(old["title"], new["title"]), side="ace", **base))
    return events


def coursera_events(engine: Engine, old_run, new_run) -> list[dict[str, Any]]:
    """Programs that appeared, vanished or changed title on Coursera."""
    changes = snapshot_changes(engine, "coursera", old_run.id, new_run.id)
    old = _with_last_known(engine, "coursera", load_snapshot(engine, "coursera", old_run.id,
                                                             changes["removed"] + changes["changed"]), old_run.id)
    new = {r["program_id"]: r for r in load_snapshot(engine, "coursera", new_run.id,
                                                      changes["added"] + changes["changed"])}
    runs = (old_run.id, new_run.id)
    events = []
    for key in changes["added"]:
        if new[key]["parse_status"] == "ok":
            events.append(event("new_program", "coursera", key, new[key]["title"], url=new[key]["url"],
                                runs=runs, slug=new[key]["slug"]))
    for key in changes["removed"]:
        events.append(event("removed_program", "coursera", key, old[key]["title"], url=old[key]["url"],
                            runs=runs, slug=old[key]["slug"]))
    for key in changes["changed"]:
        before, after = old[key], new[key]
        if "unknown" in (before["parse_status"], after["parse_status"]) or before["title"] == after["title"]:
            continue
        events.append(event("renamed", "coursera", key, after["title"], old=before["title"], new=after["title"],
                            url=after["url"], runs=runs, side="coursera", slug=after["slug"],
                            differences=_differences(before["title"], after["title"])))
    return events


def match_events(old_matches: dict[str, dict], new_matches: dict[str, dict], programs: dict[str, dict],
                 exhibits: dict[str, dict], runs) -> list[dict[str, Any]]:
    """A Coursera title that stopped matching its (still active) ACE name word for word."""
    events = []
    for program_id, before in old_matches.items():
        after = new_matches.get(program_id)
        if after is None or before["verdict"] not in RECOMMENDED or after["verdict"] in RECOMMENDED:
            continue
        exhibit = exhibits.get(before["cid"])
        program = programs.get(program_id)
        if exhibit is None or program is None or after["cid"] != before["cid"] or after["status"] == UNKNOWN:
            continue
        events.append(event("name_mismatch", "coursera", program_id, program["title"],
                            old=before["verdict"], new=after["verdict"], url=program["url"], runs=runs,
                            ace_title=exhibit["title"], ace_id=exhibit.get("ace_id"), cid=exhibit["cid"],
                            differences=after["differences"], slug=program["slug"]))
    return events


#: What `expiring_events` reads of each exhibit.
EXPIRY_COLUMNS = ("cid", "ace_id", "title", "url", "periods", "parse_status")


def expiring_events(exhibits: Iterable[dict], ace_run, within_days: int,
                    already: set[tuple[str, str | None]]) -> list[dict[str, Any]]:
    """Active recommendations whose period ends within `within_days`, each announced once."""
    today = ace_run.started_at.date()
    events = []
    for exhibit in exhibits:
        status = exhibit_status(exhibit["periods"], exhibit["parse_status"], today)
        end = status.period and status.period.get("end")
        if status.status != ACTIVE or not end or (exhibit["cid"], end) in already:
            continue
        days_left = (date.fromisoformat(end) - today).days
        if days_left <= within_days:
            events.append(event("recommendation_expiring", "ace", exhibit["cid"], exhibit["title"],
                                old=f"{status.credits:g} credits", new=end, url=exhibit["url"],
                                runs=(None, ace_run.id), ace_id=exhibit.get("ace_id"), days_left=days_left,
                                reason=f"period ends {end}, in {days_left} days"))
    return events


def unreadable_events(source: str, unknown_by_run: list[dict[str, dict]], after: int, run_id: int) -> list[dict]:
    """Records `unknown` in exactly the last `after` healthy runs: each stuck record reported once.

    `unknown_by_run` holds the unknown records by key of the newest healthy runs, newest first
    (at most `after` + 1). Such a record holds back only its own events and never turns the
    source red, so without this an operator would never hear of it.
    """
    if after < 1 or len(unknown_by_run) < after:
        return []
    stuck = set(unknown_by_run[0]).intersection(*unknown_by_run[1:after])
    if len(unknown_by_run) > after:
        stuck -= set(unknown_by_run[after])  # already unknown one run earlier: announced then
    events = []
    for key in sorted(stuck):
        record = unknown_by_run[0][key]
        events.append(event("record_unreadable", source, key, record["title"] or record["url"],
                            new=record["problem"], url=record["url"], runs=(None, run_id), healthy_runs=after,
                            reason=f"unreadable in the last {after} healthy runs: {record['problem']}"))
    return events
