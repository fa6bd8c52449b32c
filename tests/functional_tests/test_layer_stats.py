"""Gradient flow per layer: the figures in history.jsonl and train --json equal a hand
computation with p.grad and the step's update; a run's last epoch always has them, so its last
line describes the model it ends with."""

from __future__ import annotations

import math

import pytest
import torch

import json

from helpers import config
from tui_trainer.cli import main
from tui_trainer.engine.checkpoint import save_checkpoint
from tui_trainer.engine.control import RunControl
from tui_trainer.engine.events import Callback
from tui_trainer.engine.loop import Trainer
from tui_trainer.engine.rundir import read_run


class ByHand(Callback):
    """Keeps the first step's weights before and after, and the gradients at the epoch's end."""

    def __init__(self) -> None:
        self.before = self.after = self.grads = None

    def after_backward(self, context) -> None:
        if self.before is None:
            self.before = [layer.weight.detach().clone() for layer in context.model
                           if isinstance(layer, torch.nn.Linear)]

    def after_step(self, context) -> None:
        if self.after is None:
            self.after = [layer.weight.detach().clone() for layer in context.model
                          if isinstance(layer, torch.nn.Linear)]

    def at_epoch_end(self, context):
        if self.grads is None:
            self.grads = [torch.cat([p.grad.flatten() for p in layer.parameters()]).norm().item()
                          for layer in context.model if isinstance(layer, torch.nn.Linear)]
            self.weights = [layer.weight.norm().item() for layer in context.model
                            if isinstance(layer, torch.nn.Linear)]
        return None


def test_layer_figures_equal_a_hand_computation(runs_dir):
    hand = ByHand()
    trainer = Trainer(config("iris", model__hidden=[16, 8], training__epochs=2), [hand], runs_dir=runs_dir)
    result = trainer.run()
    layers = result.history[0].layers
    assert [layer["name"] for layer in layers] == ["0: Linear(4→16)", "2: Linear(16→8)", "4: Linear(8→3)"]
    for layer, grad, weight, before, after in zip(layers, hand.grads, hand.weights, hand.before, hand.after):
        assert math.isclose(layer["grad_norm"], grad, rel_tol=1e-5)
        assert math.isclose(layer["weight_norm"], weight, rel_tol=1e-6)
        ratio = ((after - before).norm() / before.norm()).item()
        assert math.isclose(layer["update_ratio"], ratio, rel_tol=1e-5)
        assert layer["flag"] is None
    assert layers[0]["dead_relu"] is not None and 0.0 <= layers[0]["dead_relu"] <= 1.0
    assert layers[-1]["dead_relu"] is None  # the output layer has no ReLU after it
    saved = read_run(result.run_dir).history[0]["layers"]
    assert saved == result.as_json()["history"][0]["layers"]


def test_dead_units_and_vanishing_gradients_are_marked():
    # A large negative bias kills every unit of the first layer: its ReLU outputs are all zero,
    # and no gradient flows back to it.
    cfg = config("iris", model__hidden=[8], training__epochs=1)
    trainer = Trainer(cfg, runs_dir=False)
    trainer.get_ready()
    with torch.no_grad():
        trainer.model[0].bias.fill_(-100.0)
    result = trainer.run()
    first = result.history[0].layers[0]
    assert first["dead_relu"] == 1.0 and first["flag"] == "vanishing"


def measured(history) -> list[bool]:
    """Which epochs of a history (EpochMetrics or rows of history.jsonl) have per-layer figures."""
    return [(row["layers"] if isinstance(row, dict) else row.layers) is not None for row in history]


class StopAtEpoch(Callback):
    """Asks for a stop at the end of an epoch (as ctrl+t pressed during its last step would)."""

    def __init__(self, control: RunControl, epoch: int) -> None:
        self.control, self.epoch = control, epoch

    def at_epoch_end(self, context) -> None:
        if context.metrics.epoch == self.epoch:
            self.control.stop("stopped")


def test_the_last_epoch_has_the_figures_of_the_model_the_run_ends_with(runs_dir):
    # iris: 8 steps an epoch, so between the first epoch and the last no 200-step mark is passed
    trainer = Trainer(config("iris", model__hidden=[8], training__epochs=3), runs_dir=runs_dir)
    result = trainer.run()
    assert measured(result.history) == [True, False, True]
    weights = [layer.weight.norm().item() for layer in trainer.model if isinstance(layer, torch.nn.Linear)]
    assert [layer["weight_norm"] for layer in result.history[-1].layers] == pytest.approx(weights, rel=1e-6)
    saved = read_run(result.run_dir).history
    assert measured(saved) == [True, False, True]
    assert saved[-1]["layers"] == result.as_json()["history"][-1]["layers"]


def test_a_run_ended_early_by_a_rule_or_a_stop_has_them_in_its_last_epoch():
    early = Trainer(config("iris", training__epochs=10, training__early_stopping_patience=1,
                           training__early_stopping_min_delta=10.0), runs_dir=False).run()
    assert early.reason == "early-stopped" and measured(early.history) == [True, True]
    control = RunControl()
    stopped = Trainer(config("iris", training__epochs=10), [StopAtEpoch(control, 3)], control,
                      runs_dir=False).run()
    assert stopped.reason == "stopped" and measured(stopped.history) == [True, False, True]


def test_a_resumed_run_keeps_the_figures_its_first_part_ended_with(runs_dir, capsys):
    first = Trainer(config("iris", training__epochs=2), runs_dir=runs_dir)
    first.run()
    save_checkpoint(first)
    assert main(["train", "--resume", str(first.run_dir), "--epochs", "4", "--json"]) == 0
    resumed = json.loads(capsys.readouterr().out)
    assert measured(resumed["history"]) == [True, True, False, True]
    assert measured(read_run(first.run_dir).history) == [True, True, False, True]
