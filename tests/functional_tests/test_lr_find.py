"""``tui-trainer lr-find``: fastai's learning-rate range test."""

from __future__ import annotations

import json

import torch

from helpers import config
from tui_trainer.cli import main
from tui_trainer.engine import lrfind
from tui_trainer.engine.loop import Trainer


def test_iris_with_adam_suggests_a_sensible_rate_and_puts_the_model_back(monkeypatch):
    built = []
    original = Trainer.get_ready

    def keep(self):
        original(self)
        built.append((self, {k: v.clone() for k, v in self.model.state_dict().items()}))

    monkeypatch.setattr(Trainer, "get_ready", keep)
    result = lrfind.find_lr(config("iris", optimizer="adam"), steps=100)
    assert 1e-4 <= result.suggestion <= 1e-1 and result.rule == "valley"
    trainer, before = built[0]
    after = trainer.model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # weights before == after
    assert not trainer.optimizer.state  # Adam's moments gone with the test
    assert result.lrs[0] == 1e-7 and all(b > a for a, b in zip(result.lrs, result.lrs[1:]))


def test_the_test_stops_early_when_the_loss_diverges():
    result = lrfind.find_lr(config("iris", optimizer="sgd"), start=1e-3, end=1e4, steps=200)
    assert result.stopped_early and len(result.lrs) < 200


def test_rules_on_a_known_curve():
    lrs = [10 ** (-6 + i * 0.1) for i in range(60)]
    losses = [2.0] * 20 + [2.0 - 0.09 * i for i in range(20)] + [0.2 + 0.5 * i for i in range(20)]
    assert 1e-4 <= lrfind.suggest(lrs, losses, "valley") <= 1e-2
    steep = lrfind.suggest(lrs, losses, "steep")
    assert lrs[20] <= steep <= lrs[40]


def test_cli_json_and_chart(capsys):
    assert main(["lr-find", "--task", "iris", "--device", "cpu", "--steps", "40", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"lrs", "losses", "suggestion", "rule", "stopped_early"} and len(data["lrs"]) <= 40
    assert main(["lr-find", "--task", "iris", "--device", "cpu", "--steps", "40"]) == 0
    out = capsys.readouterr().out
    assert "learning rate (log scale)" in out and "suggested learning rate:" in out and "\x1b[" not in out
    assert main(["lr-find", "--task", "iris", "--start", "1", "--end", "0.1"]) == 2
    assert "--end: 0.1 is not allowed" in capsys.readouterr().err


def test_suggestions_skip_the_noisy_start_and_the_blow_up_as_fastai_does():
    # Before, steep took the first step's noise (1e-7) and a test that blew up on its last step
    # said it stopped early.
    result = lrfind.find_lr(config("iris", optimizer="adam"), steps=100, rule="steep")
    assert result.lrs[10] <= result.suggestion <= result.lrs[-6]
    assert result.stopped_early == (len(result.lrs) < 100)


def test_too_few_steps_for_a_suggestion_say_why(capsys):
    assert main(["lr-find", "--task", "iris", "--device", "cpu", "--steps", "5"]) == 0
    assert "no suggestion: too few finite losses past the first tenth" in capsys.readouterr().out


def test_the_lab_mistake_is_made_and_changes_are_refused(capsys):
    # Before: lr-find dropped lab.skip_zero_grad and took --change without using it.
    plain = lrfind.find_lr(config("iris", optimizer="adam"), steps=20)
    piled = lrfind.find_lr(config("iris", optimizer="adam", lab__skip_zero_grad=True), steps=20)
    assert plain.lrs == piled.lrs and plain.losses != piled.losses
    assert main(["lr-find", "--task", "iris", "--change", "5:optimizer.lr=1"]) == 2
    assert "--change: lr-find sets every step's learning rate itself" in capsys.readouterr().err
