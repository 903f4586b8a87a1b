"""`acewatch check`: is exactly this name ACE-recommended today, and on what evidence?

Kept light on purpose (stdlib, rapidfuzz and the store's plain-SQL reader):
this is the path a student runs before enrolling and it must answer at once.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

from acewatch.exit_codes import ExitCode
from monitor.claims import ClaimFacts, claim_verdict, explain
from monitor.names import (
    Candidate,
    CandidateIndex,
    NameIndex,
    ResidentNameIndex,
    StoredNameIndex,
    best_candidates,
    name_key_version,
)
from monitor.status import ACTIVE, UNKNOWN, PeriodStatus
from monitor.versions import ExhibitVersion, program_state
from store.reader import Snapshot, StoredNameKeys, StoreReader

MAX_NAME_LENGTH = 300
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)+$")
# A program page, or a page under it (Coursera's landing variants): the slug names the program.
PROGRAM_PATH = re.compile(r"^/(?:professional-certificates|specializations)/([A-Za-z0-9-]+)(?:/[^?#]*)?$")
COURSE_PATH = re.compile(r"^/learn/[A-Za-z0-9-]+")


class CheckInputError(ValueError):
    """The name cannot be checked as given; the message says why."""


class NoEvidenceError(CheckInputError):
    """The store holds no healthy crawl to answer from (exit 5, as for an unreadable exhibit)."""


@dataclass(frozen=True)
class Query:
    text: str  # what the user typed
    kind: str  # name | url | slug
    name: str  # the name that is compared with ACE names
    org: str | None  # the Coursera partner, when the catalog told us
    program: dict[str, Any] | None = None  # the stored catalog record, when resolved from a URL or slug


def validate_input(text: str) -> str:
    """Refuse what cannot be a program name, with a one-line reason."""
    stripped = text.strip()
    if not stripped:
        raise CheckInputError("the name is empty; give a certificate name, a Coursera URL or a slug")
    if len(stripped) > MAX_NAME_LENGTH:
        raise CheckInputError(
            f"the name is {len(stripped):,} characters long; program names are under {MAX_NAME_LENGTH}"
        )
    bad = sorted(
        {
            f"U+{ord(c):04X}"
            for c in stripped
            if unicodedata.category(c) in ("Cc", "Cf") and c not in "\u00ad\u200b\u200c\u200d\ufeff"
        }
    )
    if bad:
        raise CheckInputError(f"the name contains control or direction-override characters ({', '.join(bad[:5])})")
    return stripped


def resolve(text: str, reader: StoreReader, coursera_run_id: int | None, site_hosts: tuple[str, ...]) -> Query:
    """A name as typed, or a Coursera URL/slug looked up in the stored catalog."""
    text = validate_input(text)
    parts = urlsplit(as_url(text, site_hosts))
    if parts.scheme in ("http", "https"):
        match, on_site = PROGRAM_PATH.match(parts.path), (parts.hostname or "") in site_hosts
        if on_site and COURSE_PATH.match(parts.path):
            raise CheckInputError(
                f"{text} is a single course; ACE recommends whole programs: paste the address of the "
                "Professional Certificate or Specialization page (/professional-certificates/<slug>)"
            )
        if not match or not on_site:
            raise CheckInputError(
                f"not a Coursera program URL: {text} (expected https://www.coursera.org/"
                "professional-certificates/<slug> or /specializations/<slug>)"
            )
        return _from_catalog(text, "url", match.group(1), reader, coursera_run_id)
    if SLUG.match(text) and coursera_run_id is not None and reader.program(coursera_run_id, text):
        return _from_catalog(text, "slug", text, reader, coursera_run_id)
    return Query(text, "name", text, None)


def site_hosts(site_url: str) -> tuple[str, ...]:
    """The hosts a pasted Coursera URL may name: the configured site's, with and without www."""
    host = urlsplit(site_url).hostname or "www.coursera.org"
    return tuple(sorted({host, host.removeprefix("www."), "www.coursera.org", "coursera.org"}))


def as_url(text: str, site_hosts: tuple[str, ...]) -> str:
    """A pasted address without its scheme (`www.coursera.org/...`, `coursera.org/...`) as an https URL.

    People copy a program's address from the browser bar, which often hides
    `https://`; compared as a name it would find nothing. Anything else is
    returned unchanged (the query string and a trailing slash are ignored later).
    """
    host = text.split("/", 1)[0].lower()
    if "/" in text and host in site_hosts and not urlsplit(text).scheme:
        return "https://" + text
    return text


