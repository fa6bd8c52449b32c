"""Pictures in the terminal, two pixels a cell: rows of colors as the screen's lines (the upper
half block, its foreground the top pixel, its background the bottom one), and a network
neuron's picture over the plane sampled to any size."""

from __future__ import annotations

from itertools import groupby
from typing import Any

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from tui_trainer.app.charts import rgb
from tui_trainer.pictures import RGB, signed_color

#: The upper half block: its foreground is a cell's top pixel, its background the bottom one.
HALF_BLOCK = "▀"


def pixel_strips(pixels: list[list[RGB]]) -> list[Strip]:
    """Rows of pixels (an even number of equal rows) as the screen's lines, two pixels a cell: the
    upper half block in the top pixel's color on the bottom pixel's."""
    styles: dict[tuple[RGB, RGB], Style] = {}
    strips = []
    for row in range(len(pixels) // 2):
        segments = []
        for pair, run in groupby(zip(pixels[2 * row], pixels[2 * row + 1])):
            style = styles.get(pair)
            if style is None:
                style = styles[pair] = Style(color=rgb(pair[0]), bgcolor=rgb(pair[1]))
            segments.append(Segment(HALF_BLOCK * sum(1 for _ in run), style))
        strips.append(Strip(segments, len(pixels[2 * row])))
    return strips


def sampled(values: list[float], cols: int, rows: int, width: int, height: int) -> list[list[float]]:
    """A ``cols`` x ``rows`` grid of values (row by row, row 0 at the top) sampled to ``height``
    rows of ``width`` (the cell under each one's centre)."""
    columns = [min(cols - 1, (2 * x + 1) * cols // (2 * width)) for x in range(width)]
    out = []
    for y in range(height):
        start = min(rows - 1, (2 * y + 1) * rows // (2 * height)) * cols
        out.append([values[start + x] for x in columns])
    return out


def neuron_pixels(frame: Any, column: int, index: int, width: int, height: int) -> list[list[RGB]]:
    """Neuron ``index`` of column ``column`` of a NetworkFrame with thumbnails, as ``height``
    rows of ``width`` pixels: its value over the plane at the share of its largest."""
    neurons = frame.columns[column]
    scale = neurons.scale[index] or 1.0
    grid = sampled(neurons.thumbnails[index], frame.cols, frame.rows, width, height)
    return [[signed_color(v / scale) for v in row] for row in grid]
