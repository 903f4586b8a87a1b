"""End to end: Coursera's own ACE claims judged against the guide, from real crawls of the fixture site.

Day 1 carries every claim verdict (fixtures/README.md, "Claim verdicts");
day 2's five changes move four programs to another verdict, each announced by
exactly one `claim_changed` event, and nothing else changes verdict. The crawl is the session's
shared, read-only `two_days` (tests/conftest.py).
"""

from __future__ import annotations

import csv
import io
import json

from acewatch.alerts import digest_title
from acewatch.outputs.digest import render_text
from acewatch.outputs.feed import write_feed
from store.cycles import cycle_matches
from tests.support import EXPECTED_CHANGES, ROOT, acewatch, events_by_type

CHANGE = {c["change"]: c for c in EXPECTED_CHANGES}
PATH = "/professional-certificates/"

#: slug -> claim verdict on day 1, one program (at least) for each verdict.
DAY1 = {
    "google-it-support": "supported",
    "devops-and-software-engineering": "credits_differ",
    "meta-android-developer": "name_differs",
    "google-cybersecurity": "expired",
    "meta-ios-developer": "not_yet_active",
    "genetics-evolution-duke": "no_exhibit",
    "sas-programmer": "unclaimed",
    "microsoft-power-bi-data-analyst": "none",
}
#: slug -> (day-1 verdict, day-2 verdict) for every program whose verdict day 2 changes.
DAY2_CHANGES = {
    CHANGE["gained_ace"]["coursera_slug"]: ("none", "supported"),
    CHANGE["lost_ace"]["coursera_slug"]: ("supported", "none"),
    CHANGE["renamed"]["coursera_slug"]: ("supported", "name_differs"),
    CHANGE["recommendation_ended"]["coursera_slug"]: ("supported", "expired"),
}


def _claims(two_days, day: str) -> dict[str, dict]:
    """slug -> stored match row of that day's cycle (program ids are page paths)."""
    rows = cycle_matches(two_days["engine"], two_days[day].cycle_id)
    return {row["program_id"].rsplit("/", 1)[-1]: row for row in rows}


def test_day_one_carries_every_claim_verdict(two_days):
    claims = _claims(two_days, "day1")
    assert {slug: claims[slug]["claim"] for slug in DAY1} == DAY1
    assert claims["devops-and-software-engineering"]["claim_credits"] == 12
    assert claims["devops-and-software-engineering"]["credits"] == 9
    assert claims["meta-android-developer"]["differences"] == ["Developer -> Development"]
    verdicts = {row["claim"] for row in claims.values()}
    assert verdicts >= set(DAY1.values()) and "unknown" not in verdicts


def test_every_program_is_paired_with_the_exhibit_the_fixture_says(two_days):
    """The fixture's truth names each program's ACE exhibit: the cycle pairs them, across the organization
    spellings of the two sites ("Advancing Women in Tech (AWT)" on ACE is the partner "Advancing Women in
    Tech"). The one exception is the "(v.2)" hazard: the exact name's expired version 1 is the pair."""
    from fixtures.dataset import CATALOG_DIR

    catalog = json.loads((CATALOG_DIR / "day1.json").read_text())
    ace_ids = {exhibit["cid"]: exhibit["ace_id"] for exhibit in catalog["ace"]["exhibits"]}
    truth = {p["slug"]: p["truth"]["ace_id"] for p in catalog["coursera"]["programs"] if p["truth"].get("ace_id")}
    claims = _claims(two_days, "day1")
    paired = {slug: ace_ids.get(row["cid"]) for slug, row in claims.items()}
    assert {slug: paired[slug] for slug in truth} == {**truth, "google-cybersecurity": "GOOG-0006"}
    for slug in ("awt-agile-project-management", "awt-product-management"):
        assert (claims[slug]["verdict"], claims[slug]["claim"]) == ("exact", "supported"), slug


def test_day_two_changes_verdicts_with_one_event_each(two_days):
    day1, day2 = _claims(two_days, "day1"), _claims(two_days, "day2")
    changed = {
        slug: (day1[slug]["claim"], day2[slug]["claim"])
        for slug in day1.keys() & day2.keys()
        if day1[slug]["claim"] != day2[slug]["claim"]
    }
    assert changed == DAY2_CHANGES
    events = events_by_type(two_days["day2"].events)["claim_changed"]
    assert sorted((e.details["slug"], (e.old, e.new)) for e in events) == sorted(DAY2_CHANGES.items())
    assert "claim_changed" not in {e.type for e in two_days["day1"].events}


def test_claim_changed_carries_the_words_and_the_credits(two_days):
    events = {e.details["slug"]: e for e in events_by_type(two_days["day2"].events)["claim_changed"]}
    renamed = events[CHANGE["renamed"]["coursera_slug"]]
    assert renamed.details["differences"] == ["Development -> Developer"]
    assert renamed.details["ace_id"] == CHANGE["renamed"]["ace_id"]
    assert renamed.details["page_credits"] == CHANGE["renamed"]["day2"]["coursera_claim_credits"]
    assert renamed.evidence_url.endswith(CHANGE["renamed"]["coursera_path"])
    gained = events[CHANGE["gained_ace"]["coursera_slug"]]
    assert gained.details["credits"] == gained.details["page_credits"] == 9
    assert "expired" in events[CHANGE["recommendation_ended"]["coursera_slug"]].details["reason"]


