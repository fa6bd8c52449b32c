"""History export: a run folder's per-epoch history and per-interval train loss as CSV or JSON."""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path
from typing import Any

from tui_trainer.engine.events import EpochMetrics
from tui_trainer.engine.rundir import read_run
from tui_trainer.errors import UserFacingError

FORMATS = ("csv", "json")
#: The columns of the per-epoch CSV: every field of an epoch's metrics, in order.
EPOCH_COLUMNS = tuple(f.name for f in dataclasses.fields(EpochMetrics))
#: The columns of the per-interval CSV.
STEP_COLUMNS = ("step", "epoch", "train_loss")


def export_history(run_dir: str | Path, fmt: str, output: str | Path | None = None) -> list[Path]:
    """Write a run's history; returns the files written.

    ``json``: one file (default ``RUN_DIR/history.json``) holding the config, the summary (null
    for a run still going or killed), ``history`` (one object per epoch) and ``steps`` (the
    train loss of each reporting interval). ``csv``: the epochs in one file (default
    ``RUN_DIR/history.csv``) and the intervals beside it, its name ending in ``-steps.csv``.
    Missing values (no validation split, no accuracy for regression ...) are null / empty.
    """
    if fmt not in FORMATS:
        raise UserFacingError(f"format: {fmt!r} is not allowed; must be one of {', '.join(FORMATS)}")
    try:
        record = read_run(Path(run_dir).expanduser())
    except FileNotFoundError as exc:
        raise UserFacingError(str(exc)) from None
    path = Path(output).expanduser() if output else record.path / f"history.{fmt}"
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "json":
        data = {"run_dir": str(record.path), "config": record.config, "summary": record.summary,
                "history": record.history, "steps": record.steps}
        path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        return [path]
    steps_path = path.with_name(f"{path.stem}-steps{path.suffix or '.csv'}")
    _write_csv(path, EPOCH_COLUMNS, record.history)
    _write_csv(steps_path, STEP_COLUMNS, record.steps)
    return [path, steps_path]


def _write_csv(path: Path, columns: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
