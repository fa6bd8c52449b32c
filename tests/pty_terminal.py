"""A real pseudo-terminal for tests: a command started as from a person's shell (its own session,
the terminal its controlling terminal), its output read by a thread, keys written to it, and the
terminal closed as when an SSH session drops (the kernel then sends the process SIGHUP)."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios
import threading
import time
from pathlib import Path

#: A hang guard for waits, not a speed requirement (the machine may be busy).
WAIT_LIMIT = 90.0


class Terminal:
    """``tui-trainer ARGS`` (``python -m tui_trainer``) in a pseudo-terminal of ``size``."""

    def __init__(self, args: list[str], env: dict[str, str] | None = None, size: tuple[int, int] = (80, 24),
                 cwd: Path | None = None) -> None:
        argv = [sys.executable, "-m", "tui_trainer", *args]
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: a new session whose controlling terminal is the pty
            try:
                if cwd is not None:
                    os.chdir(cwd)
                os.environ.update(env or {})
                os.environ.setdefault("TERM", "xterm-256color")
                os.execv(sys.executable, argv)
            finally:
                os._exit(127)
        cols, rows = size
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.output = bytearray()
        self.lock = threading.Lock()
        self.status: int | None = None
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        while True:
            try:
                ready, _, _ = select.select([self.fd], [], [], 0.2)
                if ready:
                    data = os.read(self.fd, 65536)
                    if not data:
                        return
                    with self.lock:
                        self.output += data
            except OSError:  # the child closed the terminal (EIO), or we did (EBADF)
                return

    def text(self) -> bytes:
        """Everything the program wrote so far."""
        with self.lock:
            return bytes(self.output)

    def wait_for(self, text: bytes, after: int = 0, limit: float = WAIT_LIMIT) -> int:
        """Wait until ``text`` shows in the output past offset ``after``; returns where it ends."""
        deadline = time.monotonic() + limit
        while True:
            ended = self.exited()
            if ended:
                self.reader.join(limit)  # what the program wrote before it ended
            found = self.text().find(text, after)
            if found >= 0:
                return found + len(text)
            if time.monotonic() > deadline or ended:
                raise AssertionError(f"{text!r} never showed; the output ends with {self.text()[-2000:]!r}")
            time.sleep(0.02)

    def send(self, keys: bytes) -> None:
        """Type ``keys``."""
        os.write(self.fd, keys)

    def exited(self) -> bool:
        """Whether the program ended (its status is then in ``status``)."""
        if self.status is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = status
        return self.status is not None

    def wait_exit(self, limit: float = WAIT_LIMIT) -> int:
        """Wait for the program to end; its exit code (negative: the signal that killed it)."""
        deadline = time.monotonic() + limit
        while not self.exited():
            if time.monotonic() > deadline:
                self.kill()
                raise AssertionError(f"the program did not exit; its output ends with {self.text()[-2000:]!r}")
            time.sleep(0.01)
        return os.waitstatus_to_exitcode(self.status)

    def signal(self, signum: int) -> None:
        """Send the program a signal."""
        os.kill(self.pid, signum)

    def hang_up(self) -> None:
        """Close the terminal, as when the SSH session or the terminal window goes away."""
        os.close(self.fd)

    def kill(self) -> None:
        """End the program at once (clean-up after a failed test)."""
        if not self.exited():
            os.kill(self.pid, signal.SIGKILL)
            self.wait_exit()
