"""The config form: fields generated from the schema, validation as typed, choices and files."""

from __future__ import annotations


from tui_trainer.app import make_app
from tui_trainer.config import load_config, resolve, save_config


async def test_invalid_field_shows_the_message_and_blocks_the_start(runs_dir, make_ui):
    app = make_app(runs_dir=runs_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        ui = make_ui(pilot)
        await ui.type("optimizer.lr", "-1")
        lr = ui.row("optimizer.lr")
        # The message shows once typing pauses (not at each key: no line coming and going)
        await ui.wait_until(lambda: "-1 is not allowed; must be a number > 0" in str(lr.error.render()))
        await ui.start()
        assert app.job is None and app.next_number == 1
        assert "invalid" in ui.status() and "optimizer.lr" in ui.status()
        assert app.focused is lr.editor
        await ui.type("optimizer.lr", "0.05")
        await ui.wait_until(lambda: not lr.has_class("-invalid"))
        assert app.form.config.optimizer.params["lr"] == 0.05
    assert not runs_dir.exists() or not any(runs_dir.iterdir())


async def test_loss_that_does_not_fit_the_task_is_flagged_with_its_reason(runs_dir, make_ui):
    app = make_app(runs_dir=runs_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        ui = make_ui(pilot)
        await ui.choose("loss.name", "cross-entropy")
        error = str(ui.row("loss.name").error.render())
        assert "cross-entropy needs class labels; task linear is regression; use mse" in error
        await ui.start()
        assert app.job is None and "invalid" in ui.status()


async def test_optimizer_fields_follow_the_chosen_optimizer(runs_dir, make_ui):
    app = make_app(runs_dir=runs_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        ui = make_ui(pilot)

        def optimizer_fields() -> list[str]:
            return [row.key.partition(".")[2] for row in app.form.rows if row.key.startswith("optimizer.")]

        assert {"betas", "eps", "amsgrad"} <= set(optimizer_fields())
        await ui.choose("optimizer.name", "sgd")
        assert {"momentum", "nesterov", "dampening"} <= set(optimizer_fields())
        assert "betas" not in optimizer_fields()
        assert ui.row("optimizer.lr").editor.value == "0.01"  # the recipe's lr carries over
        await ui.choose("optimizer.name", "adadelta")
        assert "rho" in optimizer_fields()
        await ui.choose("scheduler.name", "step")
        assert {row.key for row in app.form.rows} >= {"scheduler.step_size", "scheduler.gamma"}


async def test_choosing_a_task_loads_its_recipe(runs_dir, make_ui):
    app = make_app(runs_dir=runs_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        ui = make_ui(pilot)
        await ui.type("training.seed", "7")
        await ui.choose("task.name", "multiclass")
        assert ui.row("task.classes").editor.value == "3"
        assert ui.row("loss.name").editor.value == "cross-entropy"
        assert ui.row("model.hidden").editor.value == "64,64"
        assert ui.row("training.epochs").editor.value == "100"
        assert ui.row("training.seed").editor.value == "7"  # not part of the recipe: kept
        assert app.form.config is not None and app.form.config.task.name == "multiclass"


async def test_what_torch_refuses_is_shown_once_the_engine_loaded(runs_dir, make_ui):
    app = make_app(runs_dir=runs_dir)
    async with app.run_test(size=(100, 40)) as pilot:
        ui = make_ui(pilot)
        await ui.wait_until(lambda: app.engine_ready)
        assert "cpu" in [value for _, value in ui.row("training.device").options]
        await ui.choose("optimizer.name", "sgd")
        ui.row("optimizer.nesterov").editor.toggle()
        await pilot.pause()
        errors = " ".join(str(row.error.render()) for row in app.form.rows)
        assert "torch refuses" in errors and "nesterov" in errors.lower()
        await ui.start()
        assert app.job is None


async def test_config_file_fills_the_form(tmp_path, runs_dir, make_ui):
    path = save_config(resolve({"task": "binary", "optimizer": {"name": "rmsprop", "lr": 0.003},
                                "training": {"epochs": 7}}), tmp_path / "run.toml")
    app = make_app(path, runs_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        ui = make_ui(pilot)
        await pilot.pause()  # the sections below the fold mount just after the first frame
        assert ui.row("task.name").editor.value == "binary"
        assert ui.row("optimizer.name").editor.value == "rmsprop"
        assert ui.row("optimizer.lr").editor.value == "0.003"
        assert ui.row("training.epochs").editor.value == "7"


async def test_broken_config_file_opens_with_defaults_and_says_why(tmp_path, runs_dir, make_ui):
    path = tmp_path / "bad.toml"
    path.write_text('[optimizer]\nname = "adamm"\n')
    app = make_app(path, runs_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        ui = make_ui(pilot)
        assert ui.row("task.name").editor.value == "linear"
        assert any("'adamm' is not allowed" in line for line in app.run_log.all_lines)


async def test_save_then_load_config_round_trips_the_form(tmp_path, runs_dir, make_ui, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = make_app(runs_dir=runs_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        ui = make_ui(pilot)
        await ui.choose("optimizer.name", "sgd")
        await ui.type("optimizer.momentum", "0.8")
        await pilot.press("ctrl+s")
        dialog_input = app.screen.query_one("#path")
        dialog_input.value = str(tmp_path / "saved.toml")
        await pilot.press("enter")
        saved = load_config(tmp_path / "saved.toml")
        assert saved.optimizer.name == "sgd" and saved.optimizer.params["momentum"] == 0.8
        await ui.choose("optimizer.name", "adam")
        await pilot.press("ctrl+o")
        app.screen.query_one("#path").value = str(tmp_path / "saved.toml")
        await pilot.press("enter")
        await pilot.pause()
        assert ui.row("optimizer.name").editor.value == "sgd"
        assert ui.row("optimizer.momentum").editor.value == "0.8"
        await pilot.press("ctrl+o")
        app.screen.query_one("#path").value = str(tmp_path / "missing.toml")
        await pilot.press("enter")
        await pilot.pause()
        assert ui.row("optimizer.name").editor.value == "sgd"  # a failed load changes nothing


async def test_controls_are_in_the_command_palette(runs_dir):
    app = make_app(runs_dir=runs_dir)
    async with app.run_test() as pilot:
        titles = [command.title for command in app.get_system_commands(app.screen)]
        for title in ("Run", "Stop run", "Pause / resume run", "New run", "Save config", "Load config",
                      "Export script", "Save model", "Show charts", "Show log", "Show history",
                      "Show layers", "Show system", "Show boundary", "Show fit", "Show network", "Show model",
                      "Show confusion matrix", "Show mistakes", "Show validation points", "Save picture",
                      "Next mistakes", "Step one epoch", "Step one batch", "Slower pace", "Faster pace", "Smoothing",
                      "Compare runs", "Stop one run", "Find a learning rate", "Quit"):
            assert titles.count(title) == 1, title
        await pilot.press("ctrl+p")
        assert app.screen.__class__.__name__ == "CommandPalette"
        await pilot.press(*"show history", "enter")
        await pilot.pause()
        assert app.tabs.active == "tab-history"
        await pilot.press("ctrl+l")
        assert app.tabs.active == "tab-layers"
        await pilot.press("ctrl+l")
        assert app.tabs.active == "tab-system"
        await pilot.press("ctrl+l")
        assert app.tabs.active == "tab-fit"  # linear: its picture is offered
        await pilot.press("ctrl+l")
        assert app.tabs.active == "tab-network"  # and its network, nn.Linear(1, 1)
        await pilot.press("ctrl+l")
        assert app.tabs.active == "tab-model"  # and its model's summary (a regression: no confusion)
        await pilot.press("ctrl+l")
        assert app.tabs.active == "tab-charts"


async def test_devices_offered_while_the_device_field_mounts_reach_its_list(runs_dir, make_ui):
    # The engine may finish loading at any moment of the form's mounting (the Device section
    # mounts just after the first frame): the devices it offers then must still be listed.
    devices = [("auto (best available)", "auto"), ("cpu", "cpu"), ("cuda:0 (test)", "cuda:0")]
    app = make_app(runs_dir=runs_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        ui = make_ui(pilot)
        row = ui.row("training.device")
        app.form.set_devices(devices)  # before the section has mounted
        for _ in range(3):
            await pilot.pause()
            app.form.set_devices(devices)  # and as it mounts
        await ui.wait_until(lambda: offered(row.editor) == [label for label, _ in devices])
        assert row.editor.value == "auto"


def offered(select) -> list[str]:
    """The labels a Select lists when opened (none before its list is mounted)."""
    lists = select.query("SelectOverlay")
    if not lists:
        return []
    options = lists.first()
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
