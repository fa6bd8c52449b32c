"""A model's summary, as Keras' ``model.summary()`` or torchinfo give it: each layer with its
type, its output shape on a real batch and its parameter count, found with torch's forward
hooks on one forward pass."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from tui_trainer.config import Config

#: The summary's forward pass runs on this many samples (its shapes show the batch as ``B``).
SUMMARY_BATCH = 2


@dataclass
class LayerRow:
    """One module of the model: its path (``0``, ``blocks.1.fc``), depth in the model (1: a child
    of the model), class name, output shape (``B`` for the batch; None when the forward pass
    did not call it), its own parameters (those of its submodules are theirs), and how many
    times the forward pass called it."""

    path: str
    depth: int
    kind: str
    output: str | None
    params: int
    calls: int


@dataclass
class ModelSummary:
    """A model's layers, its input shape and its parameter counts (``trainable`` of ``total``)."""

    model: str
    input: str
    rows: list[LayerRow]
    total: int
    trainable: int

    def text(self) -> str:
        """The summary as a table, Keras style: layer (type), output shape, parameters."""
        return "\n".join([f"{self.model}: input {self.input}", *self.table(), self.totals()])

    def table(self, short: bool = False) -> list[str]:
        """The layers' table, each line of the same width: a rule, the header, a rule, a line per
        layer (indented by depth; ``x2`` for a module called twice), a rule. ``short`` names each
        layer by the last part of its path (``fc`` for ``blocks.0.fc``), as its indent says where
        it is."""
        table = [("Layer (type)", "Output shape", "Param #")]
        table += [("  " * (row.depth - 1) + f"{row.path.rpartition('.')[2] if short else row.path} ({row.kind})"
                   + (f" x{row.calls}" if row.calls > 1 else ""),
                   row.output or "(not called)", f"{row.params:,}" if row.params else "-")
                  for row in self.rows]
        widths = [max(len(line[i]) for line in table) for i in range(3)]
        lines = [f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c:>{widths[2]}}" for a, b, c in table]
        rule = "-" * len(lines[0])
        return [rule, lines[0], rule, *lines[1:], rule]

    def totals(self) -> str:
        """``Total params: 2,499   Trainable params: 2,499   Non-trainable params: 0``."""
        return (f"Total params: {self.total:,}   Trainable params: {self.trainable:,}   "
                f"Non-trainable params: {self.total - self.trainable:,}")


def summarize(model: torch.nn.Module, inputs: torch.Tensor, name: str | None = None) -> ModelSummary:
    """The summary of ``model`` on the first SUMMARY_BATCH rows of ``inputs``: one forward pass
    under ``torch.no_grad()`` and ``model.eval()`` (its mode put back, no random numbers drawn
    from the global generator), with a forward hook on every module recording its output."""
    batch = inputs[:SUMMARY_BATCH]
    seen: dict[str, tuple[str, int]] = {}

    def hook_of(path: str):
        def record(_module, _inputs, output) -> None:
            shape, calls = seen.get(path, (None, 0))
            seen[path] = (shape or _shape(output, len(batch)), calls + 1)
        return record

    modules = [(path, module) for path, module in model.named_modules() if path]
    handles = [module.register_forward_hook(hook_of(path)) for path, module in modules]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad(), torch.random.fork_rng(devices=[]):
            model(batch)
    finally:
        model.train(was_training)
        for handle in handles:
            handle.remove()
    rows = []
    for path, module in modules:
        output, calls = seen.get(path, (None, 0))
        own = sum(p.numel() for p in module.parameters(recurse=False))
        rows.append(LayerRow(path, path.count(".") + 1, type(module).__name__, output, own, calls))
    params = list(model.parameters())
    return ModelSummary(name or type(model).__name__, _shape(inputs[:SUMMARY_BATCH], len(batch)), rows,
                        sum(p.numel() for p in params), sum(p.numel() for p in params if p.requires_grad))


def model_name(config: Config) -> str:
    """What the model is, in a few words: ``mlp``, ``cnn``, ``model net.py:ResMLP``."""
    return f"model {config.model.path}" if config.model.kind == "file" else config.model.kind


def planned_summary(config: Config) -> ModelSummary:
    """The summary of a config's model before any run (``models.planned_model``: the catalog's
    models on the meta device, a model of your own for real with the random state put back), on
    a batch of zeros shaped as the task's inputs."""
    from tui_trainer.engine.models import planned_model

    model, features = planned_model(config)
    device = next(iter(model.parameters()), torch.empty(0)).device
    return summarize(model, torch.zeros(SUMMARY_BATCH, features, device=device), model_name(config))


def _shape(value, batch: int) -> str:
    """A tensor's shape with its batch dimension as ``B``; tuples and lists of tensors each."""
    if isinstance(value, torch.Tensor):
        dims = [str(d) for d in value.shape]
        if dims and value.shape[0] == batch:
            dims[0] = "B"
        return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(_shape(v, batch) for v in value) + "]"
    return type(value).__name__
