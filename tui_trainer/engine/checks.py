"""Checks that need torch: what torch itself refuses, the device, and classes of your own (a
loss, a model)."""

from __future__ import annotations

from typing import Sequence

import torch

from tui_trainer.catalog.losses import user_loss_parts
from tui_trainer.config import Choice, Config, choice_params, epoch_limit, to_dict
from tui_trainer.engine.components import (
    build_optimizer, build_scheduler, make_user_loss, make_user_model, precision_problem,
    user_class_imported,
)
from tui_trainer.engine.devices import resolve_device
from tui_trainer.errors import ConfigError, FieldError, UserFacingError
from tui_trainer.schema import show_value

#: Steps per epoch the dry construction assumes (the real count needs the data; the pre-flight
#: in ``tui_trainer.engine.preflight`` checks the real schedule).
NOMINAL_STEPS = 1000


def torch_problems(config: Config, import_user_loss: bool = True) -> list[FieldError]:
    """Build the optimizer and scheduler on a dummy parameter and resolve the device; report
    what torch refuses as field errors instead of tracebacks; TensorBoard must be installed when
    asked for. A user loss file and a model file (``model.kind = "file"``) are imported (once per
    change) and their classes made; with ``import_user_loss`` false only files imported before
    are checked (the app imports them off its UI thread)."""
    problems: list[FieldError] = []
    dummy = [torch.nn.Parameter(torch.zeros(1))]
    optimizer = None
    try:
        optimizer = build_optimizer(config.optimizer, dummy)
    except Exception as exc:  # torch refuses with ValueError, TypeError, RuntimeError, ZeroDivisionError ...
        problems.append(refused("optimizer", config.optimizer.name, config.optimizer.params, exc))
    if optimizer is not None:
        try:
            build_scheduler(config.scheduler, optimizer, epoch_limit(config.training.epochs), NOMINAL_STEPS)
        except Exception as exc:
            problems.append(refused("scheduler", config.scheduler.name, config.scheduler.params, exc))
        problems += change_problems(config, dummy)
    try:
        device = resolve_device(config.training.device)
    except UserFacingError as exc:
        problems.append(FieldError("training.device", str(exc).partition(": ")[2]))
    else:
        problem = precision_problem(config.training.precision, device)
        if problem:
            problems.append(FieldError("training.precision", problem))
    if config.logging.tensorboard:
        from tui_trainer.engine.tensorboard import tensorboard_problem

        problem = tensorboard_problem()
        if problem:
            problems.append(FieldError("logging.tensorboard", problem))
    if user_loss_parts(config.loss.name) and (import_user_loss or user_class_imported(config.loss.name)):
        try:
            make_user_loss(config.loss.name)
        except UserFacingError as exc:
            problems.append(FieldError("loss", str(exc).partition(": ")[2]))
    model = config.model
    if model.kind == "file" and (import_user_loss or user_class_imported(model.path)):
        try:
            with torch.random.fork_rng(devices=[]):  # built to be checked: no random numbers used up
                make_user_model(model.path, model.args)
        except UserFacingError as exc:
            problems.append(FieldError("model.path", str(exc).partition(": ")[2]))
    return problems


def change_problems(config: Config, parameters: list[torch.nn.Parameter]) -> list[FieldError]:
    """What torch refuses in the optimizer's settings as the run's mid-run changes leave them
    (nesterov with a momentum changed to 0...): torch checks its settings when an optimizer is
    built, a change sets them in its param groups. The first refusal, naming the change."""
    params = dict(config.optimizer.params)
    for change in config.changes:
        section, _, name = change.field.partition(".")
        if section != "optimizer":
            continue
        params[name] = change.value
        try:
            build_optimizer(Choice(config.optimizer.name, params), parameters)
        except Exception as exc:
            problem = refused("optimizer", config.optimizer.name, params, exc)
            return [FieldError("changes", f"{change.field} = {show_value(change.value)} from step "
                                          f"{change.at_step}: {problem.message}")]
    return []


def check(config: Config, import_user_loss: bool = True) -> None:
    """Raise ConfigError if torch refuses anything in the config (see ``torch_problems``)."""
    check_runs([(config, None)], import_user_loss)


def check_runs(runs: Sequence[tuple[Config, str | None]], import_user_loss: bool = True) -> None:
    """Raise ConfigError listing what torch refuses in each run's config, a labelled run's
    problems named with it (``(run #2 optimizer=sgd)``), before any of them trains."""
    problems = [FieldError(p.field, f"{p.message} (run {label})" if label else p.message)
                for config, label in runs for p in torch_problems(config, import_user_loss)]
    problems += same_device_runs(runs)
    if problems:
        raise ConfigError(problems)


def same_device_runs(runs: Sequence[tuple[Config, str | None]]) -> list[FieldError]:
    """Runs that would be the same run here: configs that differ only in device names this
    machine resolves alike (auto and cpu without a GPU)."""
    problems, first = [], {}
    for config, label in runs:
        try:
            device = str(resolve_device(config.training.device))
        except UserFacingError:
            continue  # said by torch_problems
        fields = to_dict(config)
        fields["training"] = {**fields["training"], "device": device}
        key = repr(fields)
        if key in first:
            problems.append(FieldError("training.device", f"runs {first[key]} and {label} are the same run "
                                       f"on this machine: their devices are both {device} here"))
        first.setdefault(key, label)
    return problems


def refused(section: str, name: str, params: dict, exc: Exception) -> FieldError:
    """Attach torch's message to the parameter it mentions first (else to the choice)."""
    text = str(exc) or type(exc).__name__
    lowered = text.lower()
    mentioned = sorted((lowered.find(p.lower()), p) for p in params if p.lower() in lowered)
    field = f"{section}.{mentioned[0][1]}" if mentioned else f"{section}.name"
    if not mentioned:  # torch's message names no setting: show the ones that differ from the defaults
        changed = [f"{p.name}={show_value(params[p.name])}" for p in choice_params(section, name)
                   if p.name in params and params[p.name] != p.default]
        return FieldError(field, f"torch refuses {name}" + (f" with {', '.join(changed)}" if changed else "")
                          + f": {text}")
    values = ", ".join(f"{p}={params[p]}" for _, p in mentioned)
    return FieldError(field, f"torch refuses {values} for {name}: {text}")
