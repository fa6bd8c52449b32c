"""plotext's private names that the app's charts use (plotext 5.3), reached only here.

The live charts put plotext's matrix of cells (a marker and its colors per cell) straight into
Textual's strips, instead of having plotext write an ANSI string that Rich parses back."""

from __future__ import annotations

from typing import Any

from plotext._utility import colors_to_ansi

#: What this module reaches of plotext's private names (a figure: plotext's _figure_class).
REACHED = ("plotext._utility.colors_to_ansi", "_figure_class._set_size", "_figure_class._set_sizes",
           "_figure_class._build_matrix", "_figure_class.monitor.matrix (Rows, marker, fullground, "
           "style, background)")

Cell = tuple[Any, Any, Any]


def set_size(figure: Any, width: int, height: int) -> None:
    """Size a figure to ``width`` x ``height`` cells, as textual-plotext's render does (plotext's
    plotsize, then the figure's own size: plotsize alone does not resize a textual-plotext plot)."""
    figure.plotsize(width, height)
    figure._set_size(width, height)


def cell_rows(figure: Any) -> list[tuple[list[str], list[Cell]]]:
    """Build a sized figure and return its cells, top row first: each row's markers and each
    cell's (foreground, style, background), as plotext's build makes them before it writes them
    as ANSI codes."""
    figure._set_sizes()
    figure._build_matrix()
    matrix = figure.monitor.matrix
    return [(matrix.marker[row], list(zip(matrix.fullground[row], matrix.style[row], matrix.background[row])))
            for row in reversed(matrix.Rows)]


def ansi_codes(foreground: Any, style: Any, background: Any) -> str:
    """The ANSI codes plotext writes for a cell of these colors."""
    return colors_to_ansi(foreground, style, background)


def missing() -> list[str]:
    """The names of REACHED the installed plotext does not have (a small figure is built)."""
    from plotext._figure import _figure_class

    lost = [f"_figure_class.{name}" for name in ("_set_size", "_set_sizes", "_build_matrix")
            if not callable(getattr(_figure_class, name, None))]
    if lost:
        return lost
    figure = _figure_class()
    figure.plot([1, 2, 3])
    try:
        set_size(figure, 20, 6)
        rows = cell_rows(figure)
    except AttributeError as exc:
        return [f"{REACHED[4]}: {exc}"]
    if len(rows) != 6 or any(len(markers) != 20 or len(cells) != 20 for markers, cells in rows):
        return [f"{REACHED[4]}: a 20x6 figure has not 6 rows of 20 cells"]
    return []