def _from_catalog(text: str, kind: str, slug: str, reader: StoreReader, run_id: int | None) -> Query:
    program = reader.program(run_id, slug) if run_id is not None else None
    if program is None and slug != slug.lower():  # Coursera's slugs are lower-case; a pasted URL may not be
        program = reader.program(run_id, slug.lower())
    if program is None:
        raise CheckInputError(f"no Coursera program with slug {slug!r} in the stored catalog")
    return Query(text, kind, program["title"], program["partner"] or None, program)


def check(
    text: str,
    reader: StoreReader,
    site_hosts: tuple[str, ...] = ("www.coursera.org", "coursera.org"),
    today: date | None = None,
    max_age_days: int = 8,
    limit: int = 5,
    indexes: IndexMemo | None = None,
    snapshot: Snapshot | None = None,
) -> dict[str, Any]:
    """The full answer as a JSON-able dict (schema in the README), with its exit code.

    `indexes` lets a long-lived process (the web app) keep the run's name
    index in memory between checks; the CLI reads it afresh each time. Such a
    process may also pass the newest `snapshot`, which it looked up (with the
    schema check) itself, so a check need not ask the store again.
    """
    if snapshot is None:
        reader.check_schema()
        snapshot = reader.latest_snapshot()
    if snapshot is None:
        raise NoEvidenceError("no ACE evidence in this store yet: run `acewatch run` (or `acewatch demo`) first")
    query = resolve(text, reader, snapshot.coursera_run_id, site_hosts)
    today = today or datetime.now(UTC).date()
    try:
        index = indexes.get(reader, snapshot.ace_run_id) if indexes else name_index(reader, snapshot.ace_run_id)
        scored = best_candidates(query.name, index, limit=limit, query_org=query.org)
    except ValueError as exc:  # e.g. "®" alone: nothing is left to compare after normalisation
        raise CheckInputError(str(exc)) from None
    evidence = indexes.evidence(snapshot, reader) if indexes else Evidence(snapshot)
    exhibits = evidence.exhibits(reader, [s.candidate.key for s in scored])
    versions = evidence.versions(reader, sorted({e["ace_id"] for e in exhibits.values() if e["ace_id"]}))
    candidates = _one_per_program([_candidate(s, exhibits[s.candidate.key], versions, today) for s in scored])
    best = candidates[0] if candidates else None
    verdict = best["verdict"] if best else "none"
    match = best if best and verdict in ("exact", "equivalent") else None
    if match:
        match["first_seen"] = _iso(evidence.first_seen(reader, match["cid"]))
    answer = {
        "query": query.text,
        "input": query.kind,
        "name": query.name,
        "organization": query.org,
        "verdict": verdict,
        "recommended": bool(match and match["status"] == ACTIVE),
        "match": match,
        "candidates": candidates,
        "as_of": _iso(snapshot.ace_crawled_at),
        "catalog_as_of": _iso(snapshot.coursera_crawled_at),
        "warnings": stale_warnings(snapshot.ace_crawled_at, max_age_days),
        "coursera_claim": coursera_claim(query.program, verdict, best),
    }
    answer["exit_code"] = exit_code(answer)
    return answer


def coursera_claim(program: dict[str, Any] | None, verdict: str, best: dict[str, Any] | None) -> dict | None:
    """What the program's own page claims about ACE credit, judged against this answer (monitor.claims).

    None when the input was a name: only a catalog record has a page claim.
    """
    if program is None:
        return None
    ace_claim = program["ace_claim"] if program["parse_status"] == "ok" else "unknown"
    claim = claim_verdict(
        ClaimFacts.from_page(
            ace_claim, program["ace_credits"], verdict, best and best["status"], best and best["credits"]
        )
    )
    words = [d["text"] for d in best["differences"]] if best and claim.value == "name_differs" else []
    return {
        "verdict": claim.value,
        "claimed": {"yes": True, "no": False}.get(ace_claim),
        "claim_text": program["claim_text"],
        "credits": program["ace_credits"],
        "ace_credits": best and best["credits"],
        "page_url": program["url"],
        "differences": words,
        "message": explain(claim, program["ace_credits"], best and best["credits"], words),
    }


