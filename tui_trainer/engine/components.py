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


#: User loss classes already imported, by (file, size, modification time, class name): a file
#: is imported once per change, however often a config naming it is checked.
_USER_LOSSES: dict[tuple[str, int, int, str], type[nn.Module] | UserFacingError] = {}


def _cache_key(name: str) -> tuple[str, int, int, str] | None:
    """The import cache's key for the current version of a user loss file (None: no file)."""
    path, cls_name = user_loss_parts(name)
    file = Path(path).expanduser()
    try:
        stat = file.stat()
    except OSError:
        return None
    return (str(file.resolve()), stat.st_size, stat.st_mtime_ns, cls_name)


def user_loss_imported(name: str) -> bool:
    """Whether the current version of a user loss file was imported already (well or not), so
    that checking it again costs no import."""
    key = _cache_key(name)
    return key is None or key in _USER_LOSSES


def load_user_loss(name: str) -> type[nn.Module]:
    """Import ``path/to/file.py:ClassName`` and return the class, checking it is an nn.Module.

    Whatever the file does on import (an exception, ``sys.exit``, ``KeyboardInterrupt``) becomes
    a UserFacingError naming the file; a file is imported again only once it has changed."""
    path, cls_name = user_loss_parts(name)
    file = Path(path).expanduser()
    key = _cache_key(name)
    if key is None:
        raise UserFacingError(f"loss: file {path!r} does not exist")
    if key not in _USER_LOSSES:
        try:
            _USER_LOSSES[key] = _import_user_loss(file, path, cls_name)
        except UserFacingError as exc:
            _USER_LOSSES[key] = exc
    found = _USER_LOSSES[key]
    if isinstance(found, UserFacingError):
        raise found
    return found


def _import_user_loss(file: Path, path: str, cls_name: str) -> type[nn.Module]:
    spec = importlib.util.spec_from_file_location(f"tui_trainer_user_loss_{file.stem}", file)
    if spec is None or not file.is_file():
        raise UserFacingError(f"loss: {path!r} is not a Python file")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except BaseException as exc:  # user code may sys.exit or raise KeyboardInterrupt
        raise UserFacingError(f"loss: importing {path} {describe_raised(exc)}") from None
    cls = getattr(module, cls_name, None)
    if not (inspect.isclass(cls) and issubclass(cls, nn.Module)):
        found = [n for n, v in vars(module).items()
                 if inspect.isclass(v) and issubclass(v, nn.Module) and v.__module__ == module.__name__]
        raise UserFacingError(f"loss: {path} has no nn.Module subclass named {cls_name!r}; "
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
