"""The Arena tab: an arena task's function drawn as a heatmap of half-block cells (two pixels per
cell, log-scaled so the valleys show) with each run's path drawn on top in its color, and the
runs' standings below.

The heatmap is computed once per view size, in a thread (torch evaluates the task's own function
there); the paths are redrawn from what the runs report, at the app's redraw pace, within a
picture's budget of UI-thread time (``app.pace``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rich.segment import Segment
from rich.style import Style
from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.geometry import Region
from textual.content import Content
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Static

from tui_trainer.app.charts import COLORS, rgb
from tui_trainer.app.feed import RunFeed
from tui_trainer.app.pace import PICTURE_SHARE, Pace, Paced
from tui_trainer.app.picture import LivePicture
from tui_trainer.catalog.arena import SURFACES, nearest_minimum, view_domain
from tui_trainer.config import Config
from tui_trainer.engine.events import RunResult
from tui_trainer.formatting import number

if TYPE_CHECKING:
    from tui_trainer.app.runs import Job, LiveRun

RGB = tuple[int, int, int]
#: The heatmap's colors from the lowest value to the highest (dark valleys, pale heights), muted
#: so that the runs' colored paths stand out on them.
SHADES: tuple[RGB, ...] = ((8, 10, 28), (30, 48, 92), (70, 100, 140), (140, 155, 175), (222, 222, 210))
#: The known minima's pixels.
MINIMUM_COLOR: RGB = (255, 255, 255)


def shade(fraction: float) -> RGB:
    """The heatmap color at ``fraction`` (0: the lowest value, 1: the highest) of SHADES."""
    position = min(max(fraction, 0.0), 1.0) * (len(SHADES) - 1)
    low = min(int(position), len(SHADES) - 2)
    t = position - low
    return tuple(round(a + (b - a) * t) for a, b in zip(SHADES[low], SHADES[low + 1]))


def shaded(values: list[list[float]]) -> list[list[RGB]]:
    """Colors for a grid of function values: log(1 + f - min f), scaled to the grid's range (values
    that are not finite take the highest color)."""
    finite = [v for row in values for v in row if math.isfinite(v)]
    if not finite:
        return [[SHADES[-1] for _ in row] for row in values]
    lowest = min(finite)
    top = math.log1p(max(finite) - lowest) or 1.0
    return [[shade(math.log1p(v - lowest) / top if math.isfinite(v) else 1.0) for v in row] for row in values]


def line_pixels(start: tuple[int, int], end: tuple[int, int]) -> list[tuple[int, int]]:
    """The pixels (row, column) of a straight line from ``start`` to ``end``, both included."""
    (r0, c0), (r1, c1) = start, end
    steps = max(abs(r1 - r0), abs(c1 - c0))
    if steps == 0:
        return [start]
    return [(round(r0 + (r1 - r0) * i / steps), round(c0 + (c1 - c0) * i / steps)) for i in range(steps + 1)]


@dataclass
class Track:
    """One run on the arena: its feed, color and label, and its path's points so far."""

    feed: RunFeed
    color: RGB
    label: str
    points: list[tuple[float, float]] = field(default_factory=list)
    epochs_read: int = 0
    result: RunResult | None = None

    def read(self) -> tuple[list[tuple[float, float]], tuple[float, float] | None]:
        """The path so far: the finished epochs' points (the run's whole path once it ended),
        and the point at the last report when it came later (None otherwise)."""
        if self.result is not None and self.result.path:
            if len(self.points) != len(self.result.path):
                self.points = [(p[1], p[2]) for p in self.result.path if None not in p[1:]]
            return self.points, None
        epochs = self.feed.epochs
        for metrics in epochs[self.epochs_read:]:
            self.points += [(p[1], p[2]) for p in metrics.path or [] if None not in p[1:]]
        self.epochs_read = len(epochs)
        progress = self.feed.progress
        last = epochs[-1].global_step if epochs else -1
        if progress is not None and progress.global_step > last and "x" in progress.figures:
            return self.points, (progress.figures["x"], progress.figures["y"])
        return self.points, None

    def last_point(self) -> tuple[float, float] | None:
        """Where the run's point is now (None before its first report)."""
        points, now = self.read()
        return now or (points[-1] if points else None)


