"""Checkpoints (``--save-model``, ``model.pt``) and ``train --resume``: load for predictions, and
continue a run exactly where it stopped."""

import dataclasses
import json

import pytest
import torch

from helpers import config
from tui_trainer.cli import main
from tui_trainer.engine.checkpoint import load_model, read_checkpoint, save_checkpoint
from tui_trainer.engine.control import RunControl
from tui_trainer.engine.events import Callback
from tui_trainer.engine.loop import Trainer, train
from tui_trainer.engine.rundir import read_run
from tui_trainer.errors import UserFacingError


def timeless(history):
    return [{k: v for k, v in (m if isinstance(m, dict) else dataclasses.asdict(m)).items()
             if k not in ("seconds", "elapsed", "samples_per_second")} for m in history]


def run_json(capsys, *args):
    code = main(["train", *args, "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_saved_model_loads_back_with_identical_predictions(runs_dir):
    cfg = config("multiclass", task__samples=150, model__dropout=0.2, training__epochs=5)
    trainer = Trainer(cfg, runs_dir=runs_dir)
    trainer.run()
    path = save_checkpoint(trainer)
    assert path == trainer.run_dir / "model.pt"
    assert read_checkpoint(path).config == cfg  # the config survives the round trip
    model, saved = load_model(path)
    trainer.model.eval()
    with torch.no_grad():
        assert torch.equal(model(trainer.data.x_val), trainer.model(trainer.data.x_val))
    assert saved == cfg


def test_loading_with_another_config_names_the_fields_that_differ(runs_dir):
    trainer = Trainer(config("iris", training__epochs=1), runs_dir=runs_dir)
    trainer.run()
    path = save_checkpoint(trainer)
    with pytest.raises(UserFacingError) as info:
        load_model(path, config("iris", training__epochs=1, model__hidden=[8], optimizer__lr=0.1))
    message = str(info.value)
    assert "was saved with another config" in message
    assert "model.hidden is [16] in the checkpoint, [8] here" in message
    assert "optimizer.lr is 0.01 in the checkpoint, 0.1 here" in message


class StopAt(Callback):
    """Asks for a stop when a given global step is reported (as Ctrl+C would)."""

    def __init__(self, control, step):
        self.control, self.step = control, step

    def on_progress(self, event):
        if event.global_step == self.step:
            self.control.stop("interrupted")


def test_run_stopped_inside_an_epoch_resumes_to_the_uninterrupted_losses(runs_dir, capsys):
    cfg = config("multiclass", task__samples=150, model__dropout=0.2, scheduler="plateau",
                 scheduler__patience=1, training__batch_size=16, training__epochs=8,
                 training__early_stopping_patience=3, training__early_stopping_min_delta=0.5)
    uninterrupted = train(cfg, runs_dir=runs_dir / "whole")
    assert uninterrupted.reason == "early-stopped" and uninterrupted.epochs_run == 4
    control = RunControl()
    stopped = Trainer(cfg, [StopAt(control, 19)], control, runs_dir=runs_dir, report_interval=0)
    assert stopped.run().reason == "interrupted"
    save_checkpoint(stopped)
    assert read_checkpoint(stopped.run_dir).where == "in epoch 3, before step 4"
    code, data = run_json(capsys, "--resume", str(stopped.run_dir))
    assert code == 0 and data["stopped_reason"] == "early-stopped"
    assert timeless(data["history"]) == timeless([m.as_json() for m in uninterrupted.history])
    assert data["final"]["val_accuracy"] == uninterrupted.final.val_accuracy
    assert data["run_dir"] == str(stopped.run_dir)
    assert timeless(read_run(stopped.run_dir).history) == timeless(data["history"])


def test_more_epochs_continue_the_same_curve_as_one_longer_run(runs_dir, capsys):
    args = ["--task", "binary", "--set", "task.samples=200", "--scheduler", "step", "--device", "cpu",
            "--runs-dir", str(runs_dir)]
    code, first = run_json(capsys, *args, "--epochs", "3", "--save-model")
    assert code == 0 and first["model_file"].endswith("model.pt")
    run_dir = first["run_dir"]
    with open(f"{run_dir}/history.jsonl", "a") as handle:  # an epoch trained after the last save
        handle.write(json.dumps(dict(first["history"][-1], epoch=4)) + "\n")
    code, resumed = run_json(capsys, "--resume", run_dir, "--epochs", "6", "--runs-dir", str(runs_dir))
    _, longer = run_json(capsys, *args, "--epochs", "6")
    assert code == 0 and resumed["epochs_run"] == 6
    # the first part ended at epoch 3: its line keeps the per-layer figures of the model it ended with
    assert resumed["history"][2]["layers"] and longer["history"][2]["layers"] is None
    resumed["history"][2]["layers"] = None
    assert timeless(resumed["history"]) == timeless(longer["history"])
    assert [row["epoch"] for row in read_run(run_dir).history] == [1, 2, 3, 4, 5, 6]
    assert read_checkpoint(run_dir).epoch == 6  # saved again at the end


def test_resume_refusals_say_why_and_exit_2(runs_dir, capsys, tmp_path):
    args = ["--task", "iris", "--epochs", "2", "--device", "cpu", "--runs-dir", str(runs_dir)]
    _, done = run_json(capsys, *args, "--save-model")
    run_dir = done["run_dir"]
    assert main(["train", "--resume", run_dir]) == 2
    assert "has already trained 2 epochs; give --epochs N with N > 2" in capsys.readouterr().err
    assert main(["train", "--resume", run_dir, "--epochs", "4", "--hidden", "8"]) == 2
    assert "model.hidden is [16] in the checkpoint, [8] here" in capsys.readouterr().err
    assert main(["train", "--resume", run_dir, "--config", run_dir + "/config.toml"]) == 2
    assert "not --config" in capsys.readouterr().err
    _, cycle = run_json(capsys, *args, "--scheduler", "one-cycle", "--save-model")
    assert main(["train", "--resume", cycle["run_dir"], "--epochs", "4"]) == 2
    assert "scheduler one-cycle spans the run's 2 epochs" in capsys.readouterr().err
    _, unsaved = run_json(capsys, *args)
    assert main(["train", "--resume", unsaved["run_dir"], "--epochs", "4"]) == 2
    assert "has no model.pt; save one with `tui-trainer train --save-model`" in capsys.readouterr().err
    (tmp_path / "model.pt").write_text("not a checkpoint")
    assert main(["train", "--resume", str(tmp_path), "--epochs", "4"]) == 2
    assert "is not a readable checkpoint" in capsys.readouterr().err


def test_a_diverged_run_saves_no_model(runs_dir, capsys):
    code = main(["train", "--optimizer", "sgd", "--lr", "3", "--batch-size", "10", "--epochs", "100",
                 "--device", "cpu", "--runs-dir", str(runs_dir), "--save-model"])
    assert code == 1
    assert "model not saved: the run diverged" in capsys.readouterr().err
    assert not list(runs_dir.glob("*/model.pt"))
