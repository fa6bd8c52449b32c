"""Cooperative run control: stop, pause/resume and hyperparameter changes, checked by the loop
between steps."""

from __future__ import annotations

import threading
import time
from typing import Any


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
