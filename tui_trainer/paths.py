"""Where tui-trainer keeps things in the user's data directory."""

from __future__ import annotations

import os
from pathlib import Path


def user_data_dir() -> Path:
    """``$XDG_DATA_HOME/tui-trainer`` (``~/.local/share/tui-trainer`` when it is unset)."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "tui-trainer"