def name_index(reader: StoreReader, ace_run_id: int, keep: bool = False) -> NameIndex:
    """The run's ACE names as the nightly cycle prepared them; prepared here when the store has no such index.

    The stored index (written by `acewatch.cycle`) saves normalising every ACE
    name on each check (~0.2 s for 40k names); both give the same answer.
    `keep`: the caller keeps the index for many checks (see `IndexMemo`).
    """
    stored = reader.name_keys(ace_run_id, name_key_version())
    if stored is not None:
        return StoredNameIndex(stored, keep=keep)
    names = reader.exhibit_names(ace_run_id)
    return CandidateIndex((Candidate(key=cid, name=title, org=org) for cid, title, org in names), keep=keep)


class Evidence:
    """What a check reads of the newest cycle's ACE run besides names: exhibit rows, versions, first sightings.

    A one-shot check reads each once; a long-lived process (`IndexMemo.evidence`) keeps what it read
    for as long as the cycle stays the newest: a finished run's rows never change, and the first
    sighting of an exhibit can only change when another cycle finishes. Bounded (`KEPT` rows each).
    """

    KEPT = 50_000

    def __init__(self, snapshot: Snapshot, keep: bool = False) -> None:
        self.run_id = snapshot.ace_run_id
        self.keep = keep
        self.complete = False  # every exhibit of the run is kept: one not kept is not in the run
        self._exhibits: dict[str, dict[str, Any]] = {}
        self._versions: dict[str, list[dict[str, Any]]] = {}
        self._first_seen: dict[str, datetime | None] = {}

    @classmethod
    def resident(cls, snapshot: Snapshot, reader: StoreReader) -> Evidence:
        """Every exhibit of the run read at once, for a process that checks all day (the web app):
        its checks then read nothing but a first sighting."""
        evidence = cls(snapshot, keep=True)
        for record in reader.run_exhibits(snapshot.ace_run_id):
            evidence._exhibits[record["cid"]] = record
            if record["ace_id"]:
                evidence._versions.setdefault(record["ace_id"], []).append(record)
        evidence.complete = True
        return evidence

    def exhibits(self, reader: StoreReader, cids: list[str]) -> dict[str, dict[str, Any]]:
        return self._kept(self._exhibits, cids, lambda missing: reader.exhibits(self.run_id, missing))

    def versions(self, reader: StoreReader, ace_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        return self._kept(self._versions, ace_ids, lambda missing: reader.exhibit_versions(self.run_id, missing))

    def first_seen(self, reader: StoreReader, cid: str) -> datetime | None:
        if cid not in self._first_seen:
            seen = reader.first_seen(cid)
            if not self.keep or len(self._first_seen) >= self.KEPT:
                return seen
            self._first_seen[cid] = seen
        return self._first_seen[cid]

    def _kept(self, kept: dict[str, Any], keys: list[str], read) -> dict[str, Any]:
        """The rows of `keys` (those the store has), read only for the keys not kept yet."""
        if self.complete:
            return {key: kept[key] for key in keys if key in kept}
        missing = [key for key in keys if key not in kept]
        found = read(missing) if missing else {}
        if self.keep and len(kept) < self.KEPT:
            kept.update(found)
            kept.update((key, None) for key in missing if key not in found)  # absent, and known to be
        values = ((key, found[key] if key in found else kept.get(key)) for key in keys)
        return {key: value for key, value in values if value is not None}


class IndexMemo:
    """The newest ACE run's name index, kept between checks (only the newest: a new run replaces it).

    Reading and splitting the stored keys is a third of a check on 40k names,
    and the fast shortlist search is built once per organization; the keys of
    a finished run never change, so a process may keep them. The shortlist's
    rows are read through the caller's reader, unless the memo is `resident`:
    then every name and exhibit of the run is read once, when the run is first
    asked about, and checks read nothing more (the web app's choice).
    """

    def __init__(self, resident: bool = False) -> None:
        self.resident = resident
        self._key: tuple[int, str] | None = None
        self._index: NameIndex | None = None
        self._evidence: Evidence | None = None
        self._evidence_cycle: tuple[int, int] | None = None
        self._lock = threading.Lock()

    def evidence(self, snapshot: Snapshot, reader: StoreReader) -> Evidence:
        """The kept evidence of this snapshot's cycle (a newer cycle starts afresh)."""
        with self._lock:
            if self._evidence_cycle != (snapshot.cycle_id, snapshot.ace_run_id):
                self._evidence = None  # the old run's rows go before the new ones are read
                self._evidence = Evidence.resident(snapshot, reader) if self.resident else Evidence(snapshot, True)
                self._evidence_cycle = (snapshot.cycle_id, snapshot.ace_run_id)
            return self._evidence

    def load(self, reader: StoreReader) -> Snapshot | None:
        """Read the newest cycle's index and evidence now; the cycle read (None when the store has none yet)."""
        snapshot = reader.latest_snapshot()
        if snapshot is not None:
            self.get(reader, snapshot.ace_run_id)
            self.evidence(snapshot, reader)
        return snapshot

    def get(self, reader: StoreReader, ace_run_id: int) -> NameIndex:
        key = (ace_run_id, name_key_version())
        with self._lock:
            if self._key != key:
                self._index = None
                self._index, self._key = self._read(reader, ace_run_id), key
            index = self._index
        if isinstance(index, StoredNameIndex):  # rebind to this thread's reader
            keys = index.stored
            return index.reading(StoredNameKeys(reader, keys.run_id, keys.cores, keys.orgs))
        return index

    def _read(self, reader: StoreReader, ace_run_id: int) -> NameIndex:
        if self.resident:
            stored = reader.name_keys(ace_run_id, name_key_version())
            if stored is not None:
                return ResidentNameIndex(stored)
        return name_index(reader, ace_run_id, keep=True)  # without a stored index: prepared here, in memory


def _candidate(
    scored, exhibit: dict[str, Any], versions: dict[str, list[dict[str, Any]]], today: date
) -> dict[str, Any]:
    """A name that matched, answered for its program: the status, credits and period of the version
    of its ACE ID that decides today (monitor.versions), which may be another cid than the one whose
    name matched; unknown when any version of it could not be read."""
    comparison = scored.comparison.to_dict()
    siblings = versions.get(exhibit["ace_id"]) or [exhibit]
    state = program_state([ExhibitVersion.of(v, today) for v in siblings])
    deciding = next((v for v in siblings if v["cid"] == state.cid), exhibit)
    period = state.deciding.status if state.deciding else PeriodStatus(UNKNOWN, None, None)
    return {
        "title": exhibit["title"],
        "ace_id": exhibit["ace_id"],
        "cid": deciding["cid"],
        "version": deciding.get("version"),
        "organization": exhibit["organization"],
        "url": deciding["url"],
        **comparison,
        "status": period.status,
        "credits": period.credits,
        "period": period.period,
        "periods": deciding["periods"],
        "versions": [{"cid": v["cid"], "version": v.get("version"), "url": v["url"]} for v in siblings],
    }


def _one_per_program(candidates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The best-named candidate of each ACE ID (versions of one program are one answer, not several)."""
    seen: set[str] = set()
    kept = []
    for candidate in candidates:
        if candidate["ace_id"] is None or candidate["ace_id"] not in seen:
            kept.append(candidate)
            seen.add(candidate["ace_id"])
    return kept


def stale_warnings(crawled_at: datetime | None, max_age_days: int) -> list[str]:
    """Why the evidence may be out of date (computed at answer time: a kept answer recomputes it)."""
    if crawled_at is None:
        return ["the ACE evidence has no crawl time"]
    age = datetime.now(UTC) - crawled_at
    if age.days > max_age_days:
        return [
            f"the newest healthy ACE crawl is {age.days} days old (limit {max_age_days}); "
            "run `acewatch run` for fresh evidence"
        ]
    return []


def exit_code(answer: dict[str, Any]) -> ExitCode:
    """The answer's exit status (README, "`check`: verdicts and exit codes")."""
    match = answer["match"]
    if match is not None:
        if match["status"] == ACTIVE:
            return ExitCode.RECOMMENDED
        return ExitCode.NO_EVIDENCE if match["status"] == UNKNOWN else ExitCode.NOT_ACTIVE
    return ExitCode.NEAR if answer["verdict"] == "near" else ExitCode.NO_MATCH


def _iso(moment: datetime | None) -> str | None:
    from acewatch.jsonout import utc_iso

    return utc_iso(moment)
