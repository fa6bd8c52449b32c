"""The System tab: the machine beside a run as time series (as W&B's LEET shows it), from the
samples its folder's ``system.jsonl`` holds (a line every few seconds while it trains): the
process's CPU use and memory, and on CUDA each GPU's utilization, memory and temperature.

A run another process trains gets its samples from its follower (``watch.Following``); a run
the app trains writes them itself, and ``SystemFile`` reads them back, a few appended bytes at a
time."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.containers import Container, Vertical
from textual.widgets import Static

from tui_trainer.app.charts import Chart, Line
from tui_trainer.app.feed import RunFeed
from tui_trainer.app.fields import set_text
from tui_trainer.app.pace import CHART_SHARE, Pace
from tui_trainer.app.series import MinMaxSeries
from tui_trainer.engine.follow import Tail
from tui_trainer.engine.system import SAMPLE_INTERVAL, SYSTEM_FILE, GpuReading, SystemSample
from tui_trainer.formatting import number

#: What the tab says before a run's first sample.
WAITING = (f"the machine beside the run: a sample every {SAMPLE_INTERVAL:g} s while it trains "
           "(the process's CPU and memory; each GPU's load, memory and temperature)")
#: From this many columns the charts sit side by side.
SIDE_BY_SIDE = 76
GIB = 2 ** 30


def sample_text(sample: SystemSample) -> str:
    """A sample in one line: ``CPU 98% · 412 MiB · 1 thread``, then each GPU's
    ``GPU0 45% · 3.2/80 GiB · 61°C``."""
    return " · ".join([cpu_text(sample), *(gpu_text(gpu) for gpu in sample.gpus)])


def cpu_text(sample: SystemSample) -> str:
    """The process: ``CPU 98% · 412 MiB · 1 thread`` (what is known of it)."""
    words = ["CPU" if sample.cpu_percent is None else f"CPU {sample.cpu_percent:.0f}%"]
    if sample.memory is not None:
        words.append(f"{sample.memory / 2 ** 20:,.0f} MiB")
    if sample.threads is not None:
        words.append(f"{sample.threads} thread" + ("s" if sample.threads != 1 else ""))
    return " · ".join(words)


def gpu_text(gpu: GpuReading) -> str:
    """A GPU: ``GPU0 45% · 3.2/80 GiB · 61°C`` (what is known of it)."""
    words = [f"GPU{gpu.index}" + ("" if gpu.utilization is None else f" {gpu.utilization}%")]
    used = gpu.memory_used if gpu.memory_used is not None else gpu.allocated
    if used is not None:
        total = f"/{number(gpu.memory_total / GIB, 3)}" if gpu.memory_total else ""
        words.append(f"{number(used / GIB, 2)}{total} GiB")
    if gpu.temperature is not None:
        words.append(f"{gpu.temperature}°C")
    return " · ".join(words)


def device_text(feed: RunFeed) -> str:
    """The device of a run another process trains, from its latest sample: the run's own GPU (the
    one torch's memory figures are of) on CUDA, else the process ("" before the first sample)."""
    if not feed.system:
        return ""
    sample = feed.system[-1]
    own = next((gpu for gpu in sample.gpus if gpu.allocated is not None), None)
    return gpu_text(own) if own is not None else cpu_text(sample)


class SystemFile:
    """The samples a run this process trains appends to its folder's ``system.jsonl``, read back
    as they come (only the bytes appended since the last read)."""

    def __init__(self, run_dir: Path) -> None:
        self.tail = Tail(Path(run_dir) / SYSTEM_FILE)

    def read_into(self, feed: RunFeed) -> None:
        """Add the new samples to ``feed``."""
        for row in self.tail.read() or []:
            try:
                feed.system.append(SystemSample.from_json(row))
            except ValueError:
                continue


