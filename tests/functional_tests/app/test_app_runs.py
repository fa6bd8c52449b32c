"""Runs driven through the app as a person would: keys, form fields, readouts, files on disk."""

from __future__ import annotations

import json
import re

from tui_trainer.app import make_app
from tui_trainer.engine.rundir import list_runs, read_run


async def test_first_ctrl_r_trains_tutorial_003_and_shows_w_and_b(runs_dir, make_ui):
    app = make_app(runs_dir=runs_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        ui = make_ui(pilot)
        assert ui.row("task.name").editor.value == "linear"
        await ui.run_to_end()
        final = str(app.readouts.numbers.render())
        assert "finished" in ui.status() and "completed 1000 epochs" in ui.status()
        w, b = (float(v) for v in re.search(r"w = (\S+), b = (\S+)\s", final).groups())
        assert abs(w - 2) < 0.05 and abs(b - 3) < 0.05
        assert "(true 2, 3)" in final
        assert "1000 epoch(s) · 2 params" in final
        assert any(line.startswith("epoch 1000/1000") for line in app.run_log.all_lines)
    [folder] = list_runs(runs_dir)
    assert read_run(folder).summary["stopped_reason"] == "completed"


async def test_task_loss_and_optimizer_chosen_with_widgets_show_final_accuracy(runs_dir, make_ui):
    app = make_app(runs_dir=runs_dir)
    async with app.run_test(size=(100, 40)) as pilot:
        ui = make_ui(pilot)
        await ui.choose("task.name", "iris")
        assert ui.row("loss.name").editor.value == "cross-entropy"  # the task's recipe
        await ui.choose("loss.name", "nll")
        await ui.choose("optimizer.name", "sgd")
        await ui.type("optimizer.lr", "0.1")
        await ui.type("optimizer.momentum", "0.9")
        await ui.type("training.epochs", "15")
        await ui.run_to_end()
        final = str(app.readouts.numbers.render())
        assert "finished" in ui.status()
        train, val = (float(v) for v in re.search(r"accuracy train (\S+)% · val (\S+)%", final).groups())
        assert train > 60 and val > 60
    summary = read_run(list_runs(runs_dir)[0]).summary
    assert (summary["task"], summary["loss"], summary["optimizer"]) == ("iris", "nll", "sgd")
    assert summary["config"]["optimizer"]["momentum"] == 0.9


async def test_stop_mid_run_keeps_history_on_disk(runs_dir, make_ui, long_linear):
    app = make_app(runs_dir=runs_dir, config=long_linear)
    async with app.run_test() as pilot:
        ui = make_ui(pilot)
        await ui.start()
        await ui.wait_until(lambda: len(app.job.feed.epochs) >= 5)
        await pilot.press("ctrl+t")
        await ui.wait_until(lambda: app.job is None)
        assert "stopped" in ui.status()
        eta = str(app.readouts.progress.render())
        assert "ETA" not in eta and "ended" in eta  # the clock stops with the run
    record = read_run(list_runs(runs_dir)[0])
    assert record.summary["stopped_reason"] == "stopped"
    assert 5 <= len(record.history) < 1_000_000


async def test_pause_holds_the_run_and_resume_continues(runs_dir, make_ui, long_linear):
    app = make_app(runs_dir=runs_dir, config=long_linear)
    async with app.run_test() as pilot:
        ui = make_ui(pilot)
        await ui.start()
        feed = app.job.feed
        await ui.wait_until(lambda: len(feed.epochs) >= 3)
        await pilot.press("ctrl+g")
        assert "paused" in ui.status()
        await ui.wait_until(lambda: app.job.control.paused)
        held = len(feed.epochs)
        await pilot.pause(0.3)
        assert len(feed.epochs) <= held + 1  # at most the epoch in flight when the pause came
        paused_at = len(feed.epochs)
        await pilot.pause(0.2)
        assert len(feed.epochs) == paused_at
        await pilot.press("ctrl+g")
        assert "running" in ui.status()
        await ui.wait_until(lambda: len(feed.epochs) > paused_at + 3)
        await pilot.press("ctrl+t")
        await ui.wait_until(lambda: app.job is None)


async def test_quit_mid_run_stops_the_worker_and_leaves_history(runs_dir, make_ui, long_linear):
    app = make_app(runs_dir=runs_dir, config=long_linear)
    async with app.run_test() as pilot:
        ui = make_ui(pilot)
        await ui.start()
        job = app.job
        await ui.wait_until(lambda: len(job.feed.epochs) >= 5)
        await pilot.press("ctrl+q")
    assert job.control.stop_requested and job.control.stop_reason == "interrupted"
    [folder] = list_runs(runs_dir)
    summary = folder / "summary.json"
    import time
    for _ in range(600):  # the worker thread writes the summary as it ends
        if summary.exists():
            break
        time.sleep(0.05)
    assert json.loads(summary.read_text())["stopped_reason"] == "interrupted"
    assert len(read_run(folder).history) >= 5


async def test_diverging_run_says_diverged_and_keeps_drawing(runs_dir, make_ui):
    app = make_app(runs_dir=runs_dir)
    async with app.run_test() as pilot:
        ui = make_ui(pilot)
        await ui.choose("optimizer.name", "sgd")
        await ui.type("optimizer.lr", "1000")
        await ui.type("training.epochs", "200")
        await ui.run_to_end()
        assert "diverged" in ui.status()
        assert "try a lower learning rate" in ui.status()
        await pilot.pause(0.2)  # charts redraw with what was finite
        assert any("diverged" in line for line in app.run_log.all_lines)


async def test_resizing_mid_run_keeps_the_app_running(runs_dir, make_ui, long_linear):
    app = make_app(runs_dir=runs_dir, config=long_linear)
    async with app.run_test(size=(80, 24)) as pilot:
        ui = make_ui(pilot)
        await ui.start()
        await ui.wait_until(lambda: len(app.job.feed.epochs) >= 3)
        for size in ((140, 45), (80, 24), (100, 30)):
            await pilot.resize_terminal(*size)
            await pilot.pause(0.15)
        assert app.job is not None and "running" in ui.status()
        await pilot.press("ctrl+t")
        await ui.wait_until(lambda: app.job is None)
        assert "stopped" in ui.status()
