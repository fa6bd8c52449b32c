"""The app's terminal: Textual's own driver, made safe for a terminal that goes away (a dropped
SSH session). Its output thread writes through ClosedPipeSafe, so a write to a hung-up terminal
goes nowhere instead of ending that thread (after which the app's next writes would block)."""

from __future__ import annotations

from typing import Any

from textual.drivers.linux_driver import LinuxDriver

from tui_trainer.pipes import ClosedPipeSafe, detach


class TerminalDriver(LinuxDriver):
    """Textual's Linux and macOS driver, writing through ClosedPipeSafe."""

    def __init__(self, app: Any, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._file = ClosedPipeSafe(self._file)

    def hang_up(self) -> None:
        """The terminal went away: output goes to /dev/null, and input stops (a hung-up
        terminal reads as an endless end of file, which the input thread would spin on)."""
        for fd in (1, 2):
            detach(fd)
        self.disable_input()
