"""Run history: this session's runs and earlier ones, overlaid to compare."""

from __future__ import annotations

from tui_trainer.app import make_app
from tui_trainer.config import resolve
from tui_trainer.engine.loop import train


async def test_changing_only_the_optimizer_overlays_both_runs_by_optimizer(runs_dir, make_ui):
    app = make_app(runs_dir=runs_dir, config=resolve({"task": "linear", "training": {"epochs": 60}}))
    async with app.run_test(size=(100, 40)) as pilot:
        ui = make_ui(pilot)
        await ui.run_to_end()
        await ui.choose("optimizer.name", "sgd")
        await ui.run_to_end()
        chart = app.history.chart
        assert [line.label for line in chart.lines] == ["#1 optimizer=adam", "#2 optimizer=sgd"]
        assert all(line.series.count == 60 for line in chart.lines)
        assert "validation loss per epoch, 2 run(s) selected" in chart.title
        await pilot.click("#tabs Tab#--content-tab-tab-history")
        await pilot.pause()
        assert app.query_one("#tabs").active == "tab-history"
        assert any("#1 optimizer=adam vs #2 optimizer=sgd" in line for line in app.run_log.all_lines)
        listed = [str(option.prompt) for option in app.history.runs.options]
        assert listed[0].startswith("#2 linear · mse · sgd lr=0.01") and "completed" in listed[0]
        assert listed[1].startswith("#1 linear · mse · adam lr=0.01")


async def test_earlier_runs_in_the_runs_folder_are_listed_and_numbered_first(runs_dir, make_ui):
    train(resolve({"task": "iris", "training": {"epochs": 3}}), runs_dir=runs_dir)
    app = make_app(runs_dir=runs_dir, config=resolve({"task": "linear", "training": {"epochs": 5}}))
    async with app.run_test(size=(100, 40)) as pilot:
        ui = make_ui(pilot)
        await ui.wait_until(lambda: len(app.history.entries) == 1)
        earlier = app.history.entries[1]
        assert earlier.config["task"]["name"] == "iris" and earlier.reason == "completed"
        assert "acc" in earlier.describe()
        await ui.run_to_end()
        assert sorted(app.history.entries) == [1, 2]
        app.history.runs.select(1)
        await pilot.pause()
        assert [line.label for line in app.history.chart.lines] == ["#1 task=iris loss=cross-entropy", "#2 task=linear loss=mse"]


async def test_new_run_clears_the_live_panels_and_keeps_history(runs_dir, make_ui):
    app = make_app(runs_dir=runs_dir, config=resolve({"task": "linear", "training": {"epochs": 5}}))
    async with app.run_test() as pilot:
        ui = make_ui(pilot)
        await ui.run_to_end()
        await pilot.press("ctrl+n")
        assert "ready" in ui.status()
        assert str(app.readouts.numbers.render()) == "press ctrl+r to train"
        assert app.run_log.all_lines == []
        assert list(app.history.entries) == [1]
