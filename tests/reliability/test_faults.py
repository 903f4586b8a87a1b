"""Day 1 healthy, day 2 through each fault kind (ACE and Coursera hosts at once), day 2 recovered.

For every fault: no event the fault alone caused, the faulted run is held back as
unhealthy or was retried to success, no earlier store row changes, each real day-2
change is reported exactly once by the time the faults stop, and each cycle with
events reaches the alert webhook exactly once. The scenarios live in scenarios.py,
which bench/reliability.py also drives.
"""

from __future__ import annotations

import pytest

from tests.reliability.scenarios import FAULT_SCENARIOS, run_fault_scenario

# Every kind, per path; one seeded random mix (bench/reliability.py runs a second seed too).
SUITE = [name for name in FAULT_SCENARIOS if name != "random mix, seed 12"]

RETRIED = {"status:503 x3 (retried)", "429 x4 (retried)"}


@pytest.mark.parametrize("name", SUITE)
def test_fault_causes_no_false_event_and_recovers(reliability_env, name):
    outcome = run_fault_scenario(reliability_env, name, FAULT_SCENARIOS[name])
    assert outcome.faults_fired > 0, "the fault never fired: the scenario tests nothing"
    assert outcome.false_events == [], outcome.explain()
    assert outcome.rows_lost == [], outcome.explain()
    assert outcome.missed == [] and outcome.recovered, outcome.explain()
    assert outcome.late == [], outcome.explain()  # liveness: nothing later than the documented bound
    assert outcome.duplicate_alerts == 0 and outcome.lost_alerts == 0, outcome.explain()
    # Held back, or retried to success, or (for harmless faults) read exactly as without them.
    assert set(outcome.faulted.values()) <= {"unhealthy", "retried", "tolerated"}
    assert outcome.disallowed == [], outcome.disallowed  # robots.txt is obeyed, whatever it says
    assert outcome.spurious_health == [], outcome.spurious_health  # unhealthy, then recovered: once each
    if name.startswith("robots.txt"):  # every exhibit and program page forbidden: nothing to read
        assert outcome.faulted == {"ace": "unhealthy", "coursera": "unhealthy"}, outcome.explain()
    if name in RETRIED:
        assert outcome.faulted == {"ace": "retried", "coursera": "retried"}, outcome.explain()
