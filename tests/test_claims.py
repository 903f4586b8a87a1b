"""The claim verdict rule (monitor.claims): one table, every verdict and its edges."""

from __future__ import annotations

import pytest

from monitor.claims import (
    ClaimFacts,
    ClaimVerdict,
    HeldBack,
    claim_verdict,
    credits_agree,
    explain,
)
from monitor.diff import claim_changed
from monitor.events import BY_TYPE

V = ClaimVerdict

# (page_claims, page_credits, name_verdict, exhibit_status, ace_credits) -> verdict
TABLE = [
    ((True, 12, "exact", "active", 12.0), V.SUPPORTED),
    ((True, 12, "equivalent", "active", 12.0), V.SUPPORTED),
    ((True, None, "exact", "active", 12.0), V.SUPPORTED),  # a claim without a number cannot differ
    ((True, 12, "exact", "active", 9.0), V.CREDITS_DIFFER),
    ((True, 6, "equivalent", "active", 6.5), V.CREDITS_DIFFER),
    ((True, 12, "near", "active", 12.0), V.NAME_DIFFERS),
    ((True, 12, "near", "expired", 12.0), V.NAME_DIFFERS),  # the name differs whatever the period
    ((True, 12, "near", "unknown", None), V.NAME_DIFFERS),
    ((True, 12, "exact", "expired", 12.0), V.EXPIRED),
    ((True, 12, "equivalent", "not_yet_active", 12.0), V.NOT_YET_ACTIVE),
    ((True, 3, "none", None, None), V.NO_EXHIBIT),
    ((False, None, "exact", "active", 9.0), V.UNCLAIMED),
    ((False, None, "equivalent", "active", 9.0), V.UNCLAIMED),
    ((False, None, "exact", "expired", 9.0), V.NONE),  # nothing claimed, nothing to claim today
    ((False, None, "exact", "not_yet_active", 9.0), V.NONE),
    ((False, None, "near", "active", 9.0), V.NONE),  # a close name is not this program's
    ((False, None, "none", None, None), V.NONE),
    ((None, None, "exact", "active", 12.0), V.UNKNOWN),  # unreadable page: no judgement
    ((True, 12, "exact", "unknown", None), V.UNKNOWN),  # unreadable exhibit
    ((False, None, "exact", "unknown", None), V.UNKNOWN),
]


@pytest.mark.parametrize(("facts", "expected"), TABLE, ids=[f"{row[0]}-{row[1].value}" for row in TABLE])
def test_claim_verdict_table(facts, expected):
    assert claim_verdict(ClaimFacts(*facts)) is expected


def test_every_verdict_is_reachable_from_the_table():
    assert {expected for _facts, expected in TABLE} == set(ClaimVerdict)


def test_stored_page_fields_map_to_facts():
    assert ClaimFacts.from_page("yes", 12, "exact", "active", 12.0).page_claims is True
    assert ClaimFacts.from_page("no", None, "exact", "active", 12.0).page_claims is False
    assert ClaimFacts.from_page("unknown", None, "exact", "active", 12.0).page_claims is None
    assert ClaimFacts.from_page(None, None, "none", None, None).page_claims is None


def test_credits_agree_within_rounding_only():
    assert credits_agree(12, 12.0) and credits_agree(12, 12.004) and credits_agree(None, 9.0)
    assert not credits_agree(12, 9.0) and not credits_agree(6, 6.5)


def test_explanations_say_both_credits_and_the_words():
    assert explain(V.CREDITS_DIFFER, 12, 9.0) == "the page claims 12 credits, ACE recommends 9"
    assert "Developer -> Development" in explain(V.NAME_DIFFERS, 12, None, ["Developer -> Development"])
    assert all(explain(verdict, 1, 1.0) for verdict in ClaimVerdict)
    assert str(V.NOT_YET_ACTIVE) == "not_yet_active"


def test_claim_changed_needs_two_judged_verdicts():
    assert claim_changed("supported", "name_differs")
    assert not claim_changed("supported", "supported")
    assert not claim_changed(None, "supported")  # a cycle stored before claim verdicts existed
    assert not claim_changed("unknown", "supported") and not claim_changed("supported", "unknown")


def test_the_claim_event_has_a_heading_and_a_short_label():
    kind = BY_TYPE["claim_changed"]
    assert "claim" in kind.heading and kind.short == "claim changed"


def test_held_back_verdicts_wait_for_what_the_cycle_could_not_see():
    assert HeldBack().apply("/p", V.NAME_DIFFERS, "google") is V.NAME_DIFFERS
    assert HeldBack(stale=True).apply("/p", V.SUPPORTED, "google") is V.UNKNOWN  # page and guide of other days
    held = HeldBack(cids=frozenset({"c1"}), orgs=frozenset({"google"}), previous={"/p": "c1", "/q": "c2"})
    assert held.apply("/p", V.SUPPORTED, "ibm") is V.UNKNOWN  # its exhibit of last cycle is unreadable
    assert held.apply("/q", V.NAME_DIFFERS, "google") is V.UNKNOWN  # an absent name, in that organization
    assert held.apply("/q", V.NONE, "google") is V.UNKNOWN
    assert held.apply("/q", V.SUPPORTED, "google") is V.SUPPORTED  # present names stand
    assert held.apply("/q", V.NO_EXHIBIT, "ibm") is V.NO_EXHIBIT  # another organization is untouched
    anywhere = HeldBack(cids=frozenset({"c1"}), orgs=frozenset({None}))
    assert anywhere.apply("/q", V.NO_EXHIBIT, "ibm") is V.UNKNOWN  # an unreadable exhibit of unknown org
