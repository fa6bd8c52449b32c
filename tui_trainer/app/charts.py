"""Charts drawn with textual-plotext from bounded min/max series, redrawn only when told to.

A Chart draws a list of Lines (a label, a series and its place in the palette), so lines of
several runs can share one chart; its legend is a line of words above the plot, each label after a
swatch of its line as drawn (its color; with no color, its marker), never over the data. The x
axis counts whole epochs and says so."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import Any

from rich.ansi import AnsiDecoder
from rich.segment import Segment
from rich.style import Style

from textual.app import ComposeResult, RenderResult
from textual.containers import Container, Vertical
from textual.content import Content
from textual.reactive import reactive
from textual.strip import Strip
from textual.widgets import Static
from textual_plotext import PlotextPlot

from tui_trainer.app.feed import RunFeed
from tui_trainer.app.pace import CHART_SHARE, Pace, Paced
from tui_trainer.app.palette import palette
from tui_trainer.app.series import MinMaxSeries
from tui_trainer.fences.plotext import ansi_codes, cell_rows, set_size
from tui_trainer.fences.textual_plotext import theme_name
from tui_trainer.formatting import number

#: R^2 below this is drawn at this value, so one bad early epoch does not flatten the curve.
R2_FLOOR = -1.0
#: Columns plotext uses for the y-axis labels and frame.
AXIS_COLUMNS = 10
#: Columns each x tick label may take.
X_TICK_COLUMNS = 9


def log_ticks(low: float, high: float) -> list[float]:
    """Tick values for a log axis from ``low`` to ``high`` (both > 0): powers of ten, or when
    the range is under two decades, four values evenly spaced in log space."""
    a, b = math.log10(low), math.log10(high)
    decades = list(range(math.ceil(a), math.floor(b) + 1))
    if len(decades) >= 3:
        return [10.0 ** d for d in decades]
    if b - a < 1e-12:
        return [low]
    return [10 ** (a + (b - a) * i / 3) for i in range(4)]


def epoch_ticks(last: float, count: int) -> list[int]:
    """At most ``count`` whole-epoch ticks from 0 to ``last``, at a round step (1, 2, 5, 10...)."""
    step = 1
    while last / step > max(2, count) - 1:
        step = _next_round(step)
    return list(range(0, int(last) + 1, step))


def nice_ticks(low: float, high: float, count: int = 4) -> list[float]:
    """At most ``count`` + 1 ticks between ``low`` and ``high`` at a round step (0.25, 0.5, 1, 2...)."""
    span = high - low
    if span <= 0:
        return [low]
    step = 10.0 ** math.floor(math.log10(span / count))
    for factor in (1, 2, 2.5, 5, 10):
        if span / (step * factor) <= count:
            step *= factor
            break
    first = math.ceil(low / step - 1e-9)
    return [round((first + i) * step, 12) for i in range(int(high / step + 1e-9) - first + 1)]


def _next_round(step: int) -> int:
    """The round number after ``step``: 1, 2, 5, 10, 20, 50..."""
    magnitude = 10 ** int(math.log10(step))
    lead = step // magnitude
    return (2 if lead == 1 else 5 if lead == 2 else 10) * magnitude


def rgb(color: tuple[int, int, int]) -> str:
    """A color as Textual markup writes it."""
    return "rgb({},{},{})".format(*color)


@dataclass
class Line:
    """One line of a chart: a run's series, its label in the legend, and its place in the
    palette's series (its color and, with no color, its marker)."""

    label: str
    series: MinMaxSeries
    index: int


@cache
def _cell_style(foreground: Any, style: Any, background: Any) -> Style:
    """The Rich style of plotext's colors for a cell, read from the ANSI codes plotext writes."""
    codes = ansi_codes(foreground, style, background)
    spans = AnsiDecoder().decode_line(codes + "x").spans
    return spans[0].style if spans else Style.null()


def _hashable(color: Any) -> Any:
    return tuple(color) if isinstance(color, list) else color


