"""The run configuration: dataclasses, resolution from layers (recipe, file, flags), TOML, checks.

Torch-free: validation that needs torch (building the optimizer, the device) is in
``tui_trainer.engine.checks``.
"""

from __future__ import annotations

import dataclasses
import difflib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from tui_trainer.catalog.lab import MISTAKES
from tui_trainer.catalog.losses import (
    LOSSES, USER_LOSS_HELP, fitting_losses, loss_fit_problem, loss_spec, user_class_parts, user_loss_parts,
)
from tui_trainer.changes import Change, check_changes
from tui_trainer.catalog.optimizers import OPTIMIZERS
from tui_trainer.catalog.schedulers import SCHEDULERS
from tui_trainer.catalog.tasks import TASKS, TaskSpec
from tui_trainer.catalog.views import VIEWS
from tui_trainer.errors import ConfigError, FieldError, UserFacingError
from tui_trainer.paths import path_problem
from tui_trainer.schema import Param, show_value, toml_parse

MODEL_KINDS = ("mlp", "cnn", "file")
#: The fields of the model section each model kind uses (the form shows only these).
MODEL_FIELDS = {"mlp": ("kind", "hidden", "activation", "dropout"),
                "cnn": ("kind", "channels", "kernel_size", "hidden", "activation", "dropout"),
                "file": ("kind", "path", "args")}
#: The model fields only a model of your own (kind ``file``) uses; config files hold them for it only.
FILE_MODEL_FIELDS = ("path", "args")
ACTIVATIONS = ("relu", "tanh", "sigmoid", "gelu", "leaky-relu", "elu", "silu")
DEFAULT_TASK = "linear"
#: The most CPU threads a run may ask torch for.
MAX_THREADS = 1024
#: ``training.epochs`` for a run that goes on until it is stopped (ctrl+t in the app, Ctrl+C).
UNTIL_STOPPED = "until-stopped"


def epoch_limit(epochs: int | str) -> int | None:
    """The run's last epoch for a ``training.epochs`` value (None: until stopped)."""
    return None if epochs == UNTIL_STOPPED else epochs


def _spec(kind: str, help: str, **extra: Any) -> dict[str, Any]:
    """Field metadata describing a dataclass field as a schema Param."""
    return {"param": (kind, help, extra)}


@dataclass
class Choice:
    """A catalog choice (task, loss, optimizer, scheduler) and its parameters."""

    name: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class ModelConfig:
    """The network: a multilayer perceptron (no hidden layers: a single nn.Linear), for image
    tasks convolution blocks (conv, ReLU, 2x2 max-pool) before that MLP head, or an nn.Module
    class of your own (``file``: ``path`` names it, ``args`` are its keyword arguments)."""

    kind: str = field(default="mlp", metadata=_spec(
        "choice", "mlp: linear layers; cnn (image tasks): convolution blocks, then the MLP head; "
        "file: your own nn.Module class (model.path)", choices=MODEL_KINDS))
    path: str = field(default="", metadata=_spec(
        "str", "file: your nn.Module class as path/to/net.py:ClassName (built with model.args)"))
    args: dict[str, Any] = field(default_factory=dict, metadata=_spec(
        "table", "file: keyword arguments of your class, e.g. width=64, depth=2"))
    channels: list[int] = field(default_factory=lambda: [16, 32], metadata=_spec(
        "ints", "cnn: output channels of each convolution block (conv, ReLU, 2x2 max-pool)",
        minimum=1))
    kernel_size: int = field(default=3, metadata=_spec(
        "int", "cnn: convolution kernel size (odd sizes keep the image size before each pool)",
        minimum=1, maximum=15))
    hidden: list[int] = field(default_factory=lambda: [64], metadata=_spec(
        "ints", "hidden layer sizes, comma-separated (empty: one linear layer)", minimum=1))
    activation: str = field(default="relu", metadata=_spec(
        "choice", "activation after each hidden layer", choices=ACTIVATIONS))
    dropout: float = field(default=0.0, metadata=_spec(
        "float", "dropout probability after each hidden layer", minimum=0.0, maximum=1.0,
        max_exclusive=True))


