"""Hyperparameters changed mid-run (``--change STEP:FIELD=VALUE``, ``[[changes]]``): they take
effect at their step, are part of the run's config, and resume and export reproduce them."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from tui_trainer.cli import main
from tui_trainer.config import resolve
from tui_trainer.engine.events import Callback
from tui_trainer.engine.loop import Trainer
from tui_trainer.engine.rundir import read_run
from tui_trainer.errors import ConfigError
from tui_trainer.export.script import script_text

CHANGES = [{"at_step": 20, "field": "optimizer.lr", "value": 0.05},
           {"at_step": 30, "field": "optimizer.betas", "value": [0.8, 0.9]},
           {"at_step": 35, "field": "training.epochs", "value": 7}]


def with_changes(epochs: int = 10):
    return resolve({"task": "iris", "training": {"epochs": epochs, "device": "cpu"}, "changes": CHANGES})


class SeenLr(Callback):
    def __init__(self) -> None:
        self.lrs, self.made = {}, []

    def after_step(self, context) -> None:
        self.lrs[context.state.global_step] = context.optimizer.param_groups[0]["lr"]

    def on_change(self, event) -> None:
        self.made.append((event.change.at_step, event.change.field, event.epoch))


def test_changes_take_effect_at_their_step_and_are_announced():
    seen = SeenLr()
    result = Trainer(with_changes(), [seen], runs_dir=False).run()
    assert seen.lrs[19] == 0.01 and seen.lrs[20] == 0.05  # step 20 is the first with the new rate
    assert seen.made == [(20, "optimizer.lr", 3), (30, "optimizer.betas", 4), (35, "training.epochs", 5)]
    assert result.epochs_run == 7 and result.history[-1].epoch == 7


def test_cli_records_changes_in_the_config_and_the_script_reproduces_them(tmp_path, runs_dir, capsys):
    flags = ["--task", "iris", "--epochs", "10", "--device", "cpu", "--change", "20:optimizer.lr=0.05",
             "--change", "30:optimizer.betas=0.8,0.9", "--change", "35:training.epochs=7"]
    assert main(["train", *flags, "--json", "--runs-dir", str(runs_dir)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["config"]["changes"] == CHANGES
    assert read_run(result["run_dir"]).config["changes"] == CHANGES
    script = tmp_path / "train.py"
    script.write_text(script_text(with_changes()))
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True).stdout
    printed = [float(v) for v in re.findall(r"^Epoch \d+/\d+ - train_loss: (\S+)", out, re.M)]
    assert printed == pytest.approx([h["train_loss"] for h in result["history"]], rel=1e-6)


def test_a_resumed_run_with_changes_equals_the_uninterrupted_one(runs_dir, capsys):
    flags = ["--task", "iris", "--device", "cpu", "--change", "20:optimizer.lr=0.05",
             "--change", "30:optimizer.betas=0.8,0.9", "--change", "35:training.epochs=7", "--json"]
    assert main(["train", *flags, "--epochs", "10", "--runs-dir", str(runs_dir / "whole")]) == 0
    whole = json.loads(capsys.readouterr().out)
    assert main(["train", *flags, "--epochs", "2", "--save-model", "--runs-dir", str(runs_dir / "part")]) == 0
    part = json.loads(capsys.readouterr().out)
    assert main(["train", "--resume", part["run_dir"], "--epochs", "10", "--json"]) == 0
    resumed = json.loads(capsys.readouterr().out)
    assert [h["train_loss"] for h in resumed["history"]] == pytest.approx(
        [h["train_loss"] for h in whole["history"]], rel=1e-6)


@pytest.mark.parametrize("change, expected", [
    ({"at_step": 0, "field": "optimizer.lr", "value": 0.1}, "changes[1].at_step: 0 is not allowed"),
    ({"at_step": 5, "field": "optimizer.momentum", "value": 0.9}, "'optimizer.momentum' cannot change mid-run"),
    ({"at_step": 5, "field": "optimizer.lr", "value": -1.0}, "changes[1].value: optimizer.lr: -1"),
    ({"at_step": 5, "field": "optimizer.lr"}, "must be a table with at_step, field and value"),
    ({"at_step": 2**63, "field": "optimizer.lr", "value": 0.1},
     "changes[1].at_step: 9223372036854775808 is not allowed; must be a whole number from 1 to"),
])
def test_bad_changes_are_refused_naming_the_change(change, expected):
    with pytest.raises(ConfigError) as refused:
        resolve({"task": "iris", "changes": [change]})
    assert expected in str(refused.value)


def test_a_field_changed_twice_at_one_step_is_refused_not_left_to_the_last():
    twice = [{"at_step": 5, "field": "optimizer.lr", "value": 0.1},
             {"at_step": 5, "field": "optimizer.lr", "value": 0.2}]
    with pytest.raises(ConfigError) as refused:
        resolve({"task": "iris", "changes": twice})
    assert "changes[2]: optimizer.lr is changed twice at step 5 (also by changes[1])" in str(refused.value)


@pytest.mark.parametrize("step", ["-1", "0", "x"])
def test_a_step_that_is_not_a_positive_whole_number_gets_our_message_not_argparses(step, capsys):
    assert main(["train", "--task", "iris", "--dry-run", "--change", f"{step}:optimizer.lr=0.1"]) == 2
    assert f"--change '{step}:optimizer.lr=0.1': STEP must be a whole number from 1" in capsys.readouterr().err


def test_the_run_length_of_a_one_cycle_schedule_cannot_change():
    with pytest.raises(ConfigError, match="spans the run's epochs"):
        resolve({"task": "iris", "scheduler": "one-cycle",
                 "changes": [{"at_step": 5, "field": "training.epochs", "value": 3}]})


def test_one_cycle_would_undo_a_rate_change_so_it_is_refused(capsys):
    # OneCycleLR sets every step's rate from max_lr: the change was announced and then undone.
    assert main(["train", "--task", "iris", "--scheduler", "one-cycle", "--dry-run",
                 "--change", "5:optimizer.lr=0.5"]) == 2
    err = capsys.readouterr().err
    assert "changes[1].field: optimizer.lr cannot change mid-run with scheduler one-cycle" in err
    with pytest.raises(ConfigError, match="set scheduler.cycle_momentum=false"):
        resolve({"task": "iris", "scheduler": "one-cycle",
                 "changes": [{"at_step": 5, "field": "optimizer.betas", "value": [0.8, 0.9]}]})
    kept = resolve({"task": "iris", "scheduler": {"name": "one-cycle", "cycle_momentum": False},
                    "changes": [{"at_step": 5, "field": "optimizer.betas", "value": [0.8, 0.9]}]})
    assert kept.changes[0].value == [0.8, 0.9]


class ChangeAt(Callback):
    """Pauses as a person would at step ``step``, changes the rate, and lets the run go on."""

    def __init__(self, control, step: int) -> None:
        self.control, self.step = control, step

    def after_step(self, context) -> None:
        if context.state.global_step == self.step:
            self.control.change("optimizer.lr", 0.05)


def test_a_change_made_while_the_run_goes_equals_the_same_change_given_before(runs_dir):
    from tui_trainer.engine.control import RunControl

    control = RunControl()
    live = Trainer(resolve({"task": "iris", "training": {"epochs": 6, "device": "cpu"}}), [ChangeAt(control, 19)],
                   control, runs_dir=runs_dir, report_interval=0).run()
    given = Trainer(resolve({"task": "iris", "training": {"epochs": 6, "device": "cpu"},
                             "changes": [{"at_step": 20, "field": "optimizer.lr", "value": 0.05}]}),
                    runs_dir=False).run()
    assert [m.train_loss for m in live.history] == [m.train_loss for m in given.history]
    assert read_run(live.run_dir).config["changes"] == [{"at_step": 20, "field": "optimizer.lr", "value": 0.05}]


@pytest.mark.parametrize("change, torch_says", [
    ("30:optimizer.momentum=0", "torch refuses nesterov=True, momentum=0.0, dampening=0.0 for sgd"),
    ("30:optimizer.dampening=0.5", "torch refuses nesterov=True, momentum=0.9, dampening=0.5 for sgd"),
])
def test_a_change_torch_would_refuse_when_building_the_optimizer_is_refused(change, torch_says, runs_dir, capsys):
    # Before: accepted (a change sets torch's param groups, where torch checks nothing).
    assert main(["train", "--task", "iris", "--optimizer", "sgd", "--set", "optimizer.momentum=0.9",
                 "--set", "optimizer.nesterov=true", "--change", change, "--runs-dir", str(runs_dir)]) == 2
    err = capsys.readouterr().err
    assert f"changes: {change.partition(':')[2].replace('=', ' = ')} from step 30: {torch_says}" in err
    assert not runs_dir.exists()


def test_a_run_cannot_be_changed_to_end_before_the_epoch_it_is_in(runs_dir, capsys):
    # Before: --change 30:training.epochs=1 printed "Epoch 4/1". Iris in batches of 16 takes 8
    # steps an epoch: step 30 is in epoch 4.
    assert main(["train", "--task", "iris", "--change", "30:training.epochs=1", "--runs-dir", str(runs_dir)]) == 2
    assert ("changes: training.epochs = 1 from step 30: step 30 is in epoch 4 (8 steps per epoch), so the "
            "run cannot end before epoch 4; give at least 4" in capsys.readouterr().err)
    assert main(["train", "--task", "iris", "--change", "30:training.epochs=4", "--runs-dir", str(runs_dir)]) == 0
    assert "Epoch 4/4" in capsys.readouterr().out


def test_a_live_change_to_fewer_epochs_than_reached_ends_the_epoch_it_is_in(runs_dir):
    from tui_trainer.engine.control import RunControl

    class Shorten(ChangeAt):
        def after_step(self, context) -> None:
            if context.state.global_step == self.step:
                self.control.change("training.epochs", 1)

    control = RunControl()
    result = Trainer(resolve({"task": "iris", "training": {"epochs": 6, "device": "cpu"}}), [Shorten(control, 19)],
                     control, runs_dir=runs_dir, report_interval=0).run()
    assert result.epochs_run == 3  # step 20 is in epoch 3: the run ends with it
    assert read_run(result.run_dir).config["changes"] == [{"at_step": 20, "field": "training.epochs", "value": 3}]
