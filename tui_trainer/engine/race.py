"""Several runs in one thread, taking turns: each run trains until its next report, then gives
way to the next. Each keeps its own random-number state and thread count across turns, so every
run trains exactly as it would alone, and together they go as fast as one after another."""

from __future__ import annotations

from typing import Sequence

from tui_trainer.engine.events import RunResult
from tui_trainer.engine.loop import Trainer
from tui_trainer.errors import ConfigError, FieldError, UserFacingError


def race(trainers: Sequence[Trainer]) -> list[RunResult]:
    """Set up every run (a refused one raises before any trains), then train them by turns;
    returns their results in order. A run that diverges or fails ends alone."""
    for number, trainer in enumerate(trainers, start=1):
        try:
            trainer.get_ready()
        except ConfigError as exc:  # name the run, as the plan's checks do
            raise ConfigError([FieldError(p.field, f"{p.message} (run #{number})") for p in exc.problems]) from None
        except UserFacingError as exc:
            raise UserFacingError(f"run #{number}: {exc}") from None
    going = [trainer.turns() for trainer in trainers]
    while going:
        for turns in list(going):
            try:
                next(turns)
            except StopIteration:
                going.remove(turns)
    return [trainer.result for trainer in trainers]
