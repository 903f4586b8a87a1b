"""monitor.matching: catalog-wide matching on a small realistic catalog."""

from __future__ import annotations

import importlib.util
import json
import random
import sys
from pathlib import Path

import pytest

from monitor.matching import CatalogMatch, match_catalog
from monitor.names import Candidate, canonical_org

EXHIBITS = [
    Candidate("ACE-01", "Google Data Analytics", "Google"),
    Candidate("ACE-02", "Google Project Management", "Google"),
    Candidate("ACE-03", "Google Digital Marketing & E-commerce", "Google"),
    Candidate("ACE-04", "Google IT Support", "Google"),
    Candidate("ACE-05", "Google Cybersecurity", "Google"),
    Candidate("ACE-06", "Google UX Design", "Google"),
    Candidate("ACE-07", "IBM Data Analyst", "IBM"),
    Candidate("ACE-08", "IBM Data Science", "IBM"),
    Candidate("ACE-09", "Data Analytics", "IBM"),
    Candidate("ACE-10", "IBM Full Stack Software Developer", "IBM"),
    Candidate("ACE-11", "Meta Front-End Developer", "Meta"),
    Candidate("ACE-12", "Meta Back-End Developer", "Meta"),
    Candidate("ACE-13", "Meta Database Engineer", "Meta"),
    Candidate("ACE-14", "Introduction to Psychology", "Yale University"),
    Candidate("ACE-15", "Financial Accounting", "University of Illinois"),
    Candidate("ACE-16", "Excel Skills for Business", "Macquarie University"),
    Candidate("ACE-17", "", "Broken Row Inc."),
]

# (program, org, expected exhibit key or None, expected verdict, expected differences)
CASES = [
    ("Google Data Analytics", "Google", "ACE-01", "exact", []),
    ("Google Data Analytics Professional Certificate", "Google", "ACE-01", "near", ["- Professional Certificate"]),
    (
        "Google Project Management: Professional Certificate",
        "Google",
        "ACE-02",
        "near",
        ["Management: -> Management", "- Professional Certificate"],
    ),
    ("Google Digital Marketing and E-commerce", "Google LLC", "ACE-03", "near", ["and -> &"]),
    ("google it support", "Google", "ACE-04", "equivalent", []),
    ("Google Cybersecurity\u00ae", "Google", "ACE-05", "equivalent", []),
    ("Meta Front\u2013End Developer", "Meta", "ACE-11", "equivalent", []),
    ("Meta Front-End Development", "Meta", "ACE-11", "near", ["Development -> Developer"]),
    ("Meta Front-End Developer", None, "ACE-11", "exact", []),  # org read from the name
    ("IBM Data Science (v.2)", "IBM Corporation", "ACE-08", "near", ["- (v.2)"]),
    # Same words as IBM's exhibit, but a Google program: never IBM's exact.
    ("Data Analytics", "Google", "ACE-01", "near", ["+ Google"]),
    ("Financial Accounting", "University of Illinois", "ACE-15", "exact", []),
    # Organization without exhibits: the same text elsewhere is shown, flagged, never exact.
    (
        "Financial Accounting",
        "University of Michigan",
        "ACE-15",
        "near",
        ["organization: University of Michigan -> University of Illinois"],
    ),
    ("Cooking Fundamentals", "Culinary Institute", None, "none", []),
    ("Underwater Basket Weaving", "Google", None, "none", None),
    ("Introduction to Philosophy", "Yale University", "ACE-14", "near", ["Philosophy -> Psychology"]),
]


@pytest.fixture(scope="module")
def matches() -> list[CatalogMatch]:
    programs = [Candidate(f"P{i:02d}", name, org) for i, (name, org, *_rest) in enumerate(CASES)]
    return match_catalog(programs, EXHIBITS, workers=2)


@pytest.mark.parametrize("i", range(len(CASES)), ids=[f"{c[0]} [{c[1]}]" for c in CASES])
def test_top1_and_verdict(matches, i: int) -> None:
    name, org, key, verdict, differences = CASES[i]
    m = matches[i]
    assert m.program.name == name
    assert m.verdict == verdict
    if key is not None:
        assert m.exhibit is not None and m.exhibit.key == key
    if differences is not None:
        got = [str(d) for d in m.comparison.differences] if m.comparison else []
        assert got == differences


def test_other_organization_is_flagged(matches) -> None:
    by_name = {(m.program.name, m.program.org): m for m in matches}
    assert by_name[("Financial Accounting", "University of Michigan")].comparison.other_organization
    assert not by_name[("Data Analytics", "Google")].comparison.other_organization


def test_every_exact_name_is_exact() -> None:
    valid = [e for e in EXHIBITS if e.name]
    programs = [Candidate(f"P-{e.key}", e.name, e.org) for e in valid]
    for e, m in zip(valid, match_catalog(programs, EXHIBITS)):
        assert (m.verdict, m.exhibit.key) == ("exact", e.key)


def test_google_title_never_exact_with_an_ibm_exhibit() -> None:
    programs = [
        Candidate("P1", "Data Analytics", "Google"),
        Candidate("P2", "IBM Data Analyst", "Google"),
        Candidate("P3", "Data Analytics", "IBM"),
    ]
    m1, m2, m3 = match_catalog(programs, EXHIBITS)
    assert m1.verdict == "near" and m1.exhibit.org == "Google"
    assert m2.verdict not in ("exact", "equivalent")
    assert (m3.verdict, m3.exhibit.key) == ("exact", "ACE-09")


def test_empty_inputs() -> None:
    assert match_catalog([], EXHIBITS) == []
    [m] = match_catalog([Candidate("P", "  ", "Google")], EXHIBITS)
    assert (m.verdict, m.exhibit, m.comparison) == ("none", None, None)
    [m] = match_catalog([Candidate("P", "Google Data Analytics", "Google")], [])
    assert m.verdict == "none" and m.exhibit is None


def test_to_dict_is_json_able(matches) -> None:
    d = matches[1].to_dict()
    assert list(d) == [
        "program",
        "exhibit",
        "verdict",
        "score",
        "differences",
        "normalisations",
        "other_organization",
        "word_edits",
    ]
    assert d["exhibit"] == {"key": "ACE-01", "name": "Google Data Analytics", "org": "Google"}
    json.dumps([m.to_dict() for m in matches])


def _bench_module():
    path = Path(__file__).resolve().parents[1] / "bench" / "match.py"
    spec = importlib.util.spec_from_file_location("bench_match", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_generated_catalog_has_no_wrong_exact_and_no_missed_exact() -> None:
    """The benchmark's generator, small: hazards, duplicates across organizations, orgs without exhibits."""
    bench = _bench_module()
    rng = random.Random("test-3")
    orgs = bench.make_orgs(rng, 100)
    exhibits = bench.make_exhibits(rng, 3_000, orgs[:60])
    titles = bench.make_titles(rng, exhibits, orgs[:60], orgs[60:], 1_000)
    result = match_catalog([t.program for t in titles], exhibits)
    q = bench.score_matches(titles, result)
    assert q["wrong_exact"] == 0
    assert q["missed_exact"] == 0
    assert q["top1"] >= 0.95
    for m in result:
        if m.verdict in ("exact", "equivalent"):
            assert canonical_org(m.program.org) == canonical_org(m.exhibit.org)
