"""Fields read as words with a help line; every control is reachable at 80 columns; history ticks
follow simple rules."""

from __future__ import annotations

import io

from rich.console import Console
from textual.widgets import Checkbox, Footer
from tui_trainer.fences.textual import FooterKey

from tui_trainer.app import make_app
from tui_trainer.app.controls import CONTROLS, ControlsFooter
from tui_trainer.app.keyshelp import KeysTable
from tui_trainer.app.labels import LABEL_WIDTH, label
from tui_trainer.config import ModelConfig, TrainingConfig, choice_names, params_of, resolve, section_params


def every_field() -> list[tuple[str, object]]:
    fields = [(f"model.{p.name}", p) for p in section_params(ModelConfig)]
    fields += [(f"training.{p.name}", p) for p in section_params(TrainingConfig)]
    for section in ("task", "loss", "optimizer", "scheduler"):
        for name in choice_names(section):
            fields += [(f"{section}.{p.name}", p) for p in params_of(section, name)]
    return fields


def test_every_label_is_words_that_fit_next_to_its_field():
    for key, param in every_field():
        text = label(key, param)
        assert "_" not in text or "zero_grad" in text, text
        if param.kind != "bool":
            assert len(text) <= LABEL_WIDTH, text


async def test_focused_field_is_explained_with_its_torch_keyword_on_one_line(runs_dir, make_ui):
    app = make_app(runs_dir=runs_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        ui = make_ui(pilot)
        await pilot.pause()
        row = ui.row("optimizer.weight_decay")
        row.editor.focus()
        await pilot.pause()
        assert app.form.help.text.startswith("weight decay · torch.optim.Adam(weight_decay=…) · L2 penalty")
        for key in ("optimizer.weight_decay", "optimizer.decoupled_weight_decay", "training.zero_grad_set_to_none"):
            row = ui.row(key)
            assert row.editor.region.y == row.region.y, key  # on the line the row draws the name on
        checkbox = ui.row("optimizer.amsgrad").editor
        assert isinstance(checkbox, Checkbox)


async def test_every_control_is_in_the_footer_or_one_key_away_at_80_columns(runs_dir, make_ui):
    app = make_app(runs_dir=runs_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        footer = app.query_one(Footer)
        await make_ui(pilot).wait_until(lambda: len(footer.query("FooterKey")) > 1 and all(
            item.region.area for item in footer.query("FooterKey")))
        keys = {binding.key for binding in app.BINDINGS if binding.show}
        shown = {item.key for item in footer.query("FooterKey") if 0 < item.region.right <= 80}
        assert keys <= shown and "f1" in shown
        await pilot.press("f1")
        await pilot.pause()
        table = app.screen.query_one(KeysTable).render()
        console = Console(width=100, record=True, file=io.StringIO())
        console.print(table)
        listed = console.export_text()
        # the app's own keys first, in the footer's order, then the field's and Textual's
        places = [listed.index(control.help[:30]) for control in CONTROLS if control.key]
        assert places == sorted(places) and listed.index("tui-trainer") < places[0]
        assert places[-1] < listed.index("this field and Textual")


async def test_history_ticks_the_two_newest_runs_and_a_click_toggles_a_row(runs_dir, make_ui):
    app = make_app(runs_dir=runs_dir, config=resolve({"task": "linear", "training": {"epochs": 5}}))
    async with app.run_test(size=(80, 24)) as pilot:
        ui = make_ui(pilot)
        for _ in range(3):
            await ui.run_to_end()
        assert sorted(app.history.runs.selected) == [2, 3]
        await pilot.press("ctrl+l", "ctrl+l")
        await pilot.pause()
        assert app.tabs.active == "tab-history"
        details = str(app.history.details.render())
        assert "no runs yet" not in details
        runs = app.history.runs
        await pilot.click(runs, offset=(4, 2))  # the third row: run #1
        await pilot.pause()
        assert sorted(runs.selected) == [1, 2, 3]
        await pilot.click(runs, offset=(4, 2))
        await pilot.pause()
        assert sorted(runs.selected) == [2, 3]


async def test_footer_dims_what_does_nothing_now_and_keeps_its_keys_while_the_focus_moves(
        runs_dir, make_ui, long_linear):
    app = make_app(runs_dir=runs_dir, config=long_linear)
    async with app.run_test(size=(120, 36)) as pilot:
        ui = make_ui(pilot)
        footer = app.query_one(ControlsFooter)
        await ui.wait_until(lambda: len(footer.query(FooterKey)) > 1)

        def dimmed(action: str) -> bool:
            return next(key for key in footer.query(FooterKey) if key.action == action).has_class("-disabled")

        keys = set(footer.query(FooterKey))
        assert dimmed("stop") and dimmed("pause") and not dimmed("run")
        await ui.type("training.seed", "3")  # the focus moves field to field: the same keys
        await ui.type("optimizer.lr", "0.02")
        await pilot.press("ctrl+r")
        await ui.wait_until(lambda: app.job is not None and not dimmed("stop"))
        assert dimmed("run") and not dimmed("pause")
        await pilot.press("ctrl+t")
        await ui.wait_until(lambda: app.job is None and dimmed("stop"))
        assert not dimmed("run") and set(footer.query(FooterKey)) == keys  # dimmed in place