@dataclass
class TrainingConfig:
    """How the loop runs: length, batching, split, seed, device and stopping rules."""

    epochs: int | str = field(default=20, metadata=_spec(
        "int", f"passes over the training data ('{UNTIL_STOPPED}': until you stop it, with ctrl+t "
        "or Ctrl+C; not with a schedule that spans the run)", minimum=1, keywords=(UNTIL_STOPPED,)))
    batch_size: int | str = field(default=32, metadata=_spec(
        "int", "samples per optimizer step ('full': the whole training set)", minimum=1,
        keywords=("full",)))
    val_split: float = field(default=0.2, metadata=_spec(
        "float", "fraction of the data held out for validation (0: none; the 2-D playground "
        "tasks take it from task.train_ratio)", minimum=0.0, maximum=0.9))
    test_split: float = field(default=0.0, metadata=_spec(
        "float", "fraction of the data held out as a test set before the validation split, scored "
        "once at the end (0: none; mnist uses its t10k files, csv and images task.test_path)",
        minimum=0.0, maximum=0.9))
    seed: int = field(default=42, metadata=_spec("int", "random seed for data, init and shuffling",
                                                 minimum=0, maximum=2**64 - 1))
    device: str = field(default="auto", metadata=_spec(
        "str", "auto (cuda, then mps, then cpu), cpu, cuda, cuda:N or mps"))
    grad_clip: float | str = field(default="off", metadata=_spec(
        "float", "clip the gradient norm to this value ('off': no clipping)", minimum=0.0,
        min_exclusive=True, keywords=("off",)))
    zero_grad_set_to_none: bool = field(default=True, metadata=_spec(
        "bool", "optimizer.zero_grad(set_to_none=...): free gradients instead of zeroing them"))
    early_stopping_patience: int | str = field(default="off", metadata=_spec(
        "int", "stop after this many epochs without improvement ('off': never)", minimum=1,
        keywords=("off",)))
    early_stopping_min_delta: float = field(default=0.0, metadata=_spec(
        "float", "smallest decrease of the monitored loss that counts as improvement", minimum=0.0))
    target_loss: float | str = field(default="off", metadata=_spec(
        "float", "stop once the monitored loss is at or below this ('off': never)", minimum=0.0,
        keywords=("off",)))
    explode_factor: float | str = field(default=10000.0, metadata=_spec(
        "float", "end the run as diverged once a step's loss is more than this many times the "
        "first step's ('off': only a NaN or infinite loss ends it)", minimum=1.0, min_exclusive=True,
        keywords=("off",)))
    l1: float = field(default=0.0, metadata=_spec(
        "float", "L1 regularization: adds l1 * sum(|w|) over the weights of the Linear and Conv2d "
        "layers (not the biases) to the loss each step minimizes; the loss shown stays the data's",
        minimum=0.0))
    precision: str = field(default="fp32", metadata=_spec(
        "choice", "float32, or mixed precision with torch.autocast: bf16 (CPU or a bf16 GPU), "
        "fp16 (CUDA, with a gradient scaler)", choices=("fp32", "bf16", "fp16")))
    compile: bool = field(default=False, metadata=_spec(
        "bool", "wrap the model in torch.compile (its compile time is shown apart from training)"))
    backend: str = field(default="auto", metadata=_spec(
        "choice", "torch.distributed backend under torchrun (auto: nccl on CUDA, gloo on the CPU)",
        choices=("auto", "gloo", "nccl")))
    threads: int | str = field(default="auto", metadata=_spec(
        "int", "CPU threads for torch ('auto': 1 for small models, all cores for large ones)",
        minimum=1, maximum=MAX_THREADS, keywords=("auto",)))


@dataclass
class LabConfig:
    """The mistake lab: each switch makes one of the tutorials' common mistakes on purpose (all off
    by default; ``catalog/lab.py`` explains each)."""

    skip_zero_grad: bool = field(default=False, metadata=_spec("bool", MISTAKES["skip_zero_grad"].summary))
    softmax_before_loss: bool = field(default=False, metadata=_spec(
        "bool", MISTAKES["softmax_before_loss"].summary))
    sigmoid_before_bce_logits: bool = field(default=False, metadata=_spec(
        "bool", MISTAKES["sigmoid_before_bce_logits"].summary))
    no_eval_mode: bool = field(default=False, metadata=_spec("bool", MISTAKES["no_eval_mode"].summary))
    no_shuffle: bool = field(default=False, metadata=_spec("bool", MISTAKES["no_shuffle"].summary))
    wrong_loss: bool = field(default=False, metadata=_spec("bool", MISTAKES["wrong_loss"].summary))


@dataclass
class LoggingConfig:
    """What a run records beside its own run folder files."""

    tensorboard: bool = field(default=False, metadata=_spec(
        "bool", "also write TensorBoard event files (needs the extra tui-trainer[tensorboard])"))


