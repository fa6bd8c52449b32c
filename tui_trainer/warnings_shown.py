"""Warnings (torch's, mostly) on the command line: each shown once, in one line that says who
warns, without the file path and source line Python prints (``torch/nn/modules/loss.py:630:
UserWarning: ...`` for every batch size of a ``lab wrong_loss`` run)."""

from __future__ import annotations

import sys
import warnings
from typing import Any

_shown: set[tuple[str, int]] = set()


def show_warnings_once() -> None:
    """From now on a warning prints ``warning (torch): MESSAGE`` on stderr, once per place that
    warns (the same warning for another batch size is not repeated)."""
    warnings.showwarning = _show


def _show(message: Warning | str, category: type[Warning], filename: str, lineno: int,
          file: Any = None, line: str | None = None) -> None:
    if (filename, lineno) in _shown:
        return
    _shown.add((filename, lineno))
    who = "torch" if "/torch/" in filename.replace("\\", "/") else category.__name__
    try:
        print(f"warning ({who}): {message}", file=file or sys.stderr)
    except (OSError, ValueError):  # nowhere to print to
        pass
