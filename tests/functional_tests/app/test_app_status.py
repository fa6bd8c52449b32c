"""The status line, readouts and log never go stale and never cut a message."""

from __future__ import annotations

from tui_trainer.app import make_app
from tui_trainer.config import resolve
from tui_trainer.engine.data import VISION_FILES


async def test_status_follows_the_form_and_old_numbers_are_named_as_the_last_runs(runs_dir, make_ui):
    app = make_app(runs_dir=runs_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        ui = make_ui(pilot)
        await ui.wait_until(lambda: app.engine_ready)
        await ui.type("optimizer.lr", "-1")
        assert ui.status().startswith("✖ invalid") and "optimizer.lr" in ui.status()
        await ui.type("optimizer.lr", "0.01")
        assert ui.status().startswith("● ready") and "^r: linear" in ui.status()  # in fewer words at 80 columns
        await ui.run_to_end()
        assert "finished" in ui.status()
        numbers = str(app.readouts.numbers.render())
        assert numbers.startswith("1000 epoch(s) · 2 params") and "learned w = " in numbers
        assert "ETA" not in str(app.readouts.progress.render())
        await ui.type("training.epochs", "20")
        assert ui.status().startswith("● ready")
        assert str(app.readouts.numbers.render()).startswith("last run #1 (before the form changed)")


async def test_failed_mnist_run_message_reads_in_full(tmp_path, runs_dir, make_ui):
    config = resolve({"task": {"name": "mnist", "data_dir": str(tmp_path / "no-data")},
                      "training": {"device": "cpu"}})
    app = make_app(runs_dir=runs_dir, config=config)
    async with app.run_test(size=(80, 24)) as pilot:
        ui = make_ui(pilot)
        await ui.run_to_end()
        assert "failed" in ui.status()
        message = next(line for line in app.run_log.all_lines if "failed:" in line)
        for name in VISION_FILES:
            assert name in message
        shown = str(app.readouts.numbers.render())
        assert "…" not in shown.replace("… the whole message is in the Log (ctrl+l)", "")
        await pilot.press("ctrl+l")
        await pilot.pause()
        log = app.run_log
        assert log.is_on_screen
        width = log.scrollable_content_region.width
        assert all(len(line) <= width for line in log.lines)
        screen_text = " ".join(line.strip() for line in log.lines)
        for name in VISION_FILES:
            assert name in screen_text


def fits(widget) -> bool:
    """Whether each line the widget shows fits its width (nothing cut with an ellipsis)."""
    from rich.cells import cell_len

    lines = str(widget.render()).splitlines()
    return all(cell_len(line) <= widget.content_size.width for line in lines) and "…" not in "".join(lines)


async def test_at_80x24_the_status_the_numbers_and_the_boundary_caption_are_whole(runs_dir, make_ui):
    config = resolve({"task": "circle", "training": {"epochs": 100_000, "device": "cpu"}})
    app = make_app(runs_dir=runs_dir, config=config)
    async with app.run_test(size=(80, 24)) as pilot:
        ui = make_ui(pilot)
        await ui.wait_until(lambda: app.engine_ready)
        await pilot.pause()
        status = app.readouts.status
        assert fits(status) and "pace (^b/^f)" in ui.status()  # the pace and its keys, in fewer words
        await ui.start()
        await ui.wait_until(lambda: app.job is not None and len(app.job.feed.epochs) >= 2)
        await ui.wait_until(lambda: "MiB" in str(app.readouts.numbers.render()))
        assert fits(app.readouts.numbers)  # the process's memory whole
        await pilot.press("ctrl+t")
        await ui.wait_until(lambda: app.job is None)
        # a race's boundary: its run's label and the misclassified count make the longest caption
        await pilot.press("f5")
        await ui.wait_until(lambda: app.screen.__class__.__name__ == "CompareDialog")
        app.screen.choices.select("sgd")
        await pilot.press("ctrl+r")
        await ui.wait_until(lambda: app.job is not None and all(len(r.feed.epochs) >= 2 for r in app.job.runs))
        await ui.show_tab("tab-boundary")
        caption = app.boundary.caption
        await ui.wait_until(lambda: "epoch" in str(caption.render()))
        assert fits(caption) and str(caption.render()).startswith("#")
        await pilot.press("ctrl+t")
        await ui.wait_until(lambda: app.job is None)
