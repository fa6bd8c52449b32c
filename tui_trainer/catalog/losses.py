"""The losses a run can use: torch.nn loss classes, tutorial 001's custom loss, or a user's class."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tui_trainer.schema import Param

#: How the model's output layer and the targets look for a loss.
#: value: one real output, float targets; probability: one output after sigmoid, 0/1 targets;
#: logit: one raw output, 0/1 targets; logits: one raw output per class, class-index targets;
#: log-probs: log_softmax over the classes, class-index targets; surface: the value of an arena
#: task's function at its point (no targets).
HEADS = ("value", "probability", "logit", "logits", "log-probs", "surface")

#: A class of your own in a Python file: ``path/to/file.py:ClassName`` (a loss, or a model).
USER_CLASS_PATTERN = re.compile(r"^(?P<path>.+\.py):(?P<cls>[A-Za-z_][A-Za-z0-9_]*)$")


@dataclass(frozen=True)
class LossSpec:
    """A loss choice: the class it builds, the output head it needs, and its parameters."""

    name: str
    torch_class: str
    help: str
    head: str
    params: tuple[Param, ...] = ()

    @property
    def kinds(self) -> tuple[str, ...]:
        """The task kinds this loss fits."""
        return {
            "value": ("regression",),
            "probability": ("binary",),
            "logit": ("binary",),
            "logits": ("binary", "multiclass"),
            "log-probs": ("binary", "multiclass"),
            "surface": ("arena",),
        }[self.head]

    def output_size(self, classes: int | None) -> int:
        """Number of model outputs for a task with ``classes`` classes (None: regression)."""
        return classes if self.head in ("logits", "log-probs") and classes else 1


LOSSES: dict[str, LossSpec] = {
    spec.name: spec
    for spec in (
        LossSpec("mse", "MSELoss", "mean squared error (regression)", "value"),
        LossSpec("l1", "L1Loss", "mean absolute error (regression)", "value"),
        LossSpec("smooth-l1", "SmoothL1Loss", "L1 with a quadratic zone below beta (regression)", "value", (
            Param("beta", "float", 1.0, "where the loss changes from quadratic to linear", minimum=0.0),
        )),
        LossSpec("huber", "HuberLoss", "quadratic below delta, linear above (regression)", "value", (
            Param("delta", "float", 1.0, "where the loss changes from quadratic to linear",
                  minimum=0.0, min_exclusive=True),
        )),
        LossSpec("cross-entropy", "CrossEntropyLoss", "log_softmax + NLL on raw logits (classification)",
                 "logits", (
            Param("label_smoothing", "float", 0.0, "amount of smoothing of the targets",
                  minimum=0.0, maximum=1.0),
        )),
        LossSpec("nll", "NLLLoss", "negative log likelihood; the model ends in log_softmax", "log-probs"),
        LossSpec("bce", "BCELoss", "binary cross entropy; the model ends in sigmoid", "probability"),
        LossSpec("bce-logits", "BCEWithLogitsLoss", "sigmoid + binary cross entropy on one raw logit",
                 "logit"),
        LossSpec("custom-mae", "CustomLoss", "tutorial 001's CustomLoss: an nn.Module computing "
                 "mean |predicted - actual|", "value"),
        LossSpec("surface", "SurfaceValue", "the function's value at the point (the arena tasks: "
                 "rosenbrock, rastrigin ...; their only loss)", "surface"),
    )
}

#: Losses tui-trainer defines itself (nn.Module subclasses, not torch.nn classes).
OWN_LOSSES = ("custom-mae", "surface")

USER_LOSS_HELP = ("or a class of your own as path/to/file.py:ClassName (an nn.Module subclass made "
                  "with no arguments, called as loss(output, target); for classification it gets "
                  "raw logits and class indices)")


def user_class_parts(name: str) -> tuple[str, str] | None:
    """Split ``path/to/file.py:ClassName`` into (path, class name), or None if it is not one."""
    match = USER_CLASS_PATTERN.match(name)
    return (match["path"], match["cls"]) if match else None


#: A loss of your own is such a class.
user_loss_parts = user_class_parts


def user_loss_spec(name: str, kind: str) -> LossSpec:
    """The spec of a user's loss class for a task kind: logits for classification, value otherwise."""
    head = "value" if kind == "regression" else "logits"
    return LossSpec(name, name, "your own loss class", head)


def loss_spec(name: str, kind: str) -> LossSpec | None:
    """Look up a catalog loss or a user loss path; None when ``name`` is neither."""
    if name in LOSSES:
        return LOSSES[name]
    return user_loss_spec(name, kind) if user_loss_parts(name) else None


def fitting_losses(kind: str) -> list[str]:
    """Names of the catalog losses that fit a task kind."""
    return [name for name, spec in LOSSES.items() if kind in spec.kinds]


def loss_fit_problem(spec: LossSpec, task_name: str, kind: str, classes: int | None) -> str | None:
    """Why a loss cannot be used for a task, or None when it fits."""
    if kind in spec.kinds:
        return None
    if kind == "arena":
        return (f"task {task_name} is an arena task: its loss is the function's value at the point "
                f"(surface), not a loss of the catalog; leave loss.name out (or surface)")
    needs = {
        "value": "a real-valued output and real targets (regression)",
        "probability": "one output in [0, 1] (a binary task)",
        "logit": "one raw output for two classes (a binary task)",
        "logits": "class labels",
        "log-probs": "class labels",
        "surface": "an arena task (a 2-D function such as rosenbrock)",
    }[spec.head]
    has = f"task {task_name} is regression" if kind == "regression" else (
        f"task {task_name} has {classes} classes")
    return f"{spec.name} needs {needs}; {has}; use " + _or_list(fitting_losses(kind))


def _or_list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]
