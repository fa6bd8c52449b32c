"""Watching a run learn in the app: a pace a person can follow (the same numbers as at max), the
step keys, runs until stopped, the Network tab, curves smoothed as TensorBoard smooths them
with series hidden from the legend, and a run that blows up said as diverged."""

from __future__ import annotations

import time

import pytest
import torch

from tui_trainer.app import make_app
from tui_trainer.app.app import TrainerApp
from tui_trainer.app.compare import CompareDialog
from tui_trainer.app.feed import RunFeed
from tui_trainer.app.live import race_fraction
from tui_trainer.app.runs import LiveRun
from tui_trainer.app.pixels import neuron_pixels
from tui_trainer.app.series import Smoother, smoothed
from tui_trainer.compare import PlannedRun
from tui_trainer.config import resolve
from tui_trainer.engine.control import Pace
from tui_trainer.engine.loop import train
from tui_trainer.engine.plane import expand_features
from tui_trainer.engine.views import grid_points


def circle(**training) -> object:
    return resolve({"task": "circle", "model": {"hidden": [3]},
                    "training": {"epochs": 6, "device": "cpu", **training}})


def train_losses(feed: RunFeed) -> list[float]:
    return [m.train_loss for m in feed.epochs]


async def settled(ui, feed: RunFeed, quiet: float = 0.4) -> None:
    """Wait until the run holds: nothing new in its feed for ``quiet`` seconds."""
    seen = None
    while True:
        now = (len(feed.epochs), feed.global_step)
        if now == seen:
            return
        seen = now
        await ui.pilot.pause(quiet)


async def test_a_paced_run_gives_the_numbers_of_a_max_run_and_of_train(runs_dir, make_ui, monkeypatch):
    monkeypatch.setattr(TrainerApp, "watchable", True)  # the circle's boundary: 5 epochs a second
    config = circle()
    app = make_app(runs_dir=runs_dir, config=config)
    async with app.run_test(size=(120, 36)) as pilot:
        ui = make_ui(pilot)
        await ui.wait_until(lambda: app.engine_ready)
        assert "5 epochs/s" in ui.status()
        started = time.perf_counter()
        await ui.run_to_end()
        assert time.perf_counter() - started >= 5 / 5  # six epochs, each begun 0.2 s after the last
        paced = app.last_job
        assert paced.control.pace == Pace(5)
        await pilot.press("ctrl+f", "ctrl+f", "ctrl+f")  # 20, 60, max: kept for the next run
        assert app.paces.of(config).is_max
        await ui.run_to_end()
        at_max = app.last_job
        assert at_max.control.pace.is_max
    headless = train(config, runs_dir=runs_dir / "headless")
    assert train_losses(paced.feed) == train_losses(at_max.feed) == [m.train_loss for m in headless.history]
    assert [m.val_loss for m in paced.feed.epochs] == [m.val_loss for m in headless.history]
    assert (paced.feed.started.run_dir / "config.toml").read_text() == \
        (at_max.feed.started.run_dir / "config.toml").read_text()


async def test_step_keys_train_one_epoch_or_one_batch_then_hold(runs_dir, make_ui):
    config = resolve({"task": "iris", "training": {"epochs": 5, "device": "cpu"}})  # 8 steps an epoch
    app = make_app(runs_dir=runs_dir, config=config)
    async with app.run_test(size=(80, 24)) as pilot:
        ui = make_ui(pilot)
        await ui.wait_until(lambda: app.engine_ready)
        await pilot.press("ctrl+e")  # no run yet: one starts and holds after its first epoch
        await ui.wait_until(lambda: app.job is not None and len(app.job.feed.epochs) == 1)
        feed = app.job.feed
        await settled(ui, feed)
        assert len(feed.epochs) == 1 and feed.global_step == 8 and ui.status().startswith("⏸ paused")
        await pilot.press("ctrl+e")
        await ui.wait_until(lambda: len(feed.epochs) == 2)
        await settled(ui, feed)
        assert len(feed.epochs) == 2 and feed.global_step == 16
        await pilot.press("ctrl+y")
        await ui.wait_until(lambda: feed.global_step == 17)
        await settled(ui, feed)
        assert feed.global_step == 17 and len(feed.epochs) == 2
        await pilot.press("ctrl+g")  # goes on to the end
        await ui.wait_until(lambda: app.job is None)
        assert "finished" in ui.status()
    assert train_losses(feed) == [m.train_loss for m in train(config, runs_dir=False).history]