class SystemPanel(Vertical):
    """A caption with the latest sample, and charts of every sample so far against the run's
    minutes: load (the process's CPU, each GPU's utilization, in %), memory (the process's
    resident memory, each GPU's memory in use, in GiB) and, with GPUs, their temperature.
    Side by side when the panel is wide enough, else one above the other; drawn only while on
    screen, at the pace of the charts."""

    DEFAULT_CSS = """
    SystemPanel > .caption { height: auto; max-height: 3; padding: 0 1; }
    SystemPanel > #system-charts { height: 1fr; layout: vertical; }
    SystemPanel.-side > #system-charts { layout: horizontal; }
    SystemPanel.-side Chart { width: 1fr; }
    SystemPanel Chart.-unused { display: none; }
    """

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.caption = Static(WAITING, classes="caption", markup=False)
        self.load = Chart("load %", id="load-chart", x_unit="minutes")
        self.memory = Chart("memory GiB", id="memory-chart", x_unit="minutes")
        self.temperature = Chart("°C", id="temperature-chart", x_unit="minutes")
        self.temperature.add_class("-unused")
        self.charts = (self.load, self.memory, self.temperature)
        self.pace = Pace(CHART_SHARE)
        for chart in self.charts:
            chart.plot.pace = self.pace
        self.feed: RunFeed | None = None
        self.taken = 0  # samples of the feed in the series
        self.gpus: tuple[int, ...] = ()
        self.series: dict[str, MinMaxSeries] = {}
        self.in_view = False

    def compose(self) -> ComposeResult:
        yield self.caption
        with Container(id="system-charts"):
            yield from self.charts

    def on_show(self) -> None:
        self.in_view = True
        self.show(self.feed, final=True)

    def on_hide(self) -> None:
        self.in_view = False

    def on_resize(self) -> None:
        self.set_class(self.size.width >= SIDE_BY_SIDE, "-side")

    def clear(self) -> None:
        """Blank, for a new run."""
        self.feed, self.taken, self.gpus, self.series = None, 0, (), {}
        self.pace.reset()
        set_text(self.caption, WAITING)
        for chart in self.charts:
            chart.draw([])

    def show(self, feed: RunFeed | None, final: bool = False) -> None:
        """Show the samples ``feed`` gained (a new feed: from its first), while on screen and the
        pace allows (``final``: at once)."""
        if feed is not self.feed:
            self.clear()
            self.feed = feed
        count = len(feed.system) if feed is not None else 0
        if not count or not self.in_view or self.taken == count or not self.pace.due(final):
            return
        samples = feed.system[:count]
        gpus = tuple(sorted({gpu.index for sample in samples for gpu in sample.gpus}))
        if gpus != self.gpus or not self.series:
            self._lines(gpus)
        start = samples[0].time
        for sample in samples[self.taken:]:
            minutes = (sample.time - start) / 60
            self._add("cpu", minutes, sample.cpu_percent)
            self._add("memory", minutes, None if sample.memory is None else sample.memory / GIB)
            for gpu in sample.gpus:
                used = gpu.memory_used if gpu.memory_used is not None else gpu.allocated
                self._add(f"gpu{gpu.index}", minutes, gpu.utilization)
                self._add(f"gpu{gpu.index} memory", minutes, None if used is None else used / GIB)
                self._add(f"gpu{gpu.index} °C", minutes, gpu.temperature)
        self.taken = count
        self.caption.update(sample_text(samples[-1]))
        last = max(1.0, (samples[-1].time - start) / 60)
        for chart in self.charts:
            chart.x_last = last
            if chart.display:
                chart.draw()

    def _add(self, name: str, x: float, y: float | None) -> None:
        if y is not None:
            self.series[name].add(x, float(y))

    def _lines(self, gpus: tuple[int, ...]) -> None:
        """New series, one per figure: the process's, then each GPU's (``gpus``: their indices);
        every sample is taken again."""
        self.gpus, self.taken = gpus, 0
        names = ["cpu", "memory"] + [f"gpu{i}{suffix}" for i in gpus for suffix in ("", " memory", " °C")]
        self.series = {name: MinMaxSeries() for name in names}
        gpu_color = {i: k + 1 for k, i in enumerate(gpus)}  # each GPU's place in the palette's series
        self.load.lines = [Line("CPU (process)", self.series["cpu"], 0),
                           *(Line(f"GPU{i}", self.series[f"gpu{i}"], gpu_color[i]) for i in gpus)]
        self.memory.lines = [Line("process", self.series["memory"], 0),
                             *(Line(f"GPU{i}", self.series[f"gpu{i} memory"], gpu_color[i]) for i in gpus)]
        self.temperature.lines = [Line(f"GPU{i}", self.series[f"gpu{i} °C"], gpu_color[i]) for i in gpus]
        self.temperature.set_class(not gpus, "-unused")
