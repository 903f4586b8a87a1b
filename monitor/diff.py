"""Change events between two monitor cycles: plain records in, typed Events out.

The store compares snapshots in SQL and hands over only the changed records
(store.diffs, as a `SnapshotPair`); this module reads each change as typed
events, with no database. Anything `unknown` on either side produces no event:
a page we could not read is not evidence that a program changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from monitor.claims import ABOUT_AN_EXHIBIT, ClaimVerdict, explain
from monitor.events import Event, event
from monitor.names import word_differences
from monitor.status import ACTIVE, UNKNOWN, exhibit_status
from monitor.versions import (
    CREDITS_CHANGED,
    GAINED,
    HELD_BACK,
    LOST,
    RENEWED,
    ExhibitVersion,
    ProgramChange,
    judge_versions,
)

RECOMMENDED = ("exact", "equivalent")


def _differences(old: str, new: str) -> list[str]:
    return [str(d) for d in word_differences(old, new)]


@dataclass(frozen=True)
class SnapshotPair:
    """What two runs of one source differ by, as plain records (store.diffs reads them).

    `old` holds the removed and changed records of the old run by key (an unreadable one replaced by its
    last readable version, if any), `new` the added and changed ones of the new run; for ACE both also hold
    the unchanged pages whose status the calendar moved between `old_day` and `new_day`. For ACE,
    `old_versions`/`new_versions` hold every version of the ACE IDs involved as (ACE ID, row) pairs."""

    old_run_id: int
    new_run_id: int
    old_day: date
    new_day: date
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    old: dict[str, dict] = field(default_factory=dict)
    new: dict[str, dict] = field(default_factory=dict)
    old_versions: list[tuple[str, dict]] = field(default_factory=list)
    new_versions: list[tuple[str, dict]] = field(default_factory=list)

    @property
    def runs(self) -> tuple[int, int]:
        return (self.old_run_id, self.new_run_id)


def ace_events(pair: SnapshotPair) -> list[Event]:
    """ACE programs that gained or lost a recommendation, changed credits or were renewed, judged per
    ACE ID over all its versions (monitor.versions: a new version is not a new program); renames per page."""
    events, judged = [], {}
    for group in version_groups(pair):
        change = judge_versions(
            [ExhibitVersion.of(r, pair.old_day) for r in group.old.values()],
            [ExhibitVersion.of(r, pair.new_day) for r in group.new.values()],
        )
        judged.update(dict.fromkeys([*group.old, *group.new], change.kind))
        events += _program_events(change, group, pair.runs)
    return events + _renames(pair.changed, pair.old, pair.new, judged, pair.runs)


def _renames(cids: list[str], old: dict[str, dict], new: dict[str, dict], judged: dict[str, str], runs) -> list[Event]:
    """A page whose title changed, both nights readable; not when its ACE ID gained, lost or is held back
    (that event says more, or nothing may be said)."""
    events = []
    for cid in cids:
        before, after = old[cid], new[cid]
        if (
            judged.get(cid) in (GAINED, LOST, HELD_BACK)
            or before["parse_status"] != "ok"
            or after["parse_status"] != "ok"
            or before["title"] == after["title"]
        ):
            continue
        events.append(
            event(
                "renamed",
                old=before["title"],
                new=after["title"],
                differences=_differences(before["title"], after["title"]),
                side="ace",
                **_exhibit_base(after, runs),
            )
        )
    return events


@dataclass
class VersionGroup:
    """Every version (cid -> row) of one ACE ID in the old and the new run."""

    ace_id: str
    old: dict[str, dict] = field(default_factory=dict)
    new: dict[str, dict] = field(default_factory=dict)


def version_groups(pair: SnapshotPair) -> list[VersionGroup]:
    """The ACE IDs the changed rows belong to, each with all its versions on both nights.

    An unreadable row carries no ACE ID: it joins the ACE ID of its last readable copy, so a
    version we cannot read holds its ACE ID back instead of silently leaving the judgement (on
    the old night it is judged by that copy, as in any diff). One with no readable copy at all
    is judged alone, and so held back."""
    ace_of = {cid: r["ace_id"] for rows in (pair.old, pair.new) for cid, r in rows.items() if r.get("ace_id")}
    groups: dict[str, VersionGroup] = {}
    for cid in {*pair.old, *pair.new}:
        key = ace_of.get(cid, f"cid:{cid}")
        groups.setdefault(key, VersionGroup(key))
    for side, versions, known in (("old", pair.old_versions, pair.old), ("new", pair.new_versions, pair.new)):
        members = list(versions) + [(ace_of.get(cid, f"cid:{cid}"), row) for cid, row in known.items()]
        for key, row in members:  # the changed rows come last: they win
            if key in groups:
                getattr(groups[key], side)[row["cid"]] = row
    return [groups[key] for key in sorted(groups)]


def _exhibit_base(record: dict, runs) -> dict[str, Any]:
    return {
        "source": "ace",
        "key": record["cid"],
        "subject": record["title"],
        "url": record["url"],
        "runs": runs,
        "ace_id": record.get("ace_id"),
        "organization": record.get("organization"),
    }


def _program_events(change: ProgramChange, group: VersionGroup, runs) -> list[Event]:
    """The one event (or none) for an ACE ID's judgement, about the version that decides."""
    before, after = change.before, change.after
    if change.kind == GAINED:
        return [
            event(
                "gained_ace",
                old=before and before.status,
                new=f"{after.credits:g} credits",
                credits=after.credits,
                period=after.period,
                version=after.deciding.version,
                **_exhibit_base(group.new[after.cid], runs),
            )
        ]
    if change.kind == LOST:
        end = after and after.period and after.period.get("end")
        reason = "exhibit removed from the National Guide" if after is None else f"recommendation period ended {end}"
        return [
            event(
                "lost_ace",
                old=f"{before.credits:g} credits",
                new=after.status if after else "removed",
                reason=reason,
                version=before.deciding.version,
                **_exhibit_base(group.old[before.cid], runs),
            )
        ]
    if change.kind in (CREDITS_CHANGED, RENEWED):
        versions = {
            "old_cid": before.cid,
            "new_cid": after.cid,
            "old_version": before.deciding.version,
            "new_version": after.deciding.version,
            "old_period": before.period,
            "new_period": after.period,
        }
        base = _exhibit_base(group.new[after.cid], runs)
        if change.kind == CREDITS_CHANGED:
            return [event("credits_changed", old=f"{before.credits:g}", new=f"{after.credits:g}", **versions, **base)]
        return [
            event(
                "recommendation_renewed",
                old=_period_text(before.period),
                new=_period_text(after.period),
                credits=after.credits,
                **versions,
                **base,
            )
        ]
    return []


