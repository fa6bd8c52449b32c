"""The app's instruments: the gradient-flow panel, the learning-rate finder, the mistake lab's
fields."""

from __future__ import annotations

from tui_trainer.app import make_app
from tui_trainer.app.compare import CompareDialog
from tui_trainer.app.dialogs import TextDialog
from tui_trainer.app.instruments import LrFindDialog
from tui_trainer.config import resolve
from tui_trainer.engine.rundir import read_run


async def test_layers_tab_shows_each_layers_gradient_flow_after_a_run(runs_dir, make_ui):
    config = resolve({"task": "iris", "model": {"hidden": [16, 8]}, "training": {"epochs": 3, "device": "cpu"}})
    app = make_app(runs_dir=runs_dir, config=config)
    async with app.run_test(size=(80, 24)) as pilot:
        ui = make_ui(pilot)
        await ui.run_to_end()
        app.action_show_tab("tab-layers")  # the tab mounts now, after the run: it shows the figures
        table = app.layers.table
        await ui.wait_until(lambda: table.row_count == 3)
        # the Linear layers counted as a person counts them (not by their place in the Sequential)
        assert [table.get_row_at(i)[0] for i in range(3)] == ["#1 4→16", "#2 16→8", "#3 8→3"]
        # the figures of the run's last epoch: the model it ended with
        assert "epoch 3: gradient and weight norms" in str(app.layers.hint.render())
        # a race next (its layers are not shown): the last run's layers go as it starts
        await pilot.press("f5")
        await ui.wait_until(lambda: isinstance(app.screen, CompareDialog))
        app.screen.choices.select("sgd")
        await pilot.press("ctrl+r")
        await ui.wait_until(lambda: app.job is not None or app.last_job.compared)
        await pilot.pause()
        assert table.row_count == 0
        assert "per-layer figures appear after a run's first epoch" in str(app.layers.hint.render())


async def test_f6_finds_a_learning_rate_and_enter_writes_it_into_the_form(runs_dir, make_ui):
    config = resolve({"task": "iris", "training": {"device": "cpu"}})
    app = make_app(runs_dir=runs_dir, config=config)
    async with app.run_test(size=(120, 36)) as pilot:
        ui = make_ui(pilot)
        await ui.wait_until(lambda: app.engine_ready)
        await pilot.press("f6")
        await ui.wait_until(lambda: isinstance(app.screen, LrFindDialog))
        suggestion = app.screen.result.suggestion
        assert 1e-4 <= suggestion <= 1e-1
        await pilot.press("enter")
        await pilot.pause()
        assert app.form.config.optimizer.params["lr"] == float(f"{suggestion:.3g}")


async def test_the_lab_section_explains_a_mistake_once_it_is_on(runs_dir, make_ui):
    app = make_app(runs_dir=runs_dir, config=resolve({"task": "iris"}))
    async with app.run_test(size=(120, 36)) as pilot:
        ui = make_ui(pilot)
        row = ui.row("lab.skip_zero_grad")
        await ui.wait_until(lambda: row.editor.is_mounted)  # the Lab section mounts after the first frame
        row.editor.focus()
        await ui.wait_until(lambda: row.editor.has_focus)
        await pilot.press("space")
        await ui.wait_until(lambda: "Fix: call optimizer.zero_grad()" in app.form.help.text)
        assert "skip_zero_grad" in app.form.help.text
        assert app.form.config.lab.skip_zero_grad
        # the help line shows what fits and says where to read it all: f9, a dialog with every word
        shown = str(app.form.help.render())
        assert len(shown.splitlines()) <= app.form.help.LINES and shown.endswith("f9: read it all")
        await pilot.press("f9")
        await ui.wait_until(lambda: isinstance(app.screen, TextDialog))
        assert app.screen.text == app.form.help.text and "Fix: call optimizer.zero_grad()" in app.screen.text
        await pilot.press("f9")
        await ui.wait_until(lambda: not isinstance(app.screen, TextDialog))
        assert row.editor.has_focus


async def test_a_learning_rate_typed_while_paused_changes_the_run_from_its_next_step(
        runs_dir, make_ui, long_linear):
    app = make_app(runs_dir=runs_dir, config=long_linear)
    async with app.run_test(size=(120, 36)) as pilot:
        ui = make_ui(pilot)
        await ui.start()
        await ui.wait_until(lambda: app.job is not None and len(app.job.feed.epochs) >= 3)
        await pilot.press("ctrl+g")
        await ui.type("optimizer.lr", "0.05")
        await pilot.press("ctrl+g")
        await ui.wait_until(lambda: app.job.feed.changes)
        # At max pace the log takes an epoch line per epoch and keeps the last 5,000 (seconds of
        # them): its line about the change is read first.
        await ui.wait_until(lambda: any("changed at epoch" in line and "optimizer.lr = 0.05" in line
                                        for line in app.run_log.all_lines))
        await ui.wait_until(lambda: any(m.lr == 0.05 for m in app.job.feed.epochs))
        await ui.wait_until(lambda: app.charts.loss.markers)  # the charts redraw on their own pace
        assert app.charts.loss.markers == [app.job.feed.changes[0][0]]
        run_dir = app.job.feed.started.run_dir
        await pilot.press("ctrl+t")
        await ui.wait_until(lambda: app.job is None)
    (change,) = read_run(run_dir).config["changes"]
    assert change["field"] == "optimizer.lr" and change["value"] == 0.05 and change["at_step"] > 3


async def test_a_run_making_a_lab_mistake_says_so_in_its_status_and_its_history_entry(runs_dir, make_ui):
    config = resolve({"task": "iris", "lab": {"skip_zero_grad": True},
                      "training": {"epochs": 100_000, "device": "cpu"}})
    app = make_app(runs_dir=runs_dir, config=config)
    async with app.run_test(size=(80, 24)) as pilot:
        ui = make_ui(pilot)
        await ui.start()
        await ui.wait_until(lambda: app.readouts.status.state == "running")
        status = app.readouts.status
        width = status.content_size.width
        assert status.size.height == 2  # the mistake on a line of its own, whole at 80x24
        assert str(status.render()).splitlines()[1] == "lab mistake on purpose: skip_zero_grad"
        await pilot.press("ctrl+t")
        await ui.wait_until(lambda: app.job is None)
        assert status.state == "stopped" and str(status.render()).splitlines()[1] == (
            "lab mistake on purpose: skip_zero_grad")
        assert len("lab mistake on purpose: skip_zero_grad") <= width
        assert "lab mistake on purpose: skip_zero_grad" in app.history.entries[1].describe()
        await ui.type("training.epochs", "5")  # the form changed: the status follows it, on one line
        await ui.wait_until(lambda: status.state == "ready")
        await pilot.pause()
        assert status.size.height == 1
