"""The ``tui-trainer`` console script: an interrupt while the command is still loading exits
with 130 like one at any later moment (no traceback)."""

from __future__ import annotations

import os
import signal


def run() -> None:
    """Load the command line with SIGINT and SIGTERM ending the process, then run it."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda signum, frame: os._exit(130))
    from tui_trainer.cli import run as run_command

    run_command()
