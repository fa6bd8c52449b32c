"""Following run folders that other processes write (``engine.follow``): epochs as they come,
the ending, a killed writer reported with the reason, a comparison as one race, a resumed run,
older and newer folders, another machine's folders, torn lines, and never a byte written."""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import config, fingerprint, start_command
from tui_trainer.cli import main
from tui_trainer.config import resolve_flags
from tui_trainer.engine.events import Callback, ChangeMade, EpochEnded, Progress, RunEnded, RunStarted
from tui_trainer.engine.follow import (
    ENDED, LIVE, LOST, Liveness, RunFollower, group_runs, liveness_of, replay,
)
from tui_trainer.engine.loop import Trainer
from tui_trainer.engine.rundir import read_run
from tui_trainer.engine.runinfo import FORMAT, STARTED_FIELDS, RunFolderRefused, read_run_info
from tui_trainer.engine.system import SystemSample

#: How long a test waits for a state of a process on a busy machine before it fails.
PATIENCE = 120.0


def start(args: list[str], tmp_path: Path) -> subprocess.Popen:
    return start_command(args, tmp_path / "runs", tmp_path)


def wait_for(what: str, condition, proc: subprocess.Popen | None = None, every: float = 0.05):
    """Poll ``condition`` until it returns something true (a failed writer fails the test at once)."""
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if proc is not None and proc.poll() not in (None, 0):
            pytest.fail(f"the writer exited with {proc.returncode} while waiting for {what}: {proc.stderr.read()}")
        time.sleep(every)
    pytest.fail(f"waited {PATIENCE:.0f} s for {what}")


def folders(tmp_path: Path, count: int = 1) -> list[Path]:
    runs = tmp_path / "runs"
    found = sorted(p for p in runs.iterdir() if (p / "config.toml").is_file()) if runs.is_dir() else []
    return found if len(found) >= count else []


class Log:
    """A follower polled until a condition holds, keeping every event and which poll gave it."""

    def __init__(self, follower: RunFollower) -> None:
        self.follower = follower
        self.events: list[tuple[int, object]] = []
        self.polls = 0

    def until(self, what: str, condition, proc: subprocess.Popen | None = None):
        def step():
            self.polls += 1
            self.events += [(self.polls, event) for event in self.follower.poll()]
            return condition(self)
        return wait_for(what, step, proc)

    def of(self, kind: type) -> list:
        return [event for _, event in self.events if isinstance(event, kind)]

    def polls_of(self, kind: type) -> set[int]:
        return {poll for poll, event in self.events if isinstance(event, kind)}


def test_a_train_run_is_followed_epoch_by_epoch_to_its_end_without_a_byte_written(tmp_path):
    proc = start(["train", "--task", "digits", "--epochs", "60"], tmp_path)
    folder = wait_for("the run folder", lambda: folders(tmp_path), proc)[0]
    log = Log(RunFollower(folder))
    log.until("the first epoch", lambda log: log.of(EpochEnded), proc)
    assert log.follower.liveness.state == LIVE and log.follower.liveness.reason == ""
    assert liveness_of(folder).state == LIVE
    log.until("the ending", lambda log: log.of(RunEnded), proc)
    assert proc.wait(timeout=PATIENCE) == 0
    started = log.of(RunStarted)
    assert len(started) == 1 and log.events[0][1] is started[0]
    assert started[0].steps_per_epoch == 45 and started[0].device == "cpu" and started[0].param_count > 0
    epochs = log.of(EpochEnded)
    assert [e.epoch for e in epochs] == list(range(1, 61))
    assert len(log.polls_of(EpochEnded)) >= 3  # they came as they were written, not all at once
    record = read_run(folder)
    assert [e.metrics.as_json() for e in epochs] == record.history
    points = [point for progress in log.of(Progress) for point in progress.points]
    assert points == [(row["step"], row["train_loss"]) for row in record.steps]
    ended = log.of(RunEnded)[0].result
    assert ended.reason == "completed" and ended.epochs_run == 60
    assert ended.final.val_accuracy == record.summary["final"]["val_accuracy"]
    assert log.follower.liveness.state == ENDED and log.of(Liveness)[-1].state == ENDED
    assert liveness_of(folder).reason == "completed: completed 60 epochs"
    # Nothing of the follower's in the folder, and following it again changes nothing.
    assert sorted(p.name for p in folder.iterdir()) == [
        "config.toml", "history.jsonl", "mistakes.json", "run.json", "steps.jsonl", "summary.json", "system.jsonl"]
    before = fingerprint(folder)
    again = Log(RunFollower(folder))
    again.until("the ending, again", lambda log: log.of(RunEnded))
    assert [e.metrics for e in again.of(EpochEnded)] == [e.metrics for e in epochs]
    assert fingerprint(folder) == before


