"""The reliability suite's shared environment: one fixture site, one webhook, one day-1 baseline."""

from __future__ import annotations

import pytest

from tests.reliability.scenarios import start_env, stop_env


@pytest.fixture(scope="session")
def reliability_env(tmp_path_factory):
    env = start_env(tmp_path_factory.mktemp("reliability"))
    yield env
    stop_env(env)