@dataclass
class Config:
    """Every choice of a run. Build it with ``resolve``; it is valid once built."""

    task: Choice = field(default_factory=lambda: Choice(DEFAULT_TASK))
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: Choice = field(default_factory=lambda: Choice("mse"))
    optimizer: Choice = field(default_factory=lambda: Choice("adam"))
    scheduler: Choice = field(default_factory=lambda: Choice("none"))
    training: TrainingConfig = field(default_factory=TrainingConfig)
    lab: LabConfig = field(default_factory=LabConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    changes: list[Change] = field(default_factory=list)
    #: The task's catalog entry with what its data decided (user data: kind, classes ...).
    described: TaskSpec | None = field(default=None, compare=False, repr=False)

    @property
    def task_spec(self) -> TaskSpec:
        """The catalog entry of the chosen task, with what its data decided."""
        return self.described or TASKS[self.task.name]

    @property
    def classes(self) -> int | None:
        """Class count of the task (None for regression)."""
        return self.task_spec.num_classes(self.task.params)

    @property
    def view(self) -> str | None:
        """The live picture of this config's runs (its task's ``view``, see ``catalog.views``),
        when its loss gives what the picture shows: class scores for a boundary, values for a fit
        (a loss that does not fit the task, in the mistake lab, has none)."""
        spec = loss_spec(self.loss.name, self.task_spec.kind)
        view = self.task_spec.view
        if spec is None or view is None or spec.head not in VIEWS[view].heads:
            return None
        return view

    @property
    def has_test_set(self) -> bool:
        """Whether this config's data has a test set: the t10k files, a ``task.test_path`` given, or
        a ``training.test_split`` held out."""
        task = self.task_spec
        return bool(self.training.test_split or task.test_set == "t10k"
                    or (task.test_set == "test_path" and self.task.params.get("test_path")))

    @property
    def draws_network(self) -> bool:
        """Whether a run of this config can be drawn neuron by neuron (``views.NetworkFrame``): an
        MLP, not a cnn or an arena task's point."""
        return self.task_spec.traits.layers and self.model.kind == "mlp"

    @property
    def views(self) -> list[str]:
        """Every live picture of this config's runs (``catalog.views``): its task's (``view``)
        and, for an MLP, the network."""
        return [*([self.view] if self.view else []), *(["network"] if self.draws_network else [])]

    @property
    def on_plane(self) -> bool:
        """Whether the task's samples are points of the plane (two inputs, or a playground task's
        points), so the network's neurons have pictures over it."""
        spec = self.task_spec
        return spec.traits.layers and (spec.source == "plane" or spec.features == 2)

    @property
    def mistakes(self) -> list[str]:
        """The lab's mistakes switched on, by name (none: an honest run)."""
        return [name for name in MISTAKES if getattr(self.lab, name)]

    def summary(self) -> str:
        """One line naming the main choices (for run lists and logs)."""
        opt = self.optimizer
        if self.task_spec.traits.point:
            return (f"{self.task.name} · {opt.name} lr={show_value(opt.params['lr'])}"
                    + ("" if self.scheduler.name == "none" else f" · {self.scheduler.name}")
                    + f" · {self._length} x {self.task.params['steps_per_epoch']} steps")
        cnn = {"cnn": f" · cnn {','.join(map(str, self.model.channels))}",
               "file": f" · model {self.model.path}"}.get(self.model.kind, "")
        return (f"{self.task.name}{cnn} · {self.loss.name} · {opt.name} lr={show_value(opt.params['lr'])}"
                + ("" if self.scheduler.name == "none" else f" · {self.scheduler.name}")
                + f" · {self._length} · batch {self.training.batch_size}")

    @property
    def _length(self) -> str:
        epochs = self.training.epochs
        return "epochs until stopped" if epoch_limit(epochs) is None else f"{epochs} epochs"


CHOICE_SECTIONS = ("task", "loss", "optimizer", "scheduler")
FIXED_SECTIONS = {"model": ModelConfig, "training": TrainingConfig, "lab": LabConfig, "logging": LoggingConfig}
SECTIONS = ("task", "model", "loss", "optimizer", "scheduler", "training", "lab", "logging")


def section_params(cls: type) -> tuple[Param, ...]:
    """The schema Params of a fixed section (ModelConfig, TrainingConfig), from its field metadata."""
    params = []
    for f in dataclasses.fields(cls):
        kind, help_text, extra = f.metadata["param"]
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        params.append(Param(f.name, kind, default, help_text, **extra))
    return tuple(params)


def choice_names(section: str) -> tuple[str, ...]:
    """The catalog names a choice section allows."""
    return tuple({"task": TASKS, "loss": LOSSES, "optimizer": OPTIMIZERS, "scheduler": SCHEDULERS}[section])


def choice_params(section: str, name: str) -> tuple[Param, ...]:
    """The parameters of choice ``name`` in ``section`` (empty for unknown names and user losses)."""
    catalog = {"task": TASKS, "loss": LOSSES, "optimizer": OPTIMIZERS, "scheduler": SCHEDULERS}[section]
    spec = catalog.get(name)
    if spec is None:
        return ()
    return spec.options if section == "task" else spec.params


def params_of(section: str, name: str | None = None) -> tuple[Param, ...]:
    """The Params of a section: fixed sections ignore ``name``; choice sections need it."""
    if section in FIXED_SECTIONS:
        return section_params(FIXED_SECTIONS[section])
    return choice_params(section, name or "")


class Text(str):
    """A value typed as text by a person (CLI flag, form field): parsed with the field's Param."""


# ---------------------------------------------------------------------------------------------
# Resolution: recipe of the task -> config file -> flags


def resolve(*layers: dict[str, Any]) -> Config:
    """Build a valid Config from layers of nested dicts (a TOML file, then flags).

    Later layers override earlier ones field by field; the chosen task's recipe lies beneath
    them all. When a layer changes a choice (``optimizer.name``), parameters the new choice does
    not take are dropped. Raises ConfigError listing every problem at once.
    """
    config, problems = draft(*layers)
    if problems:
        raise ConfigError(problems)
    return config


def draft(*layers: dict[str, Any]) -> tuple[Config | None, list[FieldError]]:
    """Resolve as ``resolve`` does, without raising: the config (with defaults where a value was
    refused; None for an unknown task) and every problem found. The app's form shows a draft
    while it is being filled in (a task whose data is not chosen yet)."""
    problems: list[FieldError] = []
    # Mid-run changes are a list, not a section: each layer's are added to the earlier ones'.
    raw_changes = [change for layer in layers for change in _changes_of(layer, problems)]
    layers = tuple({key: value for key, value in layer.items() if key != "changes"} for layer in layers)
    normalized = [_normalize_layer(layer, problems) for layer in layers]
    task_name = DEFAULT_TASK
    for layer in normalized:
        task_name = layer.get("task", {}).get("name", task_name)
    if not isinstance(task_name, str) or task_name not in TASKS:
        problems.append(_unknown_choice("task", task_name))
        return None, problems
    merged = _recipe_layer(TASKS[task_name])
    for layer in normalized:
        for section, values in layer.items():
            _merge_section(merged, section, values)
    config = _build(merged, problems, loss_given=any("loss" in layer for layer in normalized),
                    split_given=any("val_split" in layer.get("training", {}) for layer in normalized))
    if raw_changes and not problems:
        config.changes = check_changes(config, raw_changes, problems)
    return config, problems


def _changes_of(layer: dict[str, Any], problems: list[FieldError]) -> list[Any]:
    changes = layer.get("changes", []) if isinstance(layer, dict) else []
    if not isinstance(changes, list):
        problems.append(FieldError("changes", "must be a list of tables with at_step, field and value"))
        return []
    return changes


def resolve_flags(file_dict: dict[str, Any] | None, overrides: dict[str, Any]) -> Config:
    """Resolve a config file's dict (or None) under dotted flag overrides (``optimizer.lr``)."""
    return resolve(file_dict or {}, nest(overrides))


def nest(dotted: dict[str, Any]) -> dict[str, Any]:
    """Turn ``{"optimizer.lr": 0.1, "loss": "mse"}`` into nested section dicts."""
    out: dict[str, Any] = {}
    for key, value in dotted.items():
        section, _, name = key.partition(".")
        if not name and section not in CHOICE_SECTIONS and section not in out:
            out[section] = value  # ``--set lab=true``: refused as a section given one value
            continue
        target = out.setdefault(section, {})
        if not isinstance(target, dict):
            target = out[section] = {"name": target}
        target[name or "name"] = value
    return out


def _normalize_layer(layer: dict[str, Any], problems: list[FieldError]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for section, values in layer.items():
        if section not in SECTIONS:
            problems.append(FieldError(section, "unknown section" + _did_you_mean(section, SECTIONS)
                                       + "; sections are " + ", ".join(SECTIONS)))
            continue
        if section in CHOICE_SECTIONS and not isinstance(values, dict):
            values = {"name": values}
        if not isinstance(values, dict):
            problems.append(FieldError(section, f"must be a table of settings, got {show_value(values)} "
                                       f"(on the command line: --set {section}.NAME=VALUE)"))
            continue
        out[section] = _fold_tables(section, dict(values), problems)
    return out


def _fold_tables(section: str, values: dict[str, Any], problems: list[FieldError]) -> dict[str, Any]:
    """Dotted keys into a table field (``--set model.args.width=32``: ``args.width``) become
    entries of that table, their typed text read as TOML values (``32``, ``"relu"``, ``[8, 8]``)."""
    tables = {p.name for p in params_of(section) if p.kind == "table"} if section in FIXED_SECTIONS else set()
    for key in [key for key in values if key.partition(".")[0] in tables and "." in key]:
        table, _, name = key.partition(".")
        value = values.pop(key)
        if isinstance(value, Text):
            try:
                value = toml_parse(value)
            except ValueError:
                problems.append(FieldError(f"{section}.{key}", f"{show_value(str(value))} is not allowed; "
                                           "must be a TOML value (32, 0.5, true, \"text\", [1, 2])"))
                continue
        current = values.get(table)
        values[table] = {**(current if isinstance(current, dict) else {}), name: value}
    return values


def _recipe_layer(task: TaskSpec) -> dict[str, dict[str, Any]]:
    merged: dict[str, dict[str, Any]] = {s: {} for s in SECTIONS}
    merged["task"]["name"] = task.name
    merged["scheduler"]["name"] = "none"
    for key, value in task.recipe.items():
        section, _, name = key.partition(".")
        merged[section][name] = value
    return merged


def _merge_section(merged: dict[str, dict[str, Any]], section: str, values: dict[str, Any]) -> None:
    current = merged[section]
    new_name = values.get("name")
    if section in CHOICE_SECTIONS and new_name is not None and new_name != current.get("name"):
        takes = {p.name for p in choice_params(section, new_name)} if isinstance(new_name, str) else set()
        current = {k: v for k, v in current.items() if k in takes}
    tables = {key: {**current[key], **value} for key, value in values.items()  # a table: entry by entry
              if isinstance(value, dict) and isinstance(current.get(key), dict)}
    merged[section] = {**current, **values, **tables}


def _build(merged: dict[str, dict[str, Any]], problems: list[FieldError],
           loss_given: bool = True, split_given: bool = False) -> Config:
    choices: dict[str, Choice] = {}
    described = None
    task_values = merged["task"]
    if task_values.get("name") in TASKS and TASKS[task_values["name"]].describe:
        task = TASKS[task_values["name"]]
        refused: list[FieldError] = []  # reported below, with the task's other options
        options = _fill("task", task.options, {k: v for k, v in task_values.items() if k != "name"}, refused)
        described = None if refused else _described(task, options, problems)
        if described and not loss_given and described.kind not in loss_spec(task.default_loss, described.kind).kinds:
            merged["loss"] = {"name": fitting_losses(described.kind)[0]}
    for section in CHOICE_SECTIONS:
        values = dict(merged[section])
        name = values.pop("name", None)
        if section == "loss" and isinstance(name, str) and user_loss_parts(name):
            params: tuple[Param, ...] = ()
        elif not isinstance(name, str) or name not in choice_names(section):
            problems.append(_unknown_choice(section, name))
            choices[section] = Choice(str(name))
            continue
        else:
            params = choice_params(section, name)
        choices[section] = Choice(str(name), _fill(section, params, values, problems, owner=name))
    fixed = {
        section: cls(**_fill(section, section_params(cls), dict(merged[section]), problems))
        for section, cls in FIXED_SECTIONS.items()
    }
    config = Config(task=choices["task"], model=fixed["model"], loss=choices["loss"],
                    optimizer=choices["optimizer"], scheduler=choices["scheduler"],
                    training=fixed["training"], lab=fixed["lab"], logging=fixed["logging"],
                    described=described)
    if not any(p.field.startswith(("loss", "task")) for p in problems):
        _split_from_task(config, split_given, problems)
        problems.extend(cross_field_problems(config))
    return config


def _split_from_task(config: Config, given: bool, problems: list[FieldError]) -> None:
    """A task with a split option (the 2-D playground tasks' train_ratio) sets training.val_split;
    a val_split given (file, flag, --vary) that differs is refused naming both fields."""
    option = config.task_spec.split_option
    if option is None:
        return
    ratio = config.task.params[option]
    derived = (100 - ratio) / 100
    given_split = config.training.val_split
    if given and abs(given_split - derived) > 1e-9 and not any(
            p.field == "training.val_split" for p in problems):
        param = config.task_spec.option(option)
        wanted = round(100 - 100 * given_split)
        instead = (f"--set task.{option}={wanted}" if param.check(wanted) is None
                   else f"task.{option} {param.allowed().removeprefix('must be ')}")
        problems.append(FieldError("training.val_split", (
            f"{show_value(given_split)} is not allowed for task {config.task.name}, which splits its "
            f"points by task.{option} ({ratio} % to train on: val_split {show_value(derived)}); "
            f"leave val_split out and set task.{option} instead ({instead})")))
    config.training.val_split = derived


def task_sets(task: TaskSpec) -> tuple[str, ...]:
    """The dotted fields a task sets itself (the form hides them, config files leave them out):
    training.val_split for a task with a split option (from that option), training.test_split for
    a task whose test set comes from elsewhere (its own test files, a path; none: 0)."""
    return (("training.val_split",) if task.split_option else ()) + (
        ("training.test_split",) if task.test_set != "split" else ())


def _described(task: TaskSpec, options: dict[str, Any], problems: list[FieldError]) -> TaskSpec | None:
    """The task with what its data decides, or None after adding the problem (``task.path: ...``)."""
    try:
        return task.described(options)
    except UserFacingError as exc:
        field, _, message = str(exc).partition(": ")
        problems.append(FieldError(field, message))
        return None


def _fill(section: str, params: tuple[Param, ...], values: dict[str, Any], problems: list[FieldError],
          owner: str | None = None) -> dict[str, Any]:
    """Check each given value against its Param, fill defaults, and report unknown keys."""
    by_name = {p.name: p for p in params}
    out: dict[str, Any] = {}
    for key, value in values.items():
        param = by_name.get(key)
        if param is None:
            takes = ", ".join(by_name) or "no settings"
            whose = f" for {owner}" if owner else ""
            problems.append(FieldError(
                f"{section}.{key}",
                f"unknown setting{whose}{_did_you_mean(key, by_name)}; {owner or section} takes {takes}"))
            continue
        value = _as_text(param, value)
        problem = check_value(param, value)
        if problem:
            problems.append(FieldError(f"{section}.{key}", problem))
            continue
        value = param.parse(value) if isinstance(value, Text) else value
        out[key] = float(value) if param.kind == "float" and isinstance(value, int) else value
    for param in params:
        out.setdefault(param.name, param.default)
    return {p.name: _plain(out[p.name]) for p in params}


def _as_text(param: Param, value: Any) -> Any:
    """A list of names given as one string (``features = "x1, x2"`` in a file) is read as typed."""
    return Text(value) if param.kind == "names" and isinstance(value, str) else value


def check_value(param: Param, value: Any) -> str | None:
    """Why ``value`` (typed, or ``Text`` to parse) is not allowed for ``param``, or None."""
    value = _as_text(param, value)
    if isinstance(value, Text):
        try:
            value = param.parse(value)
        except ValueError as exc:
            return str(exc)
    reason = param.check(value)
    return None if reason is None else f"{show_value(value)} is not allowed; {reason}"


def _plain(value: Any) -> Any:
    """Store lists as lists and whole floats given for int-less float fields as floats."""
    return list(value) if isinstance(value, tuple) else value


def _unknown_choice(section: str, name: Any) -> FieldError:
    names = choice_names(section)
    extra = f" ({USER_LOSS_HELP})" if section == "loss" else ""
    return FieldError(f"{section}.name" if section != "loss" else "loss",
                      f"{show_value(name)} is not allowed{_did_you_mean(str(name), names)}; "
                      f"must be one of {', '.join(names)}{extra}")


def _did_you_mean(word: str, options) -> str:
    close = difflib.get_close_matches(word, list(options), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def cross_field_problems(config: Config) -> list[FieldError]:
    """Problems that involve more than one field: a loss that does not fit the task, a user loss
    file that does not exist, a device name that cannot be one."""
    problems = []
    task = config.task_spec
    spec = loss_spec(config.loss.name, task.kind)
    reason = loss_fit_problem(spec, task.name, task.kind, config.classes) if spec else None
    if reason and not config.lab.wrong_loss:
        problems.append(FieldError("loss", reason))
    for mistake in MISTAKES.values():
        if getattr(config.lab, mistake.name) and mistake.needs_loss not in (None, config.loss.name):
            problems.append(FieldError(f"lab.{mistake.name}", f"shows its mistake with the {mistake.needs_loss} "
                                       f"loss only; this run uses {config.loss.name}"))
    parts = user_loss_parts(config.loss.name)
    if parts and (problem := path_problem(parts[0])):
        problems.append(FieldError("loss", f"no file can have the path of this loss file: {problem}"))
    elif parts and not Path(parts[0]).expanduser().is_file():
        problems.append(FieldError("loss", f"file {parts[0]!r} does not exist; a user loss is given as "
                                           "path/to/file.py:ClassName"))
    problems += model_file_problems(config.model)
    device_problem = device_name_problem(config.training.device)
    if device_problem:
        problems.append(FieldError("training.device", device_problem))
    return (problems + model_problems(config.model, task) + arena_problems(config) + length_problems(config)
            + test_split_problems(config))


def length_problems(config: Config) -> list[FieldError]:
    """A run that goes on until stopped has no length, so a schedule that spans the run (one-cycle,
    cosine with T_max = "epochs") cannot be laid out over it."""
    choice = config.scheduler
    if epoch_limit(config.training.epochs) is not None or choice.name not in SCHEDULERS:
        return []
    spec = SCHEDULERS[choice.name]
    if not spec.spans_run(choice.params):
        return []
    span, instead = (("sets every step's rate over the run's total steps", "choose another scheduler")
                     if spec.run_length == "total_steps" else
                     ("anneals over the run's epochs (T_max = 'epochs')", "set scheduler.T_max to a number of epochs"))
    return [FieldError("training.epochs", f"{UNTIL_STOPPED!r} is not allowed with scheduler {choice.name}, which "
                       f"{span}: a run that goes on until stopped has no length; give a number of epochs, "
                       f"or {instead}")]


def user_classes(config: Config) -> list[tuple[str, str]]:
    """The classes of your own a config names, as (field, ``path.py:Class``): a loss class
    (``loss``) and a model class (``model.path``). Each is imported to be used."""
    named = [("loss", config.loss.name)]
    if config.model.kind == "file":
        named.append(("model.path", config.model.path))
    return [(field, name) for field, name in named if user_class_parts(name)]


def user_code_files(config: Config) -> list[tuple[str, Path, str]]:
    """The files of your own code a config names, as (field, file, class name) (``user_classes``)."""
    return [(field, Path(parts[0]).expanduser(), parts[1])
            for field, name in user_classes(config) if (parts := user_class_parts(name))]


def test_split_problems(config: Config) -> list[FieldError]:
    """A test split for a task whose test set comes from elsewhere (its own files, a path), or
    that leaves no room for a validation and a training split."""
    training, task = config.training, config.task_spec
    if training.test_split == 0:
        return []
    elsewhere = {
        "t10k": f"task {task.name} is scored on its own test files (t10k-images-idx3-ubyte, "
                "t10k-labels-idx1-ubyte)",
        "test_path": f"task {task.name} takes its test set from task.test_path (a file or folder of "
                     "your own)",
        "none": f"task {task.name} has no data to hold out",
    }.get(task.test_set)
    if elsewhere:
        return [FieldError("training.test_split", f"{show_value(training.test_split)} does nothing here: "
                           f"{elsewhere}; leave it out (0)")]
    if training.test_split + training.val_split * (1 - training.test_split) > 0.95:
        return [FieldError("training.test_split", (
            f"{show_value(training.test_split)} with val_split {show_value(training.val_split)} (of what "
            "the test split leaves) leaves under 5 % of the samples to train on; use smaller splits"))]
    return []


def arena_problems(config: Config) -> list[FieldError]:
    """What an arena task (a 2-D point on a function, no data) cannot take: a network, a batch
    size, a validation split, the mistake lab's switches but skip_zero_grad (which does pile up
    the point's gradients)."""
    task = config.task_spec
    if not task.traits.point:
        return []
    about = f"task {task.name} trains one 2-D point on a function, not a network"
    default = ModelConfig()
    problems = [FieldError(f"model.{name}", f"{show_value(value)} does nothing here: {about}; leave it "
                           f"out ({show_value(allowed)})")
                for name, value, allowed in (("hidden", config.model.hidden, []),
                                             ("activation", config.model.activation, default.activation),
                                             ("dropout", config.model.dropout, default.dropout))
                if value != allowed]
    if config.model.kind == "file":  # (a cnn is refused by model_problems: no images)
        problems.insert(0, FieldError("model.kind", f"'file' does nothing here: {about}; leave it out "
                                      f"({show_value(default.kind)})"))
    if config.training.batch_size != 1:
        problems.append(FieldError("training.batch_size", f"{show_value(config.training.batch_size)} "
                                   f"does nothing here: task {task.name} has no data, each step is one "
                                   "optimizer step at the point and an epoch is task.steps_per_epoch steps; "
                                   "leave it out (1)"))
    if config.training.val_split != 0:
        problems.append(FieldError("training.val_split", f"{show_value(config.training.val_split)} does "
                                   f"nothing here: task {task.name} has no data to hold out; leave it out (0)"))
    if config.training.l1:
        problems.append(FieldError("training.l1", f"{show_value(config.training.l1)} does nothing here: {about}, "
                                   "and a point has no weights to regularize; leave it out (0)"))
    problems += [FieldError(f"lab.{name}", f"does nothing here: task {task.name} has no data, classes or "
                            "dropout; of the lab's mistakes only skip_zero_grad applies")
                 for name in MISTAKES if name != "skip_zero_grad" and getattr(config.lab, name)]
    return problems


def model_kinds(task: TaskSpec) -> tuple[str, ...]:
    """The model kinds a task can train: an mlp or a model of your own, and a cnn for a task
    with images (none for a point on a function)."""
    if task.traits.point:
        return ()
    return tuple(kind for kind in MODEL_KINDS if kind != "cnn" or task.image_size is not None)


def model_fields(kind: str, task: TaskSpec) -> tuple[str, ...]:
    """The model fields that fit a task and a model kind (the form shows only these): the kind,
    then the fields of that kind (the convolution settings only for a cnn on images; the file and
    its arguments for a model of your own); none for a point on a function."""
    if task.traits.point:
        return ()
    return MODEL_FIELDS[kind if kind in model_kinds(task) else "mlp"]


def model_file_problems(model: ModelConfig) -> list[FieldError]:
    """A model of your own (kind ``file``) needs ``model.path`` as path/to/net.py:ClassName, of a
    file that exists."""
    if model.kind != "file":
        return []
    how = "give your nn.Module class as path/to/net.py:ClassName"
    if not model.path.strip():
        return [FieldError("model.path", f"model.kind is file: {how}")]
    parts = user_class_parts(model.path)
    if parts is None:
        return [FieldError("model.path", f"{show_value(model.path)} is not allowed; {how}")]
    if not Path(parts[0]).expanduser().is_file():
        return [FieldError("model.path", f"file {parts[0]!r} does not exist; {how}")]
    return []


def model_problems(model: ModelConfig, task: TaskSpec) -> list[FieldError]:
    """A cnn on a task without images, or more pooling blocks than the images have pixels."""
    if model.kind != "cnn":
        return []
    if task.image_size is None:
        images = ", ".join(name for name, spec in TASKS.items() if spec.image_size)
        return [FieldError("model.kind", f"cnn needs an image task ({images}); task {task.name} "
                                         "has no images; use mlp")]
    side = min(task.image_size[1:])
    for block, _ in enumerate(model.channels, 1):
        side = (side + 2 * (model.kernel_size // 2) - model.kernel_size + 1) // 2
        if side < 1:
            return [FieldError("model.channels", f"{len(model.channels)} blocks shrink "
                               f"{task.image_size[1]}x{task.image_size[2]} images to nothing at block "
                               f"{block} (each halves them); use fewer blocks or larger images")]
    return []


def device_name_problem(device: str) -> str | None:
    """Why a device name cannot be a device at all (availability is checked with torch)."""
    base, _, index = device.partition(":")
    ok = device in ("auto", "cpu", "cuda", "mps") or (base == "cuda" and index.isdigit())
    return None if ok else (f"{show_value(device)} is not allowed; must be auto, cpu, cuda, cuda:N "
                            "(N a GPU index) or mps")


# ---------------------------------------------------------------------------------------------
# Dicts and TOML


def to_dict(config: Config) -> dict[str, Any]:
    """The config as nested plain data, every value explicit (what TOML files hold) but those the
    task sets itself (``task_sets``); mid-run changes, when there are any, as the list
    ``changes``."""
    out: dict[str, Any] = {}
    for section in SECTIONS:
        value = getattr(config, section)
        if isinstance(value, Choice):
            out[section] = {"name": value.name, **value.params}
        else:
            out[section] = dataclasses.asdict(value)
    if config.model.kind != "file":  # a model of the catalog: no file, no arguments
        for name in FILE_MODEL_FIELDS:
            del out["model"][name]
    for key in task_sets(config.task_spec):
        section, _, name = key.partition(".")
        del out[section][name]
    if config.changes:
        out["changes"] = [change.as_dict() for change in config.changes]
    return out


def to_toml(config: Config) -> str:
    """The config as TOML text that ``load_config`` reads back to an equal config."""
    return tomli_w.dumps(to_dict(config))


def save_config(config: Config, path: str | Path) -> Path:
    """Write the config as TOML; returns the path written."""
    path = Path(path).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(to_toml(config), encoding="utf-8")
    return path


def read_toml(path: str | Path) -> dict[str, Any]:
    """Read a TOML config file into a dict, with a clear error for a missing or broken file."""
    if not str(path).strip():
        raise ConfigError([FieldError("config", "no file given (an empty path); give a TOML file")])
    path = Path(path).expanduser()
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError([FieldError("config", f"file {str(path)!r} does not exist")]) from None
    except IsADirectoryError:
        raise ConfigError([FieldError("config", f"{str(path)!r} is a folder; give a TOML file")]) from None
    except OSError as exc:
        raise ConfigError([FieldError("config", f"{str(path)!r} cannot be read: "
                                                f"{exc.strerror or exc}")]) from None
    except UnicodeDecodeError:
        raise ConfigError([FieldError("config", f"{str(path)!r} is not a TOML file: it is not "
                                                "UTF-8 text")]) from None
    except RecursionError:
        raise ConfigError([FieldError("config", f"{str(path)!r} nests arrays or tables too deep "
                                                "to read")]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([FieldError("config", f"{str(path)!r} is not valid TOML: {exc}")]) from None


def load_config(path: str | Path) -> Config:
    """Read and resolve a TOML config file."""
    return resolve(read_toml(path))


def default_config(task: str = DEFAULT_TASK) -> Config:
    """The config a task starts from: its recipe and every default."""
    return resolve({"task": task})
