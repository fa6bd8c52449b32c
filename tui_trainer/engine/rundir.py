"""Run directories: config.toml, history.jsonl (flushed each epoch), steps.jsonl, summary.json,
view.json (the picture of a task that has one, ``engine.views``), mistakes.json (a classifier's
misclassified samples, ``engine.evaluation``) and model.pt when the model is saved.

A run killed mid-way leaves every finished epoch readable.
"""

from __future__ import annotations

import json
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui_trainer.config import Config, save_config
from tui_trainer.engine.events import (
    Callback, ChangeMade, EpochEnded, Progress, RunEnded, RunStarted, finite_or_none,
)
from tui_trainer.errors import UserFacingError, first_line
from tui_trainer.outputs import write_text
from tui_trainer.paths import user_data_dir

CONFIG_FILE, HISTORY_FILE, STEPS_FILE, SUMMARY_FILE = "config.toml", "history.jsonl", "steps.jsonl", "summary.json"
#: The checkpoint a run saves on request (``tui_trainer.engine.checkpoint``).
CHECKPOINT_FILE = "model.pt"
#: The final picture of a run whose task has one (``tui_trainer.engine.views``).
VIEW_FILE = "view.json"
#: A classifier's misclassified samples on its validation and test sets (``engine.evaluation``).
MISTAKES_FILE = "mistakes.json"
#: Every file a run folder holds: exports never write over them.
RUN_FILES = (CONFIG_FILE, HISTORY_FILE, STEPS_FILE, SUMMARY_FILE, CHECKPOINT_FILE, VIEW_FILE, MISTAKES_FILE)


def default_runs_dir() -> Path:
    """Where runs are kept unless ``--runs-dir`` says otherwise."""
    return user_data_dir() / "runs"


def new_run_dir(runs_dir: Path, config: Config) -> Path:
    """Create a fresh, uniquely named folder for a run: ``YYYYmmdd-HHMMSS-task-optimizer``."""
    stem = f"{time.strftime('%Y%m%d-%H%M%S')}-{config.task.name}-{config.optimizer.name}"
    try:
        runs_dir.mkdir(parents=True, exist_ok=True)
        for n in range(1000):
            path = runs_dir / (stem if n == 0 else f"{stem}-{n}")
            try:
                path.mkdir()
                return path
            except FileExistsError:
                continue
    except OSError as exc:  # a file in the way, a read-only place, a full disk
        raise UserFacingError(f"runs folder {runs_dir}: cannot create a run folder there: "
                              f"{exc.strerror or exc} (choose another with --runs-dir)") from None
    raise UserFacingError(f"runs folder {runs_dir}: 1000 runs named {stem} already exist")


class RunDirectoryWriter(Callback):
    """Writes a run's files as the events arrive: every point of the step curve, each epoch's
    metrics (flushed at once), and the summary at the end."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._history = None
        self._steps = None
        self._steps_per_epoch = 1
        self._last_step = 0

    def on_run_start(self, event: RunStarted) -> None:
        save_config(event.config, self.path / CONFIG_FILE)
        self._steps_per_epoch = event.steps_per_epoch
        self._last_step = event.start_step
        self._history = (self.path / HISTORY_FILE).open("a", encoding="utf-8")
        self._steps = (self.path / STEPS_FILE).open("a", encoding="utf-8")

    def _write_points(self, points: list[tuple[int, float]]) -> None:
        for step, loss in points:
            self._steps.write(json.dumps({"step": step, "epoch": -(-step // self._steps_per_epoch),
                                          "train_loss": finite_or_none(loss)}) + "\n")
            self._last_step = step

    def on_progress(self, event: Progress) -> None:
        self._write_points(event.points)

    def on_change(self, event: ChangeMade) -> None:
        """A change made while the run goes is part of its config from now on."""
        save_config(event.config, self.path / CONFIG_FILE)

    def on_epoch_end(self, event: EpochEnded) -> None:
        self._write_points(event.points)
        self._history.write(json.dumps(event.metrics.as_json()) + "\n")
        self._history.flush()
        self._steps.flush()

    def on_run_end(self, event: RunEnded) -> None:
        result = event.result
        if self._steps:
            self._write_points([point for point in result.steps if point[0] > self._last_step])
        summary = result.as_json()
        summary.pop("history")
        result = event.result
        files = {SUMMARY_FILE: json.dumps(summary, indent=2)}
        if result.mistakes:
            files[MISTAKES_FILE] = json.dumps({split: found.as_json() for split, found in result.mistakes.items()})
        try:
            for name, text in files.items():
                write_text(self.path / name, text, name)
        except UserFacingError as exc:  # e.g. a full disk: the history written so far stays readable
            result.message += f"; {exc}"
        for handle in (self._history, self._steps):
            if handle:
                try:
                    handle.close()
                except OSError:  # its last buffered lines could not be written (full disk)
                    pass


@dataclass
class RunRecord:
    """A run read back from its folder (a run still going or killed has no summary)."""

    path: Path
    config: dict[str, Any]
    history: list[dict[str, Any]]
    steps: list[dict[str, Any]]
    summary: dict[str, Any] | None


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Every complete JSON line of a file; a torn last line (a killed run) is skipped."""
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(row, dict):
            rows.append(row)
    return rows


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    """Replace a file with one JSON line per row (written aside, then moved into place)."""
    partial = path.with_name(path.name + ".part")
    partial.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    partial.replace(path)


def read_run(path: str | Path) -> RunRecord:
    """Read a run folder written by RunDirectoryWriter. A missing or damaged ``config.toml``
    raises FileNotFoundError or ValueError naming it; unreadable lines and an unreadable
    summary (a killed run, a full disk) are left out."""
    path = Path(path)
    config_file = path / CONFIG_FILE
    if not config_file.is_file():
        raise FileNotFoundError(f"{path} is not a run folder (no {CONFIG_FILE})")
    try:
        config = tomllib.loads(config_file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError) as exc:
        raise ValueError(f"{config_file} is damaged: {first_line(exc)}") from None
    return RunRecord(path=path, config=config, history=read_jsonl(path / HISTORY_FILE),
                     steps=read_jsonl(path / STEPS_FILE), summary=_read_summary(path / SUMMARY_FILE))


def point_path(record: RunRecord) -> list[list[float]]:
    """An arena run's path ([step, x, y], finite points only; empty for other runs): the
    summary's whole path, or for a run without one (still going, killed) the paths of its
    finished epochs."""
    path = (record.summary or {}).get("path") or [point for row in record.history
                                                  for point in row.get("path") or []]
    return [point for point in path if None not in point[1:]]


def _read_summary(path: Path) -> dict[str, Any] | None:
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return summary if isinstance(summary, dict) else None


def list_runs(runs_dir: Path) -> list[Path]:
    """Run folders under ``runs_dir``, oldest first."""
    if not runs_dir.is_dir():
        return []
    return sorted(p for p in runs_dir.iterdir() if (p / CONFIG_FILE).is_file())