async def test_a_step_in_a_comparison_takes_every_run_one_epoch(runs_dir, make_ui):
    app = make_app(runs_dir=runs_dir, config=resolve({"task": "iris", "training": {"epochs": 100_000, "device": "cpu"}}))
    async with app.run_test(size=(120, 36)) as pilot:
        ui = make_ui(pilot)
        await pilot.press("f5")
        await ui.wait_until(lambda: isinstance(app.screen, CompareDialog))
        app.screen.choices.select("sgd")
        await pilot.press("ctrl+r")
        await ui.wait_until(lambda: app.job is not None and app.job.race)
        await pilot.press("ctrl+e")  # each run trains up to its next epoch end and holds
        feeds = [run.feed for run in app.job.runs]
        await ui.wait_until(lambda: all(feed.epochs for feed in feeds))
        for feed in feeds:
            await settled(ui, feed)
        before = [len(feed.epochs) for feed in feeds]
        await pilot.press("ctrl+e")
        await ui.wait_until(lambda: [len(feed.epochs) for feed in feeds] == [n + 1 for n in before])
        for feed in feeds:
            await settled(ui, feed)
        assert [len(feed.epochs) for feed in feeds] == [n + 1 for n in before]
        await pilot.press("ctrl+t")
        await ui.wait_until(lambda: app.job is None)


async def test_a_run_until_stopped_has_no_end_on_screen_and_stops_with_ctrl_t(runs_dir, make_ui):
    app = make_app(runs_dir=runs_dir, config=resolve({"task": "iris", "training": {"device": "cpu"}}))
    async with app.run_test(size=(80, 24)) as pilot:
        ui = make_ui(pilot)
        await ui.type("training.epochs", "until-stopped")
        assert app.form.config is not None and app.form.config.training.epochs == "until-stopped"
        await ui.start()
        await ui.wait_until(lambda: app.job is not None and len(app.job.feed.epochs) >= 3)
        await pilot.pause(0.6)
        assert app.readouts.progress.fraction is None
        assert "until stopped" in app.readouts.progress.clock and "ETA" not in app.readouts.progress.clock
        numbers = str(app.readouts.numbers.render())
        assert "epoch " in numbers and "/" not in numbers.split("·")[0]  # epoch 12, no total
        await pilot.press("ctrl+t")
        await ui.wait_until(lambda: app.job is None)
        assert "stopped" in ui.status()
        assert app.last_trainer.result.epochs_run >= 3


def test_a_race_counts_its_runs_steps_and_a_finished_run_as_whole():
    class Started:
        def __init__(self, total):
            self.total_steps = total

    def run(step: int, total: int | None, reason: str | None = None) -> LiveRun:
        r = LiveRun.of(1, PlannedRun(1, (), circle()))
        r.feed.started = Started(total)
        r.feed.progress = type("P", (), {"global_step": step})()
        if reason is not None:
            r.result = type("R", (), {"reason": reason, "history": []})()
        return r

    assert race_fraction([run(50, 100), run(5000, None)]) == 0.5  # a run until stopped has no end
    assert race_fraction([run(100, 100), run(10, 100)]) == 0.55
    assert race_fraction([run(300, None)]) is None
    # ended: a run that finished counts whole (its last steps may not have reached the feed, or it
    # stopped early on purpose); one stopped by hand counts what it trained
    assert race_fraction([run(60, 100, "early-stopped"), run(97, 100, "completed")]) == 1.0
    assert race_fraction([run(30, 100, "target-reached"), run(40, 100, "stopped")]) == 0.7


async def test_the_network_tab_draws_every_neuron_with_the_hidden_activations(runs_dir, make_ui):
    app = make_app(runs_dir=runs_dir, config=circle(epochs=3))
    async with app.run_test(size=(120, 36)) as pilot:
        ui = make_ui(pilot)
        await ui.wait_until(lambda: app.engine_ready)  # the form took the focus as the app opened
        await ui.show_tab("tab-network")
        panel = app.views["network"]
        await ui.wait_until(lambda: app.focused is panel.canvas)  # shown, the Network tab takes the keys
        await ui.run_to_end()
        await ui.wait_until(lambda: panel.canvas.frame is not None and panel.canvas.frame.epoch == 3)
        frame, canvas = panel.canvas.frame, panel.canvas
        assert [(c.name, c.size) for c in frame.columns] == [("inputs", 2), ("hidden 1", 3), ("output", 1)]
        assert [len(tops) for tops in canvas.plan.tops] == [2, 3, 1]  # every neuron drawn
        # each hidden thumbnail is the hidden layer's activation over the plane, computed here
        model = app.last_trainer.model
        points = grid_points(frame.extent, frame.cols, frame.rows)
        with torch.no_grad():
            hidden = model[1](model[0](expand_features(points, ["x1", "x2"]))).T
        for values, expected in zip(frame.columns[1].thumbnails, hidden.tolist()):
            assert values == pytest.approx(expected, abs=1e-5)
        # and the screen shows each neuron's picture: its cells' colors are the thumbnail's
        strips = [canvas.render_line(y) for y in range(canvas.size.height)]
        plan = canvas.plan
        for column, tops in enumerate(plan.tops):
            for index, top in enumerate(tops):
                pixels = neuron_pixels(frame, column, index, plan.node_width, 2 * plan.node_height)
                for row in range(plan.node_height):
                    cells = [(s.text, s.style) for s in strips[top + row] for _ in s.text]
                    cell = cells[plan.xs[column] + 1]
                    assert cell[1].color.triplet == pixels[2 * row][0]
                    assert cell[1].bgcolor.triplet == pixels[2 * row + 1][0]
        # enter shows the selected neuron large in the Boundary tab; escape goes back
        await pilot.press("enter")
        await ui.wait_until(lambda: app.tabs.active == "tab-boundary" and app.boundary.canvas.neuron is not None)
        assert "hidden 1 #1" in str(app.boundary.caption.render())
        await pilot.press("escape")
        await ui.wait_until(lambda: app.tabs.active == "tab-network" and app.boundary.canvas.neuron is None)


