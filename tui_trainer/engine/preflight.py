"""The pre-flight: before the first step and before the run folder exists, the chosen loss runs
once on a real batch through (a copy of) the real model, and the optimizer and scheduler take one
step, so that what would fail at step 1 is refused with a message instead.

What set-up itself cannot have (memory for the data or the model) is refused the same way.
"""

from __future__ import annotations

import copy
from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterator

import torch

from tui_trainer.changes import EPOCHS_FIELD
from tui_trainer.engine.checks import refused
from tui_trainer.config import Config, epoch_limit
from tui_trainer.engine.components import build_optimizer, build_scheduler, describe_raised, head_of
from tui_trainer.errors import ConfigError, FieldError, UserFacingError
from tui_trainer.fences.torch import one_cycle_phases

if TYPE_CHECKING:
    from tui_trainer.engine.loop import Trainer

#: The pre-flight batch has at most this many samples (a shape problem shows on any batch).
PREFLIGHT_SAMPLES = 1024


@contextmanager
def setup_refusals() -> Iterator[None]:
    """Turn a failed allocation during set-up into a UserFacingError (no traceback)."""
    try:
        yield
    except (MemoryError, torch.OutOfMemoryError) as exc:
        raise UserFacingError(_memory_message(exc)) from None
    except RuntimeError as exc:
        if "allocate" not in str(exc) and "out of memory" not in str(exc):
            raise
        raise UserFacingError(_memory_message(exc)) from None


def _memory_message(exc: BaseException) -> str:
    detail = str(exc).split("DefaultCPUAllocator: ")[-1].split(" Error code")[0].strip()
    return ("not enough memory for this run" + (f" ({detail})" if detail else "")
            + "; use fewer samples (task.samples, task.limit), smaller hidden layers or a smaller "
            "batch")


def prepare(trainer: Trainer) -> None:
    """Set a trainer up and pre-flight it: what fails raises ConfigError or UserFacingError,
    before anything is trained or written."""
    with setup_refusals():
        trainer.setup()
        check_epoch_changes(trainer.config, trainer.steps_per_epoch)
        preflight(trainer)


