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

from tui_trainer.app.charts import rgb
from tui_trainer.app.feed import RunFeed
from tui_trainer.app.fields import set_text
from tui_trainer.app.pace import PICTURE_SHARE, Pace, Paced
from tui_trainer.app.picture import LivePicture
from tui_trainer.app.palette import HEAT_GLYPHS, MINIMUM_GLYPH, Mark, Palette, palette
from tui_trainer.catalog.arena import SURFACES, nearest_minimum, view_domain
from tui_trainer.config import Config
from tui_trainer.engine.events import RunResult
from tui_trainer.formatting import number, outcome

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


def heights(values: list[list[float]]) -> list[list[float]]:
    """A grid of function values as fractions of its range: log(1 + f - min f), scaled to 0..1
    (values that are not finite are the highest)."""
    finite = [v for row in values for v in row if math.isfinite(v)]
    if not finite:
        return [[1.0 for _ in row] for row in values]
    lowest = min(finite)
    top = math.log1p(max(finite) - lowest) or 1.0
    return [[math.log1p(v - lowest) / top if math.isfinite(v) else 1.0 for v in row] for row in values]


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
    index: int  # its place in the palette's series (the charts' legend)
    label: str
    points: list[tuple[float, float]] = field(default_factory=list)
    epochs_read: int = 0
    result: RunResult | None = None

    def read(self) -> tuple[list[tuple[float, float]], tuple[float, float] | None]:
        """The path so far: the finished epochs' points (the run's whole path once it ended),
        and the point at the last report when it came later (None otherwise)."""
        if self.result is not None and self.result.path:
            if self.epochs_read >= 0:  # the run's whole path, once
                self.points, self.epochs_read = _finite_points(self.result.path), -1
            return self.points, None
        epochs = self.feed.epochs
        for metrics in epochs[self.epochs_read:]:
            self.points += _finite_points(metrics.path or [])
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


def _finite_points(path: list) -> list[tuple[float, float]]:
    """The (x, y) of a path's [step, x, y] rows whose point is finite (a diverged run's path ends
    with points that are not)."""
    return [(p[1], p[2]) for p in path if None not in p[1:] and math.isfinite(p[1]) and math.isfinite(p[2])]


def clip(a: tuple[float, float], b: tuple[float, float], domain) -> tuple[tuple[float, float], ...] | None:
    """The part of the segment from ``a`` to ``b`` inside ``domain`` ((x low, x high), (y low,
    y high)) as its two ends, or None when none is (Liang and Barsky's clipping)."""
    (x0, y0), (x1, y1) = a, b
    (x_low, x_high), (y_low, y_high) = domain
    dx, dy = x1 - x0, y1 - y0
    start, end = 0.0, 1.0
    for p, q in ((-dx, x0 - x_low), (dx, x_high - x0), (-dy, y0 - y_low), (dy, y_high - y0)):
        if p == 0:
            if q < 0:
                return None
        elif p < 0:
            start = max(start, q / p)
        else:
            end = min(end, q / p)
    if start > end:
        return None
    return (x0 + start * dx, y0 + start * dy), (x0 + end * dx, y0 + end * dy)


