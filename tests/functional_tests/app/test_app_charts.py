"""Charts a person can read: one at a time when short (f4 switches), side by side when wide,
legends in words above the data, whole epochs on a shared x axis, learning rate on its own."""

from __future__ import annotations

from tui_trainer.app import make_app
from tui_trainer.app.charts import epoch_ticks, nice_ticks
from tui_trainer.config import resolve


def shown_charts(app) -> list[str]:
    return [name for name, chart in app.charts.charts.items() if chart.display and chart.region.area]


def plot_text(chart) -> str:
    return chart.plot.plt.build()


async def test_one_chart_at_a_time_at_80x24_and_all_side_by_side_when_wide(runs_dir, make_ui):
    config = resolve({"task": "linear", "training": {"epochs": 50, "device": "cpu"},
                      "optimizer": {"lr": 0.01}})
    app = make_app(runs_dir=runs_dir, config=config)
    async with app.run_test(size=(80, 24)) as pilot:
        ui = make_ui(pilot)
        await ui.run_to_end()
        await pilot.pause()
        assert shown_charts(app) == ["loss"]
        loss = app.charts.loss
        assert loss.plot.region.height >= 10
        legend = str(loss.legend.render())
        assert "loss" in legend and "train" in legend and "validation" in legend and "f4 ▸ R²" in legend
        await pilot.press("f4")
        await pilot.pause()
        assert shown_charts(app) == ["metric"]
        await pilot.press("f4")
        await pilot.pause()
        assert shown_charts(app) == ["lr"]
        text = plot_text(app.charts.lr)
        assert "0.01" in text and "epoch" in text and "0.0 " not in text
        ends = {chart.x_last for chart in app.charts.charts.values()}
        assert ends == {50.0}
        await pilot.resize_terminal(120, 36)
        await pilot.pause(0.2)
        assert shown_charts(app) == ["loss", "metric", "lr"]
        lr, metric = app.charts.lr.region, app.charts.metric.region
        assert loss.region.right <= metric.x and metric.bottom <= lr.y


def test_ticks_are_round_numbers_within_the_range():
    assert epoch_ticks(1000, 6) == [0, 200, 400, 600, 800, 1000]
    assert epoch_ticks(3, 6) == [0, 1, 2, 3]
    assert nice_ticks(0.0, 1.0) == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert nice_ticks(-1.0, 1.0) == [-1.0, -0.5, 0.0, 0.5, 1.0]
    assert nice_ticks(0.0, 0.0125) == [0.0, 0.005, 0.01]


async def test_a_chart_never_says_the_curves_will_appear_over_a_run_with_points(runs_dir, make_ui):
    """On a loaded machine one drawing can cost the charts' pace many seconds: a race's charts,
    last drawn before its first points, said "the curves appear as a run trains" at epochs 534 and
    1,067. The pace is emptied here as such a drawing empties it: the first points show anyway."""
    app = make_app(runs_dir=runs_dir, config=resolve({"task": "iris", "training": {"epochs": 100_000,
                                                                                    "device": "cpu"}}))
    async with app.run_test(size=(120, 36)) as pilot:
        ui = make_ui(pilot)
        charts = app.charts
        charts.pace.share = 0.0  # no drawing allowed by the pace, from the run's start on
        charts.pace.reset = lambda: setattr(charts.pace, "held", -100.0)
        await ui.start()
        await ui.wait_until(lambda: app.job is not None and len(app.job.feed.epochs) >= 2)
        await ui.wait_until(lambda: all(chart.plot.waiting == "" for chart in charts.charts.values()))
        drawn = charts.loss.plot.version
        await ui.wait_until(lambda: len(app.job.feed.epochs) >= 20)
        await pilot.pause(1.0)  # two ticks: the pace (still empty) draws nothing more
        assert charts.loss.plot.version == drawn
        await pilot.press("ctrl+t")
        await ui.wait_until(lambda: app.job is None)
