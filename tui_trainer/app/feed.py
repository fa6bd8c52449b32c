"""What the app knows about the run in progress, as the training thread reports it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tui_trainer.engine.events import EpochMetrics, Progress, RunResult, RunStarted
from tui_trainer.engine.follow import Liveness
from tui_trainer.engine.runinfo import RunInfo
from tui_trainer.engine.system import SystemSample


@dataclass
class RunFeed:
    """Append-only record of one run, written by the bridge on the training thread and read by
    the panels on the UI thread (appends and reads of whole items are atomic in CPython).

    ``train_points`` are (epoch position, train loss): the run's step curve (every step's loss,
    or the mean of every k steps in a long run). ``changes`` are (epoch position, ``field = value``)
    of each hyperparameter changed mid-run. ``examples`` are what the Mistakes tab shows of the
    misclassified samples, by split (``mistakes.Examples``), set once the run ended. ``system``
    holds the machine's samples beside the run (its folder's ``system.jsonl``, every few
    seconds). For a run another process trains, ``writer`` is its folder's run.json (None for a
    folder of an older tui-trainer) and ``liveness`` whether that writer is still there (both
    None for a run trained here).
    """

    number: int
    started: RunStarted | None = None
    progress: Progress | None = None
    epochs: list[EpochMetrics] = field(default_factory=list)
    train_points: list[tuple[float, float]] = field(default_factory=list)
    changes: list[tuple[float, str]] = field(default_factory=list)
    examples: dict[str, Any] = field(default_factory=dict)
    system: list[SystemSample] = field(default_factory=list)
    writer: RunInfo | None = None
    liveness: Liveness | None = None
    result: RunResult | None = None  # how the run ended, as soon as it did (a race's other runs go on)

    @property
    def global_step(self) -> int:
        """Steps taken so far."""
        steps = [self.progress.global_step] if self.progress else []
        steps += [self.epochs[-1].global_step] if self.epochs else []
        return max(steps, default=0)

    @property
    def elapsed(self) -> float:
        """Training seconds so far (pauses excluded)."""
        if self.progress and (not self.epochs or self.progress.global_step > self.epochs[-1].global_step):
            return self.progress.elapsed
        return self.epochs[-1].elapsed if self.epochs else 0.0
