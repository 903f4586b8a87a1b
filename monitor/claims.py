"""Coursera's own ACE claim, judged against the ACE guide word for word.

A program page may say "ACE recommended, up to N college credits". The
recommendation belongs to the exact name ACE evaluated, for its period, for
its credits; a page can be wrong on any of the three. `claim_verdict` is the
one rule that compares what the page says (`ClaimFacts.page_claims`,
`page_credits`) with what the name match found (`name_verdict`, the matched
exhibit's status and credits today). Pure: no store, no clock, no network, so
the nightly cycle, `check` and the tests all judge the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

RECOMMENDED_NAMES = ("exact", "equivalent")
#: Claimed and ACE credits closer than this are the same number (pages say 12, ACE sums 12.0).
CREDIT_TOLERANCE = 0.01


class ClaimVerdict(str, Enum):
    """How a program page's ACE claim stands against the ACE guide (README, "Claim verdicts")."""

    SUPPORTED = "supported"  # claims credit; exact/equivalent exhibit active today, same credits
    CREDITS_DIFFER = "credits_differ"  # as supported, but the page's credits are not ACE's
    NAME_DIFFERS = "name_differs"  # claims credit; the nearest ACE name differs by some words
    EXPIRED = "expired"  # claims credit; the exact ACE name's period has ended
    NOT_YET_ACTIVE = "not_yet_active"  # claims credit; the exact ACE name's period has not begun
    NO_EXHIBIT = "no_exhibit"  # claims credit; no ACE name is close
    UNCLAIMED = "unclaimed"  # an exact, active recommendation the page does not mention
    NONE = "none"  # no claim and no recommendation
    UNKNOWN = "unknown"  # the page or the exhibit could not be read: no judgement, no event

    def __str__(self) -> str:
        return self.value


#: Verdicts `audit` reports: a page and the guide disagree (unknown is no evidence either way).
FINDINGS = (
    ClaimVerdict.NAME_DIFFERS,
    ClaimVerdict.CREDITS_DIFFER,
    ClaimVerdict.EXPIRED,
    ClaimVerdict.NOT_YET_ACTIVE,
    ClaimVerdict.NO_EXHIBIT,
    ClaimVerdict.UNCLAIMED,
)


#: Verdicts about the matched exhibit (the others say no exhibit backs the page): evidence shows it.
ABOUT_AN_EXHIBIT = frozenset(ClaimVerdict) - {ClaimVerdict.NONE, ClaimVerdict.NO_EXHIBIT, ClaimVerdict.UNKNOWN}
#: Verdicts that rest on an ACE name being absent: an exhibit that could not be read may be that name.
FROM_ABSENCE = frozenset({ClaimVerdict.NAME_DIFFERS, ClaimVerdict.NO_EXHIBIT, ClaimVerdict.NONE})


@dataclass(frozen=True)
class HeldBack:
    """What a cycle could not see: the claim verdicts resting on it are `unknown` (no event), not wrong.

    A claim compares two sources, so a verdict from a page and a guide of
    different days (`stale`: a source's newest crawl was unhealthy and the
    cycle reuses its older snapshot) is no judgement. An exhibit the ACE crawl
    could not read has no title, so it drops out of matching: the programs it
    matched last cycle (`previous`, program id -> cid), and the verdicts that
    rest on an absent name within its organization (`orgs`, canonical keys;
    None for an unknown one, which holds back every such verdict), wait for
    it to be read again. A single odd exhibit holds back only what it touches.
    """

    stale: bool = False
    cids: frozenset[str] = frozenset()
    orgs: frozenset[str | None] = frozenset()
    previous: dict[str, str | None] = field(default_factory=dict)

    def holds(self, program_id: str, verdict: ClaimVerdict, org: str | None) -> bool:
        if self.stale:
            return True
        if not self.cids:
            return False
        if self.previous.get(program_id) in self.cids:
            return True
        return verdict in FROM_ABSENCE and (None in self.orgs or org in self.orgs)

    def apply(self, program_id: str, verdict: ClaimVerdict, org: str | None) -> ClaimVerdict:
        """The verdict, or `unknown` when it rests on what this cycle could not see."""
        return ClaimVerdict.UNKNOWN if self.holds(program_id, verdict, org) else verdict


