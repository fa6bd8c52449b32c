"""What hooks see (read-only contexts at named points of the loop) and the loop's own rules as
hooks: early stopping, the target loss and the gradient norm."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from tui_trainer.engine.events import Callback, EpochMetrics, StopRun
from tui_trainer.engine.state import RunState


@dataclass(frozen=True)
class StepContext:
    """A step as hooks see it: the model, its optimizer, the batch, the output, the loss (a
    tensor: reading it waits for the device), the total gradient norm before clipping (a tensor,
    None without clipping) and the run state."""

    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    inputs: torch.Tensor
    targets: torch.Tensor
    output: torch.Tensor
    loss: torch.Tensor
    grad_norm: torch.Tensor | None
    epoch: int
    step: int
    state: RunState


@dataclass(frozen=True)
class EpochContext:
    """An epoch's end as hooks see it: the model, its optimizer, the epoch's metrics, the loss the
    stopping rules watch (validation loss, or train loss without a validation split) and its
    name, and the run state."""

    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    metrics: EpochMetrics
    monitored: float
    monitored_name: str
    state: RunState


class GradientNorm(Callback):
    """Reports ``grad_norm``: the total gradient norm of the trainable parameters at each report
    (before clipping, as clip_grad_norm_ measures it)."""

    def at_report(self, context: StepContext) -> dict[str, float]:
        if context.grad_norm is not None:
            return {"grad_norm": float(context.grad_norm)}
        grads = [p.grad for p in context.model.parameters() if p.grad is not None]
        return {"grad_norm": float(torch.nn.utils.get_total_norm(grads)) if grads else 0.0}


class TargetLoss(Callback):
    """Ends the run once the monitored loss is at or below ``target``."""

    def __init__(self, target: float) -> None:
        self.target = target

    def at_epoch_end(self, context: EpochContext) -> StopRun | None:
        if context.monitored <= self.target:
            return StopRun("target-reached", f"{context.monitored_name} {context.monitored:.6g} reached "
                           f"the target {self.target} at epoch {context.metrics.epoch}")
        return None


class EarlyStopping(Callback):
    """Ends the run when the monitored loss has not improved by more than ``min_delta`` for
    ``patience`` epochs in a row."""

    def __init__(self, patience: int, min_delta: float) -> None:
        self.patience, self.min_delta = patience, min_delta
        self.best: tuple[float, int] | None = None  # (loss, epoch)
        self.stale_epochs = 0

    def at_epoch_end(self, context: EpochContext) -> StopRun | None:
        epoch, monitored = context.metrics.epoch, context.monitored
        best = self.best
        if best is None or monitored < best[0] - self.min_delta:
            self.best, self.stale_epochs = (monitored, epoch), 0
            return None
        self.stale_epochs += 1
        if self.stale_epochs < self.patience:
            return None
        return StopRun("early-stopped", f"early stop at epoch {epoch}: {context.monitored_name} has not "
                       f"improved by more than {self.min_delta} for {self.stale_epochs} epochs "
                       f"(best {best[0]:.6g} at epoch {best[1]})")

    def state_dict(self) -> dict[str, Any]:
        return {"best": list(self.best) if self.best is not None else None,
                "stale_epochs": self.stale_epochs}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best = tuple(state["best"]) if state["best"] is not None else None
        self.stale_epochs = state["stale_epochs"]