def check_epoch_changes(config: Config, steps_per_epoch: int) -> None:
    """Refuse a change of training.epochs to fewer epochs than the run has reached at the change's
    step (known once the data sets the steps per epoch): a run cannot end before the epoch it is in."""
    problems = []
    for change in config.changes:
        epoch = -(-change.at_step // steps_per_epoch)
        if change.field == EPOCHS_FIELD and epoch_limit(change.value) is not None and change.value < epoch:
            problems.append(FieldError("changes", (
                f"training.epochs = {change.value} from step {change.at_step}: step {change.at_step} is "
                f"in epoch {epoch} ({steps_per_epoch} steps per epoch), so the run cannot end before "
                f"epoch {epoch}; give at least {epoch}, or an earlier step")))
    if problems:
        raise ConfigError(problems)


def preflight(trainer: Trainer) -> None:
    """Run the loss, a backward pass and one optimizer and scheduler step on a copy of a set-up
    trainer's model, leaving the trainer and the random-number state untouched; raises
    ConfigError naming the loss (its file), the shapes and what was wrong. A trainer without its
    loss (a loss file not run, ``Trainer(run_user_code=False)``) checks only the set-up."""
    if trainer.loss_fn is None:
        return
    with torch.random.fork_rng(devices=[trainer.device] if trainer.device.type == "cuda" else []):
        _loss_and_step(trainer)


def model_problem(model: torch.nn.Module) -> str | None:
    """What makes a model untrainable before it runs: no parameters, parameters that are not
    floating-point (an optimizer steps floats only), none that requires a gradient."""
    params = dict(model.named_parameters())
    if not params:
        return "has no parameters for the optimizer to train (nn.Parameter, or layers such as nn.Linear)"
    whole = [f"{name} ({str(p.dtype).removeprefix('torch.')})" for name, p in params.items()
             if not p.is_floating_point()]
    if whole:
        return (f"has parameters that are not floating-point: {', '.join(whole[:3])}; an optimizer "
                "steps float parameters only (make them float32, or register them as buffers)")
    if not any(p.requires_grad for p in params.values()):
        return "has no parameter that requires a gradient (all frozen: requires_grad=False)"
    return None


def check_model(config: Config, model: torch.nn.Module) -> None:
    """Raise ConfigError, naming the model (its file and class), when ``model_problem`` finds one."""
    problem = model_problem(model)
    if problem:
        raise ConfigError([FieldError(_model_field(config), f"{_model_name(config)} {problem}")])


def _model_field(config: Config) -> str:
    return "model.path" if config.model.kind == "file" else "model.kind"


def _model_name(config: Config) -> str:
    return config.model.path if config.model.kind == "file" else f"the {config.model.kind} model"


#: What each head asks of a model's output, in words.
HEAD_OUTPUTS = {
    "value": "one value per sample", "logits": "one raw score (logit) per class",
    "log-probs": "log-probabilities (log_softmax) per class", "probability": "one probability (after a sigmoid)",
    "logit": "one raw score (logit)",
}


def _output_problem(config: Config, trainer: Trainer, out, xb: torch.Tensor) -> str | None:
    """Why a model of your own's output on a batch does not fit the task and the loss."""
    n = len(xb)
    gives = f"gives {_shape(out)} for a batch of {n} (inputs {_shape(xb)})"
    if not isinstance(out, torch.Tensor):
        return f"{gives}; forward must return one tensor"
    if not out.is_floating_point():
        return f"{gives}; forward must return floating-point numbers"
    head = trainer.head
    size = head_of(config).output_size(trainer.data.classes)
    if head in HEAD_OUTPUTS and tuple(out.shape) != (n, size):
        task = config.task_spec
        has = (f"task {task.name} is regression" if task.traits.values
               else f"task {task.name} has {trainer.data.classes} classes")
        return (f"{gives}; {has} and {config.loss.name} needs {HEAD_OUTPUTS[head]}: ({n}, {size})")
    return None


def _loss_and_step(trainer: Trainer) -> None:
    config = trainer.config
    own = config.model.kind == "file"
    try:
        model = copy.deepcopy(trainer.model).train()
    except Exception as exc:
        raise ConfigError([FieldError(_model_field(config), f"{_model_name(config)} cannot be copied for "
                                      f"the pre-flight (copy.deepcopy {describe_raised(exc)})")]) from None
    n = min(trainer.batch_size, PREFLIGHT_SAMPLES)
    xb, yb = trainer.data.x_train[:n], trainer.data.y_train[:n]
    try:
        out = model(xb)
    except BaseException as exc:  # user code may sys.exit or raise KeyboardInterrupt
        if not own:
            raise
        raise ConfigError([FieldError("model.path", f"{config.model.path}: forward {describe_raised(exc)} on "
                                      f"a batch of {n} (inputs {_shape(xb)})")]) from None
    problem = _output_problem(config, trainer, out, xb) if own else None
    if problem:
        raise ConfigError([FieldError("model.path", f"{config.model.path} {problem}")])
    model_name = f"the model ({config.model.path})" if own else "the model"
    shapes = (f"{model_name} gives {_shape(out)} for a batch of {n}, the targets are {_shape(yb)}")
    try:
        loss = trainer.loss_fn(out, yb)
    except BaseException as exc:  # user code may sys.exit or raise KeyboardInterrupt
        raise _loss_error(config.loss.name, describe_raised(exc), shapes) from None
    problem = _loss_value_problem(loss)
    if problem:
        raise _loss_error(config.loss.name, problem, shapes)
    try:
        loss.backward()
    except BaseException as exc:
        raise _loss_error(config.loss.name, f"gave a loss whose backward pass {describe_raised(exc)}", shapes) from None
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = build_optimizer(config.optimizer, params)
    scheduler = checked_scheduler(config, optimizer, trainer.steps_per_epoch)
    try:
        optimizer.step()
        if scheduler is not None:
            scheduler.step(float(loss.detach())) if config.scheduler.name == "plateau" else scheduler.step()
    except Exception as exc:  # settings torch takes but cannot step with (e.g. a momentum of 1)
        section = "scheduler" if config.scheduler.name != "none" else "optimizer"
        choice = getattr(config, section)
        raise ConfigError([refused(section, choice.name, choice.params, exc)]) from None


def checked_scheduler(config: Config, optimizer: torch.optim.Optimizer, steps_per_epoch: int):
    """``build_scheduler`` for the run's real number of steps; what torch refuses (at once, or
    for a one-cycle phase of no steps, later) raises ConfigError."""
    choice, epochs = config.scheduler, epoch_limit(config.training.epochs)
    try:
        scheduler = build_scheduler(choice, optimizer, epochs, steps_per_epoch)
        phases = (one_cycle_phases(scheduler)  # torch's own phase ends; it divides by their lengths
                  if isinstance(scheduler, torch.optim.lr_scheduler.OneCycleLR) else ())
        ends = [0.0] + [phase["end_step"] for phase in phases]
        if any(end == start for start, end in zip(ends, ends[1:])):
            raise ZeroDivisionError
    except ZeroDivisionError:
        raise ConfigError([FieldError("scheduler.pct_start", (
            f"pct_start={choice.params['pct_start']} over the run's {epochs * steps_per_epoch} optimizer steps leaves a "
            "phase of the cycle with no steps (torch's OneCycleLR divides by its length); change "
            "pct_start, training.epochs or training.batch_size"))]) from None
    except Exception as exc:
        raise ConfigError([refused("scheduler", choice.name, choice.params, exc)]) from None
    return scheduler


def _loss_value_problem(loss) -> str | None:
    if not isinstance(loss, torch.Tensor):
        return f"returned {type(loss).__name__} {loss!r:.40}, not a tensor"
    if loss.numel() != 1:
        return f"returned a tensor of shape {tuple(loss.shape)}, not a single value (reduce it, e.g. .mean())"
    if not loss.is_floating_point():
        return f"returned a {loss.dtype} tensor; a loss must be a floating-point number"
    if not loss.requires_grad:
        return "returned a tensor with no gradient (computed outside autograd, e.g. from .item() or .detach())"
    return None


def _loss_error(name: str, problem: str, shapes: str) -> ConfigError:
    return ConfigError([FieldError("loss", f"{name} {problem}; {shapes}")])


def _shape(t) -> str:
    if isinstance(t, torch.Tensor):
        return f"{tuple(t.shape)} {str(t.dtype).removeprefix('torch.')}"
    return type(t).__name__


def weights_diverged(model: torch.nn.Module, x: torch.Tensor) -> bool:
    """Whether the model has diverged: a weight, or its output on the first samples of ``x``,
    is NaN or infinite (a loss such as BCE then raises instead of returning inf)."""
    with torch.no_grad():
        if any(not bool(torch.isfinite(p).all()) for p in model.parameters()):
            return True
        try:
            return not bool(torch.isfinite(model(x[:PREFLIGHT_SAMPLES])).all())
        except Exception:  # the model itself fails: not a divergence
            return False
