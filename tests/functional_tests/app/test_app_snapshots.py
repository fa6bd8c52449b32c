"""Snapshots of the main screens at 80x24 and 120x36: ready, an invalid form, a finished linear
run with w and b, the history overlay of two runs, a failed MNIST run, the Network tab (a 2-D
task's neuron pictures, iris's mean values), the Arena tab after a
rosenbrock run (its path checked pixel by pixel, since the heatmap's colors are not in the text),
the Model tab's summary and the Mistakes tab's gallery of an MNIST run, ``watch`` (waiting for a
run, and a run another process trained shown to its end); and at 60x20 the notice that stands in
for the app below 80x24.

Each screen is compared as text (what a person reads, colors aside) with the file kept in
``snapshots/``; what changes from run to run (timings, speeds, the curves' dots, which depend on
when progress was reported) is masked first. The numbers a run computes end in other digits on
another CPU (AVX-512 or not, ARM): the text is compared with its numbers taken out, and the
numbers one by one within a tolerance (``same_screen``). An SVG of each accepted screen lies next
to its text, for looking at. A changed screen fails the test and leaves ``NAME.new.txt`` and
``NAME.new.svg``; after looking at them, accept with ``TUI_TRAINER_UPDATE_SNAPSHOTS=1``.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

import pytest
from helpers import screen_text, start_command
from tui_trainer.app import make_app
from tui_trainer.app.arena import SHADES
from tui_trainer.app.palette import SERIES_COLORS
from tui_trainer.config import resolve
from tui_trainer.engine.rundir import list_runs

SNAPSHOTS = Path(__file__).parent / "snapshots"
SIZES = [(80, 24), (120, 36)]
#: What differs between two runs of the same screen.
VOLATILE = [
    (re.compile(r"[\u2800-\u28ff]"), " "),  # braille dots of the curves
    (re.compile(r"\d+(\.\d+)? s\b"), "<time>"),
    (re.compile(r"\d+(\.\d+)?k? samples/s"), "<speed> samples/s"),
    (re.compile(r"\d+(\.\d+)?k?( *\n[^\n]*?)samples/s"), r"<speed>\2samples/s"),  # wrapped before its unit
    (re.compile(r"\d+(\.\d+)?k? steps/s"), "<speed> steps/s"),
    (re.compile(r"\b\d+:\d\d\b"), "<time>"),
]


#: A number as the screen writes one (``-3``, ``0.006876``, ``3.712e-09``), not part of a word.
NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?(?![\w.…])")
#: How far a number may move between CPUs: losses of long runs and the step a run got within a
#: tolerance differ by far less; numbers near zero (a point's f = 3.7e-09) by their absolute size.
REL_TOL, ABS_TOL = 0.05, 1e-6


@pytest.fixture(autouse=True)
def steady_speed(monkeypatch):
    """Every speed written with as many characters (masked anyway): a longer figure on a faster
    machine wrapped the readouts' first line at 80 columns and moved every line below it."""
    monkeypatch.setattr("tui_trainer.app.readouts.rate", lambda value: "12.3k")


@pytest.fixture(autouse=True)
def no_animations(monkeypatch):
    """The tab bar's underline drawn where it goes, not on its way there (as TEXTUAL_ANIMATIONS=none)."""
    from textual import constants

    monkeypatch.setattr(constants, "TEXTUAL_ANIMATIONS", "none")


def layout(text: str) -> list[str]:
    """The screen's lines with every number replaced by ``#`` and runs of spaces made one (a
    number with one more digit moves what follows it), and a word cut at the edge (``at…``) by
    ``…`` alone (a longer number cuts the line earlier)."""
    lines = []
    for line in text.splitlines():
        line = re.sub(r" +", " ", NUMBER.sub("#", line))
        lines.append(re.sub(r"\S*…$", "…", line))
    return lines


def same_screen(kept: str, text: str) -> bool:
    """Whether ``text`` is the kept screen, up to the last digits of its numbers (see REL_TOL)."""
    if layout(kept) != layout(text):
        return False
    for old, new in zip(kept.splitlines(), text.splitlines()):
        numbers = [(float(a), float(b)) for a, b in zip(NUMBER.findall(old), NUMBER.findall(new))]
        if not all(math.isclose(a, b, rel_tol=REL_TOL, abs_tol=ABS_TOL) for a, b in numbers):
            return False
    return True


def masked(text: str, tmp_path: Path) -> str:
    text = text.replace(str(tmp_path), "<tmp>")
    for pattern, replacement in VOLATILE:
        text = pattern.sub(replacement, text)
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"


async def check(pilot, name: str, tmp_path: Path) -> None:
    """Compare the screen at each size of SIZES (the terminal resized in between: one app, one
    run, both sizes) with its kept text; the app is left at the first size."""
    for size in [*SIZES[1:], SIZES[0]]:  # the first size last: the test goes on at it
        await pilot.resize_terminal(*size)
        await check_size(pilot, name, tmp_path)


