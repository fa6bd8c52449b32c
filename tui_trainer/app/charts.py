"""Charts drawn with textual-plotext from bounded min/max series, redrawn only when told to.

A Chart draws a list of Lines (a label, a series, its place in the palette and, smoothed as
TensorBoard smooths, its smoothed series), so lines of several runs can share one chart; its
legend is a line of words above the plot, each label after a swatch of its line as drawn (its
color; with no color, its marker), never over the data; a click on a label (or its number key
while the charts have the focus) hides or shows that series in every chart. Smoothed, the raw line
is drawn faint under the bright smoothed one (with no color, in a darker gray); the highlighted
line (a comparison's run picked in the leaderboard) is drawn last, on top. The x axis counts whole
epochs at round numbers and says so."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import Any

from rich.ansi import AnsiDecoder
from rich.segment import Segment
from rich.style import Style

from textual.app import ComposeResult, RenderResult
from textual.binding import Binding
from textual.containers import Container, Vertical
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip
from textual.widgets import Static
from textual_plotext import PlotextPlot

from tui_trainer.app.feed import RunFeed
from tui_trainer.app.pace import CHART_SHARE, WATCHED_CHART_SHARE, Pace, Paced
from tui_trainer.app.palette import palette
from tui_trainer.app.series import SMOOTHING, MinMaxSeries, Smoother
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
    """Whole-epoch ticks from 0 to ``last`` at a round step (1, 2, 5, 10...): at most ``count``
    where a round step allows, and always at least two (0 and a round number up to ``last``)
    once ``last`` is 1 or more."""
    step = 1
    while last / step >= max(2, count) and _next_round(step) <= last:
        step = _next_round(step)
    return list(range(0, int(last) + 1, step))


def tick_label(tick: int) -> str:
    """An epoch tick as the axis writes it: ``0``, ``60``, ``1,200``."""
    return f"{tick:,}"


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
    palette's series (its color and, with no color, its marker); ``smooth``: the series smoothed
    (drawn bright over the raw one, then faint), None when not smoothed."""

    label: str
    series: MinMaxSeries
    index: int
    smooth: MinMaxSeries | None = None


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


