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
        assert ui.status().startswith("● ready") and "ctrl+r trains linear" in ui.status()
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
