"""The app's export actions: f2 writes a runnable script of the form, f3 saves the last run's model."""

from __future__ import annotations

import torch

from tui_trainer.app import make_app
from tui_trainer.config import resolve
from tui_trainer.engine.checkpoint import load_model
from tui_trainer.export.script import script_text


async def test_f2_exports_the_script_of_the_config_the_form_trains(runs_dir, tmp_path, make_ui):
    # The script of a config reproduces that config's run (test_export_script runs the scripts
    # and compares every epoch's loss): here, f2 writes the script of what the form trains.
    config = resolve({"task": "linear", "training": {"epochs": 20, "device": "cpu"}})
    target = tmp_path / "exported.py"
    app = make_app(runs_dir=runs_dir, config=config)
    async with app.run_test(size=(100, 30)) as pilot:
        ui = make_ui(pilot)
        await pilot.press("f2")
        dialog = app.screen
        dialog.input.value = str(target)
        await pilot.press("enter")
        await ui.wait_until(lambda: target.exists() and any("script written to" in line
                                                            for line in app.run_log.all_lines))
        await ui.run_to_end()
        trained = app.last_trainer.config
    assert trained == config
    assert target.read_text() == script_text(trained, target.name)


async def test_f3_saves_the_last_runs_model_into_its_folder(runs_dir, make_ui):
    config = resolve({"task": "iris", "training": {"epochs": 3, "device": "cpu"}})
    app = make_app(runs_dir=runs_dir, config=config)
    async with app.run_test(size=(100, 30)) as pilot:
        ui = make_ui(pilot)
        await pilot.press("f3")  # nothing has run yet: refused, nothing written
        await pilot.pause()
        assert not runs_dir.exists() or not list(runs_dir.glob("*/model.pt"))
        await ui.run_to_end()
        await pilot.press("f3")
        model_file = app.last_trainer.run_dir / "model.pt"
        await ui.wait_until(lambda: any("model written to" in line for line in app.run_log.all_lines))
        x = app.last_trainer.data.x_val
        expected = app.last_trainer.model.eval()(x)
    model, loaded = load_model(model_file)
    assert loaded == config
    assert torch.equal(model(x), expected)
