"""Several runs in one thread, taking turns: each run trains until its next report, then gives
way to the next. Each keeps its own random-number state and thread count across turns, so every
run trains exactly as it would alone, and together they go as fast as one after another. A run
that must wait (paused, held after a step request, or paced) gives way too; when every run
waits, the thread sleeps until the first may go on or a control changes."""

from __future__ import annotations

from typing import Sequence

from tui_trainer.engine.control import wait_for_change
from tui_trainer.engine.events import RunResult
from tui_trainer.engine.loop import Trainer
from tui_trainer.engine.runinfo import RaceSeat, new_race_id
from tui_trainer.errors import ConfigError, FieldError, UserFacingError


def race(trainers: Sequence[Trainer]) -> list[RunResult]:
    """Set up every run (a refused one raises before any trains), then train them by turns;
    returns their results in order. A run that diverges or fails ends alone. Each run's folder
    records its place in the race (``RaceSeat``), so a watcher shows the runs together."""
    race_id = new_race_id()
    for number, trainer in enumerate(trainers, start=1):
        trainer.race = RaceSeat(race_id, number, len(trainers))
        try:
            trainer.get_ready()
        except ConfigError as exc:  # name the run, as the plan's checks do
            raise ConfigError([FieldError(p.field, f"{p.message} (run #{number})") for p in exc.problems]) from None
        except UserFacingError as exc:
            raise UserFacingError(f"run #{number}: {exc}") from None
    going = {trainer: trainer.turns() for trainer in trainers}
    while going:
        waiting: list[tuple[Trainer, float]] = []
        for trainer, turns in list(going.items()):
            try:
                until = next(turns)
            except StopIteration:
                del going[trainer]
                continue
            if until is not None:
                waiting.append((trainer, until))
        if going and len(waiting) == len(going):
            wait_for_change([(t.control, t.waits_on) for t, _ in waiting], min(until for _, until in waiting))
    return [trainer.result for trainer in trainers]
