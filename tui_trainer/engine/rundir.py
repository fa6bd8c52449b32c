"""Run directories: run.json (the format, the writer, the run's size and race: ``engine.runinfo``),
config.toml, history.jsonl (flushed each epoch), steps.jsonl (flushed at each report),
system.jsonl (``engine.system``), view.json (the picture of a task that has one,
``engine.views``), mistakes.json (a classifier's misclassified samples, ``engine.evaluation``),
summary.json at the end, and model.pt when the model is saved.

Every file but run.json, config.toml, view.json and summary.json (each written whole) is only
appended to, and summary.json comes after everything else of the run's turn, so another process
can follow the folder as ``tail -f`` does (``engine.follow``). A run killed mid-way leaves every
finished epoch readable.
"""

from __future__ import annotations

import contextlib
import json
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui_trainer.config import Config, to_toml
from tui_trainer.engine.events import (
    Callback, ChangeMade, EpochEnded, Progress, RunEnded, RunResult, RunStarted, finite_or_none,
)
from tui_trainer.engine.runinfo import RUN_INFO_FILE, RaceSeat, read_run_info, run_info
from tui_trainer.engine.system import SAMPLE_INTERVAL, SYSTEM_FILE, SystemRecorder
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
RUN_FILES = (RUN_INFO_FILE, CONFIG_FILE, HISTORY_FILE, STEPS_FILE, SYSTEM_FILE, SUMMARY_FILE, CHECKPOINT_FILE,
             VIEW_FILE, MISTAKES_FILE)


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
    """Writes a run's files as the events arrive: who writes and what runs (run.json, before the
    config), every point of the step curve (flushed at each report), each epoch's metrics
    (flushed at once), the machine beside the run (``system``), and the summary last.
    ``world``: torchrun's processes (rank 0 writes); ``race``: the run's place in a comparison."""

    def __init__(self, path: Path, world: int = 1, race: RaceSeat | None = None) -> None:
        self.path = path
        self.world = world
        self.race = race
        self.system = SystemRecorder(path / SYSTEM_FILE)
        self.session: str | None = None
        self._history = None
        self._steps = None
        self._steps_per_epoch = 1
        self._last_step = 0

    def on_run_start(self, event: RunStarted) -> None:
        """Write the run's info and config first: a folder that cannot take them (a full disk) is
        refused before the first step, and a new run's folder is left as it was found."""
        try:  # a resumed run keeps its place in the comparison it raced in
            earlier = read_run_info(self.path)
        except UserFacingError:
            earlier = None
        info = run_info(event, SAMPLE_INTERVAL, self.world, self.race or (earlier.race if earlier else None))
        self.session = info.writer.session
        new = not (self.path / CONFIG_FILE).exists()  # else a resumed run's folder
        for name, text in ((RUN_INFO_FILE, json.dumps(info.as_json(), indent=2)), (CONFIG_FILE, to_toml(event.config))):
            try:
                replace_text(self.path / name, text)
            except OSError as exc:
                if new:  # nothing of a new run's folder is kept
                    for written in (RUN_INFO_FILE, f"{RUN_INFO_FILE}.part", f"{CONFIG_FILE}.part"):
                        with contextlib.suppress(OSError):
                            (self.path / written).unlink(missing_ok=True)
                    with contextlib.suppress(OSError):
                        self.path.rmdir()
                raise UserFacingError(f"runs folder {self.path.parent}: cannot write {name} in "
                                      f"{self.path.name}: {exc.strerror or exc} (free some space or "
                                      "choose another with --runs-dir)") from None
        self._steps_per_epoch = event.steps_per_epoch
        self._last_step = event.start_step
        self._history = (self.path / HISTORY_FILE).open("a", encoding="utf-8")
        self._steps = (self.path / STEPS_FILE).open("a", encoding="utf-8")
        self.system.on_run_start(event)

    def _write_points(self, points: list[tuple[int, float]]) -> None:
        for step, loss in points:
            self._steps.write(json.dumps({"step": step, "epoch": -(-step // self._steps_per_epoch),
                                          "train_loss": finite_or_none(loss)}) + "\n")
            self._last_step = step

    def on_progress(self, event: Progress) -> None:
        self._write_points(event.points)
        if event.points:
            self._steps.flush()
        self.system.on_progress(event)

    def on_change(self, event: ChangeMade) -> None:
        """A change made while the run goes is part of its config from now on (the file is
        replaced whole: a reader never sees half of it)."""
        replace_text(self.path / CONFIG_FILE, to_toml(event.config))

    def on_epoch_end(self, event: EpochEnded) -> None:
        self._write_points(event.points)
        self._steps.flush()  # the epoch's points before its line: a follower reads them first
        self._history.write(json.dumps(event.metrics.as_json()) + "\n")
        self._history.flush()
        self.system.on_epoch_end(event)

    def on_run_end(self, event: RunEnded) -> None:
        result = event.result
        self.system.on_run_end(event)
        if self._steps:
            self._write_points([point for point in result.steps if point[0] > self._last_step])
        for handle in (self._history, self._steps):
            if handle:
                try:
                    handle.close()
                except OSError:  # its last buffered lines could not be written (full disk)
                    pass
        if result.mistakes:
            self._write_whole(MISTAKES_FILE, json.dumps({split: found.as_json()
                                                         for split, found in result.mistakes.items()}), result)
        summary = result.as_json()
        summary.pop("history")
        summary["session"] = self.session  # whose turn at the folder ended (run.json's writer)
        self._write_whole(SUMMARY_FILE, json.dumps(summary, indent=2), result)

    def _write_whole(self, name: str, text: str, result: RunResult) -> None:
        try:
            write_text(self.path / name, text, name)
        except UserFacingError as exc:  # e.g. a full disk: the history written so far stays readable
            result.message += f"; {exc}"


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
    replace_text(path, "".join(json.dumps(row) + "\n" for row in rows))


def replace_text(path: Path, text: str) -> None:
    """Replace a file of a run folder whole: written aside, then moved into place, so a reader
    sees the old file or the new one, never half of one."""
    partial = path.with_name(path.name + ".part")
    partial.write_text(text, encoding="utf-8")
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
