"""History export: a run folder's per-epoch history and per-interval train loss as CSV or JSON."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import sys
from pathlib import Path
from typing import Any

from tui_trainer.engine.events import EpochMetrics
from tui_trainer.engine.rundir import point_path, read_run
from tui_trainer.errors import UserFacingError
from tui_trainer.outputs import output_path, write_text

FORMATS = ("csv", "json")
#: The ``-o`` that means standard output.
STDOUT = "-"
#: The columns of the per-epoch CSV: every field of an epoch's metrics, in order.
#: One column per epoch figure; the per-layer figures (a list per epoch) go to JSON only, an arena
#: run's path to its own CSV.
EPOCH_COLUMNS = tuple(f.name for f in dataclasses.fields(EpochMetrics) if f.name not in ("layers", "path"))
#: The columns of the per-interval CSV.
STEP_COLUMNS = ("step", "epoch", "train_loss")
#: The columns of an arena run's path CSV: the point after each recorded step.
PATH_COLUMNS = ("step", "x", "y")


def export_history(run_dir: str | Path, fmt: str, output: str | Path | None = None,
                   force: bool = False) -> list[Path]:
    """Write a run's history; returns the files written.

    ``json``: one file (default ``RUN_DIR/history.json``) holding the config, the summary (null
    for a run still going or killed), ``history`` (one object per epoch) and ``steps`` (the
    train loss of each reporting interval). ``csv``: the epochs in one file (default
    ``RUN_DIR/history.csv``) and the intervals beside it, its name ending in ``-steps.csv``; for
    an arena run also its point's path (step, x, y), ending in ``-path.csv``.
    Missing values (no validation split, no accuracy for regression ...) are null / empty.
    An existing file is kept (UserFacingError) unless ``force``; the run's own files always are.
    ``output`` ``-`` prints the JSON, or the per-epoch CSV alone, on stdout (returns no file).
    """
    if fmt not in FORMATS:
        raise UserFacingError(f"format: {fmt!r} is not allowed; must be one of {', '.join(FORMATS)}")
    try:
        record = read_run(Path(run_dir).expanduser())
    except (OSError, ValueError) as exc:  # no or a damaged config.toml: say which and why
        raise UserFacingError(str(exc)) from None
    data = {"run_dir": str(record.path), "config": record.config, "summary": record.summary,
            "history": record.history, "steps": record.steps}
    if str(output) == STDOUT:
        sys.stdout.write(json.dumps(data, indent=2) + "\n" if fmt == "json" else _csv_text(EPOCH_COLUMNS, record.history))
        if fmt == "csv":
            print("note: -o - prints the per-epoch table only (standard output takes one table); "
                  "give -o FILE for the steps (and an arena run's path) too", file=sys.stderr)
        return []
    path = output_path(output if output is not None else record.path / f"history.{fmt}", force, "-o")
    if fmt == "json":
        return [write_text(path, json.dumps(data, indent=2) + "\n", "-o")]
    steps_path = output_path(path.with_name(f"{path.stem}-steps{path.suffix or '.csv'}"), force, "-o")
    arena_path = point_path(record)
    path_file = (output_path(path.with_name(f"{path.stem}-path{path.suffix or '.csv'}"), force, "-o")
                 if arena_path else None)
    written = [write_text(path, _csv_text(EPOCH_COLUMNS, record.history), "-o"),
               write_text(steps_path, _csv_text(STEP_COLUMNS, record.steps), "-o")]
    if path_file is not None:
        rows = [dict(zip(PATH_COLUMNS, point)) for point in arena_path]
        written.append(write_text(path_file, _csv_text(PATH_COLUMNS, rows), "-o"))
    return written


def _csv_text(columns: tuple[str, ...], rows: list[dict[str, Any]]) -> str:
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return text.getvalue()
