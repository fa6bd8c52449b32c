"""Cooperative run control: stop, pause/resume, hyperparameter changes, the pace a person
watches at and step-by-step training, all checked by the loop between steps; and a live view's
request for pictures of the run."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable

if TYPE_CHECKING:
    from tui_trainer.engine.views import Frame

#: What a pace counts: epochs, or optimizer steps (the arena's natural unit).
PACE_UNITS = ("epoch", "step")
#: What one step request trains before the run pauses again: up to the next epoch end, or one
#: optimizer step (a batch).
STEP_UNITS = ("epoch", "batch")


@dataclass(frozen=True)
class Pace:
    """How fast a run may go, so that an eye can follow it: at most ``per_second`` epochs (unit
    ``epoch``) or optimizer steps (unit ``step``) a second; ``per_second`` None is ``max``, as fast
    as it trains. A property of the view, not of the run: a run computes the same numbers at any
    pace, and the waiting is not training time."""

    per_second: float | None = None
    unit: str = "epoch"

    def __post_init__(self) -> None:
        if self.unit not in PACE_UNITS:
            raise ValueError(f"pace unit {self.unit!r}: must be one of {', '.join(PACE_UNITS)}")
        if self.per_second is not None and not (math.isfinite(self.per_second) and self.per_second > 0):
            raise ValueError(f"pace {self.per_second!r} per second: must be a finite number > 0 (None: max)")

    @property
    def is_max(self) -> bool:
        """Whether the run goes as fast as it trains."""
        return self.per_second is None

    @property
    def gap(self) -> float:
        """Seconds from the start of one epoch (or step) to the start of the next (0 at max)."""
        return 0.0 if self.per_second is None else 1.0 / self.per_second

    def __str__(self) -> str:
        if self.per_second is None:
            return "max"
        return f"{self.per_second:g} {self.unit}{'' if self.per_second == 1 else 's'}/s"


#: As fast as the run trains (the default).
MAX_PACE = Pace()


class RunControl:
    """A handle another thread uses to stop, pause, resume, pace or step a running loop, or to
    change its hyperparameters.

    The loop checks it before every step (one attribute read while nothing is asked), so a stop
    takes effect within one step. One handle may drive several runs (a comparison): each run
    takes every step request once. ``version`` counts the changes, so a loop that waits can
    wake at the next one (``wait_for_change``).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stop = False
        self._paused = False
        self._pace = MAX_PACE
        self._step: tuple[int, str | None] = (0, None)
        self._changes: list[tuple[str, Any]] = []
        self._version = 0
        self._watchers: set[threading.Event] = set()
        self.stop_reason = "stopped"
        #: Whether a stopped run still measures its final metrics on the whole data (a process
        #: that is quitting skips that pass, the slowest part of a big model's ending).
        self.final_pass = True

    def _changed(self) -> None:
        """Record a change (under the lock) and wake whoever waits for one."""
        self._version += 1
        for watcher in self._watchers:
            watcher.set()

    def change(self, field: str, value: Any) -> None:
        """Ask the loop to set ``field`` (an optimizer setting or ``training.epochs``, checked by
        the caller) to ``value`` from its next step on; the change becomes part of the run."""
        with self._lock:
            self._changes.append((field, value))
            self._changed()

    def take_changes(self) -> list[tuple[str, Any]]:
        """The changes asked for since the last call (the loop takes them before a step)."""
        with self._lock:
            changes, self._changes = self._changes, []
        return changes

    def stop(self, reason: str = "stopped", final_pass: bool = True) -> None:
        """Ask the loop to stop after the current step (``reason``: stopped or interrupted);
        without ``final_pass`` its final metrics are not measured (it ends at once)."""
        with self._lock:
            self.stop_reason = reason
            self.final_pass = final_pass
            self._stop = True
            self._changed()

    def pause(self) -> None:
        """Ask the loop to wait before its next step until ``resume``, ``step`` or ``stop``."""
        with self._lock:
            self._paused = True
            self._changed()

    def resume(self) -> None:
        """Let a paused loop go on (a step request not yet finished is dropped: it runs on)."""
        with self._lock:
            self._paused = False
            self._step = (self._step[0] + 1, None)
            self._changed()

    def step(self, unit: str = "epoch") -> None:
        """Train one more ``epoch`` (up to the next epoch end: a whole epoch when the run waits
        between two) or one more ``batch`` (one optimizer step), then pause, as the playground's
        step button does; a running loop is paused by it. Every run the handle drives takes the
        step."""
        if unit not in STEP_UNITS:
            raise ValueError(f"step unit {unit!r}: must be one of {', '.join(STEP_UNITS)}")
        with self._lock:
            self._paused = True
            self._step = (self._step[0] + 1, unit)
            self._changed()

    def set_pace(self, pace: Pace) -> None:
        """Go at ``pace`` from now on (a loop waiting for the old pace goes on at the new one)."""
        with self._lock:
            self._pace = pace
            self._changed()

    @property
    def pace(self) -> Pace:
        """The pace asked for (MAX_PACE unless set)."""
        return self._pace

    @property
    def step_request(self) -> tuple[int, str | None]:
        """(number, unit) of the latest step request (unit None after a resume, which ends it);
        a loop takes each number once."""
        return self._step

    @property
    def requested(self) -> bool:
        """Whether a stop, a pause or step, a change or a pace is asked for (one cheap check per
        step)."""
        return self._stop or self._paused or bool(self._changes) or self._pace.per_second is not None

    @property
    def stop_requested(self) -> bool:
        """Whether ``stop`` was called."""
        return self._stop

    @property
    def paused(self) -> bool:
        """Whether the loop is asked to wait (also while it trains a step request)."""
        return self._paused

    @property
    def version(self) -> int:
        """How many changes were asked for so far (a loop that waits notes it, see
        ``wait_for_change``)."""
        return self._version

    def _watch(self, watcher: threading.Event, on: bool) -> None:
        with self._lock:
            (self._watchers.add if on else self._watchers.discard)(watcher)


