"""Compare mode's plan: the runs a set of variations gives (the cartesian product of each
varied field's values), each a full config, checked before anything trains. Torch-free."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from tui_trainer.config import SECTIONS, Config, Text, resolve_flags, to_dict
from tui_trainer.errors import ConfigError, FieldError
from tui_trainer.formatting import number
from tui_trainer.schema import show_value

#: The most runs one comparison may hold.
MAX_RUNS = 16


@dataclass(frozen=True)
class Variation:
    """One varied field (dotted, e.g. ``optimizer.lr``) and the values it takes, as typed."""

    field: str
    values: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> Variation:
        """``FIELD=V1,V2,...``; a list value is written in brackets (``model.hidden=[64],[32,32]``).
        Raises ConfigError naming what is wrong."""
        field, sep, values = text.partition("=")
        field = field.strip()
        if not sep or not field or "." not in field:
            raise ConfigError([FieldError("--vary", f"{text!r}: expected FIELD=V1,V2,... with a dotted "
                                          "field, e.g. optimizer.name=sgd,adam or optimizer.lr=0.1,0.01")])
        parts = _split_values(values)
        if any(not part for part in parts):
            raise ConfigError([FieldError(field, f"--vary {text!r}: give one or more values separated "
                                          "by commas, none empty")])
        if len(set(parts)) != len(parts):
            raise ConfigError([FieldError(field, f"--vary {text!r}: a value is repeated")])
        values = tuple(part[1:-1] if part.startswith("[") and part.endswith("]") else part for part in parts)
        if any("[" in value or "]" in value for value in values):
            raise ConfigError([FieldError(field, f"--vary {text!r}: a value holds brackets within its "
                                          "brackets, or brackets that do not pair; a list value is one "
                                          "pair of brackets, e.g. model.hidden=[64],[32,32]")])
        return cls(field, values)


@dataclass(frozen=True)
class PlannedRun:
    """One run of a comparison: its number (from 1), what it sets, and its resolved config."""

    number: int
    assignments: tuple[tuple[str, Any], ...]
    config: Config

    @property
    def label(self) -> str:
        """``#2 optimizer=adam lr=0.01``: the number and the values that vary."""
        return f"#{self.number} {describe_assignments(self.assignments)}"


def describe_assignments(assignments: tuple[tuple[str, Any], ...]) -> str:
    """``optimizer=adam lr=0.01``: a choice by its section, any other field by its own name."""
    words = []
    for field, value in assignments:
        section, _, name = field.partition(".")
        if isinstance(value, list):
            shown = "[" + ",".join(str(v) for v in value) + "]"
        elif isinstance(value, float):
            shown = number(value)
        else:
            shown = value if isinstance(value, str) else show_value(value)
        words.append(f"{section if name == 'name' else name}={shown}")
    return " ".join(words)


def plan_runs(file_dict: dict[str, Any] | None, overrides: dict[str, Any],
              variations: list[Variation]) -> list[PlannedRun]:
    """Every run of the comparison, in order (the last variation changes fastest). Raises
    ConfigError listing every problem: too many runs, a field varied twice, and each run's
    invalid fields, named with the run."""
    fields = [v.field for v in variations]
    repeated = sorted({f for f in fields if fields.count(f) > 1})
    if repeated:
        raise ConfigError([FieldError(f, "varied twice; give all its values in one --vary") for f in repeated])
    count = 1
    for variation in variations:
        count *= len(variation.values)
    if count > MAX_RUNS:
        sizes = " x ".join(str(len(v.values)) for v in variations)
        shown = f"{sizes} = {count}" if len(variations) > 1 else str(count)
        raise ConfigError([FieldError("--vary", f"{shown} runs; a comparison holds at most {MAX_RUNS}")])
    runs, problems = [], []
    combinations = itertools.product(*(v.values for v in variations))
    for run_number, values in enumerate(combinations, start=1):
        typed = {field: Text(value) for field, value in zip(fields, values)}
        try:
            config = resolve_flags(file_dict, {**overrides, **typed})
        except ConfigError as exc:
            shown = describe_assignments(tuple(zip(fields, (_clip(value) for value in values))))
            problems += [FieldError(p.field, f"{p.message} (run #{run_number}: {shown})") for p in exc.problems]
            continue
        resolved = to_dict(config)
        assignments = tuple((field, _value_at(resolved, field)) for field in fields)
        runs.append(PlannedRun(run_number, assignments, config))
    problems += _same_runs(runs)
    tasks = list(dict.fromkeys(run.config.task.name for run in runs))
    if len(tasks) > 1:  # their losses and scores cannot be ranked against each other
        problems.append(FieldError("task.name", f"the runs of a comparison share one task; these would train "
                                   f"{', '.join(tasks)}; choose it with --task and compare on each apart"))
    if problems:
        raise ConfigError(problems)
    return runs


