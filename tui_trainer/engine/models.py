"""The network: an MLP (or one nn.Linear) whose last layer fits the loss."""

from __future__ import annotations

import torch.nn as nn

from tui_trainer.catalog.losses import loss_spec
from tui_trainer.config import Config, ModelConfig

ACTIVATION_CLASSES = {
    "relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU,
    "leaky-relu": nn.LeakyReLU, "elu": nn.ELU, "silu": nn.SiLU,
}


def model_for(config: Config, features: int, classes: int | None) -> nn.Sequential:
    """The network a config trains on ``features`` inputs: its loss decides the output layer,
    and the mistake lab may add a softmax or sigmoid the loss does not want."""
    spec = loss_spec(config.loss.name, config.task_spec.kind)
    model = build_model(config.model, features, spec.output_size(classes), spec.head)
    if config.lab.softmax_before_loss:
        model.append(nn.Softmax(dim=1))
    if config.lab.sigmoid_before_bce_logits:
        model.append(nn.Sigmoid())
    return model


def build_model(model: ModelConfig, features: int, outputs: int, head: str) -> nn.Sequential:
    """Linear layers of the given hidden sizes with activation and dropout, ending in ``outputs``
    units; a sigmoid for the ``probability`` head (bce), a log_softmax for ``log-probs`` (nll)."""
    layers: list[nn.Module] = []
    width = features
    for size in model.hidden:
        layers += [nn.Linear(width, size), ACTIVATION_CLASSES[model.activation]()]
        if model.dropout > 0:
            layers.append(nn.Dropout(model.dropout))
        width = size
    layers.append(nn.Linear(width, outputs))
    if head == "probability":
        layers.append(nn.Sigmoid())
    elif head == "log-probs":
        layers.append(nn.LogSoftmax(dim=1))
    return nn.Sequential(*layers)


def param_count(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
