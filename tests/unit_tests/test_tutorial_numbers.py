"""The tutorials' loss examples give their printed values through the product's losses.

Where a tutorial prints no number, the expected value is worked out here by the loss's formula
in plain Python, independently of torch.
"""

import math

import pytest
import torch

from tui_trainer.config import Choice
from tui_trainer.engine.components import build_loss

T = torch.tensor


def loss(name, predictions, targets, **params):
    return build_loss(Choice(name, params))(predictions, targets).item()


def cross_entropy(rows, labels):
    return sum(math.log(sum(math.exp(v) for v in row)) - row[k] for row, k in zip(rows, labels)) / len(rows)


def bce(probabilities, targets):
    return -sum(t * math.log(p) + (1 - t) * math.log(1 - p)
                for p, t in zip(probabilities, targets)) / len(targets)


def sigmoid(v):
    return 1 / (1 + math.exp(-v))


def test_tutorial_002_mse_and_l1_printed_values():
    y_pred, y_true = T([0.5, 2.0, 3.5]), T([1.0, 2.5, 3.0])
    assert loss("mse", y_pred, y_true) == pytest.approx(0.25)  # "# Output: 0.25"
    assert loss("l1", y_pred, y_true) == pytest.approx(0.5)  # "# Output: 0.5"


def test_tutorial_000_examples():
    assert loss("mse", T([2.5, 0.0, 2.1, 7.8]), T([3.0, -0.5, 2.0, 7.0])) == pytest.approx(
        (0.25 + 0.25 + 0.01 + 0.64) / 4)
    rows = [[0.2, 0.8], [0.6, 0.4], [0.1, 0.9]]
    assert loss("cross-entropy", T(rows), T([1, 0, 1]), label_smoothing=0.0) == pytest.approx(
        cross_entropy(rows, [1, 0, 1]))
    assert loss("bce", T([0.8, 0.4, 0.9]), T([1.0, 0.0, 1.0])) == pytest.approx(bce([0.8, 0.4, 0.9], [1, 0, 1]))


def test_tutorial_001_mse_cross_entropy_and_custom_loss():
    predicted, actual = T([2.5, 0.0, 2.1]), T([3.0, -0.5, 2.0])
    assert loss("mse", predicted, actual) == pytest.approx((0.25 + 0.25 + 0.01) / 3)
    rows = [[1.0, 2.0, 1.2], [1.5, 0.5, 2.1]]
    assert loss("cross-entropy", T(rows), T([1, 2]), label_smoothing=0.0) == pytest.approx(
        cross_entropy(rows, [1, 2]))
    assert loss("custom-mae", predicted, actual) == pytest.approx((0.5 + 0.5 + 0.1) / 3)


def test_tutorial_002_cross_entropy_bce_and_bce_with_logits():
    rows = [[0.1, 0.9, 0.0], [0.8, 0.1, 0.1]]
    assert loss("cross-entropy", T(rows), T([1, 0]), label_smoothing=0.0) == pytest.approx(
        cross_entropy(rows, [1, 0]))
    probabilities, targets = [0.9, 0.2, 0.8, 0.1], [1.0, 0.0, 1.0, 0.0]
    assert loss("bce", T(probabilities), T(targets)) == pytest.approx(bce(probabilities, targets))
    logits = [5.0, -2.0, 4.0, -3.0]
    assert loss("bce-logits", T(logits), T(targets)) == pytest.approx(
        bce([sigmoid(v) for v in logits], targets))


def test_custom_loss_is_an_nn_module_like_tutorial_001():
    module = build_loss(Choice("custom-mae", {}))
    assert isinstance(module, torch.nn.Module) and type(module).__name__ == "CustomLoss"