class ArenaCanvas(Paced, Widget):
    """The function's heatmap with the runs' paths; each cell is "▀": its foreground the top
    pixel, its background the bottom one."""

    DEFAULT_CSS = "ArenaCanvas { height: 1fr; width: 1fr; }"

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.config: Config | None = None
        self.base: list[list[RGB]] = []  # the heatmap, (rows * 2) x columns pixels
        self.base_for: tuple[object, ...] | None = None  # (config, columns, pixel rows) it shows
        self.overlay: dict[tuple[int, int], RGB] = {}
        self.tracks: list[Track] = []
        self.domain = ((0.0, 1.0), (0.0, 1.0))
        self._strips: dict[int, Strip] = {}  # drawn lines, until their pixels change
        self._cells: dict[tuple[RGB, RGB], Segment] = {}  # one segment per color pair
        self._pixel_cache: dict[int, tuple[tuple[int, int], int, list[tuple[int, int]]]] = {}

    @property
    def pixels(self) -> tuple[int, int]:
        """(columns, pixel rows) of the view now."""
        return self.size.width, self.size.height * 2

    def show(self, config: Config, tracks: list[Track]) -> None:
        """Draw ``config``'s function with these runs' paths."""
        self.config, self.tracks = config, tracks
        self._pixel_cache = {}
        self.domain = view_domain(SURFACES[config.task.name], config.task.params)
        self.redraw()

    def on_resize(self) -> None:
        self.redraw()

    def _ask_for_heatmap(self) -> None:
        columns, rows = self.pixels
        wanted = (self.config, columns, rows)
        if self.config is None or not columns or not rows or wanted == self.base_for:
            return
        self.base_for = wanted
        self._make_heatmap(self.config, columns, rows, self.domain)

    @work(thread=True, exclusive=True, group="arena heatmap", exit_on_error=False)
    def _make_heatmap(self, config: Config, columns: int, rows: int, domain) -> None:
        """The heatmap's pixels, computed in a thread (this imports torch there, never on the UI
        thread), then shown unless the view wants another one by now."""
        from tui_trainer.engine.arena import surface_grid

        base = shaded(surface_grid(config, columns, rows, domain))
        self.call_later(self._show_heatmap, base, (config, columns, rows))

    def _show_heatmap(self, base: list[list[RGB]], made_for: tuple) -> None:
        if made_for == self.base_for:
            self.base = base
            self._strips.clear()
            self._cells.clear()
            self.refresh()
            self.redraw()

    def to_pixel(self, x: float, y: float) -> tuple[int, int] | None:
        """The pixel (row, column) of the point (x, y), or None outside the view."""
        if self.config is None:
            return None
        columns, rows = self.pixels
        (x_low, x_high), (y_low, y_high) = self.domain
        if not (math.isfinite(x) and math.isfinite(y)) or columns < 2 or rows < 2:
            return None
        column = round((x - x_low) / (x_high - x_low) * (columns - 1))
        row = round((y_high - y) / (y_high - y_low) * (rows - 1))
        return (row, column) if 0 <= row < rows and 0 <= column < columns else None

    def redraw(self) -> None:
        """Draw the paths again from what the runs reported (the heatmap stays, unless it was
        made for another size)."""
        if self.config is None:
            return
        self._ask_for_heatmap()
        surface = SURFACES[self.config.task.name]
        overlay: dict[tuple[int, int], RGB] = {}
        ends: dict[tuple[int, int], RGB] = {}
        for track in self.tracks:
            points, now = track.read()
            pixels = self._path_pixels(track, points)
            if now is not None and (pixel := self.to_pixel(*now)) is not None:
                pixels = pixels + [pixel]
            for a, b in zip(pixels, pixels[1:]):
                overlay.update(dict.fromkeys(line_pixels(a, b), track.color))
            if pixels:  # where each run is now, lighter, over every path
                ends[pixels[-1]] = tuple(round(c + (255 - c) * 0.6) for c in track.color)
        overlay.update(ends)
        for x, y in surface.minima(surface.function_params(self.config.task.params)):
            pixel = self.to_pixel(x, y)
            if pixel is not None:
                overlay[pixel] = MINIMUM_COLOR
        changed = {row // 2 for (row, _), _ in overlay.items() ^ self.overlay.items()}
        self.overlay = overlay
        for line in changed:  # only the lines whose pixels changed are drawn again
            self._strips.pop(line, None)
            self.refresh(Region(0, line, self.size.width, 1))

    def _path_pixels(self, track: Track, points: list[tuple[float, float]]) -> list[tuple[int, int]]:
        """The distinct successive pixels of a run's finished path, converted once per view size
        (each redraw converts only the points that came since)."""
        size, done, pixels = self._pixel_cache.get(id(track), (None, 0, []))
        if size != self.pixels or done > len(points):
            done, pixels = 0, []
        for x, y in points[done:]:
            pixel = self.to_pixel(x, y)
            if pixel is not None and (not pixels or pixels[-1] != pixel):
                pixels.append(pixel)
        self._pixel_cache[id(track)] = (self.pixels, len(points), pixels)
        return pixels

    def render_line(self, y: int) -> Strip:
        columns, _ = self.pixels
        if not self.base:
            return Strip.blank(columns)
        strip = self._strips.get(y)
        if strip is None or strip.cell_length != columns:
            strip = self._strips[y] = Strip([self._cell(self._pixel(2 * y, x), self._pixel(2 * y + 1, x))
                                             for x in range(columns)], columns)
        return strip

    def _cell(self, top: RGB, bottom: RGB) -> Segment:
        """The half-block cell of two pixels (made once per color pair)."""
        cell = self._cells.get((top, bottom))
        if cell is None:
            cell = self._cells[top, bottom] = Segment("▀", Style(color=rgb(top), bgcolor=rgb(bottom)))
        return cell

    def _pixel(self, row: int, column: int) -> RGB:
        if (row, column) in self.overlay:
            return self.overlay[row, column]
        if row < len(self.base) and column < len(self.base[row]):
            return self.base[row][column]
        return SHADES[0]


class ArenaView(LivePicture, Vertical):
    """The Arena tab: a caption naming the function and the view, the canvas, and one line per
    run (its color, label, f at its point, distance to the nearest known minimum, and the first
    step within the task's tolerance)."""

    DEFAULT_CSS = """
    ArenaView { height: 1fr; }
    ArenaView > #arena-caption { height: 1; color: $text-muted; text-wrap: nowrap; text-overflow: ellipsis; }
    ArenaView > #arena-board { height: auto; max-height: 6; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.caption = Static("", id="arena-caption")
        self.canvas = ArenaCanvas(id="arena-canvas")
        self.board = Static("", id="arena-board")
        self.config: Config | None = None
        self.tracks: list[Track] = []
        self.pace = self.canvas.pace = Pace(PICTURE_SHARE)

    def compose(self) -> ComposeResult:
        yield self.caption
        yield self.canvas
        yield self.board

    def start(self, job: Job) -> None:
        """Show the job's function and, as they go, its runs (one color each, as the charts'
        legend gives them)."""
        config = self.config = job.config
        self.tracks = [Track(run.feed, COLORS[i % len(COLORS)], run.short_label)
                       for i, run in enumerate(job.runs)]
        surface = SURFACES[config.task.name]
        (x_low, x_high), (y_low, y_high) = view_domain(surface, config.task.params)
        self.caption.update(f"x {number(x_low, 3)}…{number(x_high, 3)} · y {number(y_low, 3)}…"
                            f"{number(y_high, 3)} · dark: low f · white: minima")
        self.pace.reset()
        self.canvas.show(config, self.tracks)
        self.update()

    def show(self, job: Job, run: LiveRun, shown: bool, final: bool = False) -> None:
        if shown and self.pace.due(final):  # every run's path, whichever is pictured
            with self.pace.timed():
                self.update()

    def finish(self, job: Job, results: list[RunResult]) -> None:
        """The runs ended: draw their whole paths."""
        for track, result in zip(self.tracks, results):
            track.result = result
        self.update()

    def clear(self) -> None:
        """No runs: the last function stays drawn (its heatmap is kept), without paths."""
        self.tracks = []
        if self.config is not None:
            self.canvas.show(self.config, [])
        self.board.update("")

    def update(self) -> None:
        """Redraw the paths and the standings from what the runs reported."""
        if self.config is None:
            return
        self.canvas.redraw()
        self.board.update(Content("\n").join(self._line(track) for track in self.tracks))

    def _line(self, track: Track) -> Content:
        surface, options = SURFACES[self.config.task.name], self.config.task.params
        point = track.last_point()
        words = "waiting"
        if point is not None:
            x, y = point
            _, distance = nearest_minimum(surface, options, x, y)
            value = track.result.point["value"] if track.result and track.result.point else None
            if value is None and track.feed.progress is not None:
                value = track.feed.progress.train_loss
            reached = _reached(track)
            tolerance = number(options["tolerance"])
            words = (f"f {number(value, 3)} · to min {number(distance, 3)} · "
                     + (f"≤{tolerance} at step {reached}" if reached is not None else f"not yet ≤{tolerance}")
                     + f" · ({number(x, 3)}, {number(y, 3)})")
        return Content.from_markup(f"[{rgb(track.color)}]━━[/] $label $words", label=track.label, words=words)


def _reached(track: Track) -> int | None:
    """The first step within the tolerance, from the run's result or its last report."""
    if track.result is not None and track.result.point:
        return track.result.point["reached_step"]
    reached = track.feed.progress.figures.get("reached_step") if track.feed.progress else None
    return int(reached) if reached is not None and math.isfinite(reached) else None
