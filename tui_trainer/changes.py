"""Hyperparameters changed mid-run: ``{at_step, field, value}`` records that are part of a run's
config (``[[changes]]`` in TOML, ``--change STEP:FIELD=VALUE`` on the command line), so a resumed
run and an exported script make them at the same steps. Torch-free."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tui_trainer.errors import FieldError
from tui_trainer.schema import INT64_MAX, Param

if TYPE_CHECKING:
    from tui_trainer.config import Config

#: The field besides the optimizer's settings that a change may set: how long the run goes on.
EPOCHS_FIELD = "training.epochs"


@dataclass(frozen=True)
class Change:
    """From optimizer step ``at_step`` on (1 is the first step), ``field`` has ``value``."""

    at_step: int
    field: str
    value: Any

    def as_dict(self) -> dict[str, Any]:
        """The TOML table of the change."""
        return {"at_step": self.at_step, "field": self.field, "value": self.value}


def parse_flag(text: str) -> dict[str, Any]:
    """``STEP:FIELD=VALUE`` (``--change 200:optimizer.lr=0.001``) as a raw change; the value stays
    text until checked against its field. Raises ValueError with what is expected."""
    step, colon, rest = text.partition(":")
    field, equals, value = rest.partition("=")
    if not colon or not equals or not field.strip():
        raise ValueError(f"--change {text!r}: expected STEP:FIELD=VALUE, e.g. --change 200:optimizer.lr=0.001")
    if not step.strip().isdigit() or int(step) < 1:
        raise ValueError(f"--change {text!r}: STEP must be a whole number from 1 (the optimizer step "
                         "the change takes effect at; 1 is the first step)")
    return {"at_step": int(step), "field": field.strip(), "value": value.strip(), "typed": True}


def changeable(config: Config) -> dict[str, Param]:
    """The fields a change may set for ``config``: its optimizer's numeric settings (they live in
    torch's param groups) and the run's length."""
    from tui_trainer.config import params_of

    fields = {f"optimizer.{p.name}": p for p in params_of("optimizer", config.optimizer.name)
              if p.kind in ("float", "floats")}
    fields[EPOCHS_FIELD] = next(p for p in params_of("training") if p.name == "epochs")
    return fields


def check_changes(config: Config, raw: Any, problems: list[FieldError]) -> list[Change]:
    """The valid changes of ``raw`` (a list of tables), sorted by step; each problem is added to
    ``problems`` naming the change."""
    from tui_trainer.config import Text, check_value

    if not isinstance(raw, list):
        problems.append(FieldError("changes", "must be a list of tables with at_step, field and value"))
        return []
    fields, changes = changeable(config), {}
    for number, item in enumerate(raw, start=1):
        where = f"changes[{number}]"
        if not isinstance(item, dict) or not {"at_step", "field", "value"} <= set(item):
            problems.append(FieldError(where, "must be a table with at_step, field and value"))
            continue
        step, field, value = item["at_step"], item["field"], item["value"]
        if isinstance(step, bool) or not isinstance(step, int) or not 1 <= step <= INT64_MAX:
            problems.append(FieldError(f"{where}.at_step", f"{step!r} is not allowed; must be a whole "
                                       f"number from 1 to {INT64_MAX} (the optimizer step the change "
                                       "takes effect at)"))
            continue
        if field not in fields:
            problems.append(FieldError(f"{where}.field", f"{field!r} cannot change mid-run; changeable: "
                                       + ", ".join(fields)))
            continue
        param = fields[field]
        problem = check_value(param, Text(value) if item.get("typed") else value)
        if problem:
            problems.append(FieldError(f"{where}.value", f"{field}: {problem}"))
            continue
        if item.get("typed"):
            value = param.parse(value)
        overwritten = _set_by_one_cycle(config, field)
        if overwritten:
            problems.append(FieldError(f"{where}.field", overwritten))
            continue
        if field == EPOCHS_FIELD and config.scheduler.name != "none":
            from tui_trainer.catalog.schedulers import SCHEDULERS

            if SCHEDULERS[config.scheduler.name].spans_run(config.scheduler.params):
                problems.append(FieldError(f"{where}.field", f"scheduler {config.scheduler.name} spans "
                                           "the run's epochs; training.epochs cannot change mid-run"))
                continue
        if (step, field) in changes:
            problems.append(FieldError(f"{where}", f"{field} is changed twice at step {step} (also by "
                                       f"changes[{changes[(step, field)][0]}]); keep one of them"))
            continue
        changes[(step, field)] = (number, Change(step, field, value))
    return sorted((change for _, change in changes.values()), key=lambda change: change.at_step)


def _set_by_one_cycle(config: Config, field: str) -> str | None:
    """Why one-cycle would undo a change of ``field`` at its next step (None when it would not):
    OneCycleLR sets every step's rate from max_lr, and with cycle_momentum its momentum or beta1,
    whatever the param group held."""
    if config.scheduler.name != "one-cycle":
        return None
    cycled = {"optimizer.lr"}
    if config.scheduler.params.get("cycle_momentum", True):
        cycled |= {"optimizer.momentum", "optimizer.betas"}
    if field == "optimizer.lr":
        return ("optimizer.lr cannot change mid-run with scheduler one-cycle: OneCycleLR sets the rate "
                "of every step from max_lr, so the change would be undone at once")
    if field in cycled:
        return (f"{field} cannot change mid-run with scheduler one-cycle: with cycle_momentum it sets "
                "momentum (beta1) at every step; set scheduler.cycle_momentum=false to change it")
    return None
