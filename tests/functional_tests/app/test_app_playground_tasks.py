"""The form offers the 2-D playground tasks with their options; the train ratio owns the split."""

from __future__ import annotations

import tomllib

from tui_trainer.app import make_app


async def choose_task(ui, letter: str, task: str) -> None:
    """Pick a task by the one letter only its name starts with (a letter typed a moment after
    another starts a new search, which a loaded machine may make happen within one name)."""
    await ui.pilot.pause()
    select = ui.row("task.name").editor
    select.focus()
    await ui.pilot.press("enter", letter, "enter")
    await ui.wait_until(lambda: app_task(ui) == task)


def app_task(ui) -> str | None:
    config = ui.app.form.config
    return config.task.name if config is not None else None


async def test_playground_task_shows_its_options_and_hides_the_validation_split(runs_dir, make_ui):
    app = make_app(runs_dir=runs_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        ui = make_ui(pilot)
        await choose_task(ui, "x", "xor")
        assert [row.key for row in app.form.choices["task"].param_rows] == [
            "task.samples", "task.noise", "task.train_ratio", "task.seed", "task.features"]
        assert ui.row("task.features").editor.value == "x1,x2"
        assert ui.row("model.hidden").editor.value == "8,8"  # the recipe
        assert not ui.row("training.val_split").display
        await ui.type("task.features", "x1,x3")
        await ui.wait_until(lambda: "'x3' is none of x1, x2, x1^2, x2^2, x1*x2, sin(x1), sin(x2)" in str(
            ui.row("task.features").error.render()))
        await ui.start()
        assert app.job is None and "invalid" in ui.status()
        await ui.type("task.features", "x1,x2,x1*x2")
        await ui.type("task.train_ratio", "80")
        await ui.type("training.epochs", "2")
        await ui.run_to_end()
        assert "finished" in ui.status()
        saved = tomllib.loads(next(runs_dir.iterdir()).joinpath("config.toml").read_text())
        assert saved["task"]["features"] == ["x1", "x2", "x1*x2"] and saved["task"]["train_ratio"] == 80
        assert "val_split" not in saved["training"]
        await choose_task(ui, "w", "wine")
        assert ui.row("training.val_split").display
        assert ui.row("training.val_split").editor.value == "0.2"
        assert app.form.config.training.val_split == 0.2
