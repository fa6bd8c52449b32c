"""Build the torch loss, optimizer and scheduler objects a config names."""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn

from tui_trainer.catalog.losses import LOSSES, LossSpec, loss_spec, user_class_parts
from tui_trainer.catalog.optimizers import OPTIMIZERS
from tui_trainer.catalog.schedulers import SCHEDULERS
from tui_trainer.config import Choice, Config
from tui_trainer.engine.custom_loss import CustomLoss
from tui_trainer.engine.surfaces import SurfaceValue
from tui_trainer.errors import UserFacingError, first_line


def head_of(config: Config) -> LossSpec:
    """The loss spec of the config (catalog loss or user loss) for its task kind."""
    return loss_spec(config.loss.name, config.task_spec.kind)


def build_loss(choice: Choice) -> nn.Module:
    """The torch loss module: a torch.nn class, tutorial 001's CustomLoss, an arena task's
    SurfaceValue, or a user class."""
    if choice.name == "custom-mae":
        return CustomLoss()
    if choice.name == "surface":
        return SurfaceValue()
    if choice.name in LOSSES:
        return getattr(nn, LOSSES[choice.name].torch_class)(**choice.params)
    return make_user_loss(choice.name)


#: Classes of your own already imported (a loss or a model), by (file, size, modification time,
#: class name): a file is imported once per change, however often a config naming it is checked.
_USER_CLASSES: dict[tuple[str, int, int, str], type[nn.Module] | UserFacingError] = {}


def _cache_key(name: str) -> tuple[str, int, int, str] | None:
    """The import cache's key for the current version of a user class's file (None: no file)."""
    path, cls_name = user_class_parts(name)
    file = Path(path).expanduser()
    try:
        stat = file.stat()
    except OSError:
        return None
    return (str(file.resolve()), stat.st_size, stat.st_mtime_ns, cls_name)


def user_class_imported(name: str) -> bool:
    """Whether the current version of a user class's file (``path.py:Class``) was imported
    already (well or not), so that checking it again costs no import."""
    key = _cache_key(name)
    return key is None or key in _USER_CLASSES


def load_user_class(field: str, name: str) -> type[nn.Module]:
    """Import ``path/to/file.py:ClassName`` (the value of config field ``field``: ``loss`` or
    ``model.path``) and return the class, checking it is an nn.Module.

    Whatever the file does on import (an exception, ``sys.exit``, ``KeyboardInterrupt``) becomes
    a UserFacingError naming the field and the file; a file is imported again only once it has
    changed."""
    path, cls_name = user_class_parts(name)
    file = Path(path).expanduser()
    key = _cache_key(name)
    if key is None:
        raise UserFacingError(f"{field}: file {path!r} does not exist")
    if key not in _USER_CLASSES:
        try:
            _USER_CLASSES[key] = _import_user_class(field, file, path, cls_name)
        except UserFacingError as exc:
            _USER_CLASSES[key] = exc
    found = _USER_CLASSES[key]
    if isinstance(found, UserFacingError):
        raise found
    return found


def load_user_loss(name: str) -> type[nn.Module]:
    """The loss class ``path/to/file.py:ClassName`` (see ``load_user_class``)."""
    return load_user_class("loss", name)


def _import_user_class(field: str, file: Path, path: str, cls_name: str) -> type[nn.Module]:
    role = "model" if field == "model.path" else "loss"
    spec = importlib.util.spec_from_file_location(f"tui_trainer_user_{role}_{file.stem}", file)
    if spec is None or not file.is_file():
        raise UserFacingError(f"{field}: {path!r} is not a Python file")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except BaseException as exc:  # user code may sys.exit or raise KeyboardInterrupt
        raise UserFacingError(f"{field}: importing {path} {describe_raised(exc)}") from None
    cls = getattr(module, cls_name, None)
    if not (inspect.isclass(cls) and issubclass(cls, nn.Module)):
        found = [n for n, v in vars(module).items()
                 if inspect.isclass(v) and issubclass(v, nn.Module) and v.__module__ == module.__name__]
        raise UserFacingError(f"{field}: {path} has no nn.Module subclass named {cls_name!r}; "
                              f"it defines {', '.join(found) or 'none'}")
    return cls


