"""Signals for the headless commands and the app.

Ctrl+C (SIGINT), SIGTERM and SIGHUP (the terminal or the SSH session went away) all stop a run
after its current step, with its summary and checkpoint still written; a second one ends the
process at once, even in the middle of a long step. The exit code says which: 129 for SIGHUP,
130 for the others (``exit_code_for``). Under torchrun a rank whose torchrun ended (killed)
stops the same way, as if its terminal had gone.

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
from typing import TYPE_CHECKING, Callable

from tui_trainer.launch import world_size

if TYPE_CHECKING:
    import asyncio

#: Exit code of an interrupted run (128 + SIGINT, as shells report Ctrl+C; SIGTERM too).
EXIT_INTERRUPTED = 130
#: Exit code of a run stopped because its terminal went away (128 + SIGHUP).
EXIT_HANGUP = 129
#: The signals that stop a run.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
#: Seconds within which a rank under torchrun takes a second signal for torchrun's echo of the first.
TORCHRUN_ECHO = 2.0
#: How often a rank under torchrun looks whether torchrun is still there (seconds).
PARENT_CHECK = 0.5


def exit_code_for(signum: int) -> int:
    """The exit code after ``signum``: 129 for SIGHUP, 130 for Ctrl+C and SIGTERM."""
    return EXIT_HANGUP if signum == signal.SIGHUP else EXIT_INTERRUPTED


def exit_now(code: int = EXIT_INTERRUPTED, note: str = "") -> None:
    """Flush what was printed and end the process with ``code`` (no clean-up, no traceback)."""
    if note:
        try:
            print(note, file=sys.stderr)
        except (OSError, ValueError):  # a terminal that is gone
            pass
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


class StopOnSignals:
    """While active, SIGINT, SIGTERM and SIGHUP call ``on_first(signum)`` once; the next one exits
    at once (129 or 130). ``signum`` holds the first one (None while none came). Under torchrun,
    torchrun ending (its rank is then re-parented) counts as SIGHUP.

    Must be entered on the main thread (Python's rule for signal handlers)."""

    def __init__(self, on_first: Callable[[int], None]) -> None:
        self.on_first = on_first
        self.count = 0
        self.first_at = 0.0
        self.signum: int | None = None
        self._previous: dict[int, object] = {}

    @property
    def exit_code(self) -> int | None:
        """The exit code the first signal asks for (None when none came)."""
        return None if self.signum is None else exit_code_for(self.signum)

    def __enter__(self) -> StopOnSignals:
        self._reader, self._writer = socket.socketpair()
        self._writer.setblocking(False)
        self._parent = os.getppid() if world_size() > 1 else None
        if self._parent is not None:
            self._reader.settimeout(PARENT_CHECK)
        self._previous_fd = signal.set_wakeup_fd(self._writer.fileno(), warn_on_full_buffer=False)
        for signum in STOP_SIGNALS:
            self._previous[signum] = signal.signal(signum, _noted)
        threading.Thread(target=self._watch, name="signal watcher", daemon=True).start()
        return self

    def _watch(self) -> None:
        while True:
            try:
                data = self._reader.recv(64)
            except TimeoutError:
                if os.getppid() != self._parent and self.count == 0:
                    print("torchrun ended: this rank stops after its current step", file=sys.stderr)
                    self._take(signal.SIGHUP)
                continue
            except OSError:
                return
            if not data:
                return
            for signum in data:
                if signum in STOP_SIGNALS and not self._echo():
                    self._take(signum)

    def _take(self, signum: int) -> None:
        self.count += 1
        if self.count == 1:
            self.first_at = time.monotonic()
            self.signum = signum
            self.on_first(signum)
        else:
            exit_now(exit_code_for(signum), "aborted: second interrupt")

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
    """From now on SIGINT, SIGTERM and SIGHUP end the process at once with 130 or 129 (a
    Python-level handler, so never inside a half-done import or file write of the interpreter)."""
    for signum in STOP_SIGNALS:
        signal.signal(signum, _exit_interrupted)


def quit_on_signals(loop: asyncio.AbstractEventLoop, quit: Callable[[int], None]) -> None:
    """For the app: SIGINT, SIGTERM and SIGHUP call ``quit(signum)`` on its event loop (the app
    then stops the run as ctrl+q does and gives the terminal back)."""
    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, quit, signum)


def exit_for(signum: int) -> None:
    """End the process at once with ``signum``'s exit code (a command with nothing to keep)."""
    exit_now(exit_code_for(signum), "interrupted")


def _exit_interrupted(signum: int, frame: object) -> None:
    exit_for(signum)