def test_changes_json_digest_and_feed_list_claim_changes(two_days, tmp_path):
    result = acewatch("changes", "--json", db=two_days["db"], home=two_days["home"], check=True)
    types = [e["type"] for e in json.loads(result.stdout)["events"]]
    assert types.count("claim_changed") == len(DAY2_CHANGES)
    text = acewatch("changes", db=two_days["db"], home=two_days["home"], check=True).stdout
    assert "ACE claim now stands differently" in text and "supported -> name_differs" in text
    events = two_days["day2"].events
    assert f"{len(DAY2_CHANGES)} claim changed" in digest_title(events)
    assert "supported -> expired" in render_text(events)
    feed = tmp_path / "feed.xml"
    write_feed(two_days["engine"], feed)
    assert feed.read_text(encoding="utf-8").count('term="claim_changed"') == len(DAY2_CHANGES)


def test_check_slug_says_the_page_claims_credit_under_a_name_ace_does_not_list(two_days):
    slug = CHANGE["renamed"]["coursera_slug"]
    result = acewatch("check", slug, db=two_days["db"], home=two_days["home"])
    assert result.returncode == 1, result.stderr
    first = "\n".join(result.stdout.splitlines()[:3])
    assert "claims" in first and "12" in first and "ACE lists no program named exactly" in first, result.stdout
    assert "Development -> Developer" in first
    answer = json.loads(acewatch("check", slug, "--json", db=two_days["db"], home=two_days["home"]).stdout)
    claim = answer["coursera_claim"]
    assert set(claim) == {
        "verdict",
        "claimed",
        "claim_text",
        "credits",
        "ace_credits",
        "page_url",
        "differences",
        "message",
    }  # as the README's check --json schema lists them
    assert (claim["verdict"], claim["credits"]) == ("name_differs", 12)
    assert "12 college credits" in claim["claim_text"] and claim["page_url"].endswith(
        CHANGE["renamed"]["coursera_path"]
    )
    assert claim["differences"] == ["Development -> Developer"]


def test_check_by_name_has_no_coursera_claim(two_days):
    title = CHANGE["credits_changed"]["ace_title"]
    answer = json.loads(acewatch("check", title, "--json", db=two_days["db"], home=two_days["home"]).stdout)
    assert answer["coursera_claim"] is None


def test_export_has_claim_columns(two_days):
    result = acewatch("export", "--format", "csv", db=two_days["db"], home=two_days["home"], check=True)
    rows = {row["slug"]: row for row in csv.DictReader(io.StringIO(result.stdout))}
    devops = rows["devops-and-software-engineering"]
    assert (devops["claim"], devops["claim_credits"]) == ("credits_differ", "12")
    assert "12 college credits" in devops["claim_text"]
    assert rows["sas-programmer"]["claim"] == "unclaimed" and rows["sas-programmer"]["claim_text"] == ""


def test_history_shows_the_verdict_change(two_days):
    title = CHANGE["recommendation_ended"]["day1"]["coursera_page_title"]
    data = json.loads(acewatch("history", title, "--json", db=two_days["db"], home=two_days["home"], check=True).stdout)
    claims = [state["claim"] for entry in data["timeline"] for state in entry["coursera"]]
    assert claims == ["supported", "expired"]
    text = acewatch("history", title, db=two_days["db"], home=two_days["home"], check=True).stdout
    assert "claim supported" in text and "claim expired" in text and "event claim_changed" in text


def _readme_json(heading: str) -> dict:
    """The first ```json block under a README heading, parsed: the documented schema must be valid JSON."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index(heading) :]
    start = section.index("```json\n") + len("```json\n")
    return json.loads(section[start : section.index("```", start)])


def _shape(value):
    """Keys all the way down (lists by their first item): what a schema promises, not its example values."""
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return type(value).__name__ if isinstance(value, (bool, list, dict)) else "scalar"


def test_audit_json_is_what_the_readme_documents(two_days):
    result = acewatch("audit", "--json", db=two_days["db"], home=two_days["home"])
    assert result.returncode == 3, result.stderr
    real = json.loads(result.stdout)
    documented = _readme_json("### `audit --json` schema")
    assert set(real) == set(documented)
    (documented_finding,) = documented["verdicts"]["name_differs"]
    for verdict, findings in real["verdicts"].items():
        for finding in findings:
            assert set(finding) == set(documented_finding), verdict
            assert finding["verdict"] == verdict
            if finding["exhibit"] is not None:
                assert _shape(finding["exhibit"]) == _shape(documented_finding["exhibit"])
    assert real["count"] == sum(len(items) for items in real["verdicts"].values())
    assert list(real["verdicts"]) == [
        "name_differs",
        "credits_differ",
        "expired",
        "not_yet_active",
        "no_exhibit",
        "unclaimed",
    ]


def test_audit_groups_every_finding_with_its_evidence(two_days):
    real = json.loads(acewatch("audit", "--json", db=two_days["db"], home=two_days["home"]).stdout)
    by_slug = {f["slug"]: f for items in real["verdicts"].values() for f in items}
    assert by_slug["genetics-evolution-duke"]["verdict"] == "no_exhibit"
    assert by_slug["genetics-evolution-duke"]["exhibit"] is None
    assert "3 college credits" in by_slug["genetics-evolution-duke"]["claim_text"]
    ios = by_slug["meta-ios-developer"]
    assert (ios["verdict"], ios["exhibit"]["status"], ios["exhibit"]["period"]["start"]) == (
        "not_yet_active",
        "not_yet_active",
        "2035-01-01",
    )
    assert by_slug["meta-front-end-developer"]["differences"] == ["Development -> Developer"]
    assert not {"supported", "none", "unknown"} & {f["verdict"] for f in by_slug.values()}
    as_csv = acewatch("audit", "--csv", db=two_days["db"], home=two_days["home"]).stdout
    rows = list(csv.DictReader(io.StringIO(as_csv)))
    assert sorted(row["slug"] for row in rows) == sorted(by_slug)
    text = acewatch("audit", db=two_days["db"], home=two_days["home"]).stdout
    assert "no_exhibit (1)" in text and by_slug["sas-programmer"]["page_url"] in text
