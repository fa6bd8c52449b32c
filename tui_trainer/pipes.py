"""Output whose reader may go away: a pipe that closes early (``tui-trainer list | head -1``), or
a terminal that hung up (the SSH session dropped). Once the reader is gone, output is dropped
and the command goes on to its own exit code, without a traceback."""

from __future__ import annotations

import errno
import os
from typing import Any, TextIO

#: What a write gives once the reader is gone: a closed pipe (EPIPE), a terminal that hung up
#: (EIO), a terminal device that no longer exists (ENXIO).
READER_GONE = (errno.EPIPE, errno.EIO, errno.ENXIO)


def detach(fd: int) -> None:
    """Point ``fd`` at /dev/null: every later write to it succeeds and goes nowhere."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


class ClosedPipeSafe:
    """Wraps stdout or stderr: a write or flush that finds the reader gone sends the stream's
    file descriptor to /dev/null, so this and every later write (the interpreter's final flush
    too) succeed."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.closed_by_reader = False

    def write(self, text: str) -> int:
        """Write, or drop the text once the reader has gone."""
        try:
            return self._stream.write(text)
        except OSError as exc:
            self._drop(exc)
            return len(text)

    def flush(self) -> None:
        """Flush, or drop the buffered text once the reader has gone."""
        try:
            self._stream.flush()
        except OSError as exc:
            self._drop(exc)

    def _drop(self, exc: OSError) -> None:
        if exc.errno not in READER_GONE:
            raise exc
        self.closed_by_reader = True
        detach(self._stream.fileno())

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def terminal_gone(fd: int = 0) -> bool:
    """Whether the terminal on ``fd`` hung up (the SSH session or the window went away): its
    settings can no longer be read. False for a terminal still there, or no terminal at all."""
    import termios

    try:
        termios.tcgetattr(fd)
    except termios.error as exc:
        return exc.args[0] == errno.EIO
    return False

