"""A run trains exactly what the form shows, even when ctrl+r comes right after a choice."""

from __future__ import annotations

import tomllib

from textual import events
from textual.widgets import Select
from textual.widgets._select import SelectOverlay

from tui_trainer.app import make_app
from tui_trainer.cli import main
from tui_trainer.engine.rundir import CONFIG_FILE, list_runs

#: Each task chosen in turn, from the linear task the app opens on: every step is a pair
#: (linear -> iris, iris -> linear, ...), recipes with different models, losses and lengths.
TASKS = ["iris", "linear", "multiclass", "diabetes"]


def recipe(task: str, tmp_path) -> dict:
    """What ``tui-trainer train --task T --dry-run --save-config F`` writes for the task."""
    path = tmp_path / f"{task}.toml"
    assert main(["train", "--task", task, "--dry-run", "--save-config", str(path)]) == 0
    return tomllib.loads(path.read_text())


def burst(app, keys: list[str]) -> None:
    """Hand keys to the app as one read from a terminal does: all queued at once, with no
    pause for the app to handle any of them first (Pilot.press waits after each key)."""
    for key in keys:
        event = events.Key(key, "\r" if key == "enter" else None)
        event.set_sender(app)
        app._driver.send_message(event)


async def test_ctrl_r_right_after_choosing_a_task_trains_that_tasks_recipe(tmp_path, runs_dir, make_ui,
                                                                           capsys):
    app = make_app(runs_dir=runs_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        ui = make_ui(pilot)
        await pilot.pause()
        for number, task in enumerate(TASKS, start=1):
            select = ui.row("task.name").editor
            assert isinstance(select, Select)
            select.focus()
            await pilot.press("enter")  # the list opens; the person moves to the task...
            overlay = select.query_one(SelectOverlay)
            overlay.highlighted = [value for _, value in ui.row("task.name").options].index(task)
            burst(app, ["enter", "ctrl+r"])  # chosen, and ctrl+r with no pause between
            await ui.wait_until(lambda: app.next_number > number or "invalid" in ui.status())
            assert "invalid" not in ui.status(), ui.status()
            await ui.wait_until(lambda: app.job is None or app.job.feed.started is not None)
            await pilot.press("ctrl+t")
            await ui.wait_until(lambda: app.job is None)
            assert select.value == task and app.form.config.task.name == task
            folder = list_runs(runs_dir)[-1]
            assert tomllib.loads((folder / CONFIG_FILE).read_text()) == recipe(task, tmp_path), task
