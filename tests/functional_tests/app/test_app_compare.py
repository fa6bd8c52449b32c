"""Compare mode in the app: f5 asks what to vary, the runs race live in one chart with a
leaderboard, one can be stopped alone, and every run lands in History."""

from __future__ import annotations

from tui_trainer.app import make_app
from tui_trainer.app.compare import CompareDialog
from tui_trainer.config import resolve
from tui_trainer.engine.rundir import read_run


def iris(epochs: int) -> object:
    return resolve({"task": "iris", "training": {"epochs": epochs, "device": "cpu"}})


async def open_compare(pilot, ui) -> CompareDialog:
    """Press f5 and wait for the compare dialog."""
    await pilot.press("f5")
    await ui.wait_until(lambda: isinstance(pilot.app.screen, CompareDialog))
    return pilot.app.screen


async def test_f5_races_the_ticked_optimizers_with_a_live_leaderboard(runs_dir, make_ui):
    app = make_app(runs_dir=runs_dir, config=iris(15))
    async with app.run_test(size=(80, 24)) as pilot:
        ui = make_ui(pilot)
        dialog = await open_compare(pilot, ui)
        assert dialog.choices.selected == ["adam"]  # the form's optimizer starts ticked
        dialog.choices.select("sgd")
        dialog.choices.select("rmsprop")
        await pilot.press("ctrl+r")  # races (the app's own ctrl+r waits while the dialog is open)
        # the race (which a fast machine may have finished by the time the app is looked at)
        await ui.wait_until(lambda: (app.job or app.last_job) is not None and (app.job or app.last_job).race)
        assert [e.run.config.optimizer.name for e in (app.job or app.last_job).race] == ["sgd", "adam", "rmsprop"]
        assert app.leaderboard.display and not app.readouts.numbers.display
        await ui.wait_until(lambda: app.job is None)
        await pilot.pause(0.1)
        board = app.leaderboard
        assert board.row_count == 3
        rows = [board.get_row_at(i) for i in range(3)]
        assert {row[1] for row in rows} == {"sgd", "adam", "rmsprop"}
        assert all(row[2] == "done" and row[3] == "15" for row in rows)
        losses = [float(row[4]) for row in rows]
        assert losses == sorted(losses)  # best first
        assert [line.label for line in app.charts.loss.lines] == ["#1 sgd", "#2 adam", "#3 rmsprop"]
        assert "finished" in ui.status() and "best #" in ui.status()
        assert sorted(app.history.entries) == [1, 2, 3]
    folders = sorted(runs_dir.iterdir())
    assert len(folders) == 3
    assert {read_run(f).config["optimizer"]["name"] for f in folders} == {"sgd", "adam", "rmsprop"}


async def test_typed_learning_rates_race_and_ctrl_k_stops_one_run_alone(runs_dir, make_ui):
    app = make_app(runs_dir=runs_dir, config=iris(100_000))
    async with app.run_test(size=(120, 36)) as pilot:
        ui = make_ui(pilot)
        dialog = await open_compare(pilot, ui)
        dialog.field_select.value = "optimizer.lr"
        await pilot.pause()
        dialog.values.value = "0.1, 0.0"
        await pilot.press("enter")
        assert "optimizer.lr" in str(dialog.problems.render())  # 0 is refused, the dialog stays
        dialog.values.value = "0.1, 0.01"
        await pilot.press("enter")
        await ui.wait_until(lambda: app.job is not None and all(e.feed.epochs for e in app.job.race))
        first, second = app.job.race
        app.leaderboard.focus()
        app.leaderboard.move_cursor(row=app.leaderboard.get_row_index(str(second.number)))
        await pilot.press("ctrl+k")
        await ui.wait_until(lambda: second.feed.started is not None and app.job is not None
                            and len(first.feed.epochs) > len(second.feed.epochs) + 3)
        # the stopped run says so once it ended, while the other goes on (not `stopping` till the race ends)
        board = app.leaderboard
        await ui.wait_until(lambda: board.get_row(str(second.number))[2] == "stopped")
        assert app.job is not None and board.get_row(str(first.number))[2] == "running"
        await pilot.press("ctrl+t")
        await ui.wait_until(lambda: app.job is None)
        assert {app.history.entries[n].reason for n in (first.number, second.number)} == {"stopped"}


async def test_a_race_whose_runs_reached_their_target_ends_at_100_percent(runs_dir, make_ui):
    config = resolve({"task": "iris", "training": {"epochs": 400, "device": "cpu", "target_loss": 0.5}})
    app = make_app(runs_dir=runs_dir, config=config)
    async with app.run_test(size=(80, 24)) as pilot:
        ui = make_ui(pilot)
        dialog = await open_compare(pilot, ui)
        dialog.field_select.value = "optimizer.lr"
        await pilot.pause()
        dialog.values.value = "0.1, 0.05"
        await pilot.press("enter")
        await ui.wait_until(lambda: app.last_job is not None and app.job is None)
        race = app.last_job.race
        assert {run.result.reason for run in race} == {"target-reached"}
        assert all(run.result.epochs_run < 400 for run in race)  # far from their last step...
        await pilot.pause()
        assert app.readouts.progress.fraction == 1.0  # ...yet the race ended whole
        assert "100%" in str(app.readouts.progress.render())
