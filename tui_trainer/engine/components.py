"""Build the torch loss, optimizer and scheduler objects a config names."""

from __future__ import annotations

import importlib.util
import inspect
from pathlib import Path

import torch
import torch.nn as nn

from tui_trainer.catalog.losses import LOSSES, LossSpec, loss_spec, user_loss_parts
from tui_trainer.catalog.optimizers import OPTIMIZERS
from tui_trainer.catalog.schedulers import SCHEDULERS
from tui_trainer.config import Choice, Config
from tui_trainer.engine.custom_loss import CustomLoss
from tui_trainer.errors import UserFacingError


def head_of(config: Config) -> LossSpec:
    """The loss spec of the config (catalog loss or user loss) for its task kind."""
    return loss_spec(config.loss.name, config.task_spec.kind)


def build_loss(choice: Choice) -> nn.Module:
    """The torch loss module: a torch.nn class, tutorial 001's CustomLoss, or a user class."""
    if choice.name == "custom-mae":
        return CustomLoss()
    if choice.name in LOSSES:
        return getattr(nn, LOSSES[choice.name].torch_class)(**choice.params)
    return load_user_loss(choice.name)()


def load_user_loss(name: str) -> type[nn.Module]:
    """Import ``path/to/file.py:ClassName`` and return the class, checking it is an nn.Module."""
    path, cls_name = user_loss_parts(name)
    file = Path(path).expanduser()
    spec = importlib.util.spec_from_file_location(f"tui_trainer_user_loss_{file.stem}", file)
    if spec is None or not file.is_file():
        raise UserFacingError(f"loss: file {path!r} does not exist")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise UserFacingError(f"loss: importing {path} failed: {type(exc).__name__}: {exc}") from exc
    cls = getattr(module, cls_name, None)
    if not (inspect.isclass(cls) and issubclass(cls, nn.Module)):
        found = [n for n, v in vars(module).items()
                 if inspect.isclass(v) and issubclass(v, nn.Module) and v.__module__ == module.__name__]
        raise UserFacingError(f"loss: {path} has no nn.Module subclass named {cls_name!r}; "
                              f"it defines {', '.join(found) or 'none'}")
    return cls


def build_optimizer(choice: Choice, parameters) -> torch.optim.Optimizer:
    """The torch.optim optimizer with the config's hyperparameters (betas as a tuple)."""
    params = {k: tuple(v) if isinstance(v, list) else v for k, v in choice.params.items()}
    return getattr(torch.optim, OPTIMIZERS[choice.name].torch_class)(parameters, **params)


def build_scheduler(choice: Choice, optimizer: torch.optim.Optimizer, epochs: int, steps_per_epoch: int):
    """The torch.optim.lr_scheduler scheduler (None for ``none``), with the arguments the catalog
    derives from the run's length."""
    spec = SCHEDULERS[choice.name]
    if spec.torch_class is None:
        return None
    arguments = spec.torch_arguments(choice.params, epochs, steps_per_epoch)
    return getattr(torch.optim.lr_scheduler, spec.torch_class)(optimizer, **arguments)
