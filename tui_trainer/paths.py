"""Paths a person gives (files, folders, run folders) and where tui-trainer keeps things in the
user's data directory."""

from __future__ import annotations

import os
from pathlib import Path

#: The longest name (one component of a path) file systems take, in bytes (Linux's NAME_MAX).
NAME_MAX = 255
#: The longest whole path the system takes, in bytes (Linux's PATH_MAX, less its final NUL).
PATH_MAX = 4095


def path_problem(path: str | os.PathLike[str]) -> str | None:
    """Why ``path`` can name no file on this system (a name in it over 255 bytes, the whole over
    4095), or None. Checked before the path is used: Python's file tests raise on such a path
    instead of saying False."""
    text = os.fsencode(Path(path).expanduser())
    longest = max(text.split(b"/"), key=len, default=b"")
    if len(longest) > NAME_MAX:
        shown = os.fsdecode(longest[:24]) + "…"
        return (f"the name {shown!r} in it is {len(longest)} bytes; file systems take names of at "
                f"most {NAME_MAX} bytes")
    if len(text) > PATH_MAX:
        return f"it is {len(text)} bytes long; this system takes paths of at most {PATH_MAX} bytes"
    if b"\0" in text:
        return "it holds a NUL character, which no path can"
    return None


def checked_path(path: str | os.PathLike[str], what: str) -> Path:
    """``path`` (``~`` expanded), or UserFacingError naming ``what`` (``--resume``, ``RUN_DIR``)
    when no file or folder can have it."""
    from tui_trainer.errors import UserFacingError

    problem = path_problem(path)
    if problem:
        raise UserFacingError(f"{what}: no file or folder can have this path: {problem}")
    return Path(path).expanduser()


def user_data_dir() -> Path:
    """``$XDG_DATA_HOME/tui-trainer`` (``~/.local/share/tui-trainer`` when it is unset)."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "tui-trainer"
