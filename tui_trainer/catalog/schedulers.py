"""The learning-rate schedulers a run can use: torch.optim.lr_scheduler classes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tui_trainer.schema import Param


@dataclass(frozen=True)
class SchedulerSpec:
    """A scheduler choice: its torch class, when it steps, and its parameters.

    ``steps`` is ``"epoch"`` (after each epoch), ``"batch"`` (after each optimizer step) or
    ``"plateau"`` (after each epoch, given the monitored loss). ``run_length`` names the torch
    argument that spans the whole run: ``T_max`` in epochs when set to ``"epochs"`` (cosine), or
    ``total_steps``, always the run's optimizer steps (one-cycle). ``fixed`` holds torch
    arguments the catalog sets and does not offer.
    """

    name: str
    torch_class: str | None
    help: str
    steps: str
    params: tuple[Param, ...]
    run_length: str | None = None
    fixed: tuple[tuple[str, Any], ...] = ()

    def spans_run(self, params: dict[str, Any]) -> bool:
        """Whether the schedule is tied to the run's length (so the length cannot change later)."""
        if self.run_length == "total_steps":
            return True
        return self.run_length is not None and params.get(self.run_length) == "epochs"

    def torch_arguments(self, params: dict[str, Any], epochs: int | None, steps_per_epoch: int) -> dict[str, Any]:
        """The keyword arguments of the torch class for a run of ``epochs`` epochs of
        ``steps_per_epoch`` optimizer steps (None: a run until stopped, which a schedule that
        spans the run cannot have)."""
        arguments = {**params, **dict(self.fixed)}
        if self.run_length == "total_steps":
            arguments["total_steps"] = epochs * steps_per_epoch
        elif self.spans_run(params):
            arguments[self.run_length] = epochs
        return arguments


_GAMMA_HELP = "multiplicative factor of learning-rate decay"

SCHEDULERS: dict[str, SchedulerSpec] = {
    spec.name: spec
    for spec in (
        SchedulerSpec("none", None, "constant learning rate", "epoch", ()),
        SchedulerSpec("step", "StepLR", "multiply the rate by gamma every step_size epochs", "epoch", (
            Param("step_size", "int", 10, "epochs between decays (torch has no default)", minimum=1),
            Param("gamma", "float", 0.1, _GAMMA_HELP, minimum=0.0, min_exclusive=True),
        )),
        SchedulerSpec("exponential", "ExponentialLR", "multiply the rate by gamma every epoch", "epoch", (
            Param("gamma", "float", 0.95, _GAMMA_HELP + " (torch has no default)",
                  minimum=0.0, min_exclusive=True),
        )),
        SchedulerSpec("cosine", "CosineAnnealingLR", "cosine annealing from lr to eta_min over T_max epochs",
                      "epoch", (
            Param("T_max", "int", "epochs", "epochs of one half cosine ('epochs': the run's epochs)",
                  minimum=1, keywords=("epochs",)),
            Param("eta_min", "float", 0.0, "minimum learning rate", minimum=0.0),
        ), run_length="T_max"),
        SchedulerSpec("plateau", "ReduceLROnPlateau",
                      "reduce the rate when the monitored loss stops improving", "plateau", (
            Param("factor", "float", 0.1, "factor the rate is multiplied by", minimum=0.0, maximum=1.0,
                  min_exclusive=True, max_exclusive=True),
            Param("patience", "int", 10, "epochs without improvement before reducing", minimum=0),
            Param("threshold", "float", 0.0001, "minimum relative improvement that counts", minimum=0.0),
            Param("cooldown", "int", 0, "epochs to wait after a reduction", minimum=0),
            Param("min_lr", "float", 0.0, "lower bound on the learning rate", minimum=0.0),
        ), fixed=(("mode", "min"),)),
        SchedulerSpec("one-cycle", "OneCycleLR", "1cycle policy: warm up to max_lr, then anneal (per batch)",
                      "batch", (
            Param("max_lr", "float", 0.1, "peak learning rate (torch has no default)",
                  minimum=0.0, min_exclusive=True),
            Param("pct_start", "float", 0.3, "fraction of the cycle spent increasing the rate",
                  minimum=0.0, maximum=1.0, min_exclusive=True, max_exclusive=True),
            Param("anneal_strategy", "choice", "cos", "annealing strategy", choices=("cos", "linear")),
            Param("cycle_momentum", "bool", True, "cycle momentum inversely to the rate "
                  "(needs an optimizer with momentum or betas)"),
            Param("base_momentum", "float", 0.85, "lower momentum bound", minimum=0.0),
            Param("max_momentum", "float", 0.95, "upper momentum bound", minimum=0.0),
            Param("div_factor", "float", 25.0, "initial lr = max_lr / div_factor",
                  minimum=0.0, min_exclusive=True),
            Param("final_div_factor", "float", 10000.0, "final lr = initial lr / final_div_factor",
                  minimum=0.0, min_exclusive=True),
            Param("three_phase", "bool", False, "use a third phase that anneals to the final lr"),
        ), run_length="total_steps"),
    )
}
