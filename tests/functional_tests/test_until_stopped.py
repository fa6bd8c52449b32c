"""``training.epochs = "until-stopped"``: a run that goes on until a person stops it, as the
playground's play button does, wherever the run's length is read."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys

import pytest

from helpers import config, signals_of
from tui_trainer.cli import main
from tui_trainer.engine.control import RunControl
from tui_trainer.engine.events import Callback
from tui_trainer.engine.loop import MAX_STEP_POINTS, Trainer, _StepCurve
from tui_trainer.engine.checkpoint import save_checkpoint
from tui_trainer.export.script import script_text
from tui_trainer.report import epoch_line


class StopAfter(Callback):
    """Stops the run at the end of epoch ``epochs``, keeping every event."""

    def __init__(self, control: RunControl, epochs: int) -> None:
        self.control, self.epochs = control, epochs
        self.started = None
        self.progress = []
        self.ended = []

    def on_run_start(self, event) -> None:
        self.started = event

    def on_progress(self, event) -> None:
        self.progress.append(event)

    def on_epoch_end(self, event) -> None:
        self.ended.append(event)
        if event.epoch == self.epochs:
            self.control.stop()


def test_a_run_until_stopped_trains_until_it_is_stopped(runs_dir):
    control = RunControl()
    seen = StopAfter(control, 7)
    cfg = config("iris", training__epochs="until-stopped")
    result = Trainer(cfg, [seen], control, runs_dir=runs_dir, report_interval=0).run()
    assert result.reason == "stopped" and result.epochs_run == 7
    assert (seen.started.epochs, seen.started.total_steps) == (None, None)
    assert {(p.epochs, p.total_steps) for p in seen.progress} == {(None, None)}
    assert seen.ended[2].epochs is None and epoch_line(seen.ended[2].metrics, None).startswith("Epoch 3 - train_loss")
    assert cfg.summary() == "iris · cross-entropy · adam lr=0.01 · epochs until stopped · batch 16"
    fixed = Trainer(config("iris", training__epochs=7), runs_dir=False).run()
    assert [m.train_loss for m in result.history] == [m.train_loss for m in fixed.history]
    assert 'epochs = "until-stopped"' in (result.run_dir / "config.toml").read_text()


def test_the_step_curve_of_a_run_until_stopped_thins_as_the_run_grows():
    curve = _StepCurve(None)
    assert [curve.stride_at(s) for s in (1, MAX_STEP_POINTS, MAX_STEP_POINTS + 1, 2 * MAX_STEP_POINTS,
                                         2 * MAX_STEP_POINTS + 1, 4 * MAX_STEP_POINTS + 1)] == [1, 1, 2, 2, 4, 8]
    for step in range(1, 5 * MAX_STEP_POINTS + 1):
        curve.add(step, 1.0, 1)
    steps = [step for step, _ in curve.take()]
    # every step up to 4000, every 2nd to 8000, every 4th to 16000, every 8th to 20000
    assert len(steps) == MAX_STEP_POINTS + MAX_STEP_POINTS // 2 + MAX_STEP_POINTS // 2 + MAX_STEP_POINTS // 8
    assert steps[MAX_STEP_POINTS - 1:MAX_STEP_POINTS + 2] == [4000, 4002, 4004] and steps[-1] == 20000
    assert _StepCurve(2 * MAX_STEP_POINTS).stride_at(10 ** 9) == 2


def test_a_mid_run_change_may_make_a_run_go_on_until_stopped():
    control = RunControl()
    seen = StopAfter(control, 5)
    trainer = Trainer(config("iris", training__epochs=2), [seen], control, runs_dir=False)
    control.change("training.epochs", "until-stopped")
    result = trainer.run()
    assert result.reason == "stopped" and result.epochs_run == 5
    assert [c.value for c in result.config.changes] == ["until-stopped"]
    text = script_text(result.config)
    assert '("epochs", math.inf)' in text


def test_resuming_a_run_until_stopped(runs_dir, capsys):
    control = RunControl()
    cfg = config("iris", training__epochs="until-stopped")
    trainer = Trainer(cfg, [StopAfter(control, 3)], control, runs_dir=runs_dir)
    trainer.run()
    save_checkpoint(trainer)
    assert main(["train", "--resume", str(trainer.run_dir), "--epochs", "5", "--json"]) == 0
    resumed = json.loads(capsys.readouterr().out)
    whole = Trainer(config("iris", training__epochs=5), runs_dir=False).run()
    assert [m["train_loss"] for m in resumed["history"]] == [m.train_loss for m in whole.history]


def test_an_exported_script_of_a_run_until_stopped_trains_until_ctrl_c(tmp_path):
    cfg = config("iris", training__epochs="until-stopped")
    path = tmp_path / "train.py"
    path.write_text(script_text(cfg))
    # Started with Ctrl+C's default action, as a terminal starts it: a test process had SIGINT and
    # SIGQUIT ignored for a while (twice in full suites, never alone; the script inherited it and
    # trained on), as C's system() does in the whole process while its command runs.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        process = subprocess.Popen([sys.executable, str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True)
    finally:
        signal.signal(signal.SIGINT, previous)
    lines = []
    for line in process.stdout:
        lines.append(line)
        if len(lines) == 5:
            process.send_signal(signal.SIGINT)
            break
    try:
        output = "".join(lines) + process.communicate(timeout=60)[0]
    except subprocess.TimeoutExpired:  # say what the signal met
        fields = ("SigIgn", "SigBlk", "SigCgt", "SigPnd", "ShdPnd")
        script, this = ({field: sorted(signals_of(pid, field)) for field in fields}
                        for pid in (process.pid, "self"))
        process.kill()
        process.communicate()
        pytest.fail(f"the script trained on 60 s after its Ctrl+C (SIGINT is 2); its signals {script}, "
                    f"this test process's {this}")
    assert process.returncode == 0, process.stderr
    losses = [float(v) for v in re.findall(r"^Epoch \d+ - train_loss: (\S+)", output, re.M)]
    assert len(losses) >= 5 and re.search(r"^stopped by Ctrl\+C in epoch \d+$", output, re.M)
    assert re.search(r"^Final - train_loss: ", output, re.M)
    engine = Trainer(config("iris", training__epochs=len(losses)), runs_dir=False).run()
    assert losses == pytest.approx([m.train_loss for m in engine.history], rel=1e-6, abs=1e-9)
