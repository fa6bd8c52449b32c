"""torch's private names that the engine uses (torch 2.14), reached only here."""

from __future__ import annotations

import torch

#: What this module reaches of torch's private names.
REACHED = ("torch.optim.lr_scheduler.OneCycleLR._schedule_phases",)


def one_cycle_phases(scheduler: torch.optim.lr_scheduler.OneCycleLR) -> list[dict]:
    """The phases of a one-cycle schedule as torch keeps them, each with the step it ends at
    (``end_step``): torch divides by each phase's length, so a phase of no steps fails later."""
    return scheduler._schedule_phases


def missing() -> list[str]:
    """The names of REACHED the installed torch does not have."""
    weight = torch.zeros(1, requires_grad=True)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(torch.optim.SGD([weight], lr=0.1), max_lr=0.1, total_steps=4)
    phases = getattr(scheduler, "_schedule_phases", None)
    if not isinstance(phases, list) or not all(isinstance(p, dict) and "end_step" in p for p in phases):
        return [f"{REACHED[0]} (a list of phases, each with an end_step)"]
    return []
