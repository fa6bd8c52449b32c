"""The Arena tab: offered for arena tasks only, one color per run in a comparison, as in the
charts' legend, a diverged run's path up to where it left the view and its line saying it
diverged (the snapshot test draws one run's path at 80x24 and 120x36)."""

from __future__ import annotations

from tui_trainer.app import make_app
from tui_trainer.app.palette import SERIES_COLORS
from tui_trainer.app.compare import CompareDialog
from tui_trainer.config import resolve


def arena_config(task: str = "rosenbrock", epochs: int = 12) -> object:
    return resolve({"task": task, "training": {"epochs": epochs, "device": "cpu"}})


def offered(app) -> bool:
    return not app.tabs.get_tab("tab-arena").has_class("-hidden")


async def test_the_arena_tab_is_offered_for_arena_tasks_only_as_the_form_changes(runs_dir, make_ui):
    app = make_app(runs_dir=runs_dir)  # tutorial 003's linear task
    async with app.run_test(size=(80, 24)) as pilot:
        ui = make_ui(pilot)
        await ui.wait_until(lambda: app.engine_ready)
        assert not offered(app)
        await pilot.press(*["ctrl+l"] * 8)
        assert app.tabs.active == "tab-charts"  # eight tabs (linear's Fit, Network and Model too): the hidden Arena is skipped
        await ui.choose("task.name", "rosenbrock")
        assert offered(app)
        assert not app.form.choices["loss"].display and not app.form.model.display
        hidden = {row.param.name for row in app.form.training.rows if not row.display}
        assert hidden == {"batch_size", "val_split", "test_split"}
        assert [row.param.name for row in app.form.choices["task"].param_rows] == [
            "start", "steps_per_epoch", "tolerance", "a", "b"]
        await ui.type("task.start", "a,b")
        assert app.form.config is None
        assert "'a,b' is not allowed; must be 2 numbers" in str(app.form.problems[0])
        await ui.type("task.start", "-1.5,2")
        assert app.form.config is not None
        await ui.choose("task.name", "iris")
        assert not offered(app) and app.form.choices["loss"].display
        assert app.form.config.training.val_split == 0.2  # the arena's recipe left nothing behind


async def test_f5_races_optimizers_on_one_surface_each_path_in_its_legend_color(runs_dir, make_ui):
    app = make_app(runs_dir=runs_dir, config=arena_config("himmelblau", epochs=3))
    async with app.run_test(size=(120, 36)) as pilot:
        ui = make_ui(pilot)
        await ui.wait_until(lambda: app.engine_ready)
        await pilot.press("f5")
        await ui.wait_until(lambda: isinstance(app.screen, CompareDialog))
        dialog = app.screen
        assert "loss.name" not in dialog.fields and "training.batch_size" not in dialog.fields
        dialog.choices.select("sgd")
        dialog.choices.select("rmsprop")
        await pilot.press("ctrl+r")
        await ui.wait_until(lambda: len(app.arena.tracks) == 3)  # the race began
        app.action_show_tab("tab-arena")
        await ui.wait_until(lambda: app.job is None)
        await pilot.pause(0.1)
        assert [t.result.config.optimizer.name for t in app.arena.tracks] == ["sgd", "adam", "rmsprop"]
        canvas = app.arena.canvas
        await ui.wait_until(lambda: len(canvas.base) == canvas.size.height * 2 > 0)
        tracks = app.arena.tracks
        assert [t.label for t in tracks] == [line.label for line in app.charts.loss.lines]
        assert [line.index for line in app.charts.loss.lines] == [t.index for t in tracks] == [0, 1, 2]
        drawn = set(canvas.overlay.values())
        assert all(SERIES_COLORS[t.index] in drawn for t in tracks if len({canvas.to_pixel(*p) for p in t.read()[0]}) > 2)
        board = app.leaderboard
        assert [column.label.plain for column in board.ordered_columns][2:] == ["status", "f(x,y)", "to min"]
        # sgd's loss explodes at its 4th step: its line says so, and its path shows up to the view's edge
        assert tracks[0].result.reason == "diverged" and SERIES_COLORS[0] in drawn
        lines = str(app.arena.board.render()).splitlines()
        assert lines[0].startswith("━━ #1 sgd diverged: loss exploded: ")
        assert len(lines) == 3 and all("to min" in line for line in lines[1:])
        await pilot.resize_terminal(80, 24)
        await pilot.pause(0.2)
        assert 0 < board.virtual_size.width <= board.content_size.width  # every column shows at 80x24
