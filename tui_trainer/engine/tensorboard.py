"""TensorBoard event files in the run folder (``[logging] tensorboard = true``, ``--tensorboard``),
written with ``torch.utils.tensorboard`` (the optional extra: ``pip install
'tui-trainer[tensorboard]'``), so ``tensorboard --logdir RUNS`` shows the runs beside a person's
other experiments: every figure of the history as a scalar, the step curve, and the
hyperparameters (the hparams plugin, with the history's figures as its metrics).

Tags: ``epoch/NAME`` at the epoch for each figure of an epoch's history line (``train_loss``,
``val_accuracy``, ``lr``...), ``step/train_loss`` at the optimizer step, ``layers/LAYER/NAME`` at
the epoch for the gradient-flow figures, ``path/x`` and ``path/y`` at the step for an arena run,
``final/NAME`` at the last epoch for the trained model's final metrics.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

from tui_trainer.config import to_dict
from tui_trainer.engine.events import (
    Callback, ChangeMade, EpochEnded, EpochMetrics, Progress, RunEnded, RunStarted,
)

INSTALL = "pip install 'tui-trainer[tensorboard]'"
#: Seconds between two flushes of the event files (TensorBoard then shows a live run).
FLUSH_SECONDS = 5
#: The history's figures, as scalars (every EpochMetrics number but the epoch itself).
EPOCH_FIGURES = tuple(f.name for f in dataclasses.fields(EpochMetrics)
                      if f.name not in ("epoch", "layers", "path"))


def tensorboard_problem() -> str | None:
    """Why TensorBoard's event files cannot be written here (None when they can)."""
    try:
        import torch.utils.tensorboard  # noqa: F401  (needs the tensorboard package)
    except ImportError as exc:
        return f"needs the tensorboard package, which is not installed ({exc}); install it: {INSTALL}"
    return None


class TensorBoardLog(Callback):
    """Writes a run's figures and hyperparameters as TensorBoard event files into ``folder``.
    A failure to write (a full disk) ends the logging, not the run; the run's message says so."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.writer = None
        self.problem: str | None = None
        self._end = None  # the hparams plugin's end of the session
        self._last_step = 0

    def on_run_start(self, event: RunStarted) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
            from torch.utils.tensorboard.summary import hparams

            self.writer = SummaryWriter(log_dir=str(self.folder), flush_secs=FLUSH_SECONDS)
            figures = [f"epoch/{name}" for name in EPOCH_FIGURES]
            experiment, start, self._end = hparams(hyperparameters(to_dict(event.config)),
                                                   dict.fromkeys(figures, 0.0))
            self.writer.file_writer.add_summary(experiment)
            self.writer.file_writer.add_summary(start)
        except Exception as exc:  # an unwritable folder, a broken install: the run goes on
            self._stop(exc)

    def on_progress(self, event: Progress) -> None:
        self._points(event.points)

    def on_epoch_end(self, event: EpochEnded) -> None:
        self._points(event.points)
        metrics = event.metrics
        self._add({f"epoch/{name}": getattr(metrics, name) for name in EPOCH_FIGURES}, metrics.epoch)
        for layer in metrics.layers or []:
            self._add({f"layers/{layer['name']}/{key}": value for key, value in layer.items()
                       if key not in ("layer", "name", "flag")}, metrics.epoch)
        for step, x, y in metrics.path or []:
            self._add({"path/x": x, "path/y": y}, step)

    def on_change(self, event: ChangeMade) -> None:
        change = event.change
        if self.writer is not None:
            self._guard(self.writer.add_text, "changes", f"from step {change.at_step}: "
                        f"{change.field} = {change.value}", change.at_step)

    def on_run_end(self, event: RunEnded) -> None:
        result = event.result
        self._points([point for point in result.steps if point[0] > self._last_step])
        final = dataclasses.asdict(result.final)
        self._add({f"final/{name}": value for name, value in final.items()}, result.epochs_run)
        if self.writer is not None:
            self._guard(self.writer.file_writer.add_summary, self._end)
        if self.writer is not None:
            self._guard(self.writer.close)
        if self.problem:
            result.message += f"; {self.problem}"

    def _points(self, points: list[tuple[int, float]]) -> None:
        if self.writer is None:
            return
        for step, loss in points:
            self._add({"step/train_loss": loss}, step)
            self._last_step = step

    def _add(self, scalars: dict[str, Any], step: int) -> None:
        for tag, value in scalars.items():
            if self.writer is None:
                return
            if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
                self._guard(self.writer.add_scalar, tag, value, step)

    def _guard(self, write, *args) -> None:
        try:
            write(*args)
        except Exception as exc:
            self._stop(exc)

    def _stop(self, exc: Exception) -> None:
        self.problem = f"TensorBoard logging stopped: {type(exc).__name__}: {exc}"
        writer, self.writer = self.writer, None
        if writer is not None:
            try:
                writer.close()
            except Exception:  # the same trouble again: nothing more to save
                pass


def hyperparameters(config: dict[str, Any]) -> dict[str, Any]:
    """The config as the hparams plugin takes it: dotted names, numbers, text and booleans (lists
    as text); the mid-run changes as one text."""
    flat: dict[str, Any] = {}
    for section, values in config.items():
        if not isinstance(values, dict):
            flat[section] = str(values)
            continue
        for key, value in values.items():
            plain = isinstance(value, (int, float, str, bool)) and not (isinstance(value, int) and abs(value) > 2**53)
            flat[f"{section}.{key}"] = value if plain else str(value)
    return flat