class Legend(Static):
    """A chart's legend: a click on a line's name hides or shows it. Its names are not styled as
    links (Textual's link color would hide the lines' colors), only underlined under the mouse."""

    @property
    def link_style(self) -> Style:
        return Style()

    @property
    def link_style_hover(self) -> Style:
        return Style(underline=True)

    def action_toggle(self, index: int) -> None:
        self.parent.toggle(index)


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

    class Toggled(Message):
        """A series was hidden or shown from the legend (``label``: its line's)."""

        def __init__(self, label: str) -> None:
            super().__init__()
            self.label = label

    def __init__(self, title: str, scale: str = "linear", floor: float | None = None,
                 id: str | None = None, x_unit: str = "epoch") -> None:
        super().__init__(id=id)
        self.title = title
        self.hidden: set[str] = set()  # labels of the lines not drawn (shared by the live charts)
        self.highlighted: str | None = None  # the label of the line drawn on top
        self.smoothing = 0.0  # the smoothing weight of the smoothed lines (the legend says it)
        self.numbered = False  # the legend numbers its lines (the keys that hide them)
        self.said = True  # the legend says the smoothing (where it fits)
        self.x_unit = x_unit
        self.name_ = title  # what the f4 hint of the chart before it calls it
        self.scale = scale
        self.floor = floor
        self.hint = ""
        self.lines: list[Line] = []
        self.markers: list[float] = []  # epoch positions of mid-run changes, drawn as vertical lines
        self.x_last: float | None = None  # the x range's end (shared by the live charts)
        self.legend = Legend("", classes="legend")
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
        made it wrap), counting the words a log scale adds, so that the height (and the screen's
        layout) does not change when the scale does."""
        width = self.legend.content_size.width
        if width > 0:
            longest = self._legend(self.scale == "log", said=self.said)
            height = max(1, len(self.legend_content.wrap(width)), len(longest.wrap(width)))
            self.legend.styles.height = height  # a layout only when it changes

    def draw(self, lines: list[Line] | None = None, title: str | None = None) -> None:
        """Redraw with ``lines`` (default: the current ones) and an optional new title: the lines
        not hidden, each smoothed one faint with its smoothed line bright over it, the
        highlighted one last."""
        if lines is not None:
            self.lines = lines
        if title is not None:
            self.title = title
        plt = self.plot.plt
        plt.clear_figure()
        columns = max(8, self.plot.size.width - AXIS_COLUMNS)
        shown = sorted((line for line in self.lines if line.label not in self.hidden),
                       key=lambda line: line.label == self.highlighted)  # the highlighted one on top
        raw = [(line, *line.series.points(columns)) for line in shown]
        raw = [(line, xs, ys) for line, xs, ys in raw if xs]
        smooth = [(line, *line.smooth.middle(columns)) for line, _, _ in raw if line.smooth is not None]
        self.plot.waiting = "" if raw else (WAITING if not self.lines or len(shown) == len(self.lines)
                                            else "every series is hidden: click its name above to show it")
        values = [y for _, _, ys in raw for y in ys]
        log = bool(self.scale == "log" and values and min(values) > 0)
        background = self.plot.background_colors[1].rgb if self.plot.is_mounted else (0, 0, 0)
        # plotext's own log scale rewrites its data on every build, so a second render of the
        # same figure takes the log of a log; plot log10 values with real-valued tick labels.
        colors = palette(self.app)
        layers = [(xs, ys, colors.faint(line.index, background) if line.smooth else colors.series(line.index))
                  for line, xs, ys in raw]
        layers += [(xs, ys, colors.series(line.index)) for line, xs, ys in smooth]
        for xs, ys, style in layers:
            if self.floor is not None:
                ys = [max(y, self.floor) for y in ys]
            plt.plot(xs, [math.log10(y) for y in ys] if log else ys, color=style.color, marker=style.marker)
        if values:
            self._y_axis(plt, values, log)
        last = self.x_last if self.x_last is not None else max((xs[-1] for _, xs, _ in raw), default=1.0)
        last = max(1.0, last)
        plt.xlim(0, last)
        for x in self.markers:
            plt.vline(x, "gray")
        ticks = epoch_ticks(last, max(2, columns // X_TICK_COLUMNS))
        plt.xticks(ticks, [tick_label(t) for t in ticks])
        plt.xlabel(self.x_unit)
        width = self.legend.content_size.width  # the smoothing said, where it takes no more lines
        self.said = width <= 0 or (self._legend(True, said=True).plain.count("\n")
                                   <= self._legend(True, said=False).plain.count("\n"))
        legend = self._legend(log, said=self.said)
        if legend.markup != self.legend_content.markup:  # the screen is laid out only if its height changes
            self.legend_content = legend
            self.legend.update(legend, layout=False)
            self._fit_legend()
        self.plot.replot()

    def toggle(self, index: int) -> None:
        """Hide the series of line ``index`` (its label, in every chart sharing ``hidden``), or
        show it again."""
        if 0 <= index < len(self.lines):
            label = self.lines[index].label
            self.hidden.symmetric_difference_update({label})
            self.post_message(self.Toggled(label))
            self.draw()

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

    def _legend(self, log: bool, said: bool) -> Content:
        """The title (and the smoothing, where ``said``), then each line's swatch and words (its
        number key while numbered; struck through while hidden), each entry kept whole on one
        line of the legend (a line too narrow for the next entry goes on to the next)."""
        smoothed = said and self.smoothing and any(line.smooth for line in self.lines)
        smoothing = f" · smoothed {self.smoothing:g}" if smoothed else ""
        entries = [Content.from_markup("[b]$title[/]", title=self.title + (" (log scale)" if log else "") + smoothing)]
        colors = palette(self.app)
        for index, line in enumerate(self.lines):
            key = f"{index + 1} " if self.numbered and index < 9 else ""
            hidden = line.label in self.hidden
            style = "strike $text-muted" if hidden else "b" if line.label == self.highlighted else ""
            color = rgb(colors.series(line.index).color)
            words = f"[{style}]$label[/]" if style else "$label"
            entries.append(Content.from_markup(f"[@click=toggle({index})]{key}[{color}]$swatch[/] {words}[/]",
                                               swatch="╌╌" if hidden else colors.series(line.index).swatch,
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


#: The live series that are smoothed (not the learning rate: a schedule, not a measurement).
SMOOTHED = ("train", "val", "metric_train", "metric_val")
#: What a chart says before a run has given it a point.
WAITING = "the curves appear as a run trains"
#: The live charts, in the order f4 shows them one at a time.
LIVE_CHARTS = ("loss", "metric", "lr")


class LiveCharts(Container, can_focus=True):
    """The live run's charts: loss (train per report, validation per epoch), accuracy or R^2
    (train and validation per epoch) and learning rate, on the same x range. Side by side when
    the app is wide; one at a time otherwise, ``shown`` naming which (f4 shows the next). The
    loss and the score are smoothed as TensorBoard smooths (``smoothing``, 0 to 0.99; f12 and,
    while the charts have the focus, [ and ] change it); a series hidden from a legend (a click,
    or its number key while the charts have the focus) is hidden in every chart."""

    DEFAULT_CSS = """
    LiveCharts { layout: vertical; }
    LiveCharts > Chart { display: none; }
    LiveCharts > Chart.-shown { display: block; }
    LiveCharts:focus { background-tint: $foreground 4%; }
    """
    #: The app's CSS for a wide screen (a widget's own CSS cannot see the screen's classes).
    WIDE_CSS = """
    .-wide LiveCharts { layout: grid; grid-size: 2 2; grid-columns: 1fr 1fr; }
    .-wide LiveCharts > Chart { display: block; }
    .-wide LiveCharts > #loss-chart { row-span: 2; }
    """
    BINDINGS = [
        *(Binding(str(n), f"toggle({n - 1})", f"Series {n}", show=False) for n in range(1, 10)),
        Binding("left_square_bracket", "smooth(-1)", "Less smoothing", show=False),
        Binding("right_square_bracket", "smooth(1)", "More smoothing", show=False),
    ]

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
        self._labels: list[str] | None = None
        self._validated = self._scored = True
        self.smoothing = SMOOTHING[1]
        self.hidden: set[str] = set()  # the series hidden from a legend, by label (kept for the session)
        self.pace = Pace(CHART_SHARE, WATCHED_CHART_SHARE)
        for chart in self.charts.values():
            chart.plot.pace = self.pace
            chart.hidden = self.hidden
        # Drawn only while on screen: refreshing a widget of a hidden tab makes Textual map every
        # widget of the screen anew at the next frame (~25 ms here), at every redraw.
        self.in_view = False

    def on_show(self) -> None:
        self.in_view = True
        self._draw_all()  # what the runs gained while another tab showed

    def on_hide(self) -> None:
        self.in_view = False

    def on_focus(self) -> None:
        self._number(True)

    def on_blur(self) -> None:
        self._number(False)

    def _number(self, on: bool) -> None:
        """Number the legends' lines (their keys) while the charts have the focus."""
        for chart in self.charts.values():
            chart.numbered = on
        self._draw_all()

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

    def on_chart_toggled(self, event: Chart.Toggled) -> None:
        """A series hidden or shown from one legend: every chart follows."""
        event.stop()
        self._draw_all()

    def action_toggle(self, index: int) -> None:
        """Hide or show the series numbered ``index + 1`` in the legend."""
        self.loss.toggle(index)

    def action_smooth(self, by: int) -> None:
        """Less (-1) or more (+1) smoothing, among SMOOTHING."""
        place = max((i for i, w in enumerate(SMOOTHING) if w <= self.smoothing), default=0)
        self.set_smoothing(SMOOTHING[min(max(0, place + by), len(SMOOTHING) - 1)])

    def next_smoothing(self) -> float:
        """Step to the next smoothing of SMOOTHING (after the strongest: none); returns it."""
        place = max((i for i, w in enumerate(SMOOTHING) if w <= self.smoothing), default=0)
        self.set_smoothing(SMOOTHING[(place + 1) % len(SMOOTHING)])
        return self.smoothing

    def set_smoothing(self, weight: float) -> None:
        """Smooth the loss and score lines with ``weight`` (0: not smoothed), from their first
        points, and redraw."""
        self.smoothing = weight
        if self._feed is not None:
            self._tracks = [_Track(track.feed, weight) for track in self._tracks]
            for track in self._tracks:
                track.take(self._regression)
            self._make_lines()
        self._draw_all()

    def highlight(self, label: str | None) -> None:
        """Draw the line named ``label`` on top (a comparison's run picked in the leaderboard)."""
        if label != self.loss.highlighted:
            for chart in self.charts.values():
                chart.highlighted = label
            self._draw_all()

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
        self._tracks = [_Track(feed, self.smoothing) for feed in feeds]
        self._labels, self._validated, self._scored = labels, validated, scored
        self._make_lines()
        for chart in self.charts.values():
            chart.markers = []
            chart.highlighted = None
        self.watch_shown(self.shown)
        self._draw_all()

    def _make_lines(self) -> None:
        """The charts' lines and titles for the runs' tracks."""
        regression, validated = self._regression, self._validated
        name = "R²" if regression else "accuracy"
        if len(self._tracks) == 1:
            t = self._tracks[0]
            self.loss.lines = [t.line("train", "train", 0), t.line("validation", "val", 1)]
            self.metric.lines = [t.line("train", "metric_train", 0), t.line("validation", "metric_val", 1)]
            self.lr.lines = [t.line("lr per epoch", "lr", 2)]
        else:
            labels = self._labels or [f"#{t.feed.number}" for t in self._tracks]
            key = "metric_val" if validated else "metric_train"
            for chart, series in ((self.loss, "train"), (self.metric, key), (self.lr, "lr")):
                chart.lines = [t.line(label, series, i) for i, (label, t) in enumerate(zip(labels, self._tracks))]
            name = ("validation " if validated else "train ") + name
        self.metric.name_ = name
        self.metric.title = name + (f" (clipped at {R2_FLOOR:g})" if regression else "")
        self.metric.floor = R2_FLOOR if regression else None
        if not self._scored:
            self.metric.name_ = "no score"
            self.metric.title = "no accuracy or R²: a point on a function (see the Arena tab)"
        self.loss.title = "loss" if len(self._tracks) == 1 else "train loss"
        for chart in (self.loss, self.metric):
            chart.smoothing = self.smoothing

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
        if self._feed is None:
            return
        waiting = self._waiting_over_points()
        if not self.pace.due(final or waiting):
            return
        with self.pace.timed():  # taking the points and setting the figures up count too
            if not any([track.take(self._regression) for track in self._tracks]) and not waiting:
                return
            if len(self._tracks) == 1:  # one run: its mid-run changes are marked on every chart
                for chart in self.charts.values():
                    chart.markers = [x for x, _ in self._feed.changes]
            self._draw_all()

    def _waiting_over_points(self) -> bool:
        """Whether a chart on screen still says WAITING though its runs have points: drawn at
        once, whatever the pace (on a loaded machine a drawing's cost leaves the pace empty for
        many seconds; a chart last drawn before the first points would say the curves appear as a
        run trains over a run long under way)."""
        return (self.in_view and any(chart.display and chart.plot.waiting == WAITING for chart in self.charts.values())
                and any(track.feed.train_points or track.feed.epochs for track in self._tracks))


