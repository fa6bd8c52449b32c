"""The notice that stands in for the app while the terminal is smaller than its layout needs."""

from __future__ import annotations

from textual.geometry import Size
from textual.widgets import Static

#: The smallest terminal the app's layout is made for.
MIN_WIDTH, MIN_HEIGHT = 80, 24


class SizeNotice(Static):
    """Says what size the app needs while the terminal is under MIN_WIDTH x MIN_HEIGHT, in place
    of the widgets ``covers`` selects (a layout cut to pieces otherwise); they come back as soon
    as the terminal is big enough."""

    DEFAULT_CSS = """
    SizeNotice {
        display: none; width: 1fr; height: 1fr; padding: 1 2;
        content-align: center middle; text-align: center;
    }
    """

    def __init__(self, covers: str) -> None:
        super().__init__("", id="size-notice")
        self.covers = covers

    @staticmethod
    def too_small(size: Size) -> bool:
        """Whether a terminal of ``size`` is too small for the app."""
        return size.width < MIN_WIDTH or size.height < MIN_HEIGHT

    def fit(self, size: Size) -> None:
        """Show the notice in place of the app while ``size`` is too small, else the app."""
        small = self.too_small(size)
        if small:
            self.update(f"tui-trainer needs a terminal of at least {MIN_WIDTH}x{MIN_HEIGHT} "
                        f"(this one is {size.width}x{size.height}).\n\nMake the window larger or the "
                        "font smaller: the app comes back at once, with any run still going.\n\n"
                        "ctrl+q quits.")
        if small != self.display:
            self.display = small
            self.screen.query(self.covers).set(display=not small)
