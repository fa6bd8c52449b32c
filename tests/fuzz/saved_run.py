"""One saved run (model.pt included) made once per session, for the run-folder fuzz cases."""

from __future__ import annotations

import contextlib
import functools
import io
import tempfile
from pathlib import Path

from tui_trainer.cli import main


@functools.cache
def saved_run_template() -> Path:
    """A run folder of 2 epochs of the linear task, with its model.pt (do not modify: copy it)."""
    runs = Path(tempfile.mkdtemp(prefix="tui-fuzz-template-"))
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["train", "--epochs", "2", "--device", "cpu", "--runs-dir", str(runs),
                     "--save-model", "--json"]) == 0
    return next(runs.iterdir())
