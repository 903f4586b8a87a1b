"""The acewatch program: what composes the crawler, the store and the judging core for people.

`from acewatch import Acewatch` is the Python API (acewatch/api.py); the CLI
(acewatch/cli.py), the scheduler and the web app (acewatch/web/) are shells over it.
Importing the package stays cheap (the stdlib only): `acewatch check` starts here.
"""

from acewatch.api import (
    Acewatch,
    AcewatchError,
    BadInput,
    CheckAnswer,
    ExitCode,
    NoEvidence,
    RunLocked,
    StoreFailed,
)

__all__ = [
    "Acewatch",
    "AcewatchError",
    "BadInput",
    "CheckAnswer",
    "ExitCode",
    "NoEvidence",
    "RunLocked",
    "StoreFailed",
]
