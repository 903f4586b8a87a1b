"""`ExitCode`: every exit status of the `acewatch` command, in one enum (README, "Exit codes").

A module of its own, importing nothing of acewatch, so that every module that returns an
exit status (acewatch/check.py, acewatch/audit.py, acewatch/api.py, the CLI) can import it
without a circular import: acewatch/api.py imports check.py and audit.py, so the enum cannot
live there and be imported by them. `from acewatch import ExitCode` and
`from acewatch.api import ExitCode` remain the public names (re-exported).
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Every exit status of the `acewatch` command (README, "Exit codes"); aliases name a command's reading."""

    OK = 0  # done; check: recommended (exact/equivalent name, period active today)
    NEAR = 1  # check: a close ACE name, not this one; notify: a delivery failed
    USAGE = 2  # bad input or options
    ATTENTION = 3  # check: no close ACE name; run: a source unhealthy; status/audit/doctor: problems; history: none
    NOT_ACTIVE = 4  # check: the exact name, but its period has ended or not begun
    NO_EVIDENCE = 5  # no healthy crawl or no cycle yet, or the exhibit was unreadable
    ERROR = 6  # the store or the configuration failed
    LOCKED = 7  # another run holds the store's run lock
    RECOMMENDED = 0  # check: an exact/equivalent ACE name whose period is active today
    NO_MATCH = 3  # check: no ACE name close to this one
    DELIVERY_FAILED = 1  # notify: an alert could not be delivered


__all__ = ["ExitCode"]
