"""The run log: per-epoch lines and messages, wrapped to its width, written to the screen only
while it is shown."""

from __future__ import annotations

import textwrap
import time

from textual import events
from textual.widgets import Log

#: Lines kept (the oldest go first).
MAX_LINES = 5000
#: Continuation lines of a wrapped message are indented this much.
INDENT = "  "
#: The least seconds between two writes to the screen while the log is shown: each write lays
#: out the whole screen (see RunLog), so a run's lines arrive in batches, once a second.
WRITE_GAP = 1.0


class RunLog(Log):
    """A Log whose long lines wrap at its width (re-wrapped when it is resized), so a long message
    (missing files with their folder and names, torch's refusals) reads in full without scrolling
    sideways. Lines added while it is hidden are written when it is shown.

    Writing to a Log grows its virtual size, which makes Textual lay out the whole screen; done
    at every redraw of a run in progress, that costs the training thread the GIL for nothing
    while the log's tab is not on screen.
    """

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id, max_lines=MAX_LINES * 4)
        self.entries: list[str] = []
        self.written = 0  # entries already on screen
        self.wrapped_at = 0  # the width they were wrapped to
        self.last_write = 0.0  # monotonic time of the last write to the screen
        self.pending = None  # the timer that writes the lines held back, when one is set

    def add(self, *lines: str) -> None:
        """Add lines; they reach the screen now if the log is shown, else when it is."""
        self.entries.extend(lines)
        if len(self.entries) > MAX_LINES:
            dropped = len(self.entries) - MAX_LINES
            del self.entries[:dropped]
            self.written = max(0, self.written - dropped)
        if self.pending is None and self.is_on_screen:
            wait = self.last_write + WRITE_GAP - time.monotonic()
            if wait <= 0:
                self.flush()
            else:
                self.pending = self.set_timer(wait, self._flush_pending)

    def _flush_pending(self) -> None:
        self.pending = None
        self.flush()

    def flush(self) -> None:
        """Write the lines held back (all of them again, rewrapped, when the width changed)."""
        width = self.scrollable_content_region.width
        if width <= 0:
            return
        if width != self.wrapped_at:
            self.wrapped_at = width
            self.written = 0
            super().clear()
        if self.written < len(self.entries):
            self.last_write = time.monotonic()
            new = self.entries[self.written:]
            self.written = len(self.entries)
            self.write_lines([part for line in new for part in _wrap(line, width)])

    @property
    def all_lines(self) -> list[str]:
        """Every line, as added (unwrapped), shown or held back."""
        return list(self.entries)

    def clear(self) -> RunLog:
        """Remove every line."""
        self.entries = []
        self.written = 0
        super().clear()
        return self

    def on_show(self) -> None:
        self.flush()

    def on_resize(self, event: events.Resize) -> None:
        self.flush()


def _wrap(line: str, width: int) -> list[str]:
    return textwrap.wrap(line, width, subsequent_indent=INDENT, break_on_hyphens=False) or [""]