def test_a_killed_writer_is_reported_lost_with_the_reason_and_its_folder_kept(tmp_path):
    proc = start(["train", "--task", "digits", "--epochs", "100000"], tmp_path)
    folder = wait_for("the run folder", lambda: folders(tmp_path), proc)[0]
    log = Log(RunFollower(folder))
    log.until("two epochs and a line of system.jsonl", lambda log: len(log.of(EpochEnded)) >= 2
              and log.of(SystemSample), proc)
    sample = log.of(SystemSample)[0]
    assert sample.memory > 0 and sample.threads == 1 and sample.gpus == [] and sample.run["global_step"] > 0
    assert log.follower.liveness.state == LIVE
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=PATIENCE)
    lost = log.until("the run lost", lambda log: log.follower.liveness.state == LOST)
    assert lost
    reason = log.follower.liveness.reason
    assert re.fullmatch(rf"no update for \d+ s; process {proc.pid} is gone", reason), reason
    assert log.of(Liveness)[-1].reason == reason and not log.of(RunEnded)
    assert liveness_of(folder).state == LOST and f"process {proc.pid} is gone" in liveness_of(folder).reason
    # Followed afresh, the dead folder reads the same, says the same and is left as it was.
    before = fingerprint(folder)
    again = RunFollower(folder)
    events = again.poll()
    assert again.liveness.state == LOST and f"process {proc.pid} is gone" in again.liveness.reason
    assert len([e for e in events if isinstance(e, EpochEnded)]) == len(read_run(folder).history) >= 2
    assert fingerprint(folder) == before


def test_a_comparison_is_one_race_and_each_run_is_followed_to_its_end(tmp_path):
    proc = start(["compare", "--task", "iris", "--vary", "optimizer.name=sgd,adam,rmsprop",
                  "--epochs", "150"], tmp_path)
    found = wait_for("three run folders", lambda: folders(tmp_path, 3), proc)
    groups = group_runs(found[:1])
    assert len(groups) == 1 and sorted(groups[0]) == found
    infos = [read_run_info(path) for path in groups[0]]
    assert [info.race.run for info in infos] == [1, 2, 3] and len({info.race.id for info in infos}) == 1
    assert {info.race.runs for info in infos} == {3}
    logs = [Log(RunFollower(path)) for path in groups[0]]
    for log in logs:
        log.until("the run's ending", lambda log: log.of(RunEnded), proc)
    assert proc.wait(timeout=PATIENCE) == 0
    assert [log.of(RunStarted)[0].config.optimizer.name for log in logs] == ["sgd", "adam", "rmsprop"]
    assert [len(log.of(EpochEnded)) for log in logs] == [150, 150, 150]
    assert group_runs(found) == groups  # each race once, wherever its folders are listed


def finished_run(tmp_path: Path, **dotted) -> Path:
    result = Trainer(config("iris", training__epochs=5, **dotted), runs_dir=tmp_path / "runs").run()
    return result.run_dir