def _value_at(resolved: dict[str, Any], field: str) -> Any:
    """A dotted field's value in a config dict (``model.args.width``: inside a table)."""
    value: Any = resolved
    for key in field.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _same_runs(runs: list[PlannedRun]) -> list[FieldError]:
    """A run whose varied values, as the config holds them, equal an earlier run's (``0.1`` and
    ``1e-1``): the two would race the very same config."""
    first: dict[str, int] = {}
    problems = []
    for run in runs:
        key = repr(run.assignments)
        if key in first:
            problems.append(FieldError("--vary", f"runs #{first[key]} and #{run.number} are the same "
                                       f"({describe_assignments(run.assignments)}); a value is repeated"))
        first.setdefault(key, run.number)
    return problems


def varied_values(runs: list[PlannedRun]) -> dict[str, list[Any]]:
    """Each varied field and its values across the runs, in order, as the configs hold them."""
    varied: dict[str, list[Any]] = {}
    for run in runs:
        for field, value in run.assignments:
            if value not in varied.setdefault(field, []):
                varied[field].append(value)
    return varied


#: At most this many differing settings name a run in a legend.
LABEL_SETTINGS = 2


def differing_labels(configs: list[dict[str, Any]], numbers: list[int]) -> list[str]:
    """Legend labels that name what differs between runs' configs (``#2 optimizer=sgd``):
    settings every run has whose values are not all equal, choices first (task, loss,
    optimizer, scheduler), at most LABEL_SETTINGS of them."""
    return [f"#{run} {describe_assignments(assignments)}".strip()
            for run, assignments in zip(numbers, differing_assignments(configs))]


def differing_assignments(configs: list[dict[str, Any]]) -> list[tuple[tuple[str, Any], ...]]:
    """What each of runs' configs sets where they differ (as a PlannedRun's ``assignments``):
    see ``differing_labels``."""
    flat = [_flatten(config) for config in configs]
    common = set(flat[0]).intersection(*flat[1:]) if flat else set()
    order = {section: i for i, section in enumerate(SECTIONS)}
    differing = sorted((k for k in common if len({repr(f[k]) for f in flat}) > 1),
                       key=lambda k: (not k.endswith(".name"), order.get(k.partition(".")[0], 9), k))
    shown = differing[:LABEL_SETTINGS]
    return [tuple((k, values[k]) for k in shown) for values in flat]


def _flatten(config: dict[str, Any]) -> dict[str, Any]:
    return {f"{section}.{key}": value for section, values in config.items() if isinstance(values, dict)
            for key, value in values.items()}


#: A value typed longer than this is cut short where a run is named in a message.
SHOWN_CHARS = 24


def _clip(text: str) -> str:
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS - 3] + "..."


def _split_values(text: str) -> list[str]:
    """Split on commas outside brackets: ``[64],[32,32]`` gives ``[64]`` and ``[32,32]``."""
    parts, depth, current = [], 0, ""
    for char in text:
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    parts.append(current.strip())
    return parts