def wait_for_change(seen: Iterable[tuple[RunControl, int]], until: float = math.inf) -> None:
    """Block until one of the controls has changed since the ``version`` seen with it, or until
    ``until`` (a ``time.perf_counter()`` time; inf: no limit): how a waiting run (paused, held
    after a step, or paced) sleeps without missing a resume, a step, a stop or a new pace."""
    pairs = list(seen)
    woken = threading.Event()
    for control, _ in pairs:
        control._watch(woken, True)
    try:
        if any(control.version != version for control, version in pairs):
            return
        woken.wait(None if math.isinf(until) else max(0.0, until - time.perf_counter()))
    finally:
        for control, _ in pairs:
            control._watch(woken, False)


class ViewRequest:
    """A live view's order to a run, shared by the UI thread and the training thread: the grid
    size it wants (``ask``) and the run's newest picture (``post``, ``take``). A new picture is
    wanted only once the view took the last one, so a view that is not looked at costs nothing."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._size: tuple[int, int] | None = None
        self._frame: Frame | None = None
        self._taken = True

    def ask(self, cols: int, rows: int) -> None:
        """Ask for pictures of ``cols`` x ``rows`` cells (the curve: ``cols`` points)."""
        with self._lock:
            self._size = (max(2, cols), max(2, rows))

    @property
    def size(self) -> tuple[int, int] | None:
        """The size asked for (None: no picture wanted)."""
        with self._lock:
            return self._size

    @property
    def wanted(self) -> tuple[int, int] | None:
        """The size of the next picture, once the view took the last one (else None)."""
        with self._lock:
            return self._size if self._taken else None

    def post(self, frame: Frame) -> None:
        """Hand over a new picture (the training thread)."""
        with self._lock:
            self._frame, self._taken = frame, False

    def take(self) -> Frame | None:
        """The newest picture (None before the first); the run may make the next one."""
        with self._lock:
            self._taken = True
            return self._frame