def test_a_torn_last_line_waits_for_its_end(tmp_path):
    done = finished_run(tmp_path)
    folder = tmp_path / "copy"
    folder.mkdir()
    for name in ("run.json", "config.toml"):
        shutil.copy(done / name, folder / name)
    lines = (done / "history.jsonl").read_bytes().splitlines(keepends=True)
    steps = (done / "steps.jsonl").read_bytes()
    with (folder / "history.jsonl").open("wb") as history, (folder / "steps.jsonl").open("wb") as step_file:
        history.write(b"".join(lines[:2]) + lines[2][:17])
        step_file.write(steps[:50])
        history.flush(), step_file.flush()
        follower = RunFollower(folder)
        events = follower.poll()
        assert [e.epoch for e in events if isinstance(e, EpochEnded)] == [1, 2]
        history.write(lines[2][17:] + b"".join(lines[3:]))
        step_file.write(steps[50:])
        history.flush(), step_file.flush()
        events = follower.poll()
    assert [e.epoch for e in events if isinstance(e, EpochEnded)] == [3, 4, 5]
    assert follower.steps == [(row["step"], row["train_loss"]) for row in read_run(done).steps]
    assert follower.poll() == []


def test_a_resumed_run_starts_the_follower_over_with_its_whole_history(tmp_path, capsys):
    runs = tmp_path / "runs"
    assert main(["train", "--task", "iris", "--epochs", "4", "--device", "cpu", "--save-model",
                 "--runs-dir", str(runs)]) == 0
    folder = next(runs.iterdir())
    follower = RunFollower(folder)
    assert isinstance(follower.poll()[-2], RunEnded)
    assert main(["train", "--resume", str(folder), "--epochs", "7"]) == 0
    events = follower.poll()
    assert isinstance(events[0], RunStarted) and events[0].start_epoch == 5
    assert [e.epoch for e in events if isinstance(e, EpochEnded)] == list(range(1, 8))
    assert isinstance(events[-1], RunEnded) and events[-1].result.epochs_run == 7
    assert follower.liveness.state == ENDED


def test_an_older_folder_is_read_and_its_liveness_comes_from_its_files(tmp_path):
    folder = finished_run(tmp_path)
    (folder / "run.json").unlink()
    (folder / "system.jsonl").unlink()
    summary = json.loads((folder / "summary.json").read_text())
    del summary["session"]
    (folder / "summary.json").write_text(json.dumps(summary))
    follower = RunFollower(folder)
    events = follower.poll()
    assert events[0].steps_per_epoch == 8 and events[0].total_steps == 40 and follower.info is None
    assert isinstance(events[-2], RunEnded) and follower.liveness.state == ENDED
    (folder / "summary.json").unlink()  # killed before its end: lost once quiet a while
    assert RunFollower(folder, clock=lambda: time.time() + 5).poll()[-1].state == LIVE
    lost = RunFollower(folder, clock=lambda: time.time() + 3600)
    lost.poll()
    assert lost.liveness == Liveness(LOST, "no update for 1 h; written by an older tui-trainer, which does "
                                           "not record its process", lost.liveness.quiet)
    assert liveness_of(folder, clock=lambda: time.time() + 3600).reason == lost.liveness.reason
    assert liveness_of(folder, clock=lambda: time.time() + 5).state == LIVE


def test_another_machine_s_run_is_lost_after_quiet_minutes(tmp_path):
    folder = finished_run(tmp_path)
    (folder / "summary.json").unlink()
    info = json.loads((folder / "run.json").read_text())
    info["writer"]["host"] = "gpu-box-7"
    (folder / "run.json").write_text(json.dumps(info))
    soon = RunFollower(folder, clock=lambda: time.time() + 60)
    soon.poll()
    assert soon.liveness.state == LIVE  # on the other machine it may well go on
    later = RunFollower(folder, clock=lambda: time.time() + 600)
    later.poll()
    assert later.liveness.state == LOST
    assert later.liveness.reason == ("no update for 10 min; written on gpu-box-7, whose processes this "
                                     "machine cannot see")
    assert liveness_of(folder, clock=lambda: time.time() + 600) == later.liveness.__class__(
        LOST, later.liveness.reason, pytest.approx(later.liveness.quiet, abs=5))


