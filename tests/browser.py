"""Where the tests find a real headless Chromium (Debian's `chromium`, driven by Playwright).

Playwright cannot download its own browser here, so every browser test launches the system's
Chromium by its path. Without it a test skips on a developer's machine and fails under CI=true:
a missing browser must never turn a browser test into a silent pass.
"""

from __future__ import annotations

import os
import shutil

import pytest

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")


def chromium_executable() -> str:
    """The system Chromium's path, or skip (fail under CI) with what to install."""
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    message = "no Chromium found: apt-get install -y chromium"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)
