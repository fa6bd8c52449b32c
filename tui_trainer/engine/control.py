"""Cooperative run control: stop and pause/resume, checked by the loop between steps."""

from __future__ import annotations

import threading
import time


class RunControl:
    """A handle another thread uses to stop, pause or resume a running loop.

    The loop checks it before every step, so a stop takes effect within one step.
    """

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self.stop_reason = "stopped"

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
        """Whether a stop or a pause is asked for (one cheap check per step)."""
        return self._stop.is_set() or not self._running.is_set()

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
