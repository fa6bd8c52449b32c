"""Output to a pipe that may close early (``tui-trainer list | head -1``): once the reader is
gone, output is dropped and the command goes on to its own exit code, without a traceback."""

from __future__ import annotations

import os
from typing import Any, TextIO


class ClosedPipeSafe:
    """Wraps stdout or stderr: a BrokenPipeError on write or flush sends the stream's file
    descriptor to /dev/null, so this and every later write (the interpreter's final flush too)
    succeed."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.closed_by_reader = False

    def write(self, text: str) -> int:
        """Write, or drop the text once the reader has gone."""
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._drop()
            return len(text)

    def flush(self) -> None:
        """Flush, or drop the buffered text once the reader has gone."""
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._drop()

    def _drop(self) -> None:
        self.closed_by_reader = True
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, self._stream.fileno())
        os.close(devnull)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)
