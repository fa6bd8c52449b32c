"""The network: an MLP (or one nn.Linear) whose last layer fits the loss, or for images
convolution blocks before that MLP head."""

from __future__ import annotations

import torch
import torch.nn as nn

from tui_trainer.catalog.arena import SURFACES
from tui_trainer.config import Config, ModelConfig
from tui_trainer.engine.components import head_of, make_user_model
from tui_trainer.engine.data import build_dataset
from tui_trainer.engine import surfaces

ACTIVATION_CLASSES = {
    "relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU,
    "leaky-relu": nn.LeakyReLU, "elu": nn.ELU, "silu": nn.SiLU,
}


def build_model(model: ModelConfig, features: int, outputs: int, head: str,
                image_size: tuple[int, int, int] | None = None) -> nn.Sequential:
    """Linear layers of the given hidden sizes with activation and dropout, ending in ``outputs``
    units; a sigmoid for the ``probability`` head (bce), a log_softmax for ``log-probs`` (nll).

    A ``cnn`` model first unflattens each row to its image (``image_size``: channels, height,
    width), then runs one block per ``model.channels`` entry (Conv2d with padding kernel_size // 2,
    ReLU, MaxPool2d(2)) and flattens the result for the MLP head.
    """
    layers: list[nn.Module] = []
    width = features
    if model.kind == "cnn":
        channels, height, breadth = image_size
        layers.append(nn.Unflatten(1, image_size))
        k = model.kernel_size
        for out_channels in model.channels:
            layers += [nn.Conv2d(channels, out_channels, k, padding=k // 2), nn.ReLU(), nn.MaxPool2d(2)]
            channels = out_channels
            height, breadth = (height + 2 * (k // 2) - k + 1) // 2, (breadth + 2 * (k // 2) - k + 1) // 2
        layers.append(nn.Flatten())
        width = channels * height * breadth
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


def model_for(config: Config, features: int, classes: int | None,
              image_size: tuple[int, int, int] | None = None) -> nn.Module:
    """The network a config trains on data of ``features`` inputs (images of ``image_size``) and
    ``classes`` classes: its loss decides the output layer, and the mistake lab may add a softmax
    or sigmoid the loss does not want. A model of your own (``model.kind = "file"``) is your
    class made with ``model.args``; its output must fit the loss as it is (the pre-flight
    checks). An arena task's model is its 2-D point on the function."""
    if config.task_spec.traits.point:
        return arena_point(config)
    head = head_of(config)
    if config.model.kind == "file":
        model = make_user_model(config.model.path, config.model.args)
    else:
        model = build_model(config.model, features, head.output_size(classes), head.head, image_size)
    after = [nn.Softmax(dim=1)] * config.lab.softmax_before_loss + [nn.Sigmoid()] * config.lab.sigmoid_before_bce_logits
    if after and isinstance(model, nn.Sequential):
        model.extend(after)
    elif after:
        model = nn.Sequential(model, *after)
    return model


def arena_point(config: Config) -> surfaces.Point:
    """The point an arena task starts from, on the task's function with its settings."""
    surface = SURFACES[config.task.name]
    options = config.task.params
    return surfaces.Point(getattr(surfaces, surface.name), options["start"], **surface.function_params(options))


def quiet_model(config: Config, features: int, classes: int | None,
                image_size: tuple[int, int, int] | None = None) -> nn.Module:
    """``model_for`` without memory or random numbers used up, to size or load a model: the
    catalog's models on the meta device; a model of your own for real on the CPU with the
    random state put back (its code may not run on the meta device)."""
    if config.model.kind == "file" and not config.task_spec.traits.point:
        with torch.random.fork_rng(devices=[]):
            return model_for(config, features, classes, image_size)
    with torch.device("meta"):
        return model_for(config, features, classes, image_size)


def saved_model(config: Config, state: dict) -> nn.Module:
    """The model of a checkpoint's ``state`` (saved with ``config``), shaped as its run found
    the data (user data decides features and classes), before its weights are loaded; built by
    ``quiet_model`` (load its weights with ``assign=True``)."""
    shape = state.get("data") or {"features": config.task_spec.features, "classes": config.classes}
    return quiet_model(config, shape["features"], shape["classes"], config.task_spec.image_size)


def planned_model(config: Config) -> tuple[nn.Module, int]:
    """The config's model before training, built by ``quiet_model``, and its input count. User
    data (a task with its own loader) is read to size it; built-in tasks know their size
    (nothing is downloaded)."""
    spec = config.task_spec
    data = build_dataset(config) if spec.loader else None
    if data is not None:
        return quiet_model(config, data.features, data.classes, data.image_size), data.features
    return quiet_model(config, spec.features, config.classes, spec.image_size), spec.features


def planned_param_count(config: Config) -> int:
    """The parameter count of the config's model, before training (``planned_model``)."""
    return param_count(planned_model(config)[0])


def param_count(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