async def check_size(pilot, name: str, tmp_path: Path) -> None:
    await pilot.pause(0.3)  # redraws after a layout (legends wrapping anew, plots fitting) settle
    app = pilot.app
    width, height = app.size
    stem = f"{name}-{width}x{height}"
    SNAPSHOTS.mkdir(exist_ok=True)
    text = masked(screen_text(app), tmp_path)
    kept = SNAPSHOTS / f"{stem}.txt"
    if os.environ.get("TUI_TRAINER_UPDATE_SNAPSHOTS") == "1":
        kept.write_text(text)
        (SNAPSHOTS / f"{stem}.svg").write_text(app.export_screenshot(title=stem))
    new = SNAPSHOTS / f"{stem}.new.txt"
    if not kept.exists() or not same_screen(kept.read_text(), text):
        new.write_text(text)
        (SNAPSHOTS / f"{stem}.new.svg").write_text(app.export_screenshot(title=stem))
        pytest.fail(f"screen {stem} differs from {kept.name}: look at {new} and {stem}.new.svg")
    new.unlink(missing_ok=True)


async def test_ready_invalid_finished_and_history_screens(tmp_path, runs_dir, make_ui):
    app = make_app(runs_dir=runs_dir)
    async with app.run_test(size=SIZES[0]) as pilot:
        ui = make_ui(pilot)
        await ui.wait_until(lambda: app.engine_ready and app.readouts.status.state == "ready")
        await check(pilot, "ready", tmp_path)
        await ui.type("optimizer.lr", "-1")
        await check(pilot, "invalid", tmp_path)
        await ui.type("optimizer.lr", "0.01")
        await ui.run_to_end()
        await check(pilot, "finished-linear", tmp_path)
        await ui.type("optimizer.lr", "0.05")
        await ui.run_to_end()
        await pilot.press("ctrl+l", "ctrl+l")
        await check(pilot, "history", tmp_path)