class Plot(Paced, PlotextPlot):
    """A plotext plot whose drawing a live view pays from its pace. While ``waiting`` holds a
    text, the plot shows that text instead (nothing to draw yet costs plotext no build).

    After changing the figure through ``plt``, call ``replot``. The lines come from plotext's
    matrix of cells (its marker and colors per cell) straight into the screen's strips: what
    textual-plotext's render does through an ANSI string that Rich parses back, at a third of the
    cost (test_plot_lines_are_plotexts_cells checks the two agree)."""

    waiting: reactive[str] = reactive("", layout=False)

    def __init__(self, waiting: str = "") -> None:
        super().__init__()
        self.set_reactive(Plot.waiting, waiting)
        self.version = 0  # bumped by replot
        self._lines: list[Strip] = []
        self._built_for: tuple | None = None

    def replot(self) -> None:
        """Draw the figure anew (it changed)."""
        self.version += 1
        self.refresh()

    def render(self) -> RenderResult:
        return Content.from_markup("[$text-muted]$text[/]", text=self.waiting)

    def render_line(self, y: int) -> Strip:
        if self.waiting:
            return super().render_line(y)
        width, height = self.size
        key = (width, height, self.app.theme, self.version)
        if key != self._built_for:
            self._lines, self._built_for = self._build(width, height), key
        return self._lines[y] if y < len(self._lines) else Strip.blank(width, self.rich_style)

    def _build(self, width: int, height: int) -> list[Strip]:
        # What textual-plotext's render does before plotext's build...
        plt = self.plt
        set_size(plt, width, height)
        plt.theme(theme_name(self, self.app.theme))
        # ...and plotext's build, less turning the cells into an ANSI string.
        lines = []
        for markers, colors in cell_rows(plt):
            segments, start = [], 0
            for end in range(1, len(markers) + 1):
                if end == len(markers) or colors[end] != colors[start]:
                    style = _cell_style(*map(_hashable, colors[start]))
                    segments.append(Segment("".join(markers[start:end]), style))
                    start = end
            lines.append(Strip(segments, len(markers)))
        return lines


