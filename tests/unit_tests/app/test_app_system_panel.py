"""The System tab draws a run's machine samples as time series: the process's CPU and memory,
and each GPU's load, memory and temperature when the samples have GPUs (none on this machine:
made-up samples of a CUDA run stand in); a watched run's device line is its own GPU's."""

from __future__ import annotations

from textual.app import App, ComposeResult

from tui_trainer.app.feed import RunFeed
from tui_trainer.app.system import SystemPanel, device_text, sample_text
from tui_trainer.engine.system import GpuReading, SystemSample

GIB = 2 ** 30


def sample(t: float, gpus: bool) -> SystemSample:
    readings = [GpuReading(0, "H100", 40 + t, int(20 * GIB), int(80 * GIB), 61, allocated=int(18 * GIB)),
                GpuReading(1, "H100", 5, int(1 * GIB), int(80 * GIB), 35)] if gpus else []
    return SystemSample(1000.0 + 60 * t, 98.0 + t, 412 * 2 ** 20, 4, readings, {"epoch": 1})


class PanelApp(App):
    def compose(self) -> ComposeResult:
        yield SystemPanel(id="system")


async def test_gpu_samples_give_load_memory_and_temperature_lines_per_gpu():
    feed = RunFeed(1, system=[sample(t, gpus=True) for t in range(3)])
    app = PanelApp()
    async with app.run_test(size=(100, 30)) as pilot:
        panel = app.query_one(SystemPanel)
        panel.show(feed, final=True)
        await pilot.pause()
        assert [line.label for line in panel.load.lines] == ["CPU (process)", "GPU0", "GPU1"]
        assert [line.label for line in panel.memory.lines] == ["process", "GPU0", "GPU1"]
        assert [line.label for line in panel.temperature.lines] == ["GPU0", "GPU1"] and panel.temperature.display
        assert panel.load.lines[1].series.points(80)[1] == [40.0, 41.0, 42.0]  # utilization in %
        assert panel.memory.lines[1].series.points(80)[1] == [20.0, 20.0, 20.0]  # GiB in use
        assert panel.load.x_last == 2.0 and panel.has_class("-side")  # minutes; wide: side by side
        assert str(panel.caption.render()) == sample_text(feed.system[-1]) == (
            "CPU 100% · 412 MiB · 4 threads · GPU0 42% · 20/80 GiB · 61°C · GPU1 5% · 1/80 GiB · 35°C")
        feed.system.append(sample(3, gpus=True))
        panel.show(feed, final=True)
        assert panel.taken == 4 and panel.load.lines[0].series.count == 4  # only the new sample added
        # A run's own GPU (the one torch's figures are of) is its device line when watched.
        assert device_text(feed) == "GPU0 43% · 20/80 GiB · 61°C"
        # A new run on the CPU: no GPU lines, no temperature chart.
        cpu = RunFeed(2, system=[sample(0, gpus=False)])
        panel.show(cpu, final=True)
        await pilot.pause()
        assert [line.label for line in panel.load.lines] == ["CPU (process)"] and not panel.temperature.display
        assert device_text(cpu) == "CPU 98% · 412 MiB · 4 threads"
        await pilot.resize_terminal(60, 30)
        await pilot.pause()
        assert not panel.has_class("-side")  # narrow: one above the other
