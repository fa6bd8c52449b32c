"""What the training loop reports: plain dataclass events, and the Callback that receives them.

The loop knows nothing about who listens (the CLI, the app, the run directory writer, tests).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui_trainer.changes import Change
from tui_trainer.config import Config, to_dict

if TYPE_CHECKING:
    from tui_trainer.engine.evaluation import Confusion, Mistakes
    from tui_trainer.engine.hooks import EpochContext, StepContext

@dataclass
class RunStarted:
    """Sent once the data, model and optimizer are built, before the first step (``start_epoch``
    and ``start_step``: where a resumed run goes on)."""

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
    start_step: int = 0
    #: The class names in class-index order, when the data names them (csv, images).
    class_names: list[str] | None = None
    #: Samples of the test set, scored once at the end (0: the run has none).
    test_size: int = 0


@dataclass
class Progress:
    """Sent every reporting interval. ``train_loss`` is the mean over the epoch's steps since the
    last report; ``grad_norm`` is the total gradient norm at this step. ``points`` are the step
    curve's new (global step, train loss) points since the last report (every step's loss, or
    the mean of every k steps in a long run); ``figures`` are what hooks measured at this report."""

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
    points: list[tuple[int, float]] = field(default_factory=list)
    figures: dict[str, float] = field(default_factory=dict)


@dataclass
class EpochMetrics:
    """One epoch of history. ``train_*`` are running values over the epoch's batches (as Keras
    reports them); ``val_*`` come from an evaluation pass under model.eval() and no_grad().
    ``layers`` holds each layer's gradient-flow figures (``hooks.LayerStats``) for the epochs
    they were measured in (None for the others)."""

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
    layers: list[dict[str, Any]] | None = None
    #: An arena run's path in this epoch: [step, x, y] after each recorded step (None otherwise).
    path: list[list[float | None]] | None = None

    def as_json(self) -> dict[str, Any]:
        """Plain JSON data; non-finite numbers become null."""
        return {k: finite_or_none(v) for k, v in asdict(self).items()}


@dataclass
class EpochEnded:
    """Sent after each epoch's validation; ``points`` are the step curve's points of the epoch
    not yet sent with a Progress event."""

    epoch: int
    epochs: int
    metrics: EpochMetrics
    points: list[tuple[int, float]] = field(default_factory=list)


@dataclass
class FinalMetrics:
    """The trained model evaluated on the training and validation sets after the last epoch,
    and on the test set (when the run has one: its only use)."""

    train_loss: float | None = None
    val_loss: float | None = None
    train_accuracy: float | None = None
    val_accuracy: float | None = None
    train_r2: float | None = None
    val_r2: float | None = None
    test_loss: float | None = None
    test_accuracy: float | None = None
    test_r2: float | None = None


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
    class_names: list[str] | None = None
    compile_seconds: float | None = None
    #: An arena run's whole path, [step, x, y] (``engine.arena.ArenaPath``), and where its point ended.
    path: list[list[float | None]] | None = None
    point: dict[str, Any] | None = None
    #: A classifier's confusion matrices and misclassified samples, by split (``val``, ``test``;
    #: empty for regression, and for a split the run does not have).
    confusion: dict[str, Confusion] = field(default_factory=dict)
    mistakes: dict[str, Mistakes] = field(default_factory=dict)

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
            "classes": self.class_names,
            "point": ({k: finite_or_none(v) for k, v in self.point.items()} if self.point else None),
            "confusion": ({split: matrix.as_json() for split, matrix in self.confusion.items()}
                          if self.confusion else None),
            "path": self.path,
            "history": [m.as_json() for m in self.history],
            "seconds": round(self.seconds, 4),
            "compile_seconds": None if self.compile_seconds is None else round(self.compile_seconds, 4),
            "samples_per_second": finite_or_none(self.samples_per_second),
            "run_dir": str(self.run_dir) if self.run_dir else None,
            "config": to_dict(self.config),
        }


@dataclass
class ChangeMade:
    """A mid-run change took effect before optimizer step ``change.at_step`` (in ``epoch``);
    ``config`` is the run's config, which holds it."""

    change: Change
    epoch: int
    config: Config


@dataclass
class StopRun:
    """What a hook returns at an epoch's end to end the run: why (``early-stopped``,
    ``target-reached``) and a message saying so."""

    reason: str
    message: str


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
    """Receives the loop's events and looks at the model at named points; override the hooks you
    need. Hooks run on the training thread. The context hooks (``after_backward``,
    ``after_step``, ``at_report``, ``at_epoch_end``, ``at_last_epoch_end``) see the model,
    optimizer, batch and run state; they must not change them, and return plain data. The loop
    calls ``after_backward`` and ``after_step`` only for callbacks that override them, so the
    others cost nothing per step."""

    def on_run_start(self, event: RunStarted) -> None:
        """The run is about to take its first step."""

    def after_backward(self, context: StepContext) -> None:
        """The step's gradients exist (before clipping and the optimizer step)."""

    def after_step(self, context: StepContext) -> None:
        """The optimizer stepped."""

    def at_report(self, context: StepContext) -> dict[str, float] | None:
        """A reporting interval passed; named figures returned here go into the Progress event."""
        return None

    def on_progress(self, event: Progress) -> None:
        """A reporting interval passed."""

    def at_epoch_end(self, context: EpochContext) -> StopRun | None:
        """The epoch and its validation finished; return StopRun to end the run."""
        return None

    def at_last_epoch_end(self, context: EpochContext) -> None:
        """The run's last epoch ended (its epochs are done, a rule ends the run, or a stop is
        asked for): after every ``at_epoch_end``, before the epoch is announced, so what a hook
        adds to its metrics describes the model the run ends with."""

    def on_epoch_end(self, event: EpochEnded) -> None:
        """An epoch and its validation finished."""

    def on_change(self, event: ChangeMade) -> None:
        """A hyperparameter changed mid-run (the change is part of the run's config)."""

    def on_error(self, event: RunFailed) -> None:
        """An exception stopped the run."""

    def on_run_end(self, event: RunEnded) -> None:
        """The run ended (always sent once the run started)."""

    def state_dict(self) -> dict[str, Any]:
        """What the callback must keep for a resumed run to go on as if never stopped."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Take back what ``state_dict`` gave."""


def finite_or_none(value: Any) -> Any:
    """Non-finite floats become None (JSON has no NaN or infinity)."""
    return None if isinstance(value, float) and not math.isfinite(value) else value
