"""The run log: per-epoch lines and messages, written to the screen only while it is shown."""

from __future__ import annotations

from textual.widgets import Log


class RunLog(Log):
    """A Log that keeps lines added while it is hidden and writes them when it is shown.

    Writing to a Log grows its virtual size, which makes Textual lay out the whole screen; done
    at every redraw of a run in progress, that costs the training thread the GIL for nothing
    while the log's tab is not on screen.
    """

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id, max_lines=5000)
        self.pending: list[str] = []

    def add(self, *lines: str) -> None:
        """Add lines; they reach the screen now if the log is shown, else when it is."""
        self.pending.extend(lines)
        if self.is_on_screen:
            self.flush()

    def flush(self) -> None:
        """Write the lines held back."""
        if self.pending:
            lines, self.pending = self.pending, []
            self.write_lines(lines)

    @property
    def all_lines(self) -> list[str]:
        """Every line, written or held back."""
        return [*self.lines, *self.pending]

    def clear(self) -> RunLog:
        """Remove every line."""
        self.pending = []
        super().clear()
        return self

    def on_show(self) -> None:
        self.flush()