def test_a_folder_of_a_newer_format_is_refused_with_the_reason(tmp_path):
    folder = finished_run(tmp_path)
    info = json.loads((folder / "run.json").read_text())
    info.update(format=FORMAT + 1, version="9.0.0")
    (folder / "run.json").write_text(json.dumps(info))
    with pytest.raises(RunFolderRefused) as refused:
        RunFollower(folder).poll()
    assert str(refused.value) == (f"{folder}: written by a newer tui-trainer (9.0.0) in run-folder format "
                                  f"{FORMAT + 1}; this tui-trainer (0.1.0) reads formats 1 to {FORMAT}; upgrade "
                                  "tui-trainer to follow it")
    (folder / "run.json").write_text("{")
    with pytest.raises(RunFolderRefused, match=r"run.json: not a run.json tui-trainer wrote"):
        RunFollower(folder).poll()


def test_following_imports_no_torch():
    code = ("import sys, tui_trainer.engine.follow\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'numpy', 'textual')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


class Recorder(Callback):
    """Every engine event a callback receives, in order."""

    def __init__(self) -> None:
        self.events = []

    def on_run_start(self, event):
        self.events.append(event)

    def on_progress(self, event):
        self.events.append(event)

    def on_epoch_end(self, event):
        self.events.append(event)

    def on_change(self, event):
        self.events.append(event)

    def on_run_end(self, event):
        self.events.append(event)

    def of(self, kind: type) -> list:
        return [event for event in self.events if isinstance(event, kind)]


def test_a_followed_run_replays_to_a_callback_what_the_run_itself_sent(runs_dir):
    changed = resolve_flags({"changes": [{"at_step": 30, "field": "optimizer.lr", "value": 0.001},
                                         {"at_step": 60, "field": "training.epochs", "value": 12}]},
                            {"task.name": "iris", "training.device": "cpu", "training.epochs": 10})
    live = Recorder()
    result = Trainer(changed, [live], runs_dir=runs_dir).run()
    follower = RunFollower(result.run_dir)
    replayed = Recorder()
    replay(follower.poll(), replayed)
    started, again = live.of(RunStarted)[0], replayed.of(RunStarted)[0]
    for name in STARTED_FIELDS:
        assert getattr(again, name) == getattr(started, name), name
    assert again.config == started.config and again.run_dir == started.run_dir
    assert [e.metrics for e in replayed.of(EpochEnded)] == [e.metrics for e in live.of(EpochEnded)]
    assert [e.epochs for e in replayed.of(EpochEnded)][-1] == 12
    assert ([p for e in replayed.of(Progress) for p in e.points]
            == sorted(p for e in (*live.of(Progress), *live.of(EpochEnded)) for p in e.points))
    assert [(e.change, e.epoch) for e in replayed.of(ChangeMade)] == [(e.change, e.epoch) for e in live.of(ChangeMade)]
    ended = replayed.of(RunEnded)[0].result.as_json()
    confusion = ended.pop("confusion")  # read back as written: the follower needs no torch
    assert confusion is None and follower.summary["confusion"] is not None
    expected = json.loads(json.dumps(result.as_json()))
    assert follower.summary["confusion"] == expected.pop("confusion")
    assert ended == expected
    progress = replayed.of(Progress)[-1]
    assert progress.global_step == result.history[-1].global_step and progress.epochs == 12


def test_a_run_until_stopped_is_followed_without_a_length(runs_dir):
    result = Trainer(config("iris", training__epochs="until-stopped", training__target_loss=0.3),
                     runs_dir=runs_dir).run()
    assert result.reason == "target-reached"
    follower = RunFollower(result.run_dir)
    events = follower.poll()
    assert events[0].epochs is None and events[0].total_steps is None
    progress = [e for e in events if isinstance(e, Progress)][-1]
    assert progress.epochs is None and progress.total_steps is None
    assert isinstance(events[-2], RunEnded) and len(follower.history) == result.epochs_run