def _period_text(period: dict | None) -> str:
    period = period or {}
    return f"{period.get('start') or '?'} to {period.get('end') or 'open end'}"


def coursera_events(pair: SnapshotPair) -> list[Event]:
    """Programs that appeared, vanished or changed title on Coursera."""
    old, new, runs = pair.old, pair.new, pair.runs
    events = []
    for key in pair.added:
        if new[key]["parse_status"] == "ok":
            events.append(
                event(
                    "new_program",
                    "coursera",
                    key,
                    new[key]["title"],
                    url=new[key]["url"],
                    runs=runs,
                    slug=new[key]["slug"],
                )
            )
    for key in pair.removed:
        events.append(
            event(
                "removed_program",
                "coursera",
                key,
                old[key]["title"],
                url=old[key]["url"],
                runs=runs,
                slug=old[key]["slug"],
            )
        )
    for key in pair.changed:
        before, after = old[key], new[key]
        if "unknown" in (before["parse_status"], after["parse_status"]) or before["title"] == after["title"]:
            continue
        events.append(
            event(
                "renamed",
                "coursera",
                key,
                after["title"],
                old=before["title"],
                new=after["title"],
                url=after["url"],
                runs=runs,
                side="coursera",
                slug=after["slug"],
                differences=_differences(before["title"], after["title"]),
            )
        )
    return events


def match_events(
    old_matches: dict[str, dict],
    new_matches: dict[str, dict],
    programs: dict[str, dict],
    exhibits: dict[str, dict],
    runs,
) -> list[Event]:
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
        events.append(
            event(
                "name_mismatch",
                "coursera",
                program_id,
                program["title"],
                old=before["verdict"],
                new=after["verdict"],
                url=program["url"],
                runs=runs,
                ace_title=exhibit["title"],
                ace_id=exhibit.get("ace_id"),
                cid=exhibit["cid"],
                differences=after["differences"],
                slug=program["slug"],
            )
        )
    return events


