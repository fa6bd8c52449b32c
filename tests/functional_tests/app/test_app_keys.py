"""Every key, without a mouse: the focus always shows and stays in the form (after a run, after
a failed one), each section of the form is one palette command away, tabbing into a field keeps
its value, checkboxes and ticked choices read at a glance, the compare dialog ticks with space or
enter as its hint says, and no key is lost while a run trains."""

from __future__ import annotations

from helpers import brisk_pilot
from tui_trainer.app import fields, make_app
from tui_trainer.app.compare import CHOICE_HINT, CompareDialog
from tui_trainer.app.fields import TickBox
from tui_trainer.config import resolve


def focused_row(app):
    """The form field holding the focus (None when nothing in the form has it)."""
    focused = app.screen.focused
    return next((row for row in app.form.rows if focused is not None and row.editor is focused), None)


async def test_the_focus_stays_in_the_form_after_a_run_and_after_a_failed_one(runs_dir, make_ui):
    app = make_app(runs_dir=runs_dir, config=resolve({"task": "linear", "training": {"epochs": 20}}))
    async with app.run_test(size=(80, 24)) as pilot:
        ui = make_ui(pilot)
        await ui.wait_until(lambda: app.engine_ready)
        await ui.type("optimizer.lr", "0.02")
        # a new task just before ctrl+r: its recipe rebuilds the sections, the lr field with them
        ui.row("task.name").editor.value = "circle"
        await ui.run_to_end()
        await pilot.pause(0.1)
        row = focused_row(app)
        assert row is not None and row.key == "optimizer.lr" and row.has_class("-focused")
        assert app.form.help.text.startswith("learning rate · torch.optim.Adam(lr=…)")
        await ui.choose("task.name", "mnist")  # no data here: the run fails
        ui.row("task.download").editor.value = False
        await ui.type("task.data_dir", "no-such-folder")
        await ui.run_to_end()
        assert app.readouts.status.state in ("failed", "invalid")
        row = focused_row(app)
        assert row is not None and row.key == "task.data_dir" and row.has_class("-focused")
        await pilot.press("tab")
        assert focused_row(app) is not None  # the next field, not somewhere off the form


async def test_each_section_of_the_form_is_one_palette_command_away(runs_dir, make_ui):
    app = make_app(runs_dir=runs_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        ui = make_ui(pilot)
        await pilot.pause()
        commands = {command.title: command for command in app.get_system_commands(app.screen)}
        firsts = {"task": "task.name", "model": "model.kind", "loss": "loss.name", "optimizer": "optimizer.name",
                  "scheduler": "scheduler.name", "training": "training.epochs", "device": "training.device",
                  "lab": "lab.skip_zero_grad", "logging": "logging.tensorboard"}
        for name, key in firsts.items():
            title = f"Form: {app.form.sections[name].border_title.split(':')[0]}"
            await commands[title].callback()
            await ui.wait_until(lambda: focused_row(app) is not None and focused_row(app).key == key)
            assert focused_row(app).region.height == 1 and focused_row(app).has_class("-focused")
        await ui.choose("task.name", "rosenbrock")  # an arena task: no model section
        notes = []
        app.notify = lambda message, **_: notes.append(message)
        await commands["Form: Model"].callback()
        await pilot.pause()
        assert focused_row(app).key == "task.name"
        assert notes == ["The Model section does not apply to the task rosenbrock."]


async def test_tabbing_into_a_field_keeps_its_value(runs_dir, make_ui):
    app = make_app(runs_dir=runs_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        ui = make_ui(pilot)
        await pilot.pause()
        ui.row("training.early_stopping_min_delta").editor.focus()
        await pilot.press("tab", "space")  # into target loss ("off"), then a stray space
        await pilot.pause()
        assert focused_row(app).key == "training.target_loss"
        assert ui.row("training.target_loss").editor.value == "off "  # kept (Textual's select-on-focus emptied it)


async def test_a_checkbox_reads_ticked_or_not_at_a_glance(runs_dir, make_ui):
    app = make_app(runs_dir=runs_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        ui = make_ui(pilot)
        await pilot.pause()
        box = ui.row("optimizer.amsgrad").editor
        assert isinstance(box, TickBox)
        assert str(box.render()).rstrip() == "▐ ▌ off"
        box.focus()
        await pilot.press("space")
        await ui.wait_until(lambda: app.form.config is not None and app.form.config.optimizer.params["amsgrad"])
        assert str(box.render()).rstrip() == "▐✔▌ on"


async def test_the_compare_dialog_ticks_with_space_or_enter_as_its_hint_says(runs_dir, make_ui):
    app = make_app(runs_dir=runs_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        ui = make_ui(pilot)
        await pilot.press("f5")
        await ui.wait_until(lambda: isinstance(app.screen, CompareDialog))
        dialog = app.screen
        await pilot.pause()
        assert dialog.focused is dialog.choices and str(dialog.hint.render()).startswith("space or enter ticks")
        assert str(dialog.hint.render()) == CHOICE_HINT.format(runs=16)
        assert dialog.choices.selected == ["adam"]  # the form's, highlighted
        await pilot.press("down", "space", "down", "enter")  # adamw, rmsprop
        assert dialog.choices.selected == ["adam", "adamw", "rmsprop"]
        await pilot.press("space")  # again: unticked
        assert dialog.choices.selected == ["adam", "adamw"]
        rows = [dialog.choices.render_line(y).text for y in range(4)]
        assert [row[:3] for row in rows] == ["▐ ▌", "▐✔▌", "▐✔▌", "▐ ▌"]  # sgd, adam, adamw, rmsprop
        dialog.field_select.value = "optimizer.lr"
        await pilot.pause()
        assert dialog.focused is dialog.values and str(dialog.hint.render()).startswith("enter or ctrl+r: race")


async def test_no_key_is_lost_while_a_run_trains(runs_dir, make_ui, long_linear, monkeypatch):
    # A busy machine: typing slower than the pause after which a refused value's message shows,
    # so messages come and go between the keys.
    monkeypatch.setattr(fields, "TYPING_PAUSE", 0.0)
    app = make_app(runs_dir=runs_dir, config=long_linear, report_interval=0.01)
    async with app.run_test(size=(80, 24)) as pilot:
        ui = make_ui(pilot)
        await ui.start()
        await ui.wait_until(lambda: app.job is not None and len(app.job.feed.epochs) > 3)
        with brisk_pilot():  # keys as a person types them (the Pilot waited up to 2 s after each)
            for key, text in (("training.seed", "1234567"), ("optimizer.lr", "0.0123"), ("training.seed", "98765"),
                              ("training.target_loss", "0.000123")):
                editor = ui.row(key).editor
                editor.focus()
                await pilot.press("end", "ctrl+u", *text)  # cleared, then typed at once
                await pilot.pause(0.05)
                assert editor.value == text, key
        assert app.job is not None  # all of it while the run went on
        await ui.wait_until(lambda: app.job.sent.get("optimizer.lr") == 0.0123)
        await pilot.press("ctrl+t")
        await ui.wait_until(lambda: app.job is None)