async def test_failed_mnist_screen(tmp_path, runs_dir, make_ui, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the message names the folder: the same relative one every time
    config = resolve({"task": {"name": "mnist", "data_dir": "no-data", "download": False},
                      "training": {"device": "cpu"}})
    app = make_app(runs_dir=runs_dir, config=config)
    async with app.run_test(size=SIZES[0]) as pilot:
        ui = make_ui(pilot)
        await ui.wait_until(lambda: app.engine_ready)
        await ui.run_to_end()
        await check(pilot, "failed-mnist", tmp_path)


async def test_boundary_and_fit_screens(tmp_path, runs_dir, make_ui):
    config = resolve({"task": "multiclass", "training": {"epochs": 4, "device": "cpu"}})
    app = make_app(runs_dir=runs_dir, config=config)
    async with app.run_test(size=SIZES[0]) as pilot:
        ui = make_ui(pilot)
        await ui.show_tab("tab-boundary")
        await ui.run_to_end()
        await ui.wait_until(lambda: app.boundary.canvas.frame is not None)
        await check(pilot, "boundary", tmp_path)
        ui.row("task.name").editor.value = "linear"  # as choosing it does: its recipe loads
        await ui.wait_until(lambda: "fit" in app.offered_views and app.form.config.training.epochs == 1000)
        await ui.show_tab("tab-fit")
        await ui.run_to_end()
        await ui.wait_until(lambda: app.fit.frame is not None and app.fit.frame.epoch == 1000)
        await check(pilot, "fit", tmp_path)


async def test_network_screens(tmp_path, runs_dir, make_ui):
    # a playground task: each neuron's picture over the plane; then iris: each one's mean value
    config = resolve({"task": "circle", "training": {"epochs": 3, "device": "cpu"}})
    app = make_app(runs_dir=runs_dir, config=config)
    async with app.run_test(size=SIZES[0]) as pilot:
        ui = make_ui(pilot)
        panel = app.views["network"]
        await ui.show_tab("tab-network")
        await ui.run_to_end()
        await ui.wait_until(lambda: panel.canvas.frame is not None and panel.canvas.frame.epoch == 3)
        await check(pilot, "network", tmp_path)
        ui.row("task.name").editor.value = "iris"  # as choosing it does: its recipe loads
        await ui.wait_until(lambda: app.form.config is not None and app.form.config.task.name == "iris")
        await ui.type("training.epochs", "3")
        await ui.show_tab("tab-network")
        await ui.run_to_end()
        await ui.wait_until(lambda: panel.canvas.frame is not None and not panel.canvas.frame.cols
                            and panel.canvas.frame.epoch == 3)
        await check(pilot, "network-means", tmp_path)


async def test_arena_screen_draws_the_path_where_the_point_went(tmp_path, runs_dir, make_ui):
    config = resolve({"task": "rosenbrock", "training": {"epochs": 12, "device": "cpu"}})
    app = make_app(runs_dir=runs_dir, config=config)
    async with app.run_test(size=SIZES[0]) as pilot:
        ui = make_ui(pilot)
        await ui.wait_until(lambda: app.engine_ready)
        await ui.run_to_end()
        app.action_show_tab("tab-arena")
        canvas = app.arena.canvas
        await ui.wait_until(lambda: len(canvas.base) == canvas.size.height * 2 > 0)
        result = app.arena.tracks[0].result
        assert result.reason == "completed" and result.point["distance"] < 0.05
        # every point of the path lies on a pixel of the run's color (its end: lighter)
        pixels = {canvas.to_pixel(x, y) for _, x, y in result.path} - {None}
        assert len(pixels) > 10
        end = canvas.to_pixel(result.point["x"], result.point["y"])
        minimum = canvas.to_pixel(1.0, 1.0)
        assert {canvas.overlay[p] for p in pixels - {end, minimum}} == {SERIES_COLORS[0]}
        # the valley is dark, the heights pale (log scale)
        corner = canvas.base[-1][-1]
        assert sum(canvas.base[minimum[0]][minimum[1]]) < sum(corner)
        assert corner != SHADES[0]
        board = str(app.arena.board.render())
        assert "≤0.05 at step" in board and "f " in board
        await check(pilot, "arena", tmp_path)


async def test_watch_screens(tmp_path, runs_dir, make_ui, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the screen names the runs folder: the same relative one every time
    app = make_app(runs_dir=Path("runs"), watch=[])
    async with app.run_test(size=SIZES[0]) as pilot:
        ui = make_ui(pilot)
        await ui.wait_until(lambda: app.looked and app.tabs.active == "tab-history")
        await check(pilot, "watch-waiting", tmp_path)
    writer = start_command(["train", "--task", "linear", "--epochs", "50"], runs_dir, tmp_path)
    assert writer.wait() == 0, writer.stderr.read()
    app = make_app(runs_dir=runs_dir, watch=list_runs(runs_dir))
    async with app.run_test(size=SIZES[0]) as pilot:
        ui = make_ui(pilot)
        await ui.wait_until(lambda: app.last_job is not None and app.history.entries)
        await check(pilot, "watch-finished", tmp_path)
        await ui.show_tab("tab-fit")  # the picture the run left in its folder at its end
        await ui.wait_until(lambda: app.fit.frame is not None)
        assert app.fit.frame.epoch == 50 and "w = " in str(app.fit.caption.render())


def test_screens_compare_equal_up_to_the_last_digits_of_their_numbers():
    kept = (SNAPSHOTS / "arena-80x24.txt").read_text()
    other_cpu = kept.replace("f = 3.712e-09", "f = 3.716e-09").replace(
        "0.000136 · ≤0.05 at…", "0.0001361 · ≤0.05 a…")
    assert other_cpu != kept and same_screen(kept, other_cpu)
    assert not same_screen(kept, kept.replace("step 677", "step 900"))  # a number that moved
    assert not same_screen(kept, kept.replace("nearest minimum", "nearest maximum"))  # the text
    assert not same_screen(kept, kept.replace("f = 3.712e-09", "f = 0.5"))


async def test_size_notice_screen(tmp_path, runs_dir):
    app = make_app(runs_dir=runs_dir)
    async with app.run_test(size=(60, 20)) as pilot:
        await check_size(pilot, "size-notice", tmp_path)


async def test_model_summary_and_mistakes_gallery_screens(tmp_path, runs_dir, make_ui, mnist_dir, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the form shows the data folder: the same relative one every time
    config = resolve({"task": {"name": "mnist", "data_dir": "data", "download": False},
                      "optimizer": {"lr": 0.0003}, "training": {"epochs": 1, "device": "cpu"}})
    app = make_app(runs_dir=runs_dir, config=config)
    async with app.run_test(size=SIZES[0]) as pilot:
        ui = make_ui(pilot)
        await ui.wait_until(lambda: app.engine_ready)
        await ui.show_tab("tab-model")
        await ui.wait_until(lambda: app.model_panel.summary is not None)
        await check(pilot, "model-summary", tmp_path)
        await ui.show_tab("tab-mistakes")
        await ui.run_to_end()
        # Which samples a barely trained model gets wrong, and how sure it is, is decided by the
        # last digits of the run's numbers: the gallery draws fixed mistakes of the run's own
        # pictures, so its screen is the same on every CPU (test_app_own_model checks real ones).
        from tui_trainer.app.mistakes import gather
        from tui_trainer.engine.evaluation import Mistake, Mistakes

        run, data = app.last_job.first, app.last_trainer.data
        labels = data.y_val.tolist()
        wrong = Mistakes("val", list("0123456789"), 12, len(labels),
                         [Mistake(i, labels[i], (labels[i] + 3) % 10, 0.9 - 0.05 * i) for i in range(12)])
        run.feed.examples = gather(data, run.config, {"val": wrong})
        app.results["mistakes"].show(app.last_job, run)
        await check(pilot, "mistakes", tmp_path)
