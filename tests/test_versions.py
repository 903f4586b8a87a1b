"""The version rule as a table: an ACE ID's versions judged together between two nights (no store)."""

from __future__ import annotations

from datetime import date

import pytest

from monitor.versions import (
    CREDITS_CHANGED,
    GAINED,
    HELD_BACK,
    LOST,
    NONE,
    RENEWED,
    ExhibitVersion,
    judge_versions,
    program_state,
)

DAY = date(2026, 12, 2)
CURRENT, ENDED, LATER = ("2024-10-01", "2034-09-30"), ("2021-10-01", "2026-06-30"), ("2027-01-01", "2037-12-31")


def v(
    cid: str, version: int | None = 1, dates: tuple[str, str] = CURRENT, credits: float = 6, readable: bool = True
) -> ExhibitVersion:
    """One stored version: a cid, its version number, one period with one credit row of `credits` hours."""
    period = {
        "start": dates[0],
        "end": dates[1],
        "credits": [
            {"level": "Lower-Division Baccalaureate/Associate Degree", "hours": credits, "subject": "data analytics"}
        ],
    }
    return ExhibitVersion.of(
        {
            "cid": cid,
            "version": version,
            "periods": [period] if readable else [],
            "parse_status": "ok" if readable else "unknown",
        },
        DAY,
    )


TABLE = [
    # name, before, after, kind, deciding cid after
    (
        "a new version with other credits beside the old one",
        [v("A")],
        [v("A"), v("B", 2, credits=4)],
        CREDITS_CHANGED,
        "B",
    ),
    ("a new version replaces the old page", [v("A")], [v("B", 2, credits=4)], CREDITS_CHANGED, "B"),
    (
        "the old version ends as the new one is active",
        [v("A", 1, CURRENT)],
        [v("A", 1, ENDED), v("B", 2, CURRENT, credits=9)],
        CREDITS_CHANGED,
        "B",
    ),
    (
        "the old version had already ended when a new one appears",
        [v("A", 1, ENDED)],
        [v("A", 1, ENDED), v("B", 2, CURRENT)],
        GAINED,
        "B",
    ),
    ("same credits on a new version while the old is still active", [v("A")], [v("A"), v("B", 2)], RENEWED, "B"),
    ("same cid, period extended, same credits", [v("A", 1, ENDED)], [v("A", 1, CURRENT)], GAINED, "A"),
    (
        "same cid, period extended while active",
        [v("A", 1, ("2024-10-01", "2030-01-01"))],
        [v("A", 1, CURRENT)],
        RENEWED,
        "A",
    ),
    ("a future version beside the active one changes nothing yet", [v("A")], [v("A"), v("B", 2, LATER, 4)], NONE, "A"),
    ("every version ended", [v("A"), v("B", 2, credits=4)], [v("A", 1, ENDED), v("B", 2, ENDED, 4)], LOST, "B"),
    ("every version gone from the Guide", [v("A"), v("B", 2)], [], LOST, None),
    ("a new ACE ID", [], [v("A")], GAINED, "A"),
    ("nothing changed", [v("A"), v("B", 2, credits=4)], [v("A"), v("B", 2, credits=4)], NONE, "B"),
    ("an unreadable new version holds the ACE ID back", [v("A")], [v("A"), v("B", 2, readable=False)], HELD_BACK, None),
    ("an unreadable old version holds the ACE ID back", [v("A", readable=False)], [v("A"), v("B", 2)], HELD_BACK, "B"),
    (
        "a page naming no version counts below a numbered one",
        [v("A", None)],
        [v("A", None), v("B", 2, credits=4)],
        CREDITS_CHANGED,
        "B",
    ),
    (
        "without version numbers the later start decides",
        [v("A", None, ("2020-01-01", "2030-12-31"))],
        [v("A", None, ("2020-01-01", "2030-12-31")), v("B", None, CURRENT, credits=3)],
        CREDITS_CHANGED,
        "B",
    ),
]


@pytest.mark.parametrize("name, before, after, kind, cid", TABLE, ids=[row[0] for row in TABLE])
def test_version_rule(name, before, after, kind, cid):
    change = judge_versions(before, after)
    assert change.kind == kind
    if kind != HELD_BACK:
        assert (change.after.cid if change.after else None) == cid


def test_held_back_judgement_says_unknown_not_inactive():
    state = program_state([v("A"), v("B", 2, readable=False)])
    assert (state.status, state.credits, state.period) == ("unknown", None, None)


def test_an_ace_id_without_versions_has_no_state():
    assert program_state([]) is None


def test_the_active_version_gives_credits_and_period():
    state = program_state([v("A", 1, ENDED, 6), v("B", 2, CURRENT, 9), v("C", 3, LATER, 12)])
    assert (state.status, state.cid, state.credits, state.period["end"]) == ("active", "B", 9, CURRENT[1])


def test_every_event_type_has_a_heading_and_a_short_word():
    """The renewal is a new event type: every output names it (digest heading, alert title word)."""
    from monitor.events import BY_TYPE

    kind = BY_TYPE["recommendation_renewed"]
    assert kind.heading.startswith("Recommendation renewed") and kind.short == "renewed"
