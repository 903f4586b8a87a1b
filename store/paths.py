"""Where the embedded store lives by default; cheap to import (no SQLAlchemy)."""

from __future__ import annotations

import os
from pathlib import Path


def default_data_dir(environ: dict[str, str] | None = None) -> Path:
    """$XDG_DATA_HOME/acewatch, i.e. ~/.local/share/acewatch on most systems."""
    env = os.environ if environ is None else environ
    home = env.get("HOME") or str(Path.home())
    return Path(env.get("XDG_DATA_HOME") or Path(home) / ".local" / "share") / "acewatch"


def default_db_url(environ: dict[str, str] | None = None) -> str:
    return f"sqlite:///{default_data_dir(environ) / 'acewatch.db'}"
