"""Fixtures for driving the app with Textual's Pilot: tiny configs and keyboard helpers."""

from __future__ import annotations

from typing import Callable

import pytest
from textual import events
from textual.pilot import Pilot
from textual.widgets import Input, Select
from textual.widgets._select import SelectOverlay

from helpers import idle_but_for_runs, settle_until
from tui_trainer.app.app import TrainerApp
from tui_trainer.app.fields import FieldRow
from tui_trainer.config import resolve

#: A hang guard for waits, not a speed requirement: runs here take well under a second.
WAIT_LIMIT = 60.0


class Ui:
    """Keyboard-level helpers: what a person does with the form and the controls."""

    def __init__(self, pilot: Pilot) -> None:
        self.pilot = pilot
        self.app = pilot.app

    def row(self, key: str) -> FieldRow:
        """The form field for a dotted key (``optimizer.lr``)."""
        return next(row for row in self.app.form.rows if row.key == key)

    async def choose(self, key: str, value: str) -> None:
        """Open a Select, type the choice's name to find it, and press enter. Textual's
        type-to-search forgets what was typed after 0.7 s without a key, which a busy machine
        can take between two keys: then the arrow keys go on to the choice, as a person would."""
        await self.pilot.pause()  # the lower form sections mount just after the first frame
        row = self.row(key)
        select = row.editor
        assert isinstance(select, Select)
        select.focus()
        await self.pilot.press("enter")
        await self.pilot.press(*value)
        overlay = select.query_one(SelectOverlay)
        wanted = [option for _, option in row.options].index(value)
        while overlay.highlighted != wanted:
            await self.pilot.press("down" if (overlay.highlighted or 0) < wanted else "up")
        await self.pilot.press("enter")
        await self.pilot.pause()
        assert select.value == value

    async def type(self, key: str, text: str) -> None:
        """Clear an Input and type ``text`` into it."""
        await self.pilot.pause()
        editor = self.row(key).editor
        assert isinstance(editor, Input)
        editor.focus()
        await self.pilot.press("end", "ctrl+u", *text)
        await self.pilot.pause()

    async def paste(self, key: str, text: str) -> None:
        """Clear an Input and paste ``text`` into it, as a terminal hands the app a pasted path
        (one Paste event; typed key by key, a long path took seconds of the Pilot's waits)."""
        await self.pilot.pause()
        editor = self.row(key).editor
        assert isinstance(editor, Input)
        editor.focus()
        await self.pilot.press("end", "ctrl+u")
        editor.post_message(events.Paste(text))
        await self.pilot.pause()

    async def wait_until(self, condition: Callable[[], bool]) -> None:
        """Let the app run until ``condition`` holds, read (as after a Pilot pause) once every
        widget has handled what it was sent. Meanwhile the app runs on its own (its timers lay
        out and draw what changed) and the condition is looked at every 20 ms; the Pilot pause
        comes only when it seems to hold (a Pilot pause posts a message to every widget: paused
        every 20 ms, an idle app spent half a core)."""
        await settle_until(self.pilot, condition, WAIT_LIMIT)

    async def show_tab(self, tab: str) -> None:
        """Show a tab (``tab-boundary``) and wait until it is laid out, as a person sees it before
        pressing a key (a picture's view asks the run for pictures of its size)."""
        self.app.action_show_tab(tab)
        await self.wait_until(lambda: self.app.query_one(f"#{tab}").size.area > 0)

    async def start(self) -> None:
        """Press ctrl+r and wait until the form has settled and the run started (or was refused)."""
        await self.pilot.press("ctrl+r")
        await self.wait_until(lambda: not self.app.starting)

    async def run_to_end(self) -> None:
        """Start a run with ctrl+r and wait until it ended."""
        started = self.app.next_number
        await self.start()
        assert self.app.next_number == started + 1, self.status()
        await self.wait_until(lambda: self.app.job is None)

    def status(self) -> str:
        """The status line's text."""
        return str(self.app.readouts.status.render())


@pytest.fixture(autouse=True)
def at_max(monkeypatch):
    """Runs train at max, as fast as they train, unless a test is about the pace (it sets
    ``TrainerApp.watchable`` back, or gives the app a pace)."""
    monkeypatch.setattr(TrainerApp, "watchable", False)


@pytest.fixture(autouse=True)
def pilot_waits_for_the_app_not_its_runs():
    """The Pilot waits after a key or a pause until the app is idle, not until a run training at
    max is (it never is: 2 s a key): ``idle_but_for_runs``."""
    with idle_but_for_runs():
        yield


@pytest.fixture(autouse=True)
def truecolor_terminal(monkeypatch):
    """The app draws for a 24-bit terminal, whatever terminal runs the tests: what it draws
    depends on the terminal's colors (read when the app is made). A test of another terminal sets
    its own TERM, COLORTERM or NO_COLOR."""
    monkeypatch.setenv("COLORTERM", "truecolor")
    monkeypatch.delenv("NO_COLOR", raising=False)


@pytest.fixture
def long_linear():
    """The linear task with far more epochs than a test waits for (to stop, pause or quit it)."""
    return resolve({"task": "linear", "training": {"epochs": 1_000_000}})


@pytest.fixture
def make_ui() -> Callable[[Pilot], Ui]:
    """Wrap a Pilot in the keyboard helpers."""
    return Ui
