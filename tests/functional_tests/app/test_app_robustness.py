"""The app never crashes on bad input: garbage typed into every field, broken config files
loaded with ctrl+o, settings torch cannot step with, and a user loss file that exits."""

from __future__ import annotations

from textual.widgets import Input

from helpers import brisk_pilot
from tui_trainer.app import make_app
from tui_trainer.config import resolve

GARBAGE = ("", "-1", "nan", "1e400", "9" * 40, "abc", "٣", "🙂", "0,,0", "full", "\x1b[2J")


async def test_garbage_in_every_field_never_crashes(runs_dir, make_ui):
    app = make_app(runs_dir=runs_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        ui = make_ui(pilot)
        await ui.wait_until(lambda: app.engine_ready)
        editors = [row.editor for row in app.form.rows if isinstance(row.editor, Input)]
        for index, editor in enumerate(editors):
            editor.value = GARBAGE[index % len(GARBAGE)]  # as if pasted: validated once
            await pilot.pause()
        await pilot.press("ctrl+r")
        assert app.is_running and app.job is None and "invalid" in ui.status()


async def test_one_cycle_with_a_phase_of_no_steps_is_a_field_message(runs_dir, make_ui):
    app = make_app(runs_dir=runs_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        ui = make_ui(pilot)
        await ui.wait_until(lambda: app.engine_ready)
        await ui.choose("scheduler.name", "one-cycle")
        await ui.type("training.epochs", "2")
        await ui.type("scheduler.pct_start", "0.5")
        await ui.type("training.batch_size", "full")
        assert app.is_running
        await ui.run_to_end()  # one step per epoch: the pre-flight refuses the schedule
        assert app.is_running and "pct_start" in ui.status() + "".join(app.run_log.all_lines)
    assert not runs_dir.exists() or not any(runs_dir.iterdir())


async def test_ctrl_o_on_a_folder_a_binary_file_or_a_huge_number_keeps_the_form(runs_dir, tmp_path, make_ui):
    binary = tmp_path / "binary.toml"
    binary.write_bytes(bytes(range(256)))
    huge = tmp_path / "huge.toml"
    huge.write_text("[optimizer]\nlr = 1" + "0" * 400 + "\n")
    app = make_app(runs_dir=runs_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        ui = make_ui(pilot)
        for path in (tmp_path, binary, huge):
            await pilot.press("ctrl+o")
            app.screen.query_one("#path").value = str(path)
            await pilot.press("enter")
            await pilot.pause()
            assert app.is_running
        assert ui.row("optimizer.lr").editor.value == "0.01"


async def test_a_loss_file_that_exits_is_a_field_message_imported_once(runs_dir, tmp_path, make_ui):
    imports = tmp_path / "imports.txt"
    loss_file = tmp_path / "exits.py"
    loss_file.write_text(f"open({str(imports)!r}, 'a').write('x')\nimport sys\nsys.exit(3)\n")
    config = resolve({"task": "linear", "loss": f"{loss_file}:MyLoss"})
    app = make_app(config=config, runs_dir=runs_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        ui = make_ui(pilot)
        await ui.wait_until(lambda: "sys.exit(3)" in str(ui.row("loss.name").error.render()))
        for text in ("0.1", "0.2", "0.3"):
            await ui.type("optimizer.lr", text)
        assert app.is_running and imports.read_text() == "x"


async def test_the_command_palette_opened_again_over_a_dialog_never_ends_the_app(runs_dir, make_ui, long_linear):
    # Before: ctrl+p, then ctrl+s (or f2, ctrl+o) opened a dialog over the palette, and ctrl+p
    # then opened a second palette: Textual's DuplicateIds '--command-palette', exit 1, even
    # mid-run. Now one palette at a time, and no dialog opens over the palette or another dialog.
    app = make_app(config=long_linear, runs_dir=runs_dir)
    with brisk_pilot():
        async with app.run_test(size=(80, 24)) as pilot:
            await _palette_over_dialogs(app, pilot, make_ui(pilot))


async def _palette_over_dialogs(app, pilot, ui) -> None:
    from textual.command import CommandPalette

    def palettes() -> int:
        return sum(isinstance(screen, CommandPalette) for screen in app.screen_stack)

    async def close_palette() -> None:
        """escape closes the palette's list of matches first, once it shows, then the palette."""
        for _ in range(3):
            if palettes():
                await pilot.press("escape")
        assert not palettes()

    for running in (False, True):
        if running:
            await ui.start()
        for key in ("ctrl+s", "f2", "ctrl+o"):
            await pilot.press("ctrl+p", key, "ctrl+p", key, "ctrl+p")
            assert app.is_running and palettes() == 1
            assert len(app.screen_stack) == 2, app.screen_stack  # the main screen and the palette
            await close_palette()
            assert len(app.screen_stack) == 1
        await pilot.press("ctrl+s", "ctrl+p")
        await close_palette()
        await pilot.press("ctrl+o")  # over the save dialog
        assert app.is_running and len(app.screen_stack) == 2  # no second dialog over the first
        await pilot.press("escape")
    assert app.job is not None  # the run went on throughout