def make_user_loss(name: str) -> nn.Module:
    """An instance of a user loss class, made with no arguments (UserFacingError when that fails)."""
    cls = load_user_loss(name)
    try:
        return cls()
    except BaseException as exc:  # user code may sys.exit or raise KeyboardInterrupt
        raise UserFacingError(f"loss: {name}: {cls.__name__}() {describe_raised(exc)}; a user loss "
                              "class is made with no arguments") from None


def make_user_model(path: str, args: dict[str, Any]) -> nn.Module:
    """An instance of your model class ``path/to/net.py:ClassName`` made with the keyword
    arguments ``args`` (``[model.args]``); what its ``__init__`` raises (``sys.exit`` included)
    becomes a UserFacingError naming the file and the class."""
    cls = load_user_class("model.path", path)
    shown = ", ".join(f"{key}={value!r}" for key, value in args.items())
    try:
        return cls(**args)
    except BaseException as exc:  # user code may sys.exit or raise KeyboardInterrupt
        raise UserFacingError(f"model.path: {path}: {cls.__name__}({shown}) {describe_raised(exc)}"
                              + ("" if args else "; its keyword arguments come from [model.args] "
                                 "(--set model.args.NAME=VALUE)")) from None


def file_digest(file: Path) -> str:
    """The SHA-256 of a file's bytes (a checkpoint records those of the code files its run used)."""
    return hashlib.sha256(file.read_bytes()).hexdigest()


def describe_raised(exc: BaseException) -> str:
    """What user code did, in words: ``called sys.exit(3)``, ``raised TypeError: ...``."""
    if isinstance(exc, SystemExit):
        return f"called sys.exit({exc.code!r})"
    if isinstance(exc, KeyboardInterrupt):
        return "raised KeyboardInterrupt"
    return f"raised {type(exc).__name__}: {first_line(exc)}"


def build_optimizer(choice: Choice, parameters) -> torch.optim.Optimizer:
    """The torch.optim optimizer with the config's hyperparameters (betas as a tuple)."""
    params = {k: tuple(v) if isinstance(v, list) else v for k, v in choice.params.items()}
    return getattr(torch.optim, OPTIMIZERS[choice.name].torch_class)(parameters, **params)


def build_scheduler(choice: Choice, optimizer: torch.optim.Optimizer, epochs: int | None, steps_per_epoch: int):
    """The torch.optim.lr_scheduler scheduler (None for ``none``), with the arguments the catalog
    derives from the run's length."""
    spec = SCHEDULERS[choice.name]
    if spec.torch_class is None:
        return None
    arguments = spec.torch_arguments(choice.params, epochs, steps_per_epoch)
    return getattr(torch.optim.lr_scheduler, spec.torch_class)(optimizer, **arguments)


#: The torch.autocast dtype of each training.precision (None: plain float32).
AUTOCAST_DTYPES = {"fp32": None, "bf16": "bfloat16", "fp16": "float16"}


def autocast_dtype(precision: str) -> torch.dtype | None:
    """The dtype a run's forward pass autocasts to (None for fp32)."""
    name = AUTOCAST_DTYPES[precision]
    return getattr(torch, name) if name else None


def precision_problem(precision: str, device: torch.device) -> str | None:
    """Why ``precision`` cannot run on ``device`` (None when it can)."""
    if precision == "fp16" and device.type != "cuda":
        return (f"fp16 needs a CUDA GPU (autocast to float16 with a gradient scaler); this run's "
                f"device is {device.type}; use bf16 there, or fp32")
    if precision == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        return f"bf16 is not supported by {torch.cuda.get_device_name(device)}; use fp16 or fp32"
    if precision == "bf16" and device.type not in ("cpu", "cuda"):
        return f"bf16 autocast runs on the CPU or a CUDA GPU, not on {device.type}; use fp32"
    return None