class _Track:
    """One run's series for the live charts, and how much of its feed they took."""

    def __init__(self, feed: RunFeed, smoothing: float = 0.0) -> None:
        self.feed = feed
        self.points_seen = self.epochs_seen = self.changes_seen = 0
        self.series = {name: MinMaxSeries() for name in ("train", "val", "metric_train", "metric_val", "lr")}
        # The loss and score series smoothed (TensorBoard's smoothing), when ``smoothing`` > 0.
        self.smooth = {name: (Smoother(smoothing), MinMaxSeries()) for name in SMOOTHED} if smoothing else {}

    def line(self, label: str, key: str, index: int) -> Line:
        """The chart line of series ``key``, drawn as the palette's series ``index``."""
        return Line(label, self.series[key], index, self.smooth[key][1] if key in self.smooth else None)

    def _add(self, key: str, x: float, y: float) -> None:
        self.series[key].add(x, y)
        if key in self.smooth and math.isfinite(y):
            smoother, series = self.smooth[key]
            series.add(x, smoother(y))

    def take(self, regression: bool) -> bool:
        """Add what the feed gained; False when it gained nothing."""
        feed, s = self.feed, self.series
        points, epochs = len(feed.train_points), len(feed.epochs)
        if points == self.points_seen and epochs == self.epochs_seen and len(feed.changes) == self.changes_seen:
            return False
        self.changes_seen = len(feed.changes)
        for x, y in feed.train_points[self.points_seen:points]:
            self._add("train", x, y)
        for m in feed.epochs[self.epochs_seen:epochs]:
            if m.val_loss is not None:
                self._add("val", m.epoch, m.val_loss)
            train, val = (m.train_r2, m.val_r2) if regression else (m.train_accuracy, m.val_accuracy)
            for key, value in (("metric_train", train), ("metric_val", val)):
                if value is not None:
                    self._add(key, m.epoch, value)
            s["lr"].add(m.epoch, m.lr)
        self.points_seen, self.epochs_seen = points, epochs
        return True
