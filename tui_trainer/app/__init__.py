"""The Textual app: forms, live training in a thread worker, charts, readouts and run history.

Only this subpackage imports Textual; torch loads in a thread after the first frame.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from tui_trainer.app.app import TrainerApp
from tui_trainer.interrupts import quit_on_signals


def make_app(config_path: Path | None = None, runs_dir: Path | None = None, **kwargs: Any) -> TrainerApp:
    """The app, with its form filled from ``config_path`` (default: the linear task) and runs
    written under ``runs_dir`` (default: the user data folder). ``kwargs`` go to TrainerApp."""
    return TrainerApp(config_path, runs_dir, **kwargs)


def run_app(config_path: Path | None, runs_dir: Path | None, watch: list[Path] | None = None,
            pace: str | float | None = None) -> int:
    """Run the app in the terminal (``watch``: only watching those run folders, or with an empty
    list the runs folder's live runs; its runs starting at ``pace``: ``max`` or a number a second,
    None: each task's own); returns the exit code."""
    app = make_app(config_path, runs_dir, watch=watch, pace=pace)
    # Not asyncio.run (what app.run() uses by default): at its end it waits for every worker
    # thread, so ctrl+q in the middle of a long training step waited for the step. The run is
    # asked to stop on quit; its finished epochs are on disk, and the process exits next.
    loop = asyncio.new_event_loop()
    quit_on_signals(loop, app.quit_on_signal)  # SIGTERM, SIGHUP: as ctrl+q, the terminal given back
    try:
        app.run(loop=loop)
    finally:
        loop.close()  # shuts the worker threads' executor down without waiting
    return app.return_code or 0


__all__ = ["TrainerApp", "make_app", "run_app"]
