"""Gradient flow per layer: the figures in history.jsonl and train --json equal a hand
computation with p.grad and the step's update."""

from __future__ import annotations

import math

import torch

from helpers import config
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