async def test_curves_are_smoothed_as_tensorboard_smooths_and_series_hide_from_the_legend(runs_dir, make_ui):
    app = make_app(runs_dir=runs_dir, config=resolve({"task": "iris", "training": {"epochs": 3, "device": "cpu"}}))
    async with app.run_test(size=(120, 36)) as pilot:
        ui = make_ui(pilot)
        await ui.run_to_end()
        await pilot.pause(0.2)
        train_line = app.charts.loss.lines[0]
        ys = [y for _, y in app.last_job.feed.train_points]
        kept = [bucket.min_y for bucket in train_line.smooth._buckets]
        assert kept == pytest.approx(tensorboard_smoothing(ys, 0.6))
        await pilot.press("f12")  # 0.8
        assert app.charts.smoothing == 0.8
        kept = [bucket.min_y for bucket in app.charts.loss.lines[0].smooth._buckets]
        assert kept == pytest.approx(tensorboard_smoothing(ys, 0.8))
        legend = app.charts.loss.legend
        lines = [line.plain for line in app.charts.loss.legend_content.wrap(legend.content_size.width)]
        row = next(i for i, line in enumerate(lines) if "validation" in line)
        await pilot.click(legend, offset=(lines[row].index("validation") + 1 + legend.styles.padding.left, row))
        assert app.charts.hidden == {"validation"}
        assert "strike" in str(app.charts.metric.legend_content.markup)  # every chart follows
        app.charts.focus()
        await pilot.press("2")  # its number key while the charts have the focus
        assert app.charts.hidden == set()


def tensorboard_smoothing(values: list[float], weight: float) -> list[float]:
    """TensorBoard's resmoothDataset (vz_line_chart2/line-chart.ts), transcribed."""
    last, accumulated, out = 0.0, 0, []
    constant = all(v == values[0] for v in values)
    for value in values:
        if constant:
            out.append(value)
            continue
        last = last * weight + (1 - weight) * value
        accumulated += 1
        out.append(last / (1 - weight ** accumulated))
    return out


def test_smoothing_is_tensorboards_exponential_moving_average_debiased():
    values = [0.9, 0.5, 0.7, 0.2, 0.4, 0.1, 0.15, 0.05]
    for weight in (0.0, 0.6, 0.9, 0.99):
        assert smoothed(values, weight) == pytest.approx(tensorboard_smoothing(values, weight))
    assert smoothed([2.0] * 5, 0.9) == pytest.approx([2.0] * 5)
    smoother = Smoother(0.6)  # a value that is not finite passes through, the average goes on without it
    first, gap, after = (smoother(v) for v in (1.0, float("nan"), 3.0))
    assert gap != gap and [first, after] == pytest.approx(tensorboard_smoothing([1.0, 3.0], 0.6))


async def test_a_run_that_blows_up_ends_diverged_with_the_reason(runs_dir, make_ui):
    config = resolve({"task": "iris", "optimizer": {"name": "adam", "lr": 1e9}, "training": {"device": "cpu"}})
    app = make_app(runs_dir=runs_dir, config=config)
    async with app.run_test(size=(120, 36)) as pilot:
        ui = make_ui(pilot)
        await ui.run_to_end()
        assert ui.status().startswith("✖ diverged") and "loss exploded" in ui.status()
        assert "✔" not in ui.status()
        assert any("loss exploded" in line for line in app.run_log.all_lines)
