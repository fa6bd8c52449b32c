"""Cooperative run control: stop, pause/resume and hyperparameter changes, checked by the loop
between steps; and a live view's request for pictures of the run."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tui_trainer.engine.views import Frame


class RunControl:
    """A handle another thread uses to stop, pause or resume a running loop.

    The loop checks it before every step, so a stop takes effect within one step.
    """

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self._changed = threading.Event()
        self._changes: list[tuple[str, Any]] = []
        self._lock = threading.Lock()
        self.stop_reason = "stopped"

    def change(self, field: str, value: Any) -> None:
        """Ask the loop to set ``field`` (an optimizer setting or ``training.epochs``, checked by
        the caller) to ``value`` from its next step on; the change becomes part of the run."""
        with self._lock:
            self._changes.append((field, value))
            self._changed.set()

    def take_changes(self) -> list[tuple[str, Any]]:
        """The changes asked for since the last call (the loop takes them before a step)."""
        with self._lock:
            changes, self._changes = self._changes, []
            self._changed.clear()
        return changes

    def stop(self, reason: str = "stopped") -> None:
        """Ask the loop to stop after the current step (``reason``: stopped or interrupted)."""
        self.stop_reason = reason
        self._stop.set()
        self._running.set()

    def pause(self) -> None:
        """Ask the loop to wait before its next step until ``resume`` or ``stop``."""
        self._running.clear()

    def resume(self) -> None:
        """Let a paused loop go on."""
        self._running.set()

    @property
    def requested(self) -> bool:
        """Whether a stop, a pause or a change is asked for (one cheap check per step)."""
        return self._stop.is_set() or not self._running.is_set() or self._changed.is_set()

    @property
    def stop_requested(self) -> bool:
        """Whether ``stop`` was called."""
        return self._stop.is_set()

    @property
    def paused(self) -> bool:
        """Whether the loop is asked to wait."""
        return not self._running.is_set()

    def wait_while_paused(self) -> float:
        """Block while paused; returns the seconds spent waiting."""
        if self._running.is_set():
            return 0.0
        start = time.perf_counter()
        self._running.wait()
        return time.perf_counter() - start


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
