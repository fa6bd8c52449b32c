"""What the training loop reports: plain dataclass events, and the Callback that receives them.

The loop knows nothing about who listens (the CLI, the app, the run directory writer, tests).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tui_trainer.config import Config, to_dict

@dataclass
class RunStarted:
    """Sent once the data, model and optimizer are built, before the first step."""

    config: Config
    run_dir: Path | None
    device: str
    device_name: str
    threads: int
    param_count: int
    train_size: int
    val_size: int
    epochs: int
    steps_per_epoch: int
    total_steps: int
    start_epoch: int = 1


@dataclass
class Progress:
    """Sent every reporting interval. ``train_loss`` is the mean over the epoch's steps since the
    last report; ``grad_norm`` is the total gradient norm at this step."""

    epoch: int
    epochs: int
    step: int
    steps_per_epoch: int
    global_step: int
    total_steps: int
    train_loss: float
    lr: float
    grad_norm: float | None
    samples_per_second: float
    elapsed: float


@dataclass
class EpochMetrics:
    """One epoch of history. ``train_*`` are running values over the epoch's batches (as Keras
    reports them); ``val_*`` come from an evaluation pass under model.eval() and no_grad()."""

    epoch: int
    train_loss: float
    val_loss: float | None
    train_accuracy: float | None
    val_accuracy: float | None
    train_r2: float | None
    val_r2: float | None
    lr: float
    grad_norm: float | None
    seconds: float
    elapsed: float
    samples_per_second: float
    global_step: int

    def as_json(self) -> dict[str, Any]:
        """Plain JSON data; non-finite numbers become null."""
        return {k: finite_or_none(v) for k, v in asdict(self).items()}


@dataclass
class EpochEnded:
    """Sent after each epoch's validation."""

    epoch: int
    epochs: int
    metrics: EpochMetrics


@dataclass
class FinalMetrics:
    """The trained model evaluated on the training and validation sets after the last epoch."""

    train_loss: float | None = None
    val_loss: float | None = None
    train_accuracy: float | None = None
    val_accuracy: float | None = None
    train_r2: float | None = None
    val_r2: float | None = None


@dataclass
class RunResult:
    """How a run ended and what it learned. ``reason`` is one of completed, early-stopped,
    target-reached, stopped, interrupted, diverged, failed."""

    config: Config
    reason: str
    message: str
    epochs_run: int
    history: list[EpochMetrics]
    final: FinalMetrics
    parameters: dict[str, float] | None
    param_count: int
    device: str
    device_name: str
    seconds: float
    samples_per_second: float
    run_dir: Path | None
    steps: list[tuple[int, float]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the run ended without divergence or failure."""
        return self.reason not in ("diverged", "failed")

    def as_json(self) -> dict[str, Any]:
        """The ``--json`` object: plain data, non-finite numbers as null."""
        return {
            "task": self.config.task.name,
            "loss": self.config.loss.name,
            "optimizer": self.config.optimizer.name,
            "scheduler": self.config.scheduler.name,
            "device": self.device,
            "device_name": self.device_name,
            "epochs_run": self.epochs_run,
            "stopped_reason": self.reason,
            "message": self.message,
            "final": {k: finite_or_none(v) for k, v in asdict(self.final).items()},
            "parameters": ({k: finite_or_none(v) for k, v in self.parameters.items()}
                           if self.parameters else None),
            "param_count": self.param_count,
            "history": [m.as_json() for m in self.history],
            "seconds": round(self.seconds, 4),
            "samples_per_second": finite_or_none(self.samples_per_second),
            "run_dir": str(self.run_dir) if self.run_dir else None,
            "config": to_dict(self.config),
        }


@dataclass
class RunEnded:
    """Sent last, whatever the reason: the result holds the history so far."""

    result: RunResult


@dataclass
class RunFailed:
    """Sent when an exception stops the run (before RunEnded with reason ``failed``)."""

    message: str
    traceback: str


class Callback:
    """Receives the loop's events; override the hooks you need. Hooks run on the training thread."""

    def on_run_start(self, event: RunStarted) -> None:
        """The run is about to take its first step."""

    def on_progress(self, event: Progress) -> None:
        """A reporting interval passed."""

    def on_epoch_end(self, event: EpochEnded) -> None:
        """An epoch and its validation finished."""

    def on_error(self, event: RunFailed) -> None:
        """An exception stopped the run."""

    def on_run_end(self, event: RunEnded) -> None:
        """The run ended (always sent once the run started)."""


def finite_or_none(value: Any) -> Any:
    """Non-finite floats become None (JSON has no NaN or infinity)."""
    return None if isinstance(value, float) and not math.isfinite(value) else value
