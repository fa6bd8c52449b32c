"""The pace a person watches runs at (``engine.control.Pace``): the paces the keys step through,
the pace a run starts at, and what a person chose, kept for the session.

The pace is the view's, not the config's: a run computes the same numbers at any pace and its
``config.toml`` does not hold it. A run whose views draw a picture (``catalog.views``: a 2-D task's
boundary or its neurons, ``linear``'s fit, the arena's path) starts at its view's pace, so the eye
can follow it; any other run at max. A pace chosen with the keys holds, for the rest of the
session, for every run whose pace comes from the same view (``group``): slowing the spiral down
slows every 2-D task down, not the arena or iris.
"""

from __future__ import annotations

from tui_trainer.catalog.views import VIEWS
from tui_trainer.config import Config
from tui_trainer.engine.control import MAX_PACE, Pace

#: The paces the keys step through by unit, slowest first; max comes after the last.
PACES = {"epoch": (1.0, 5.0, 20.0, 60.0), "step": (10.0, 30.0, 100.0, 300.0)}
#: What ``--pace`` takes besides a number.
MAX = "max"


def group(config: Config) -> str | None:
    """The view a run of ``config`` takes its starting pace from (None: it has no picture to
    watch, and starts at max)."""
    for name in config.views:
        spec = VIEWS[name]
        if spec.pace is not None and (not spec.pace_on_plane or config.on_plane):
            return name
    return None


def unit(config: Config) -> str:
    """What the pace of a run of ``config`` counts: epochs, or steps (the arena)."""
    view = group(config)
    return VIEWS[view].pace[1] if view is not None else "epoch"


def shifted(pace: Pace, unit_: str, faster: bool) -> Pace:
    """The next pace of PACES[unit_] and max, faster or slower than ``pace`` (max is the fastest,
    the first of PACES the slowest)."""
    paces = PACES[unit_]
    now = pace.per_second if pace.unit == unit_ else None
    if faster:
        above = [p for p in paces if now is not None and p > now]
        return Pace(above[0], unit_) if above else MAX_PACE
    below = [p for p in paces if now is None or p < now]
    return Pace(below[-1] if below else paces[0], unit_)


def parse_pace(text: str) -> str | float:
    """``--pace``'s value: ``max`` or a number of epochs (an arena's steps) a second > 0
    (ValueError naming what is allowed otherwise)."""
    if text.strip().lower() == MAX:
        return MAX
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not (value > 0 and value != float("inf")):
        raise ValueError(f"{text!r}: the pace is 'max' or a number of epochs (the arena: steps) a second > 0")
    return value


class Paces:
    """The paces of a session: each run starts at its group's pace, the view's own unless the
    person chose another one for that group (``choose``) or the session started with one for
    all (``start``: ``max`` or a number, ``--pace``; None: the views' own)."""

    def __init__(self, start: str | float | None = None, watchable: bool = True) -> None:
        self.start = start
        self.watchable = watchable
        self.chosen: dict[str | None, Pace] = {}

    def of(self, config: Config) -> Pace:
        """The pace a run of ``config`` starts at."""
        view = group(config)
        if view in self.chosen:
            return self.chosen[view]
        if self.start == MAX or not self.watchable:
            return MAX_PACE
        if self.start is not None:
            return Pace(float(self.start), unit(config))
        return Pace(*VIEWS[view].pace) if view is not None else MAX_PACE

    def choose(self, config: Config, pace: Pace) -> None:
        """The person chose ``pace`` for runs like ``config``'s (for the rest of the session)."""
        self.chosen[group(config)] = pace