def claim_changed(before: str | None, after: str | None) -> bool:
    """Both verdicts judged and readable, and different: an unknown side is no evidence of a change."""
    unknown = (None, ClaimVerdict.UNKNOWN.value)
    return before not in unknown and after not in unknown and before != after


def claim_events(
    old_claims: dict[str, str | None],
    new_matches: Iterable[dict],
    programs: dict[str, dict],
    exhibits: dict[str, dict],
    runs,
) -> list[Event]:
    """A program page's ACE claim that now stands differently against the guide (old -> new verdict)."""
    events = []
    for match in new_matches:
        program = programs.get(match["program_id"])
        before = old_claims.get(match["program_id"])
        if program is None or not claim_changed(before, match["claim"]):
            continue
        verdict = ClaimVerdict(match["claim"])
        exhibit = exhibits.get(match["cid"]) if verdict in ABOUT_AN_EXHIBIT else None
        events.append(
            event(
                "claim_changed",
                "coursera",
                match["program_id"],
                program["title"],
                old=before,
                new=verdict.value,
                url=program["url"],
                runs=runs,
                slug=program["slug"],
                claim_text=program.get("claim_text"),
                page_credits=match.get("claim_credits"),
                credits=match.get("credits"),
                differences=list(match.get("differences") or []) if verdict is ClaimVerdict.NAME_DIFFERS else [],
                ace_id=exhibit and exhibit.get("ace_id"),
                ace_title=exhibit and exhibit["title"],
                cid=exhibit and exhibit["cid"],
                reason=explain(verdict, match.get("claim_credits"), match.get("credits")),
            )
        )
    return events


#: What `expiring_events` reads of each exhibit.
EXPIRY_COLUMNS = ("cid", "ace_id", "title", "url", "periods", "parse_status")


def expiring_events(
    exhibits: Iterable[dict],
    today: date,
    run_id: int,
    within_days: int,
    already: set[tuple[str, str | None]],
    versions_of: Callable[[list[str]], list[dict]] | None = None,
) -> list[Event]:
    """Active recommendations whose period ends within `within_days`, each announced once; not when
    another version of the same ACE ID (`versions_of`: ACE IDs -> their rows) carries the program on
    the day after (a version ending as its successor begins is no ending of the recommendation).
    `today` is the day of the ACE run `run_id` the exhibits come from."""
    events = []
    for exhibit in exhibits:
        status = exhibit_status(exhibit["periods"], exhibit["parse_status"], today)
        end = status.period and status.period.get("end")
        if status.status != ACTIVE or not end or (exhibit["cid"], end) in already:
            continue
        days_left = (date.fromisoformat(end) - today).days
        if days_left <= within_days:
            events.append(
                event(
                    "recommendation_expiring",
                    "ace",
                    exhibit["cid"],
                    exhibit["title"],
                    old=f"{status.credits:g} credits",
                    new=end,
                    url=exhibit["url"],
                    runs=(None, run_id),
                    ace_id=exhibit.get("ace_id"),
                    days_left=days_left,
                    reason=f"period ends {end}, in {days_left} days",
                )
            )
    return _without_successors(events, versions_of) if versions_of and events else events


def _without_successors(events: list[Event], versions_of: Callable[[list[str]], list[dict]]) -> list[Event]:
    """The expiring events whose ACE ID has no other version active on the day after their end."""
    siblings: dict[str, list[dict]] = {}
    for row in versions_of(sorted({e.ace_id for e in events if e.ace_id})):
        siblings.setdefault(row["ace_id"], []).append(row)
    kept = []
    for item in events:
        after = date.fromisoformat(item.new) + timedelta(days=1)
        others = [r for r in siblings.get(item.ace_id, []) if r["cid"] != item.subject_key]
        if not any(exhibit_status(r["periods"], r["parse_status"], after).status == ACTIVE for r in others):
            kept.append(item)
    return kept


def unreadable_events(source: str, unknown_by_run: list[dict[str, dict]], after: int, run_id: int) -> list[Event]:
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
        events.append(
            event(
                "record_unreadable",
                source,
                key,
                record["title"] or record["url"],
                new=record["problem"],
                url=record["url"],
                runs=(None, run_id),
                healthy_runs=after,
                reason=f"unreadable in the last {after} healthy runs: {record['problem']}",
            )
        )
    return events
