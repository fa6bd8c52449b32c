"""Where a run stands, as dataclasses with the usual PyTorch ``state_dict()`` /
``load_state_dict()`` pair. Checkpoints only turn these into a file and back."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import torch


@dataclass(slots=True)
class EpochPart:
    """The steps of an epoch done so far: its shuffle order (on the CPU; None when unshuffled),
    the first step not taken, and the sums its metrics need. A run stopped inside an epoch
    keeps one, so that a checkpoint can continue the epoch exactly."""

    epoch: int
    order: torch.Tensor | None
    next_step: int = 1
    loss_total: float = 0.0
    loss_count: float = 0.0
    metric_total: float = 0.0
    seen: int = 0
    seconds: float = 0.0


@dataclass
class RunState:
    """The loop's counters: epochs completed, steps taken, the epoch left unfinished (a stop
    inside an epoch), training time and samples seen, and the loss of the run's first step (taken
    before any update: what ``training.explode_factor`` compares with; None before it, or for a
    run saved before it was kept). A new piece of loop state is one new field here;
    ``state_dict`` and ``load_state_dict`` follow the fields (a field missing from an older
    checkpoint keeps its default)."""

    epochs_run: int = 0
    global_step: int = 0
    unfinished: EpochPart | None = None
    train_seconds: float = 0.0
    samples_seen: int = 0
    first_loss: float | None = None

    def state_dict(self) -> dict[str, Any]:
        """Plain data and tensors (readable with ``torch.load(weights_only=True)``)."""
        state = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        if self.unfinished is not None:
            state["unfinished"] = dataclasses.asdict(self.unfinished)
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Take the counters of ``state_dict()``'s output."""
        for f in dataclasses.fields(self):
            setattr(self, f.name, state.get(f.name, f.default))
        if state["unfinished"] is not None:
            self.unfinished = EpochPart(**state["unfinished"])

    @property
    def next_epoch(self) -> int:
        """The epoch the run trains next (the unfinished one, if any)."""
        return self.unfinished.epoch if self.unfinished is not None else self.epochs_run + 1
