"""Field labels in words a learner reads, and the help line of a field: its config key (the torch
keyword), what it does and what it takes."""

from __future__ import annotations

from tui_trainer.catalog.losses import LOSSES, OWN_LOSSES
from tui_trainer.catalog.optimizers import OPTIMIZERS
from tui_trainer.catalog.schedulers import SCHEDULERS
from tui_trainer.schema import Param

#: Columns of a label next to a text or list field; a checkbox's label may be longer.
LABEL_WIDTH = 16

#: Words for settings whose name does not read as words (a name not here reads as itself with
#: spaces for underscores; a dotted key names one section's setting). Each fits LABEL_WIDTH,
#: checkboxes' labels excepted.
LABELS = {
    "T_max": "cosine period", "alpha": "smoothing", "amsgrad": "AMSGrad variant",
    "base_momentum": "min momentum", "batch_size": "batch size", "channels": "conv channels",
    "cycle_momentum": "cycle momentum",
    "data_dir": "data folder", "decoupled_weight_decay": "decoupled weight decay",
    "div_factor": "initial divisor", "early_stopping_min_delta": "stop: min delta",
    "explode_factor": "explode factor", "l1": "L1 penalty",
    "early_stopping_patience": "stop: patience", "eps": "epsilon", "eta_min": "min lr",
    "final_div_factor": "final divisor", "gamma": "decay factor", "grad_clip": "clip grad norm",
    "hidden": "hidden layers", "initial_accumulator_value": "initial accum.", "limit": "image limit",
    "lr": "learning rate", "max_lr": "peak lr", "min_lr": "min lr",
    "nesterov": "Nesterov momentum", "pct_start": "rising fraction", "seed": "random seed",
    "task.seed": "points seed", "train_ratio": "train ratio %",
    "threads": "CPU threads", "three_phase": "three phases", "val_path": "val folder",
    "val_split": "validation split",
    "zero_grad_set_to_none": "zero_grad(set_to_none)",
}
#: Sections whose parameters are keywords of a torch class, with that class per choice.
TORCH_CLASSES = {
    "loss": lambda name: f"nn.{LOSSES[name].torch_class}" if name in LOSSES and name not in OWN_LOSSES else None,
    "optimizer": lambda name: f"optim.{OPTIMIZERS[name].torch_class}" if name in OPTIMIZERS else None,
    "scheduler": lambda name: (f"lr_scheduler.{SCHEDULERS[name].torch_class}"
                               if name in SCHEDULERS and SCHEDULERS[name].torch_class else None),
}


def label(key: str, param: Param) -> str:
    """The words shown next to the field of ``key`` (a choice's field is named by its section)."""
    section, _, name = key.partition(".")
    if name == "name":
        return section
    return LABELS.get(key, LABELS.get(name, name.replace("_", " ")))


def help_line(key: str, param: Param, choice: str | None = None) -> str:
    """The focused field's help: ``weight decay · torch.optim.Adam(weight_decay=) · L2 penalty
    (weight decay); must be a number >= 0``. ``choice`` is the section's current choice."""
    section, _, name = key.partition(".")
    torch_class = TORCH_CLASSES.get(section, lambda _: None)(choice) if choice and name != "name" else None
    where = f"torch.{torch_class}({name}=…)" if torch_class else key
    allowed = "" if param.kind == "choice" else f"; {param.allowed()}"  # the list shows the choices
    return f"{label(key, param)} · {where} · {param.help}{allowed}"
