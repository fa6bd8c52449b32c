"""Small helpers shared by tests."""

from __future__ import annotations

from typing import Any

from tui_trainer.config import Config, resolve_flags


def config(task: str = "linear", **dotted: Any) -> Config:
    """A resolved config for ``task`` on the CPU, with dotted overrides (``optimizer__lr=0.1``)."""
    overrides = {"task.name": task, "training.device": "cpu"}
    overrides.update({key.replace("__", "."): value for key, value in dotted.items()})
    return resolve_flags(None, overrides)
