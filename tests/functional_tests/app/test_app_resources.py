"""The readouts name what the run's device has in use: threads and memory on the CPU."""

from __future__ import annotations

from tui_trainer.app import make_app


async def test_a_running_cpu_run_shows_threads_and_process_memory(runs_dir, make_ui, long_linear):
    app = make_app(runs_dir=runs_dir, config=long_linear)
    async with app.run_test(size=(120, 36)) as pilot:
        ui = make_ui(pilot)
        await pilot.press("ctrl+r")
        await ui.wait_until(lambda: app.job is not None and len(app.job.feed.epochs) >= 2)
        threads = app.job.feed.started.threads
        await ui.wait_until(lambda: f"CPU ×{threads} · " in str(app.readouts.numbers.render()))
        assert " MiB" in str(app.readouts.numbers.render())
        await pilot.press("ctrl+t")
        await ui.wait_until(lambda: app.job is None)