class ArenaCanvas(Paced, Widget):
    """The function's heatmap with the runs' paths; each cell is "▀": its foreground the top
    pixel, its background the bottom one. On a terminal of 16 colors or none, each cell is a
    glyph instead: the heights as denser shading, each run's path in its own glyph."""

    DEFAULT_CSS = "ArenaCanvas { height: 1fr; width: 1fr; }"

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.config: Config | None = None
        self.base: list[list[RGB]] = []  # the heatmap, (rows * 2) x columns pixels
        self.heights: list[list[float]] = []  # its pixels' heights, 0 (lowest) to 1
        self.base_for: tuple[object, ...] | None = None  # (config, columns, pixel rows) it shows
        self.overlay: dict[tuple[int, int], RGB | Mark] = {}  # pixels of the paths and minima
        self.tracks: list[Track] = []
        self.domain = ((0.0, 1.0), (0.0, 1.0))
        self._strips: dict[int, Strip] = {}  # drawn lines, until their pixels change
        self._cells: dict[tuple, Segment] = {}  # one segment per color pair (or glyph)
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
        self._make_heatmap(self.config, columns, rows, self.domain, palette(self.app))

    @work(thread=True, exclusive=True, group="arena heatmap", exit_on_error=False)
    def _make_heatmap(self, config: Config, columns: int, rows: int, domain, colors: Palette) -> None:
        """The heatmap's pixels' heights and (drawn in pixels) colors, computed in a thread (this
        imports torch there, never on the UI thread), then shown unless the view wants another one
        by now."""
        from tui_trainer.engine.arena import surface_grid

        grid = heights(surface_grid(config, columns, rows, domain))
        base = [] if colors.glyphs else [[colors.color(shade(h), SHADES[2]) for h in row] for row in grid]
        self.call_later(self._show_heatmap, grid, base, (config, columns, rows))

    def _show_heatmap(self, grid: list[list[float]], base: list[list[RGB]], made_for: tuple) -> None:
        if made_for == self.base_for:
            self.heights, self.base = grid, base
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
        colors = palette(self.app)
        overlay: dict[tuple[int, int], RGB | Mark] = {}
        ends: dict[tuple[int, int], RGB | Mark] = {}
        for track in self.tracks:
            points, now = track.read()
            pixels = self._path_pixels(track, points)
            if now is not None and points:
                pixels = pixels + self._segment(points[-1], now)
            color = colors.series(track.index).color
            overlay.update(dict.fromkeys(pixels, colors.path_mark(track.index) if colors.glyphs else color))
            if pixels:  # where each run is now (or where it left the view), lighter (reversed), over every path
                ends[pixels[-1]] = (colors.path_mark(track.index, now=True) if colors.glyphs
                                    else tuple(round(c + (255 - c) * 0.6) for c in color))
        overlay.update(ends)
        minimum = colors.minimum_mark() if colors.glyphs else MINIMUM_COLOR
        for x, y in surface.minima(surface.function_params(self.config.task.params)):
            pixel = self.to_pixel(x, y)
            if pixel is not None:
                overlay[pixel] = minimum
        changed = {row // 2 for (row, _), _ in overlay.items() ^ self.overlay.items()}
        self.overlay = overlay
        for line in changed:  # only the lines whose pixels changed are drawn again
            self._strips.pop(line, None)
            self.refresh(Region(0, line, self.size.width, 1))

    def _path_pixels(self, track: Track, points: list[tuple[float, float]]) -> list[tuple[int, int]]:
        """The pixels of a run's finished path in order, each step a line clipped to the view (a
        path that leaves the view, a diverging one, shows up to its edge), converted once per view
        size (each redraw converts only the steps that came since)."""
        size, done, pixels = self._pixel_cache.get(id(track), (None, 0, []))
        if size != self.pixels or done > len(points):
            done, pixels = 0, []
        if done == 0 and points and (start := self.to_pixel(*points[0])) is not None:
            pixels.append(start)
        for a, b in zip(points[max(0, done - 1):], points[max(1, done):]):
            pixels += self._segment(a, b)
        self._pixel_cache[id(track)] = (self.pixels, len(points), pixels)
        return pixels

    def _segment(self, a: tuple[float, float], b: tuple[float, float]) -> list[tuple[int, int]]:
        """The pixels of the step from ``a`` to ``b`` inside the view (none when it passes outside)."""
        inside = clip(a, b, self.domain)
        if inside is None:
            return []
        ends = [self.to_pixel(*point) for point in inside]
        return line_pixels(*ends) if None not in ends else []

    def render_line(self, y: int) -> Strip:
        columns, _ = self.pixels
        if not self.heights:
            return Strip.blank(columns, self.rich_style)
        strip = self._strips.get(y)
        if strip is None or strip.cell_length != columns:
            if palette(self.app).glyphs:
                cells = [self._glyph(y, x) for x in range(columns)]
            else:
                cells = [self._cell(self._pixel(2 * y, x), self._pixel(2 * y + 1, x)) for x in range(columns)]
            strip = self._strips[y] = Strip(cells, columns)
        return strip

    def _glyph(self, y: int, x: int) -> Segment:
        """The glyph of cell (``x``, ``y``): a path or minimum on either of its pixels, else its
        height's shading (made once per glyph)."""
        mark = self.overlay.get((2 * y, x), self.overlay.get((2 * y + 1, x)))
        if mark is None:
            rows = self.heights[2 * y: 2 * y + 2]
            height = sum(row[x] for row in rows if x < len(row)) / max(1, len(rows))
            mark = palette(self.app).heat_mark(height)
        cell = self._cells.get(("glyph", mark))
        if cell is None:
            style = self.rich_style if mark is None else self.rich_style + Style(
                color=rgb(mark.color), bold=mark.bold, reverse=mark.reverse)
            cell = self._cells["glyph", mark] = Segment(mark.glyph if mark else " ", style)
        return cell

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
        self.tracks = [Track(run.feed, i, run.short_label) for i, run in enumerate(job.runs)]
        surface = SURFACES[config.task.name]
        (x_low, x_high), (y_low, y_high) = view_domain(surface, config.task.params)
        colors = palette(self.app)
        shading = (f"f low→high{''.join(HEAT_GLYPHS)} · {MINIMUM_GLYPH} minima" if colors.glyphs
                   else "dark: low f · white: minima")
        self.caption.update(f"x {number(x_low, 3)}…{number(x_high, 3)} · y {number(y_low, 3)}…"
                            f"{number(y_high, 3)} · {shading}")
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
        set_text(self.board, "")

    def update(self) -> None:
        """Redraw the paths and the standings from what the runs reported."""
        if self.config is None:
            return
        self.canvas.redraw()
        self.board.update(Content("\n").join(self._line(track) for track in self.tracks))

    def _line(self, track: Track) -> Content:
        """A run's standing: f at its point, the distance to the nearest minimum, the step it
        came within the tolerance and the point; or, once it diverged or failed, why."""
        colors = palette(self.app)
        surface, options = SURFACES[self.config.task.name], self.config.task.params
        point = track.last_point()
        words = "waiting"
        result = track.result
        if result is not None and result.reason in ("diverged", "failed"):
            words = outcome(result.reason, result.message)
        elif point is not None:
            x, y = point
            _, distance = nearest_minimum(surface, options, x, y)
            value = result.point["value"] if result and result.point else None
            if value is None and track.feed.progress is not None:
                value = track.feed.progress.train_loss
            reached = _reached(track)
            tolerance = number(options["tolerance"])
            words = (f"f {number(value, 3)} · to min {number(distance, 3)} · "
                     + (f"≤{tolerance} at step {reached}" if reached is not None else f"not yet ≤{tolerance}")
                     + f" · ({number(x, 3)}, {number(y, 3)})")
        return Content.from_markup(f"[{rgb(colors.series(track.index).color)}]$swatch[/] $label $words",
                                   swatch=colors.path_swatch(track.index), label=track.label, words=words)


def _reached(track: Track) -> int | None:
    """The first step within the tolerance, from the run's result or its last report."""
    if track.result is not None and track.result.point:
        return track.result.point["reached_step"]
    reached = track.feed.progress.figures.get("reached_step") if track.feed.progress else None
    return int(reached) if reached is not None and math.isfinite(reached) else None
