"""Claim verdicts through the real cycle and store (SQLite and PostgreSQL), without a crawl.

Three cycles over hand-made snapshots: a supported claim, then an unreadable
page (verdict unknown, no event), then a claim of other credits, reported once
against the last known verdict; `audit` exits 0 on the first and 3 on the last.
"""

from __future__ import annotations

import json

from acewatch.audit import audit
from acewatch.config import load_config
from acewatch.cycle import conclude_cycle
from store.cycles import cycle_events, cycle_matches
from store.database import open_engine
from store.runs import begin_run, save_snapshot
from tests.support import acewatch, engine_at_revision

PATH = "/professional-certificates/google-data-analytics"
FILLER = 29  # one unreadable page of 30 stays under the health gate's 5%


CID = "b3f4fbf0-9bc4-ea11-a812-000d3a33232a"


def exhibits(readable: bool = True) -> list[dict]:
    """GOOG-0002 (unreadable: no title, as the spider stores it) and other organizations' exhibits."""
    others = [
        {
            **exhibit(),
            "cid": f"sophia-{n}",
            "ace_id": f"SOPH-{n:04}",
            "organization": "Sophia Learning",
            "title": f"Sophia Statistics {n}",
        }
        for n in range(FILLER)
    ]
    goog = (
        exhibit()
        if readable
        else {
            "cid": CID,
            "organization": "Google",
            "url": exhibit()["url"],
            "parse_status": "unknown",
            "problem": "unreadable page",
        }
    )
    return [goog, *others]


def exhibit() -> dict:
    cid = CID
    return {
        "cid": cid,
        "ace_id": "GOOG-0002",
        "organization": "Google",
        "title": "Google Data Analytics",
        "url": f"https://www.acenet.edu/National-Guide/Pages/Course.aspx?cid={cid}",
        "periods": [
            {
                "start": "2024-10-01",
                "end": "2034-09-30",
                "credits": [
                    {"level": "Lower-Division Baccalaureate/Associate Degree", "hours": 3, "subject": "data analytics"}
                ],
            }
        ],
    }


def program(path: str, title: str, partner: str, claim: str, credits: int | None) -> dict:
    readable = claim != "unknown"
    return {
        "program_id": path,
        "slug": path.rsplit("/", 1)[-1],
        "variant": "ProfessionalCertificateS12n",
        "title": title,
        "partner": partner,
        "url": "https://www.coursera.org" + path,
        "ace_claim": claim,
        "ace_credits": credits,
        "claim_text": f"ACE recommendation of up to {credits} college credits" if credits else None,
        "parse_status": "ok" if readable else "unknown",
        "problem": None if readable else "no title",
    }


def catalog(claim: str, credits: int | None) -> list[dict]:
    filler = [
        program(f"/specializations/pottery-{n}", f"Pottery Basics {n}", "Clay College", "no", None)
        for n in range(FILLER)
    ]
    return [program(PATH, "Google Data Analytics", "Google", claim, credits), *filler]


def cycle(engine, config, claim: str, credits: int | None, ace: list[dict] | None = None):
    """Store one ACE and one Coursera snapshot as finished runs, then run the real cycle on them."""
    ace_run, coursera = begin_run(engine, "ace"), begin_run(engine, "coursera")
    ace = exhibits() if ace is None else ace
    save_snapshot(
        engine, ace_run, ace, {"pages": len(ace) or 1, "unknown": sum(e.get("parse_status") == "unknown" for e in ace)}
    )
    records = catalog(claim, credits)
    save_snapshot(engine, coursera, records, {"pages": len(records), "unknown": int(claim == "unknown")})
    return conclude_cycle(config, engine, {"ace": ace_run, "coursera": coursera})


def _claim_events(engine, report) -> list[dict]:
    return [e for e in cycle_events(engine, report.cycle_id) if e["type"] == "claim_changed"]


def _claim(engine, cycle_id: int) -> str:
    return {m["program_id"]: m for m in cycle_matches(engine, cycle_id)}[PATH]["claim"]


