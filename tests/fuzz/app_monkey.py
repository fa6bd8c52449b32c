"""The app's monkey: random sequences of what a person can do in the app (every key of its
bindings, palette commands, the dialogs they open, text typed into whatever has the focus,
clicks, terminal resizes, pauses while runs and races go), played under Textual's Pilot. No
sequence may end the app: after each action the app still runs, and ctrl+q at the end quits it
with exit code 0, every run it started kept with its summary."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path

from hypothesis import strategies as st

from helpers import brisk_pilot

from tui_trainer.app import make_app
from tui_trainer.app.controls import CONTROLS
from tui_trainer.engine.rundir import read_run

#: Every key of the app's bindings but ctrl+q (pressed at the end), and the keys that move
#: around, open, confirm or leave what is on screen.
KEYS = tuple(c.key for c in CONTROLS if c.key and c.key != "ctrl+q") + (
    "ctrl+p", "escape", "enter", "tab", "shift+tab", "space", "up", "down", "left", "right",
    "home", "end", "backspace", "delete", "pageup", "pagedown", "ctrl+u", "ctrl+c", "ctrl+v")
#: The keys that open or close a screen over the app (dialogs, the palette, the keys panel):
#: pressed in bursts, the way screens pile up when a person hurries.
OPENERS = ("ctrl+p", "ctrl+s", "ctrl+o", "f2", "f5", "f6", "f1", "escape", "enter")
#: The palette's commands as a person finds them: a few letters of their titles (the app's
#: controls, Textual's own), typed after ctrl+p.
PALETTE_QUERIES = tuple(c.title for c in CONTROLS if c.action != "quit") + (
    "theme", "keys", "screenshot", "maximize", "minimize", "dracula", "show", "run", "save", "xyz")
#: What a person types into a field: numbers, choices, garbage, and values that train long or big
#: (no path separators: a path typed into a save dialog stays in the test's folder).
TEXTS = ("0", "1", "2", "0.1", "1e-3", "-1", "nan", "inf", "1e400", "9" * 20, "full", "auto", "adam",
         "sgd", "iris", "digits", "spiral", "rosenbrock", "xor", "mse", "cross-entropy", "relu", "8,8",
         "4096,4096", "1000000", "cuda", "cpu", "abc", "٣", "🙂", " ", "", ",,", "lr", "x.toml",
         "train.py", "\x1b[2J")
#: Terminal sizes, from a tiny one to a wide one.
SIZES = ((80, 24), (120, 36), (100, 30), (60, 20), (40, 12), (20, 6), (200, 50))


@dataclass(frozen=True)
class Action:
    """One thing the monkey does: ``kind`` (key, keys, type, palette, click, resize, wait) and its
    argument."""

    kind: str
    arg: object

    def __str__(self) -> str:
        return f"{self.kind}({self.arg!r})"


actions = st.one_of(
    st.sampled_from(KEYS).map(lambda key: Action("key", key)),
    st.sampled_from(KEYS).map(lambda key: Action("key", key)),
    st.lists(st.sampled_from(OPENERS), min_size=2, max_size=5).map(lambda keys: Action("keys", tuple(keys))),
    st.one_of(st.sampled_from(TEXTS), st.text(max_size=6).filter(lambda t: "/" not in t)).map(
        lambda text: Action("type", text)),
    st.sampled_from(PALETTE_QUERIES).map(lambda query: Action("palette", query)),
    st.tuples(st.floats(0, 0.999), st.floats(0, 0.999)).map(lambda xy: Action("click", xy)),
    st.sampled_from(SIZES).map(lambda size: Action("resize", size)),
    st.sampled_from((0.05, 0.2, 0.5)).map(lambda seconds: Action("wait", seconds)),
)

#: The config the app opens with: a run that lasts long enough to be acted on.
CONFIG = '[task]\nname = "linear"\n[training]\nepochs = 3000\n'


async def _play(sequence: list[Action], folder: Path) -> None:
    config = folder / "monkey.toml"
    config.write_text(CONFIG)
    runs = folder / "runs"
    app = make_app(config, runs)
    with brisk_pilot():  # keys at a person's pace, whether a run keeps the process busy or not
        await _session(app, sequence, runs)


async def _session(app, sequence: list[Action], runs: Path) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        for done, action in enumerate(sequence):
            await _act(pilot, action)
            if app._exception is not None or (not app.is_running and not app.quitting):
                raise AssertionError(f"the app ended after action {done + 1}, {action}: {app._exception!r}")
            if app.quitting:  # a click on the footer's Quit: the end of this sequence
                break
        if not app.quitting:
            await pilot.press("ctrl+q")
        for _ in range(12000):  # quitting waits for a run's ending (a big model's last step, a busy machine)
            if not app.is_running:
                break
            await asyncio.sleep(0.01)
        assert not app.is_running, "ctrl+q did not quit"
    assert app.return_code == 0, app.return_code
    for folder in sorted(runs.iterdir()) if runs.is_dir() else []:
        record = read_run(folder)
        assert record.summary is not None, f"{folder} has no summary.json"


async def _act(pilot, action: Action) -> None:
    app = pilot.app
    if action.kind == "key":
        await pilot.press(action.arg)
    elif action.kind == "keys":
        await pilot.press(*action.arg)
    elif action.kind == "type":
        await pilot.press(*action.arg)
    elif action.kind == "palette":
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*action.arg)
        await pilot.pause(0.1)  # the palette searches its commands
        await pilot.press("enter")
    elif action.kind == "click":
        width, height = app.size
        x, y = action.arg
        await pilot.click(offset=(int(x * width), int(y * height)))
    elif action.kind == "resize":
        await pilot.resize_terminal(*action.arg)
    else:
        await pilot.pause(action.arg)


def play(sequence: list[Action], folder: Path) -> None:
    """Play ``sequence`` in a fresh app whose files go under ``folder`` (its working folder, so a
    config saved or a script exported lands there); raises AssertionError naming the action
    after which the app ended, or what its ending lost."""
    previous = os.getcwd()
    os.chdir(folder)
    try:
        asyncio.run(_play(sequence, folder))
    finally:
        os.chdir(previous)
