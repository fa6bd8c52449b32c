"""textual-plotext's private names that the app's charts use (textual-plotext 1.0), reached only here."""

from __future__ import annotations

from textual_plotext import PlotextPlot

#: What this module reaches of textual-plotext's private names.
REACHED = ("PlotextPlot._get_plotext_theme_name",)


def theme_name(plot: PlotextPlot, app_theme: str) -> str:
    """The plotext theme a plot draws with under the app's theme ``app_theme`` (what
    textual-plotext's render sets before it builds)."""
    return plot._get_plotext_theme_name(app_theme)


def missing() -> list[str]:
    """The names of REACHED the installed textual-plotext does not have."""
    return [] if callable(getattr(PlotextPlot, "_get_plotext_theme_name", None)) else list(REACHED)
