"""Every terminal: the app over SSH with ``TERM=xterm`` (16 colors), in tmux (256 colors) or with
``NO_COLOR`` set. Every tab, picture and dialog draws (a segment without a style made Textual's
Monochrome filter crash under NO_COLOR); the pictures tell classes and series apart by glyph
where color is gone, in colors the terminal shows as meant (never a faint orange turned maroon),
and every legend shows what its picture draws."""

from __future__ import annotations

import pytest
from helpers import screen_text

from tui_trainer.app import make_app
from tui_trainer.app.compare import CompareDialog
from tui_trainer.app.keyshelp import KeysTable
from tui_trainer.app.dialogs import TextDialog
from tui_trainer.app.palette import (
    EIGHT_BIT, NONE, REGION_GLYPHS, SAMPLE_GLYPHS, STANDARD, ansi, color_mode, palette, xterm_colors,
)
from tui_trainer.config import resolve

#: How each mode is asked for, as a terminal's environment says it.
TERMINALS = {
    NONE: {"NO_COLOR": "1", "TERM": "xterm-256color"},
    STANDARD: {"TERM": "xterm"},
    EIGHT_BIT: {"TERM": "xterm-256color"},
}


def cells(strip) -> list[tuple[str, object]]:
    """(character, Rich style) of each cell of a strip."""
    return [(char, segment.style) for segment in strip for char in segment.text]


async def draw_every_tab(app, pilot, ui) -> None:
    """Show each tab offered now and render the screen through the app's filters."""
    for tab in ["tab-charts", "tab-log", "tab-history", "tab-layers"] + [
            f"tab-{view}" for view in app.offered_views]:
        await ui.show_tab(tab)
        await pilot.pause(0.1)
        assert screen_text(app)


@pytest.mark.parametrize("mode", [NONE, STANDARD, EIGHT_BIT])
async def test_every_tab_picture_and_dialog_draws_on_each_terminal(mode, monkeypatch, runs_dir, make_ui):
    monkeypatch.delenv("COLORTERM")
    for name, value in TERMINALS[mode].items():
        monkeypatch.setenv(name, value)
    app = make_app(runs_dir=runs_dir, config=resolve({"task": "circle", "training": {"epochs": 3,
                                                                                      "device": "cpu"}}))
    async with app.run_test(size=(80, 24)) as pilot:
        ui = make_ui(pilot)
        assert color_mode(app) == mode
        colors = palette(app)
        await ui.show_tab("tab-boundary")
        await ui.run_to_end()
        canvas = app.boundary.canvas
        await ui.wait_until(lambda: canvas.frame is not None and canvas.frame.epoch == 3)
        await draw_every_tab(app, pilot, ui)
        await ui.show_tab("tab-boundary")
        strips = [canvas.render_line(y) for y in range(canvas.size.height)]
        assert all(style is not None for strip in strips for _, style in cells(strip))
        drawn = [cell for strip in strips for cell in cells(strip)]
        caption = str(app.boundary.caption.render())
        if colors.glyphs:  # each class's samples in its shape, its region in its mark; the legend the same
            glyphs = {char for char, _ in drawn}
            assert {SAMPLE_GLYPHS[0], SAMPLE_GLYPHS[1], REGION_GLYPHS[0], REGION_GLYPHS[1]} <= glyphs
            assert "▀" not in glyphs
            assert f"{SAMPLE_GLYPHS[0]}{REGION_GLYPHS[0]} 0" in caption and f"{SAMPLE_GLYPHS[1]}{REGION_GLYPHS[1]} 1" in caption
            sample = next(style for char, style in drawn if char == SAMPLE_GLYPHS[1])
            assert tuple(sample.color.triplet) == colors.sample_mark(1).color
            if mode == STANDARD:  # ANSI colors, which the terminal shows as its own
                ansi_colors = {ansi(name) for name in ("yellow", "cyan", "bright_yellow", "bright_cyan",
                                                       "bright_black")}
                assert {tuple(style.color.triplet) for char, style in drawn if char != " "} <= ansi_colors
        else:  # 256 colors: half-block pixels in colors of the xterm palette, the legend's among them
            pixels = {tuple(color.triplet) for _, style in drawn for color in (style.color, style.bgcolor)}
            assert pixels <= set(xterm_colors())
            assert {colors.sample(0), colors.sample(1)} <= pixels and "██ 0" in caption

        await ui.show_tab("tab-charts")
        legend = str(app.charts.loss.legend.render())
        validation = colors.series(1)
        assert f"{validation.swatch} validation" in legend
        if mode == NONE:  # no color: train in braille dots, validation in its own marker
            assert validation.marker == "•" and validation.swatch == "••"
            plot = app.charts.loss.plot
            assert any("•" in plot.render_line(y).text for y in range(plot.size.height))

        for key, dialog in (("f1", None), ("f9", TextDialog), ("f5", CompareDialog)):
            await pilot.press(key)
            await ui.wait_until(lambda: dialog is None and app.screen.query(KeysTable)
                                or dialog is not None and isinstance(app.screen, dialog))
            await pilot.pause(0.1)
            assert screen_text(app)
            await pilot.press("escape" if dialog else "f1")
            await ui.wait_until(lambda: not isinstance(app.screen, (TextDialog, CompareDialog))
                                and not app.screen.query(KeysTable))

        ui.row("task.name").editor.value = "linear"  # as choosing it does: its recipe loads
        await ui.wait_until(lambda: "fit" in app.offered_views and app.form.config.training.epochs == 1000)
        await ui.type("training.epochs", "50")
        await ui.show_tab("tab-fit")
        await ui.run_to_end()
        await ui.wait_until(lambda: app.fit.frame is not None and app.fit.frame.epoch == 50)
        await draw_every_tab(app, pilot, ui)
        assert f"{colors.line_swatch} the model" in str(app.fit.caption.render())

        ui.row("task.name").editor.value = "rosenbrock"
        await ui.wait_until(lambda: "arena" in app.offered_views)
        await ui.type("training.epochs", "2")
        await ui.run_to_end()
        await ui.show_tab("tab-arena")
        arena = app.arena.canvas
        await ui.wait_until(lambda: len(arena.heights) == arena.size.height * 2 > 0)
        await draw_every_tab(app, pilot, ui)
        text = "".join(arena.render_line(y).text for y in range(arena.size.height))
        board = str(app.arena.board.render())
        if colors.glyphs:  # the path in its glyph, the minimum a star; the legend the same
            assert "•" in text and "★" in text and "▀" not in text
            assert board.startswith("•• #3 ")
        else:
            assert set(text) == {"▀"} and board.startswith("━━ #3 ")


def words(app) -> str:
    """The screen's words, one space apart (a text wrapped anywhere reads the same)."""
    return " ".join(screen_text(app).split())


async def test_below_80x24_a_notice_stands_in_until_the_terminal_grows(runs_dir, make_ui):
    app = make_app(runs_dir=runs_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        notice = app.query_one("#size-notice")
        assert not notice.display and app.query_one("#main").display
        await pilot.resize_terminal(60, 20)
        await pilot.pause(0.1)
        assert notice.display and not app.query_one("#main").display
        assert "needs a terminal of at least 80x24 (this one is 60x20)" in words(app)
        await pilot.resize_terminal(79, 30)  # wide enough matters too
        await pilot.pause(0.1)
        assert notice.display and "(this one is 79x30)" in words(app)
        await pilot.resize_terminal(80, 24)
        await pilot.pause(0.1)
        assert not notice.display and app.query_one("#main").display
        assert "^r: linear" in words(app) and "this one is" not in words(app)
