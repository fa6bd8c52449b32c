"""The mistake lab: each mistake changes training the way it should, is off by default, is
refused where it cannot show, and the exported script makes it too."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
import torch

from helpers import config
from tui_trainer.catalog.lab import MISTAKES
from tui_trainer.cli import main
from tui_trainer.config import default_config
from tui_trainer.engine.loop import Trainer
from tui_trainer.engine.models import model_for
from tui_trainer.errors import ConfigError
from tui_trainer.export.script import script_text


def losses(cfg) -> list[float]:
    return [m.train_loss for m in Trainer(cfg, runs_dir=False).run().history]


def test_every_mistake_is_off_by_default():
    assert not any(getattr(default_config().lab, name) for name in MISTAKES)


def test_skip_zero_grad_equals_a_hand_loop_that_never_zeroes():
    cfg = config("linear", optimizer="sgd", optimizer__lr=0.01, training__epochs=8, training__val_split=0.0,
                 lab__skip_zero_grad=True)
    trainer = Trainer(cfg, runs_dir=False)
    trainer.get_ready()
    x, y = trainer.data.x_train, trainer.data.y_train
    torch.manual_seed(cfg.training.seed)
    model = model_for(cfg, 1, None)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    by_hand = []
    for _ in range(8):  # full batch, and never optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        by_hand.append(loss.item())
    assert [m.train_loss for m in trainer.run().history] == pytest.approx(by_hand, rel=1e-6)
    assert losses(config("linear", optimizer="sgd", optimizer__lr=0.01, training__epochs=8,
                         training__val_split=0.0)) != pytest.approx(by_hand, rel=1e-3)


def test_no_eval_mode_keeps_dropout_on_in_validation():
    common = dict(model__dropout=0.5, training__epochs=3)
    right = Trainer(config("iris", **common), runs_dir=False).run()
    wrong = Trainer(config("iris", lab__no_eval_mode=True, **common), runs_dir=False).run()
    # The first epoch trains the same; its validation differs (and, drawing dropout masks, so
    # do the random numbers of the epochs after).
    assert wrong.history[0].train_loss == right.history[0].train_loss
    assert wrong.history[0].val_loss != pytest.approx(right.history[0].val_loss)


def test_no_shuffle_takes_the_same_order_and_softmax_caps_cross_entropy():
    assert losses(config("iris", training__epochs=4, lab__no_shuffle=True)) != losses(
        config("iris", training__epochs=4))
    capped = Trainer(config("iris", training__epochs=60, lab__softmax_before_loss=True), runs_dir=False).run()
    assert min(m.train_loss for m in capped.history) > 0.55  # log(e) - log(e + 2): the floor of softmax


def test_a_mistake_that_needs_another_loss_is_refused_and_wrong_loss_allows_a_misfit():
    with pytest.raises(ConfigError) as refused:
        config("iris", lab__sigmoid_before_bce_logits=True)
    assert "lab.sigmoid_before_bce_logits: shows its mistake with the bce-logits loss only" in str(refused.value)
    with pytest.raises(ConfigError):
        config("breast-cancer", loss="mse")
    assert config("breast-cancer", loss="mse", lab__wrong_loss=True).loss.name == "mse"


def test_the_exported_script_makes_the_same_mistakes(tmp_path):
    cfg = config("wine", training__epochs=3, model__dropout=0.3, lab__skip_zero_grad=True,
                 lab__no_shuffle=True, lab__no_eval_mode=True, lab__softmax_before_loss=True)
    path = tmp_path / "train.py"
    path.write_text(script_text(cfg))
    text = path.read_text()
    assert text.count("# LAB ") >= 4 and "nn.Softmax(dim=1)" in text
    out = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, check=True).stdout
    printed = [float(v) for v in re.findall(r"^Epoch \d+/\d+ - train_loss: (\S+)", out, re.M)]
    assert printed == pytest.approx(losses(cfg), rel=1e-6)


def test_lab_command_explains_then_races_without_and_with(capsys, runs_dir):
    assert main(["lab", "no_eval_mode", "--task", "iris", "--dropout", "0.5", "--epochs", "5",
                 "--device", "cpu", "--runs-dir", str(runs_dir)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("no_eval_mode: validate without model.eval()")
    assert "the fix:" in out and "no_eval_mode=false" in out and "no_eval_mode=true" in out
    assert len(list(runs_dir.iterdir())) == 2


def test_lab_refuses_a_race_of_two_equal_runs_and_races_wrong_loss_against_the_tasks_own(
        capsys, runs_dir):
    # Before: `lab wrong_loss` raced two equal runs (a loss that fits) or refused run #1 (a loss
    # that does not), and `lab no_eval_mode` without dropout raced two equal runs.
    base = ["--epochs", "2", "--device", "cpu", "--runs-dir", str(runs_dir)]
    assert main(["lab", "no_eval_mode", "--task", "iris", *base]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "model.dropout: lab no_eval_mode: with dropout 0" in err and "--dropout 0.5" in err
    assert main(["lab", "wrong_loss", "--task", "iris", *base]) == 2
    assert "loss: lab wrong_loss: cross-entropy fits task iris; give one that does not with --loss (e.g. " \
           "--loss mse)" in capsys.readouterr().err
    assert not runs_dir.exists()
    assert main(["lab", "wrong_loss", "--task", "linear", "--loss", "cross-entropy", *base, "--json"]) == 0
    runs = json.loads(capsys.readouterr().out)["runs"]
    assert [run["loss"] for run in runs] == ["mse", "cross-entropy"]
    assert all(run["config"]["lab"]["wrong_loss"] for run in runs)