def test_unknown_claim_waits_and_the_change_is_reported_once_against_the_last_known(db_url, tmp_path):
    engine = open_engine(db_url)
    config = load_config(db=db_url, environ={"HOME": str(tmp_path)})
    first = cycle(engine, config, "yes", 3)
    assert first.healthy and _claim(engine, first.cycle_id) == "supported"
    assert audit(engine).findings == [] and audit(engine).exit_code == 0
    clean = acewatch("audit", db=db_url, home=tmp_path)
    assert clean.returncode == 0 and "every Coursera ACE claim is backed" in clean.stdout, clean.stderr

    unreadable = cycle(engine, config, "unknown", None)
    assert unreadable.healthy and _claim(engine, unreadable.cycle_id) == "unknown"
    assert [e for e in cycle_events(engine, unreadable.cycle_id) if e["type"] == "claim_changed"] == []

    third = cycle(engine, config, "yes", 6)
    assert _claim(engine, third.cycle_id) == "credits_differ"
    (changed,) = [e for e in cycle_events(engine, third.cycle_id) if e["type"] == "claim_changed"]
    assert (changed["subject_key"], changed["old"], changed["new"]) == (PATH, "supported", "credits_differ")
    assert (changed["details"]["page_credits"], changed["details"]["credits"]) == (6, 3)
    assert changed["details"]["reason"] == "the page claims 6 credits, ACE recommends 3"

    report = audit(engine)
    assert report.exit_code == 3 and [f.verdict.value for f in report.findings] == ["credits_differ"]
    (finding,) = report.findings
    assert finding.page_url.endswith(PATH) and finding.page_credits == 6
    assert (finding.exhibit.ace_id, finding.exhibit.credits, finding.exhibit.period) == (
        "GOOG-0002",
        3.0,
        {"start": "2024-10-01", "end": "2034-09-30"},
    )
    found = acewatch("audit", "--json", db=db_url, home=tmp_path)
    assert found.returncode == 3, found.stderr
    assert list(json.loads(found.stdout)["verdicts"]) == ["credits_differ"]


def test_audit_before_any_cycle_says_what_to_run(db_url, tmp_path):
    open_engine(db_url)
    result = acewatch("audit", db=db_url, home=tmp_path)
    assert result.returncode == 5 and "acewatch run" in result.stderr


def test_upgrade_keeps_older_matches_unjudged(db_url):
    """Migration 0006 (after 0005): matches stored before claim verdicts get NULL, so no cycle announces a change against them."""
    from sqlalchemy import text as sql

    engine = engine_at_revision(db_url, "0005")
    with engine.begin() as connection:
        connection.execute(sql("insert into cycle (id, started_at, outcome) values (1, '2026-11-01', 'finished')"))
        connection.execute(
            sql(
                "insert into program_match (cycle_id, program_id, verdict, score, status, differences)"
                " values (1, :path, 'exact', 100, 'recommended', '[]')"
            ),
            {"path": PATH},
        )
    engine.dispose()
    engine = open_engine(db_url)  # upgrades to head
    (row,) = cycle_matches(engine, 1)
    assert (row["claim"], row["claim_credits"], row["verdict"]) == (None, None, "exact")


def test_claims_wait_for_an_unreadable_exhibit_and_a_failed_crawl(db_url, tmp_path):
    """A verdict resting on what the cycle could not see is unknown: no event, then the truth, once."""
    engine = open_engine(db_url)
    config = load_config(db=db_url, environ={"HOME": str(tmp_path)})
    assert _claim(engine, cycle(engine, config, "yes", 3).cycle_id) == "supported"

    unreadable = cycle(engine, config, "yes", 3, ace=exhibits(readable=False))  # 1 of 30: the run stays healthy
    assert unreadable.healthy and _claim(engine, unreadable.cycle_id) == "unknown"  # not "no_exhibit"
    assert _claim_events(engine, unreadable) == []

    failed = cycle(engine, config, "yes", 6, ace=[])  # an empty ACE crawl is unhealthy: day-1 guide, day-3 page
    assert not failed.healthy and _claim(engine, failed.cycle_id) == "unknown"
    assert _claim_events(engine, failed) == []
    assert audit(engine).cycle < failed.cycle_id  # the audit stays on the last judged cycle

    recovered = cycle(engine, config, "yes", 6)
    (changed,) = _claim_events(engine, recovered)
    assert (changed["old"], changed["new"]) == ("supported", "credits_differ")
    assert audit(engine).cycle == recovered.cycle_id
