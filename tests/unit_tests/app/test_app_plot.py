"""The charts' plot draws plotext's cells straight into the screen's lines: the same characters
and colors as textual-plotext's render, which goes through an ANSI string."""

from __future__ import annotations

from rich.console import Console
from textual.app import App, ComposeResult
from textual_plotext import PlotextPlot

from tui_trainer.app.charts import Plot


class OnePlot(App):
    def __init__(self, waiting: str = "") -> None:
        super().__init__()
        self.waiting = waiting

    def compose(self) -> ComposeResult:
        yield Plot(self.waiting)


def cells(segments) -> list[tuple[str, object]]:
    return [(char, segment.style) for segment in segments for char in segment.text]


async def test_plot_lines_are_plotexts_cells():
    app = OnePlot()
    async with app.run_test(size=(60, 16)) as pilot:
        plot = app.query_one(Plot)
        plt = plot.plt
        plt.plot([0, 1, 2, 3], [1.0, 4.0, 2.0, 8.0], color=(0, 190, 230), marker="braille")
        plt.plot([0, 1, 2, 3], [3.0, 3.0, 1.0, 0.0], color=(255, 150, 40), marker="braille")
        plt.vline(1.5, "gray")
        plt.xticks([0, 1, 2, 3], ["0", "1", "2", "3"])
        plt.xlabel("epoch")
        plot.replot()
        await pilot.pause()
        width, height = plot.size
        ours = [plot.render_line(y) for y in range(height)]
        theirs = PlotextPlot.render(plot).split("\n")
        console = Console(width=width, color_system="truecolor")
        assert len(theirs) >= height
        for strip, line in zip(ours, theirs):
            assert strip.cell_length == width
            assert cells(strip) == cells(line.render(console))
        assert any("⠀" < char <= "⣿" for strip in ours for char in strip.text)  # the curves drew


async def test_plot_waiting_shows_its_text_without_plotext():
    app = OnePlot("nothing yet")
    async with app.run_test(size=(60, 16)) as pilot:
        plot = app.query_one(Plot)
        await pilot.pause()
        assert "nothing yet" in "".join(plot.render_line(y).text for y in range(plot.size.height))
        assert plot._built_for is None  # plotext never built a figure
