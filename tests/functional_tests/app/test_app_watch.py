"""Watching runs other processes train (``tui-trainer watch``, History's live rows): a ``train``
started in another process shows epoch by epoch to its ending, a ``compare`` as one race with
its leaderboard, a killed writer as lost with the reason; the controls that act on a run say why
they cannot; the System tab shows the writer's machine; and no file of a watched folder changes.
Every wait is for a state (the machine running the tests is busy), never a fixed time."""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
from pathlib import Path

import pytest

from helpers import fingerprint, start_command
from tui_trainer.app import make_app
from tui_trainer.app.watch import FoundRun
from tui_trainer.cli import main
from tui_trainer.config import resolve
from tui_trainer.engine.follow import LIVE, Liveness
from tui_trainer.engine.rundir import list_runs, read_run

#: How long a test waits for a state of another process on a busy machine before it fails.
PATIENCE = 150.0
#: The files a finished classifier's run writes (nothing of the watcher's among them).
WRITTEN = ["config.toml", "history.jsonl", "mistakes.json", "run.json", "steps.jsonl", "summary.json",
           "system.jsonl"]


async def until(pilot, what: str, condition, proc: subprocess.Popen | None = None):
    """Let the app run until ``condition`` gives something true (a writer that failed fails the
    test at once)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PATIENCE
    while loop.time() < deadline:
        value = condition()
        if value:
            return value
        if proc is not None and proc.poll() not in (None, 0):
            pytest.fail(f"the writer exited with {proc.returncode} while waiting for {what}: {proc.stderr.read()}")
        await pilot.pause(0.05)
    pytest.fail(f"waited {PATIENCE:.0f} s for {what}")


def status(app) -> str:
    return str(app.readouts.status.render())


def numbers(app) -> str:
    return str(app.readouts.numbers.render())


def epoch_shown(app) -> int | None:
    """The epoch the readouts show (``epoch 12/40``)."""
    found = re.search(r"epoch (\d+)/", numbers(app))
    return int(found.group(1)) if found else None


def folders(runs_dir: Path, count: int = 1) -> list[Path]:
    found = list_runs(runs_dir)
    return found if len(found) >= count else []


async def test_watch_opens_the_run_that_starts_shows_its_epochs_as_written_and_its_end_writing_nothing(
        tmp_path, runs_dir, monkeypatch):
    # The runs folder looked at often and a run of a few seconds: it is found at its start and
    # watched for several redraws, however fast this machine trains (40 epochs took 0.7 s: found
    # at epoch 31, the rest came in one redraw).
    monkeypatch.setattr("tui_trainer.app.app.SCAN_INTERVAL", 0.1)
    app = make_app(runs_dir=runs_dir, watch=[])
    async with app.run_test(size=(100, 32)) as pilot:
        await until(pilot, "the waiting status", lambda: "no run is being written" in status(app))
        assert app.tabs.active == "tab-history" and not app.form.display
        assert app.check_action("run", ()) is False and app.check_action("save_picture", ()) is False
        proc = start_command(["train", "--task", "digits", "--epochs", "300"], runs_dir, tmp_path)
        shown: set[int] = set()

        def ended():
            epoch = epoch_shown(app)
            if epoch is not None:
                shown.add(epoch)
            return app.job is None and app.last_job is not None

        await until(pilot, "the run's end", ended, proc)
        assert proc.wait(timeout=PATIENCE) == 0
        assert len(shown) >= 3, shown  # the epochs came as they were written, not all at the end
        assert "finished — run #1 completed 300 epochs" in status(app)
        assert "final accuracy train" in numbers(app) and "300 epoch(s)" in numbers(app)
        job = app.last_job
        assert job.watched and len(job.feed.epochs) == 300 and app.tabs.active == "tab-charts"
        assert any(line.startswith("epoch 300/300") for line in app.run_log.all_lines)
        assert any("watching" in line and "written by process" in line for line in app.run_log.all_lines)
        assert app.charts.loss.lines[0].series.count > 0 and app.charts.metric.lines[1].series.count == 300
        # The System tab: the writer's machine, from its system.jsonl.
        app.action_show_tab("tab-system")
        await until(pilot, "the machine's samples", lambda: app.system.taken > 0)
        assert str(app.system.caption.render()).startswith("CPU") and "MiB" in str(app.system.caption.render())
        assert app.system.load.lines[0].series.count == app.system.taken == len(job.feed.system)
        folder = folders(runs_dir)[0]
        assert list_runs(runs_dir) == [folder] and sorted(p.name for p in folder.iterdir()) == WRITTEN
        before = fingerprint(folder)
        entry = app.history.entries[1]
        assert entry.reason == "completed" and not entry.live
        # A look at the runs folder begun before the run's end found it live; coming after the
        # end, it is not taken for the run resumed (which the app would open anew).
        stale = FoundRun(folder, read_run(folder), Liveness(LIVE, "", 0.0))
        app._runs_found([stale], False, job.ended_at - 0.1)
        assert app.job is None and "finished — run #1 completed 300 epochs" in status(app)
    # Watched again from its folder, the ended run shows whole and its folder stays as it was.
    again = make_app(runs_dir=runs_dir, watch=[folder])
    async with again.run_test(size=(100, 32)) as pilot:
        await until(pilot, "the run again", lambda: again.last_job is not None)
        assert "finished — run #1 completed 300 epochs" in status(again)
        assert len(again.last_job.feed.epochs) == 300
    assert fingerprint(folder) == before and list_runs(runs_dir) == [folder]


async def test_a_run_another_process_writes_is_live_in_history_enter_watches_it_and_its_killed_writer_is_lost(
        tmp_path, runs_dir, make_ui):
    proc = start_command(["train", "--task", "digits", "--epochs", "100000"], runs_dir, tmp_path)
    app = make_app(runs_dir=runs_dir, config=resolve({"task": "linear", "training": {"epochs": 1_000_000}}))
    async with app.run_test(size=(100, 32)) as pilot:
        ui = make_ui(pilot)
        # The app's own run: its machine on the System tab, read back from its folder.
        await ui.wait_until(lambda: app.engine_ready)
        await ui.start()
        await until(pilot, "the own run's first sample", lambda: app.job is not None and app.job.feed.system)
        await ui.show_tab("tab-system")
        await until(pilot, "the System tab drawn", lambda: app.system.taken > 0)
        assert "CPU" in str(app.system.caption.render())
        await pilot.press("ctrl+t")
        await until(pilot, "the own run's end", lambda: app.job is None)
        own = app.last_job.number
        # The other process's run: live in History, and enter watches it.
        await until(pilot, "the live row", lambda: any(e.live and e.history for e in app.history.entries.values()), proc)
        entry = next(e for e in app.history.entries.values() if e.live)
        row = next(str(o.prompt) for o in app.history.runs.options if o.value == entry.number)
        assert row.startswith(f"#{entry.number} ● digits") and "→ live at epoch" in row
        assert f"process {proc.pid}" in entry.details() and "enter watches it" in entry.details()
        await ui.show_tab("tab-history")
        app.history.runs.focus()
        app.history.runs.highlighted = app.history.runs.get_option_index(f"run-{entry.number}")
        await pilot.press("enter")
        await until(pilot, "the run watched", lambda: app.job is not None and app.job.watched and app.job.feed.epochs)
        assert app.job.number == entry.number and app.tabs.active == "tab-charts"
        await until(pilot, "the writer in the status", lambda: f"watching process {proc.pid}" in status(app))
        # Stop and pause cannot reach it: disabled, and pressed they say why; the run goes on.
        assert app.check_action("stop", ()) is None and app.check_action("pause", ()) is None
        assert app.check_action("save_picture", ()) is None and app.check_action("run", ()) is None
        await pilot.press("ctrl+t")
        await pilot.pause()
        notices = [n.message for n in app._notifications]
        assert any("cannot stop, pause or change it" in m and f"kill -INT {proc.pid}" in m for m in notices)
        epochs = len(app.job.feed.epochs)
        await until(pilot, "more epochs", lambda: len(app.job.feed.epochs) > epochs + 1, proc)
        assert proc.poll() is None and app.job.watched
        # The writer killed: the run ends as lost, with the reason.
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=PATIENCE)
        folder = app.job.feed.started.run_dir
        await until(pilot, "the run lost", lambda: app.job is None)
        before = fingerprint(folder)
        assert re.search(rf"lost — run #{entry.number} no update for \d+ s; process {proc.pid} is gone", status(app))
        last = app.last_job.feed.epochs[-1]
        assert f"{last.epoch} epoch(s)" in numbers(app) and f"process {proc.pid} is gone" in numbers(app)
        assert app.history.entries[entry.number].reason == "lost"
        assert app.check_action("run", ()) is True  # the app trains again
        # This session's own run and the other are listed once each (the runs folder looked at
        # again since), and the killed run's folder was left as it was.
        await until(pilot, "a look at the runs folder", lambda: not app.runs_folder.live)
        assert sorted(e.path for e in app.history.entries.values()) == sorted(list_runs(runs_dir))
        assert app.history.entries[own].reason == "stopped" and len(app.history.entries) == 2
    assert fingerprint(folder) == before
    assert sorted(p.name for p in folder.iterdir()) == ["config.toml", "history.jsonl", "run.json", "steps.jsonl",
                                                         "system.jsonl"]


async def test_a_comparison_is_watched_as_one_race_with_its_leaderboard(tmp_path, runs_dir, monkeypatch):
    # The runs folder looked at often: the race lasts a second or two (looked at every 2 s, it
    # was sometimes over before the app first saw it).
    monkeypatch.setattr("tui_trainer.app.app.SCAN_INTERVAL", 0.1)
    proc = start_command(["compare", "--task", "iris", "--vary", "optimizer.name=sgd,adam", "--epochs", "300"],
                         runs_dir, tmp_path)
    app = make_app(runs_dir=runs_dir, watch=[])
    async with app.run_test(size=(100, 32)) as pilot:
        await until(pilot, "the race", lambda: app.job is not None and app.job.compared, proc)
        assert [run.label for run in app.job.runs] == ["#1 optimizer=sgd", "#2 optimizer=adam"]
        assert app.leaderboard.display and not app.readouts.numbers.display
        await until(pilot, "the race's end", lambda: app.job is None, proc)
        assert proc.wait(timeout=PATIENCE) == 0
        assert re.search(r"finished — 2 runs · best #\d optimizer=\w+, loss", status(app))
        assert [len(run.feed.epochs) for run in app.last_job.runs] == [300, 300]
        assert [line.label for line in app.charts.loss.lines] == ["#1 sgd", "#2 adam"]
        assert sorted(e.reason for e in app.history.entries.values()) == ["completed", "completed"]


def test_watch_refuses_a_folder_of_a_newer_tui_trainer_naming_it(tmp_path, capsys):
    folder = tmp_path / "runs" / "20300101-000000-iris-adam"
    folder.mkdir(parents=True)
    (folder / "run.json").write_text('{"format": 99, "version": "9.0"}')
    assert main(["watch", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "written by a newer tui-trainer (9.0) in run-folder format 99" in err and "upgrade" in err
    assert main(["watch", str(tmp_path / "nowhere")]) == 2
    assert "no run folder" in capsys.readouterr().err