class Chart(Vertical):
    """A titled chart of some Lines with its legend above the plot. ``draw`` sets plotext up from
    the series (at most two points per column), so drawing costs the same however many points
    the series saw. ``scale`` is ``log`` (the y axis is logarithmic while every value is
    positive), ``fraction`` (an accuracy or R^2: the axis ends at 1 so a value near 1 stays
    visible) or ``linear``. The x axis counts whole ``x_unit`` (epochs, or minutes of a time series)."""

    DEFAULT_CSS = """
    Chart { height: 1fr; min-height: 6; }
    Chart > .legend { height: 1; padding: 0 1; }
    Chart > Plot { height: 1fr; content-align: center middle; }
    """

    def __init__(self, title: str, scale: str = "linear", floor: float | None = None,
                 id: str | None = None, x_unit: str = "epoch") -> None:
        super().__init__(id=id)
        self.title = title
        self.x_unit = x_unit
        self.name_ = title  # what the f4 hint of the chart before it calls it
        self.scale = scale
        self.floor = floor
        self.hint = ""
        self.lines: list[Line] = []
        self.markers: list[float] = []  # epoch positions of mid-run changes, drawn as vertical lines
        self.x_last: float | None = None  # the x range's end (shared by the live charts)
        self.legend = Static("", classes="legend")
        self.legend_content = Content("")  # what the legend shows
        self.plot = Plot(WAITING)

    def compose(self) -> ComposeResult:
        yield self.legend
        yield self.plot

    def on_resize(self) -> None:
        if self.legend_content:  # the plot fits the new width, the legend wraps anew
            self.draw()
            self._fit_legend()

    def _fit_legend(self) -> None:
        """The legend's height: its lines at its width (set here, not left to Textual's auto
        height, which kept a legend of the narrow layout one line high once the wide layout had
        made it wrap)."""
        width = self.legend.content_size.width
        if width > 0:
            self.legend.styles.height = max(1, len(self.legend_content.wrap(width)))

    def draw(self, lines: list[Line] | None = None, title: str | None = None) -> None:
        """Redraw with ``lines`` (default: the current ones) and an optional new title."""
        if lines is not None:
            self.lines = lines
        if title is not None:
            self.title = title
        plt = self.plot.plt
        plt.clear_figure()
        columns = max(8, self.plot.size.width - AXIS_COLUMNS)
        drawn = [(line, *line.series.points(columns)) for line in self.lines]
        drawn = [(line, xs, ys) for line, xs, ys in drawn if xs]
        self.plot.waiting = "" if drawn else WAITING
        values = [y for _, _, ys in drawn for y in ys]
        log = bool(self.scale == "log" and values and min(values) > 0)
        # plotext's own log scale rewrites its data on every build, so a second render of the
        # same figure takes the log of a log; plot log10 values with real-valued tick labels.
        colors = palette(self.app)
        for line, xs, ys in drawn:
            if self.floor is not None:
                ys = [max(y, self.floor) for y in ys]
            style = colors.series(line.index)
            plt.plot(xs, [math.log10(y) for y in ys] if log else ys, color=style.color, marker=style.marker)
        if values:
            self._y_axis(plt, values, log)
        last = self.x_last if self.x_last is not None else max((xs[-1] for _, xs, _ in drawn), default=1.0)
        last = max(1.0, last)
        plt.xlim(0, last)
        for x in self.markers:
            plt.vline(x, "gray")
        ticks = epoch_ticks(last, max(2, columns // X_TICK_COLUMNS))
        plt.xticks(ticks, [str(t) for t in ticks])
        plt.xlabel(self.x_unit)
        legend = self._legend(log)
        if legend.plain != self.legend_content.plain:  # the screen is laid out only if its height changes
            self.legend_content = legend
            self.legend.update(legend, layout=False)
            self._fit_legend()
        self.plot.replot()

    def _y_axis(self, plt, values: list[float], log: bool) -> None:
        low, high = min(values), max(values)
        if log:
            ticks = log_ticks(low, high)
            plt.yticks([math.log10(t) for t in ticks], [number(t, 2) for t in ticks])
            return
        if self.floor is not None:
            low = max(low, self.floor)
        if self.scale == "fraction":
            low, high = min(low, 0.0 if low >= 0 else low), 1.0
        elif low == high:
            low, high = (0.0, high * 1.25) if high > 0 else (high - 1, high + 1)
        plt.ylim(low, high)
        ticks = nice_ticks(low, high)
        plt.yticks(ticks, [number(t, 3) for t in ticks])

    def _legend(self, log: bool) -> Content:
        """The title, then each line's swatch and words, each entry kept whole on one line of the
        legend (a line too narrow for the next entry goes on to the next)."""
        entries = [Content.from_markup("[b]$title[/]", title=self.title + (" (log scale)" if log else ""))]
        colors = palette(self.app)
        for line in self.lines:
            style = colors.series(line.index)
            entries.append(Content.from_markup(f"[{rgb(style.color)}]$swatch[/] $label", swatch=style.swatch,
                                               label=line.label))
        if self.markers:
            entries.append(Content.from_markup("[gray]│[/] change"))
        if self.hint:
            entries.append(Content.from_markup("[$text-muted]$hint[/]", hint=self.hint))
        width = self.legend.content_size.width or 10_000
        parts, used = [entries[0]], entries[0].cell_length
        for entry in entries[1:]:
            apart = used + 2 + entry.cell_length > width
            parts += [Content("\n" if apart else "  "), entry]
            used = entry.cell_length if apart else used + 2 + entry.cell_length
        return Content("").join(parts)


#: What a chart says before a run has given it a point.
WAITING = "the curves appear as a run trains"
#: The live charts, in the order f4 shows them one at a time.
LIVE_CHARTS = ("loss", "metric", "lr")


class LiveCharts(Container):
    """The live run's charts: loss (train per report, validation per epoch), accuracy or R^2
    (train and validation per epoch) and learning rate, on the same x range. Side by side when
    the app is wide; one at a time otherwise, ``shown`` naming which (f4 shows the next)."""

    DEFAULT_CSS = """
    LiveCharts { layout: vertical; }
    LiveCharts > Chart { display: none; }
    LiveCharts > Chart.-shown { display: block; }
    """
    #: The app's CSS for a wide screen (a widget's own CSS cannot see the screen's classes).
    WIDE_CSS = """
    .-wide LiveCharts { layout: grid; grid-size: 2 2; grid-columns: 1fr 1fr; }
    .-wide LiveCharts > Chart { display: block; }
    .-wide LiveCharts > #loss-chart { row-span: 2; }
    """

    shown: reactive[str] = reactive("loss")

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.loss = Chart("loss", scale="log", id="loss-chart")
        self.metric = Chart("accuracy", scale="fraction", id="metric-chart")
        self.lr = Chart("learning rate", id="lr-chart")
        self.charts = {"loss": self.loss, "metric": self.metric, "lr": self.lr}
        self._feed: RunFeed | None = None  # the first run's feed (None before any run)
        self._tracks: list[_Track] = []
        self._regression = False
        self.pace = Pace(CHART_SHARE)
        for chart in self.charts.values():
            chart.plot.pace = self.pace
        # Drawn only while on screen: refreshing a widget of a hidden tab makes Textual map every
        # widget of the screen anew at the next frame (~25 ms here), at every redraw.
        self.in_view = False

    def on_show(self) -> None:
        self.in_view = True
        self._draw_all()  # what the runs gained while another tab showed

    def on_hide(self) -> None:
        self.in_view = False

    def compose(self) -> ComposeResult:
        yield from self.charts.values()

    def watch_shown(self, shown: str) -> None:
        wide = self.screen.has_class("-wide") if self.is_mounted else False
        for name, chart in self.charts.items():
            chart.set_class(name == shown, "-shown")
            following = LIVE_CHARTS[(LIVE_CHARTS.index(name) + 1) % len(LIVE_CHARTS)]
            chart.hint = "" if wide else f"f4 ▸ {self.charts[following].name_}"
        self.call_after_refresh(self._draw_all)  # once the shown chart has its size

    def show_next(self) -> None:
        """Show the next chart (when they show one at a time)."""
        self.shown = LIVE_CHARTS[(LIVE_CHARTS.index(self.shown) + 1) % len(LIVE_CHARTS)]

    def on_resize(self) -> None:
        self.watch_shown(self.shown)

    def start(self, feeds: RunFeed | list[RunFeed], regression: bool, labels: list[str] | None = None,
              validated: bool = True, scored: bool = True) -> None:
        """Show new runs' feeds from their first points: one run's train and validation lines,
        or, for several (a comparison), one line per run in its own color, named by ``labels``
        (the metric chart shows their validation values, or train values when not ``validated``;
        runs that are not ``scored``, arena runs, have no metric and its chart says so)."""
        feeds = [feeds] if isinstance(feeds, RunFeed) else list(feeds)
        self.pace.reset()
        self._feed = feeds[0] if feeds else None
        self._regression = regression
        self._tracks = [_Track(feed) for feed in feeds]
        name = "R²" if regression else "accuracy"
        if len(feeds) == 1:
            s = self._tracks[0].series
            self.loss.lines = [Line("train", s["train"], 0), Line("validation", s["val"], 1)]
            self.metric.lines = [Line("train", s["metric_train"], 0), Line("validation", s["metric_val"], 1)]
            self.lr.lines = [Line("lr per epoch", s["lr"], 2)]
        else:
            labels = labels or [f"#{feed.number}" for feed in feeds]
            key = "metric_val" if validated else "metric_train"
            for chart, series in ((self.loss, "train"), (self.metric, key), (self.lr, "lr")):
                chart.lines = [Line(label, t.series[series], i) for i, (label, t) in enumerate(zip(labels, self._tracks))]
            name = ("validation " if validated else "train ") + name
        self.metric.name_ = name
        self.metric.title = name + (f" (clipped at {R2_FLOOR:g})" if regression else "")
        self.metric.floor = R2_FLOOR if regression else None
        if not scored:
            self.metric.name_ = "no score"
            self.metric.title = "no accuracy or R²: a point on a function (see the Arena tab)"
        self.loss.title = "loss" if len(feeds) == 1 else "train loss"
        for chart in self.charts.values():
            chart.markers = []
        self.watch_shown(self.shown)
        self._draw_all()

    def _draw_all(self) -> None:
        """Draw every chart with the same x range: up to the furthest point of the runs (only
        while the charts are on screen)."""
        if self._feed is None or not self.in_view:
            return
        ends = [line.series.last_x for chart in self.charts.values() for line in chart.lines
                if line.series.last_x is not None]
        for chart in self.charts.values():
            chart.x_last = max(ends, default=None)
            if chart.display:  # a hidden chart is drawn when it is shown
                chart.draw()

    def update(self, final: bool = False) -> None:
        """Take what the feeds gained since the last call and redraw, when the charts' pace
        allows (``final`` redraws anyway)."""
        if self._feed is None or not self.pace.due(final):
            return
        if not any([track.take(self._regression) for track in self._tracks]):
            return
        if len(self._tracks) == 1:  # one run: its mid-run changes are marked on every chart
            for chart in self.charts.values():
                chart.markers = [x for x, _ in self._feed.changes]
        self._draw_all()


class _Track:
    """One run's series for the live charts, and how much of its feed they took."""

    def __init__(self, feed: RunFeed) -> None:
        self.feed = feed
        self.points_seen = self.epochs_seen = self.changes_seen = 0
        self.series = {name: MinMaxSeries() for name in ("train", "val", "metric_train", "metric_val", "lr")}

    def take(self, regression: bool) -> bool:
        """Add what the feed gained; False when it gained nothing."""
        feed, s = self.feed, self.series
        points, epochs = len(feed.train_points), len(feed.epochs)
        if points == self.points_seen and epochs == self.epochs_seen and len(feed.changes) == self.changes_seen:
            return False
        self.changes_seen = len(feed.changes)
        s["train"].extend(feed.train_points[self.points_seen:points])
        for m in feed.epochs[self.epochs_seen:epochs]:
            if m.val_loss is not None:
                s["val"].add(m.epoch, m.val_loss)
            train, val = (m.train_r2, m.val_r2) if regression else (m.train_accuracy, m.val_accuracy)
            for key, value in (("metric_train", train), ("metric_val", val)):
                if value is not None:
                    s[key].add(m.epoch, value)
            s["lr"].add(m.epoch, m.lr)
        self.points_seen, self.epochs_seen = points, epochs
        return True
