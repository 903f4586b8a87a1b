"""One monitor cycle: crawl, judge health, match names, diff against the last cycle, store.

This is `acewatch run` without the printing: the scheduler, `demo` and the
tests call the same function.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from acewatch.alerts import deliver_pending, digest_rows
from acewatch.config import Config
from acewatch.crawl import SOURCES, crawl_sources
from acewatch.outputs.feed import write_feed
from monitor.claims import ClaimFacts, HeldBack, claim_verdict
from monitor.diff import (
    EXPIRY_COLUMNS,
    RECOMMENDED,
    SnapshotPair,
    ace_events,
    claim_changed,
    claim_events,
    coursera_events,
    expiring_events,
    match_events,
    unreadable_events,
)
from monitor.events import Event, event
from monitor.health import judge
from monitor.matching import Candidate, match_catalog
from monitor.names import canonical_org, name_key_rows, vendor_of
from monitor.notes import note_lines, notes_of
from monitor.status import ACTIVE, UNKNOWN, PeriodStatus, status_moved
from monitor.versions import ExhibitVersion, program_state
from store.cycles import (
    announced,
    begin_cycle,
    cycle_claims,
    cycle_events,
    cycle_match_cids,
    cycle_matches,
    finish_cycle,
    last_known_claims,
    latest_cycle,
    latest_event,
)
from store.diffs import ace_snapshot_pair, snapshot_pair
from store.names_index import write_name_index
from store.runs import (
    exhibit_versions,
    get_run,
    iter_snapshot,
    latest_healthy_run,
    load_snapshot,
    recent_runs,
    set_health,
    unreadable_records,
)

if TYPE_CHECKING:
    from sqlalchemy import Engine

log = logging.getLogger(__name__)


@dataclass
class CycleReport:
    cycle_id: int | None
    runs: dict[str, Any] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)  # as stored: with ids and detection time
    matches: list[dict[str, Any]] = field(default_factory=list)
    deliveries: Any = None  # acewatch.alerts.DeliveryReport, when alert URLs are configured

    @property
    def healthy(self) -> bool:
        return all(run.healthy for run in self.runs.values())


def run_cycle(config: Config, engine: Engine, progress: str = "auto") -> CycleReport:
    run_ids = crawl_sources(config, engine, SOURCES, progress)
    return conclude_cycle(config, engine, run_ids)


def conclude_cycle(config: Config, engine: Engine, run_ids: dict[str, int]) -> CycleReport:
    """Judge the new runs, then match and diff the newest healthy snapshots."""
    events = [e for source, run_id in run_ids.items() for e in judge_run(config, engine, source, run_id)]
    previous = latest_cycle(engine)
    ace_run, coursera_run = latest_healthy_run(engine, "ace"), latest_healthy_run(engine, "coursera")
    cycle_id = begin_cycle(engine, ace_run and ace_run.id, coursera_run and coursera_run.id, previous and previous.id)
    # Only the columns matching reads: a whole 100k snapshot as dicts is ~400 MB (see store.runs.iter_snapshot).
    exhibits = (
        load_snapshot(engine, "ace", ace_run.id, columns=("cid", "title", "organization", "parse_status"))
        if ace_run
        else []
    )
    if ace_run:  # the names `check` searches, prepared once per run (a no-op when already written)
        write_name_index(engine, ace_run.id, name_key_rows(exhibits))
    programs = (
        load_snapshot(
            engine,
            "coursera",
            coursera_run.id,
            columns=("program_id", "title", "partner", "parse_status", "ace_claim", "ace_credits"),
        )
        if coursera_run
        else []
    )
    matches = (
        compute_matches(
            engine,
            programs,
            exhibits,
            ace_run,
            claims_held_back(engine, previous, run_ids, (ace_run, coursera_run), exhibits),
        )
        if ace_run and coursera_run
        else []
    )
    del exhibits, programs
    if previous is not None:
        events += _diff_events(engine, previous, ace_run, coursera_run, matches)
    events += stuck_events(config, engine, run_ids, (ace_run, coursera_run))
    if ace_run and (previous is None or previous.ace_run_id != ace_run.id):
        events += expiring_events(
            iter_snapshot(engine, "ace", ace_run.id, columns=EXPIRY_COLUMNS),
            ace_run.started_at.date(),
            ace_run.id,
            config.alerts.expiring_within_days,
            announced(engine, "recommendation_expiring"),
            versions_of=lambda ace_ids: exhibit_versions(engine, ace_run.id, ace_ids),
        )
    # The digest is queued in the cycle's own transaction: no crash can lose an alert.
    notes = note_lines({source: get_run(engine, run_id) for source, run_id in run_ids.items()})
    finish_cycle(
        engine, cycle_id, matches, events, deliveries=digest_rows(cycle_id, events, config.alerts.urls, notes=notes)
    )
    deliveries = send_alerts(config, engine)
    runs = {source: get_run(engine, run_id) for source, run_id in run_ids.items()}
    stored = [Event.from_row(row) for row in cycle_events(engine, cycle_id)]  # `run` prints what `changes` will
    return CycleReport(cycle_id, runs, stored, matches, deliveries)


def stuck_events(config: Config, engine: Engine, run_ids: dict[str, int], healthy_runs) -> list[Event]:
    """record_unreadable for each record of a run crawled now that stays unknown run after run."""
    after = config.health.unreadable_alert_after
    events = []
    for run in healthy_runs:
        if run is None or run.id not in run_ids.values():
            continue
        history = recent_runs(engine, run.source, limit=after + 1, healthy=True, before_id=run.id + 1)
        events += unreadable_events(
            run.source, [unreadable_records(engine, run.source, r.id) for r in history], after, run.id
        )
    return events


def send_alerts(config: Config, engine: Engine):
    """Deliver everything pending (this cycle's digest and earlier failures); refresh the feed."""
    report = deliver_pending(engine, config.alerts.urls) if config.alerts.urls else None
    if config.alerts.feed_path:
        write_feed(engine, config.alerts.feed_path)
    return report


def judge_run(config: Config, engine: Engine, source: str, run_id: int) -> list[Event]:
    """Apply the health gate; return a source_unhealthy/source_recovered event on a transition."""
    run = get_run(engine, run_id)
    history = recent_runs(engine, source, limit=config.health.median_of_last, healthy=True, before_id=run_id)
    checks = judge(run, history, config.health)
    healthy = all(check.ok for check in checks)
    set_health(engine, run_id, healthy, [check.to_dict() for check in checks] + notes_of(run.health_report))
    last_announced = latest_event(engine, source, ("source_unhealthy", "source_recovered"))
    held_back = bool(last_announced and last_announced["type"] == "source_unhealthy")
    problems = "; ".join(check.message for check in checks if not check.ok)
    if not healthy:
        log.warning("source=%s run=%s unhealthy: %s", source, run_id, problems)
    # Transitions are judged against what was last announced, not the previous run:
    # a run killed before it was judged must not make the next one "recover".
    if not healthy and not held_back:
        return [
            event(
                "source_unhealthy",
                source,
                source,
                f"{source} crawl",
                new=problems,
                url=run.base_url,
                runs=(last_announced and last_announced["to_run_id"], run_id),
            )
        ]
    if healthy and held_back:
        return [
            event(
                "source_recovered",
                source,
                source,
                f"{source} crawl",
                new="healthy",
                url=run.base_url,
                runs=(last_announced["to_run_id"], run_id),
            )
        ]
    return []


def compute_matches(
    engine: Engine, programs: list[dict], exhibits: list[dict], ace_run, held: HeldBack | None = None
) -> list[dict[str, Any]]:
    """Each Coursera program's best ACE exhibit, whether that makes it recommended today, and how the
    page's own ACE claim stands against it (`held`: what the claims cannot be judged on this cycle)."""
    held = held or HeldBack()
    results = match_catalog(
        [Candidate(key=p["program_id"], name=p["title"], org=p["partner"]) for p in programs],
        [Candidate(key=e["cid"], name=e["title"], org=e["organization"]) for e in exhibits if e["title"]],
    )
    statuses = exhibit_statuses(engine, ace_run, {result.exhibit.key for result in results if result.exhibit})
    matches = []
    for program, result in zip(programs, results):
        cid = result.exhibit.key if result.exhibit else None
        period = statuses.get(cid) if cid else None
        differences = result.comparison.differences if result.comparison else ()
        matches.append(
            {
                "program_id": program["program_id"],
                "cid": cid,
                "verdict": result.verdict,
                "score": float(result.score),
                "differences": [str(d) for d in differences],
                "status": _program_status(program, result.verdict, period),
                "credits": period.credits if period and period.status == ACTIVE else None,
                "claim": held.apply(
                    program["program_id"],
                    program_claim(program, result.verdict, period),
                    program_org(program) if held.cids else None,
                ).value,
                "claim_credits": program["ace_credits"],
            }
        )
    return matches


def claims_held_back(engine: Engine, previous, run_ids: dict[str, int], runs, exhibits: list[dict]) -> HeldBack:
    """What this cycle's claim verdicts cannot rest on (monitor.claims.HeldBack)."""
    ace_run, coursera_run = runs
    if (run_ids.get("ace"), run_ids.get("coursera")) != (ace_run.id, coursera_run.id):
        return HeldBack(stale=True)
    unreadable = [e for e in exhibits if e.get("parse_status", "ok") != "ok"]
    if not unreadable:
        return HeldBack()
    return HeldBack(
        cids=frozenset(e["cid"] for e in unreadable),
        orgs=frozenset(canonical_org(e["organization"] or None) for e in unreadable),
        previous=cycle_match_cids(engine, previous.id) if previous else {},
    )


def program_org(program: dict) -> str | None:
    """The program's organization key, as matching blocks by it: its partner, else the vendor its title leads with."""
    return canonical_org(program["partner"] or None) or vendor_of(program["title"] or "")


def program_claim(program: dict, verdict: str, period):
    """The page's ACE claim judged against this match (monitor.claims); an unreadable page is unknown."""
    ace_claim = program["ace_claim"] if program["parse_status"] == "ok" else "unknown"
    return claim_verdict(
        ClaimFacts.from_page(
            ace_claim, program["ace_credits"], verdict, period and period.status, period and period.credits
        )
    )


def exhibit_statuses(engine: Engine, ace_run, cids: set[str]) -> dict[str, Any]:
    """Today's recommendation status of these exhibits' programs: each cid answers with the version of
    its ACE ID that decides (monitor.versions), unknown when any version of it could not be read."""
    today = ace_run.started_at.date()
    rows = list(iter_snapshot(engine, "ace", ace_run.id, sorted(cids), ("cid", "ace_id", "periods", "parse_status")))
    siblings: dict[str, list[ExhibitVersion]] = {}
    for row in exhibit_versions(engine, ace_run.id, sorted({r["ace_id"] for r in rows if r["ace_id"]})):
        siblings.setdefault(row["ace_id"], []).append(ExhibitVersion.of(row, today))
    statuses = {}
    for row in rows:
        state = program_state(siblings.get(row["ace_id"]) or [ExhibitVersion.of(row, today)])
        statuses[row["cid"]] = state.deciding.status if state.deciding else PeriodStatus(UNKNOWN, None, None)
    return statuses


def _program_status(program: dict, verdict: str, period) -> str:
    if program["parse_status"] != "ok" or (verdict in RECOMMENDED and period.status == UNKNOWN):
        return UNKNOWN
    return "recommended" if verdict in RECOMMENDED and period.status == ACTIVE else "not_recommended"


def _diff_events(engine, previous, ace_run, coursera_run, matches) -> list[Event]:
    events: list[Event] = []
    if ace_run and previous.ace_run_id and previous.ace_run_id != ace_run.id:
        events += ace_events(changed_records(engine, get_run(engine, previous.ace_run_id), ace_run))
    if coursera_run and previous.coursera_run_id and previous.coursera_run_id != coursera_run.id:
        events += coursera_events(changed_records(engine, get_run(engine, previous.coursera_run_id), coursera_run))
    if matches and (previous.ace_run_id, previous.coursera_run_id) != (ace_run.id, coursera_run.id):
        old = {m["program_id"]: m for m in cycle_matches(engine, previous.id, verdicts=RECOMMENDED)}
        new = {m["program_id"]: m for m in matches}
        slipped = [key for key in old if key in new and new[key]["verdict"] not in RECOMMENDED]
        programs = {p["program_id"]: p for p in load_snapshot(engine, "coursera", coursera_run.id, slipped)}
        exhibits = {e["cid"]: e for e in load_snapshot(engine, "ace", ace_run.id, [old[k]["cid"] for k in slipped])}
        events += match_events(old, new, programs, exhibits, (previous.coursera_run_id, coursera_run.id))
        events += _claim_events(engine, previous, ace_run, coursera_run, matches)
    return events


def changed_records(engine: Engine, old_run, new_run) -> SnapshotPair:
    """What two runs of one source differ by, read from the store for monitor.diff to judge."""
    old_day, new_day = old_run.started_at.date(), new_run.started_at.date()
    if new_run.source == "ace":
        records = ace_snapshot_pair(engine, old_run.id, new_run.id, dated_cids(engine, new_run.id, old_day, new_day))
    else:
        records = snapshot_pair(engine, new_run.source, old_run.id, new_run.id)
    return SnapshotPair(old_run.id, new_run.id, old_day, new_day, **records)


def dated_cids(engine: Engine, run_id: int, old_day: date, new_day: date) -> list[str]:
    """The exhibits of a run whose status the calendar alone moved since `old_day` (monitor.status.status_moved):
    a period that ended or began between two nights is a change although the page is the same."""
    if old_day == new_day:
        return []
    rows = iter_snapshot(engine, "ace", run_id, columns=("cid", "periods", "parse_status"))
    return [r["cid"] for r in rows if status_moved(r["periods"] or [], r["parse_status"], old_day, new_day)]


def _claim_events(engine, previous, ace_run, coursera_run, matches) -> list[Event]:
    """claim_changed events against the previous cycle, an unknown verdict there replaced by the last known."""
    old = cycle_claims(engine, previous.id)
    old.update(last_known_claims(engine, [key for key, claim in old.items() if claim == "unknown"], previous.id))
    changed = [m for m in matches if claim_changed(old.get(m["program_id"]), m["claim"])]
    if not changed:
        return []
    programs = {
        p["program_id"]: p
        for p in load_snapshot(engine, "coursera", coursera_run.id, [m["program_id"] for m in changed])
    }
    cids = sorted({m["cid"] for m in changed if m["cid"]})
    exhibits = {e["cid"]: e for e in load_snapshot(engine, "ace", ace_run.id, cids)}
    return claim_events(old, changed, programs, exhibits, (previous.coursera_run_id, coursera_run.id))
