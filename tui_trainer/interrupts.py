"""Ctrl+C and SIGTERM for the headless command: the first one stops the run after its current
step (summary and checkpoint still written), the second ends the process at once with 130, even
in the middle of a long step.

A watcher thread reads the signal numbers Python's C-level handler writes to a wake-up socket,
so it acts while the main thread is still inside a long torch operation (torch releases the GIL
there), where a Python signal handler would only run after the operation.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
import time
from types import TracebackType
from typing import Callable

from tui_trainer.launch import world_size

#: Exit code of an interrupted run (128 + SIGINT, as shells report Ctrl+C).
EXIT_INTERRUPTED = 130
#: The signals that stop a run.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
#: Seconds within which a rank under torchrun takes a second signal for torchrun's echo of the first.
TORCHRUN_ECHO = 2.0


def exit_now(code: int = EXIT_INTERRUPTED, note: str = "") -> None:
    """Flush what was printed and end the process with ``code`` (no clean-up, no traceback)."""
    if note:
        print(note, file=sys.stderr)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


class StopOnSignals:
    """While active, SIGINT and SIGTERM call ``on_first`` once; the next one exits with 130.

    Must be entered on the main thread (Python's rule for signal handlers)."""

    def __init__(self, on_first: Callable[[], None]) -> None:
        self.on_first = on_first
        self.count = 0
        self.first_at = 0.0
        self._previous: dict[int, object] = {}

    def __enter__(self) -> StopOnSignals:
        self._reader, self._writer = socket.socketpair()
        self._writer.setblocking(False)
        self._previous_fd = signal.set_wakeup_fd(self._writer.fileno(), warn_on_full_buffer=False)
        for signum in STOP_SIGNALS:
            self._previous[signum] = signal.signal(signum, _noted)
        threading.Thread(target=self._watch, name="signal watcher", daemon=True).start()
        return self

    def _watch(self) -> None:
        while True:
            try:
                data = self._reader.recv(64)
            except OSError:
                return
            if not data:
                return
            for signum in data:
                if signum not in STOP_SIGNALS or self._echo():
                    continue
                self.count += 1
                if self.count == 1:
                    self.first_at = time.monotonic()
                    self.on_first()
                else:
                    exit_now(EXIT_INTERRUPTED, "aborted: second interrupt")

    def _echo(self) -> bool:
        """Under torchrun a terminal's Ctrl+C reaches each rank twice: from the terminal, and
        forwarded by torchrun's agent right after; that second one is the same interrupt (the
        agent then waits for the ranks to finish their step and write their history)."""
        return self.count == 1 and world_size() > 1 and time.monotonic() - self.first_at < TORCHRUN_ECHO

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        signal.set_wakeup_fd(self._previous_fd)
        self._writer.close()  # the watcher's recv returns b"" and it ends
        self._reader.close()


def _noted(signum: int, frame: object) -> None:
    """The Python-level handler: nothing to do, the watcher thread acts on the wake-up byte."""


def exit_on_signals() -> None:
    """From now on SIGINT and SIGTERM end the process with 130 at once (a Python-level handler,
    so never inside a half-done import or file write of the interpreter)."""
    for signum in STOP_SIGNALS:
        signal.signal(signum, _exit_interrupted)


def default_signals() -> None:
    """Python's own handling: KeyboardInterrupt for SIGINT, the default for SIGTERM."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _exit_interrupted(signum: int, frame: object) -> None:
    exit_now(EXIT_INTERRUPTED, "interrupted")
