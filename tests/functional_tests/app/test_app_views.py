"""The app's live pictures: the Boundary tab (a 2-D classifier's plane in half-block cells, the
samples on top, once the run ended its misclassified validation samples ringed) and the Fit tab (the data and the model's curve, w and b), each offered only for
a task that has it; f7 adds the validation samples; f8 saves the run's picture, never over a file."""

from __future__ import annotations

from tui_trainer.app import make_app
from tui_trainer.app.views import RING
from tui_trainer.config import resolve
from tui_trainer.formatting import number
from tui_trainer.pictures import cell_color, sample_color, validation_color

MULTICLASS = {"task": "multiclass", "training": {"epochs": 4, "device": "cpu"}}


def offered(app) -> set[str]:
    """The picture tabs the tab bar shows."""
    return {tab for tab in ("tab-boundary", "tab-fit") if not app.tabs.get_tab(tab).has_class("-hidden")}


def pixel(canvas, column: int, row: int) -> tuple[int, int, int]:
    """The color of a pixel of the canvas as drawn: a cell's foreground (top) or background."""
    strip = canvas.render_line(row // 2)
    cells = [s.style for s in strip for _ in s.text]
    color = cells[column].color if row % 2 == 0 else cells[column].bgcolor
    return tuple(color.triplet)


def where(frame, x: float, y: float, width: int, rows: int) -> tuple[int, int]:
    """The pixel a sample at (x, y) falls on."""
    x_low, x_high, y_low, y_high = frame.extent
    return int((x - x_low) / (x_high - x_low) * width), int((y_high - y) / (y_high - y_low) * rows)


async def test_the_boundary_is_the_runs_picture_f8_saves_it_and_other_tasks_have_none(runs_dir, make_ui):
    app = make_app(runs_dir=runs_dir, config=resolve(MULTICLASS))
    async with app.run_test(size=(120, 36)) as pilot:
        ui = make_ui(pilot)
        assert offered(app) == {"tab-boundary"}
        await pilot.press("f8")  # no run yet: a notice, nothing written
        await ui.show_tab("tab-boundary")
        await ui.run_to_end()
        canvas = app.boundary.canvas
        await ui.wait_until(lambda: canvas.frame is not None and canvas.frame.epoch == 4)
        frame = canvas.frame
        width, height = canvas.size
        assert (frame.cols, frame.rows) == (width, 2 * height)  # one grid cell per pixel
        assert all(s.text == "▀" * len(s.text) for s in canvas.render_line(0))
        samples = frame.samples
        train = {where(frame, x, y, width, 2 * height): k
                 for x, y, k in zip(samples.train_x, samples.train_y, samples.train_label)}
        val = {where(frame, x, y, width, 2 * height): k
               for x, y, k in zip(samples.val_x, samples.val_y, samples.val_label)}
        wrong = app.last_job.feed.examples["val"]  # the misclassified validation samples, ringed
        assert wrong.mistakes is app.last_job.first.result.mistakes["val"]
        assert wrong.mistakes.count > 0 and len(wrong.points) == wrong.mistakes.count
        spots = {where(frame, x, y, width, 2 * height): m.true for (x, y), m in zip(wrong.points, wrong.mistakes.samples)}
        rings = {(c + dc, r + dr) for c, r in spots for dc, dr in ((0, 1), (0, -1), (1, 0), (-1, 0))} - set(spots)
        rings = {(c, r) for c, r in rings if 0 <= c < width and 0 <= r < 2 * height}
        assert {pixel(canvas, *spot) for spot in rings} == {RING}
        assert all(pixel(canvas, *spot) == sample_color(k) for spot, k in spots.items())
        assert f"✛ {wrong.mistakes.count} wrong" in str(app.boundary.caption.render())
        train = {spot: k for spot, k in train.items() if spot not in rings | set(spots)}
        val = {spot: k for spot, k in val.items() if spot not in rings | set(spots)}
        base = canvas.background_colors[1].rgb
        for row in (0, height, 2 * height - 1):  # the plane: each cell's class, shaded by its probability
            for column in range(width):
                if (column, row) not in train and (column, row) not in rings | set(spots):
                    cell = row * width + column
                    assert pixel(canvas, column, row) == cell_color(
                        frame.predicted[cell], frame.steps[cell], base)
        for (column, row), label in train.items():  # the training samples on top
            assert pixel(canvas, column, row) == sample_color(label)
        alone = [(spot, k) for spot, k in val.items() if spot not in train]
        assert all(pixel(canvas, *spot) != validation_color(k) for spot, k in alone)
        await pilot.press("f7")  # the validation samples join them, paler
        await ui.wait_until(lambda: app.boundary.validation)
        assert all(pixel(canvas, *spot) == validation_color(k) for spot, k in alone)
        assert str(app.boundary.caption.render()).endswith("f7: −val")  # f7 again hides them

        run_dir = app.last_job.feed.started.run_dir  # f8: the run's picture in its folder, never over a file
        assert list(runs_dir.glob("**/*.png")) == []
        await pilot.press("f8")
        first = run_dir / "plot.png"
        await ui.wait_until(lambda: any(f"picture written to {first}" in line for line in app.run_log.all_lines))
        kept = first.read_bytes()
        await pilot.press("f8")
        second = run_dir / "plot-1.png"
        await ui.wait_until(lambda: any(f"picture written to {second}" in line for line in app.run_log.all_lines))
        assert first.read_bytes() == kept and second.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

        ui.row("task.name").editor.value = "binary"  # as choosing it does; 10 features: no plane to draw
        # the tab goes, and the tab bar moves off it (a moment later on a busy machine)
        await ui.wait_until(lambda: offered(app) == set() and app.tabs.active != "tab-boundary")
        # the form settled on binary's recipe: its network and its result tabs offered
        await ui.wait_until(lambda: app.offered_views == ["network"]
                            and app.offered_results == ["model", "confusion", "mistakes"])
        await pilot.pause()  # the Network tab's focus, asked when it showed, has arrived
        app.action_show_tab("tab-log")
        await pilot.pause()
        shown = []
        for _ in range(8):  # each press seen on screen before the next, as a person presses them
            before = app.tabs.active
            await pilot.press("ctrl+l")
            await ui.wait_until(lambda: app.tabs.active != before)
            shown.append(app.tabs.active)
        assert shown == ["tab-history", "tab-layers", "tab-system", "tab-network", "tab-model", "tab-confusion",
                         "tab-mistakes", "tab-charts"]
        app.action_show_tab("tab-boundary")
        await pilot.pause()
        assert app.tabs.active == "tab-charts"  # not offered: a notice says what it is for


async def test_the_fit_shows_w_and_b_and_the_curve_after_a_linear_run(runs_dir, make_ui):
    app = make_app(runs_dir=runs_dir, config=resolve({"task": "linear", "training": {"epochs": 300,
                                                                                     "device": "cpu"}}))
    async with app.run_test(size=(80, 24)) as pilot:
        ui = make_ui(pilot)
        assert offered(app) == {"tab-fit"}
        await ui.show_tab("tab-fit")
        await ui.run_to_end()
        await ui.wait_until(lambda: app.fit.frame is not None and app.fit.frame.epoch == 300)
        p = app.last_trainer.result.parameters
        caption = str(app.fit.caption.render())
        assert f"w = {number(p['weight'], 5)} → 2" in caption and f"b = {number(p['bias'], 5)} → 3" in caption
        assert len(app.fit.frame.xs) == 2 * app.fit.plot.size.width


async def test_a_comparison_shows_the_highlighted_runs_boundary_named(runs_dir, make_ui):
    from tui_trainer.app.compare import CompareDialog

    app = make_app(runs_dir=runs_dir, config=resolve(MULTICLASS))
    async with app.run_test(size=(120, 36)) as pilot:
        ui = make_ui(pilot)
        await ui.show_tab("tab-boundary")
        await pilot.press("f5")
        await ui.wait_until(lambda: isinstance(app.screen, CompareDialog))
        app.screen.choices.select("sgd")
        await pilot.press("ctrl+r")
        await ui.wait_until(lambda: app.job is None and app.last_job is not None)  # a short race
        race = app.last_job.race
        assert [e.run.config.optimizer.name for e in race] == ["sgd", "adam"]
        await ui.wait_until(lambda: app.boundary.canvas.frame is not None and app.boundary.canvas.frame.epoch == 4)
        highlighted = app.leaderboard.selected_number  # the leaderboard's highlighted run (its leader at first)
        shown = next((e for e in race if e.number == highlighted), race[0])
        assert app.boundary.canvas.frame is shown.request("boundary").take()
        assert str(app.boundary.caption.render()).startswith(f"{shown.short_label} · epoch 4")
