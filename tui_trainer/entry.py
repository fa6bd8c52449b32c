"""The ``tui-trainer`` console script: an interrupt (Ctrl+C, SIGTERM, SIGHUP) while the command
is still loading exits with 130 or 129 like one at any later moment (no traceback)."""

from __future__ import annotations


def run() -> None:
    """Load the command line with SIGINT, SIGTERM and SIGHUP ending the process, then run it."""
    from tui_trainer.interrupts import exit_on_signals

    exit_on_signals()
    from tui_trainer.cli import run as run_command

    run_command()