@dataclass(frozen=True)
class ClaimFacts:
    """What the verdict is decided from.

    `page_claims` is None when the page could not be read (its claim is
    unknown, not absent). `exhibit_status` is the matched exhibit's status
    today (monitor.status), None when no exhibit was matched.
    """

    page_claims: bool | None
    page_credits: float | None
    name_verdict: str  # exact | equivalent | near | none (monitor.names)
    exhibit_status: str | None  # active | expired | not_yet_active | unknown | None
    ace_credits: float | None  # the exhibit's credits in the period the status is about

    @classmethod
    def from_page(
        cls,
        ace_claim: str | None,
        page_credits: float | None,
        name_verdict: str,
        exhibit_status: str | None,
        ace_credits: float | None,
    ) -> ClaimFacts:
        """From the stored page fields (`ace_claim` is yes | no | unknown)."""
        claims = {"yes": True, "no": False}.get(ace_claim or "unknown")
        return cls(claims, page_credits, name_verdict, exhibit_status, ace_credits)


def claim_verdict(facts: ClaimFacts) -> ClaimVerdict:
    """The claim verdict; the order of the tests is the order of the README's list."""
    if facts.page_claims is None:
        return ClaimVerdict.UNKNOWN
    if facts.name_verdict in RECOMMENDED_NAMES:
        return _same_name(facts)
    if not facts.page_claims:
        return ClaimVerdict.NONE
    return ClaimVerdict.NAME_DIFFERS if facts.name_verdict == "near" else ClaimVerdict.NO_EXHIBIT


def _same_name(facts: ClaimFacts) -> ClaimVerdict:
    """The page's name is an ACE name: the period and the credits decide."""
    status = facts.exhibit_status
    if status in (None, "unknown"):
        return ClaimVerdict.UNKNOWN
    if status != "active":
        if not facts.page_claims:
            return ClaimVerdict.NONE
        return ClaimVerdict.EXPIRED if status == "expired" else ClaimVerdict.NOT_YET_ACTIVE
    if not facts.page_claims:
        return ClaimVerdict.UNCLAIMED
    return (
        ClaimVerdict.SUPPORTED if credits_agree(facts.page_credits, facts.ace_credits) else ClaimVerdict.CREDITS_DIFFER
    )


def credits_agree(page: float | None, ace: float | None) -> bool:
    """A page that names no number cannot contradict ACE's; otherwise the numbers must be equal."""
    return page is None or ace is None or abs(float(page) - float(ace)) < CREDIT_TOLERANCE


def explain(
    verdict: ClaimVerdict,
    page_credits: float | None,
    ace_credits: float | None,
    differences: list[str] | tuple[str, ...] = (),
) -> str:
    """One sentence a student can act on; `differences` are the words between the page's name and ACE's."""
    claims = "the page claims ACE credit" + (
        f" (up to {_n(page_credits)} college credits)" if page_credits is not None else ""
    )
    words = "; ".join(differences)
    return {
        ClaimVerdict.SUPPORTED: f"{claims}, as ACE recommends for this exact name",
        ClaimVerdict.CREDITS_DIFFER: f"the page claims {_n(page_credits)} credits, ACE recommends {_n(ace_credits)}",
        ClaimVerdict.NAME_DIFFERS: f"{claims}, but ACE lists no program named exactly this"
        + (f" (differs: {words})" if words else ""),
        ClaimVerdict.EXPIRED: f"{claims}, but ACE's recommendation for this exact name has expired",
        ClaimVerdict.NOT_YET_ACTIVE: f"{claims}, but ACE's recommendation for this exact name has not begun",
        ClaimVerdict.NO_EXHIBIT: f"{claims}, but no ACE name is close to this one",
        ClaimVerdict.UNCLAIMED: f"ACE recommends this exact name ({_n(ace_credits)} credits); the page does not say so",
        ClaimVerdict.NONE: "no ACE claim on the page and no ACE recommendation",
        ClaimVerdict.UNKNOWN: "the page or the ACE exhibit could not be read",
    }[verdict]


def _n(value: float | None) -> str:
    return "?" if value is None else f"{float(value):g}"
