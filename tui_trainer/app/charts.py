"""Charts drawn with textual-plotext from bounded min/max series, redrawn only when told to."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from textual.app import RenderResult

from textual.app import ComposeResult
from textual.containers import Container
from textual_plotext import PlotextPlot

from tui_trainer.app.feed import RunFeed
from tui_trainer.formatting import number
from tui_trainer.app.series import MinMaxSeries

#: Colors for lines, in order (plotext color names).
COLORS = ("cyan", "orange", "green", "magenta", "red", "blue", "yellow", "gray")
#: R^2 below this is drawn at this value, so one bad early epoch does not flatten the curve.
R2_FLOOR = -1.0
#: Columns plotext uses for the y-axis labels and frame.
AXIS_COLUMNS = 10
#: Live charts redraw at most this often...
MIN_REDRAW_GAP = 0.25
#: ...and, with plotext's build being pure Python that holds the GIL the training thread needs,
#: only as often as keeps their render time under this share of the wall clock.
RENDER_BUDGET = 0.01


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


@dataclass
class Line:
    """One line of a chart."""

    label: str
    series: MinMaxSeries
    color: str
    yside: str = "left"


class Chart(PlotextPlot):
    """A chart of some Lines. ``draw`` sets plotext up from the series (at most two points per
    column of the chart), so drawing costs the same however many points the series saw.
    With ``log_y`` the left axis is logarithmic whenever every value on it is positive."""

    DEFAULT_CSS = """
    Chart { min-height: 5; }
    """

    def __init__(self, title: str, log_y: bool = False, ylabel_right: str = "",
                 id: str | None = None) -> None:
        super().__init__(id=id)
        self.title = title
        self.log_y = log_y
        self.ylabel_right = ylabel_right
        self.lines: list[Line] = []
        self.render_seconds = 0.0

    def render(self) -> RenderResult:
        """Build the plot, timing it (the live charts pace their redraws by it)."""
        start = time.perf_counter()
        result = super().render()
        self.render_seconds = time.perf_counter() - start
        return result

    def draw(self, lines: list[Line] | None = None, title: str | None = None) -> None:
        """Redraw with ``lines`` (default: the current ones) and an optional new title."""
        if lines is not None:
            self.lines = lines
        if title is not None:
            self.title = title
        plt = self.plt
        plt.clear_figure()
        columns = max(8, self.size.width - AXIS_COLUMNS)
        drawn = [(line, *line.series.points(columns)) for line in self.lines]
        drawn = [(line, xs, ys) for line, xs, ys in drawn if xs]
        left = [y for line, _, ys in drawn if line.yside == "left" for y in ys]
        # plotext's own log scale rewrites its data on every build, so a second render of the
        # same figure takes the log of a log; plot log10 values with real-valued tick labels.
        log = bool(self.log_y and left and min(left) > 0)
        for line, xs, ys in drawn:
            if log and line.yside == "left":
                ys = [math.log10(y) for y in ys]
            plt.plot(xs, ys, label=line.label, color=line.color, marker="braille", yside=line.yside)
        if log:
            ticks = log_ticks(min(left), max(left))
            plt.yticks([math.log10(t) for t in ticks], [number(t, 2) for t in ticks])
        if self.ylabel_right:
            plt.ylabel(self.ylabel_right, yside="right")
        plt.title(self.title + (" (log scale)" if log else "" if drawn else " (no data yet)"))
        self.refresh()


class LiveCharts(Container):
    """The live run's loss chart (train per report, validation per epoch) and its metric chart
    (accuracy or R^2, with the learning rate on the right axis)."""

    DEFAULT_CSS = """
    LiveCharts { layout: vertical; }
    LiveCharts > Chart { height: 1fr; }
    """

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.loss = Chart("loss", log_y=True, id="loss-chart")
        self.metric = Chart("accuracy", ylabel_right="lr", id="metric-chart")
        self._feed: RunFeed | None = None
        self._next_draw = 0.0

    def compose(self) -> ComposeResult:
        yield self.loss
        yield self.metric

    def start(self, feed: RunFeed, regression: bool) -> None:
        """Show a new run's feed from its first point."""
        self._feed = feed
        self._points_seen = self._epochs_seen = 0
        self._regression = regression
        self._series = {name: MinMaxSeries() for name in ("train", "val", "metric_train", "metric_val", "lr")}
        s = self._series
        self.loss.draw([Line("train", s["train"], COLORS[0]), Line("val", s["val"], COLORS[1])])
        name = "R²" if regression else "accuracy"
        self.metric.draw([Line(f"train {name}", s["metric_train"], COLORS[2]),
                          Line(f"val {name}", s["metric_val"], COLORS[3]),
                          Line("lr", s["lr"], COLORS[5], yside="right")],
                         title=name + (f" (below {R2_FLOOR:g} drawn at {R2_FLOOR:g})" if regression else ""))

    def update(self, final: bool = False) -> bool:
        """Take what the feed gained since the last call and redraw, unless the last redraw was
        too recent (``final`` redraws anyway); False when nothing was drawn."""
        feed = self._feed
        now = time.monotonic()
        if feed is None or (now < self._next_draw and not final):
            return False
        points, epochs = len(feed.train_points), len(feed.epochs)
        if points == self._points_seen and epochs == self._epochs_seen:
            return False
        cost = self.loss.render_seconds + self.metric.render_seconds
        self._next_draw = now + max(MIN_REDRAW_GAP, cost / RENDER_BUDGET)
        s = self._series
        s["train"].extend(feed.train_points[self._points_seen:points])
        for m in feed.epochs[self._epochs_seen:epochs]:
            if m.val_loss is not None:
                s["val"].add(m.epoch, m.val_loss)
            train, val = (m.train_r2, m.val_r2) if self._regression else (m.train_accuracy, m.val_accuracy)
            for key, value in (("metric_train", train), ("metric_val", val)):
                if value is not None:
                    s[key].add(m.epoch, max(value, R2_FLOOR) if self._regression else value)
            s["lr"].add(m.epoch, m.lr)
        self._points_seen, self._epochs_seen = points, epochs
        self.loss.draw()
        self.metric.draw()
        return True
