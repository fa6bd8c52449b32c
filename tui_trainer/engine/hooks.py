"""What hooks see (read-only contexts at named points of the loop) and the loop's own rules as
hooks: early stopping, the target loss and the gradient norm."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch

from tui_trainer.engine import rules
from tui_trainer.engine.events import Callback, EpochMetrics, StopRun
from tui_trainer.engine.state import RunState


@dataclass(frozen=True)
class StepContext:
    """A step as hooks see it: the model, its optimizer, the batch, the output, the loss (a
    tensor: reading it waits for the device), the total gradient norm before clipping (a tensor,
    None without clipping) and the run state."""

    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    inputs: torch.Tensor
    targets: torch.Tensor
    output: torch.Tensor
    loss: torch.Tensor
    grad_norm: torch.Tensor | None
    epoch: int
    step: int
    state: RunState


@dataclass(frozen=True)
class EpochContext:
    """An epoch's end as hooks see it: the model, its optimizer, the epoch's metrics, the loss the
    stopping rules watch (validation loss, or train loss without a validation split) and its
    name, and the run state."""

    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    metrics: EpochMetrics
    monitored: float
    monitored_name: str
    state: RunState


class GradientNorm(Callback):
    """Reports ``grad_norm``: the total gradient norm of the trainable parameters at each report
    (before clipping, as clip_grad_norm_ measures it)."""

    def at_report(self, context: StepContext) -> dict[str, float]:
        if context.grad_norm is not None:
            return {"grad_norm": float(context.grad_norm)}
        grads = [p.grad for p in context.model.parameters() if p.grad is not None]
        return {"grad_norm": float(torch.nn.utils.get_total_norm(grads)) if grads else 0.0}


class TargetLoss(Callback):
    """Ends the run once the monitored loss is at or below ``target`` (``rules.target_reached``)."""

    def __init__(self, target: float) -> None:
        self.target = target

    def at_epoch_end(self, context: EpochContext) -> StopRun | None:
        said = rules.target_reached(context.metrics.epoch, context.monitored_name, context.monitored, self.target)
        return None if said is None else StopRun("target-reached", said)


class EarlyStopping(rules.EarlyStop, Callback):
    """Ends the run when the monitored loss has not improved by more than ``min_delta`` for
    ``patience`` epochs in a row (``rules.EarlyStop``)."""

    def at_epoch_end(self, context: EpochContext) -> StopRun | None:
        said = self.check(context.metrics.epoch, context.monitored_name, context.monitored)
        return None if said is None else StopRun("early-stopped", said)

    def state_dict(self) -> dict[str, Any]:
        return {"best": list(self.best) if self.best is not None else None,
                "stale_epochs": self.stale_epochs}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best = tuple(state["best"]) if state["best"] is not None else None
        self.stale_epochs = state["stale_epochs"]


#: A layer whose gradient norm is below this vanishes; above EXPLODING it explodes.
VANISHING, EXPLODING = 1e-7, 1e3
#: Per-layer figures are measured at the first epoch's end, then at the end of each epoch in which
#: the run passed another multiple of this many optimizer steps (deterministic, and cheap), and
#: at the end of the run's last epoch.
LAYER_STATS_EVERY = 200
#: Samples the dead-ReLU share is measured on.
DEAD_RELU_SAMPLES = 512


#: The layers whose figures are measured.
MEASURED_LAYERS = (torch.nn.Linear, torch.nn.Conv2d)


def measured_layers(model: torch.nn.Module) -> dict[str, torch.nn.Module]:
    """Every nn.Linear and nn.Conv2d the model holds, by its path in the model (``0`` in a
    Sequential, ``blocks.1.fc`` in a model of your own), in the model's order."""
    return {path: module for path, module in model.named_modules() if isinstance(module, MEASURED_LAYERS)}


def layer_label(path: str, layer: torch.nn.Module) -> str:
    """``0: Linear(4→16)``, ``1: Conv2d(1→16, 3x3)``, ``blocks.0.fc: Linear(64→64)``."""
    if isinstance(layer, torch.nn.Conv2d):
        return f"{path}: Conv2d({layer.in_channels}→{layer.out_channels}, {'x'.join(map(str, layer.kernel_size))})"
    return f"{path}: Linear({layer.in_features}→{layer.out_features})"


class LayerStats(Callback):
    """Gradient flow per layer, measured at epoch ends (the first, then about every
    LAYER_STATS_EVERY steps, and the run's last, so that its last epoch describes the model it
    ends with): each nn.Linear and nn.Conv2d layer's gradient norm and weight norm after the
    epoch's last step, the update-to-weight ratio ||W_after - W_before|| / ||W_before|| of one
    optimizer step (the next step after a measurement, through torch's optimizer step hooks, so
    other steps cost nothing), and for a layer followed by a ReLU (in an nn.Sequential) the share
    of its units (features, or channels) that are zero on every one of up to
    DEAD_RELU_SAMPLES training samples. Layers whose gradient vanishes or explodes are marked."""

    def __init__(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer, inputs: torch.Tensor) -> None:
        self.inputs = inputs[:DEAD_RELU_SAMPLES]
        self.ratios: dict[str, float] = {}
        self.measured_at = -1  # the global step of the last measurement
        self._hooks: list = []
        self._before: dict[str, torch.Tensor] = {}
        self._arm(model, optimizer)  # the run's first step is measured

    def at_epoch_end(self, context: EpochContext) -> None:
        step = context.state.global_step
        if self.measured_at >= 0 and step // LAYER_STATS_EVERY == self.measured_at // LAYER_STATS_EVERY:
            return None
        self._record(context)
        self._arm(context.model, context.optimizer)
        return None

    def at_last_epoch_end(self, context: EpochContext) -> None:
        # Not armed again: a resumed run measures its steps as one run that never stopped would.
        if self.measured_at != context.state.global_step:
            self._record(context)

    def _record(self, context: EpochContext) -> None:
        self.measured_at = context.state.global_step
        context.metrics.layers = self.measure(context.model)

    def state_dict(self) -> dict[str, Any]:
        return {"ratios": dict(self.ratios), "measured_at": self.measured_at, "armed": bool(self._hooks)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.ratios = {str(k): v for k, v in state.get("ratios", {}).items()}
        self.measured_at = state.get("measured_at", -1)
        if not state.get("armed", True):
            self._disarm()

    def measure(self, model: torch.nn.Module) -> list[dict]:
        """The figures of each nn.Linear and nn.Conv2d layer of ``model`` now."""
        dead = self._dead_relu_shares(model)
        figures = []
        for path, layer in measured_layers(model).items():
            grads = [p.grad for p in layer.parameters() if p.grad is not None]
            grad = float(torch.nn.utils.get_total_norm(grads)) if grads else None
            weight = float(layer.weight.detach().norm())
            flag = None
            if grad is not None and grad < VANISHING:
                flag = "vanishing"
            elif grad is not None and (grad > EXPLODING or not math.isfinite(grad)):
                flag = "exploding"
            figures.append({
                "layer": int(path) if path.isdigit() else path, "name": layer_label(path, layer),
                "grad_norm": _finite(grad), "weight_norm": _finite(weight),
                "update_ratio": _finite(self.ratios.get(path)), "dead_relu": dead.get(path), "flag": flag})
        return figures

    def _dead_relu_shares(self, model: torch.nn.Module) -> dict[str, float]:
        """For each measured layer followed by a ReLU in an nn.Sequential: the share of its units
        zero after the ReLU on every sample (a channel: at every place too)."""
        paths = {id(layer): path for path, layer in measured_layers(model).items()}
        followers: dict[int, list[str]] = {}  # a ReLU's id -> the layers it follows, in order
        relus: dict[int, torch.nn.Module] = {}
        for container in model.modules():
            if isinstance(container, torch.nn.Sequential):
                children = list(container)
                for layer, after in zip(children, children[1:]):
                    if id(layer) in paths and isinstance(after, torch.nn.ReLU):
                        followers.setdefault(id(after), []).append(paths[id(layer)])
                        relus[id(after)] = after
        if not followers:
            return {}
        shares: dict[str, float] = {}
        pending = {key: list(value) for key, value in followers.items()}

        def record(module, _inputs, output) -> None:
            waiting = pending.get(id(module))
            if waiting:
                units = output.detach().transpose(0, 1).reshape(output.shape[1], -1)
                shares[waiting.pop(0)] = float((units <= 0).all(dim=1).float().mean())

        handles = [relu.register_forward_hook(record) for relu in relus.values()]
        was_training = model.training
        model.eval()
        try:
            with torch.no_grad():
                model(self.inputs)
        except Exception:  # a model that cannot run on these rows alone: no shares
            shares = {}
        finally:
            model.train(was_training)
            for handle in handles:
                handle.remove()
        return shares

    def _arm(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> None:
        """Measure the update-to-weight ratio of the next optimizer step, then unhook."""
        layers = measured_layers(model)

        def before(*_) -> None:
            self._before = {path: layer.weight.detach().clone() for path, layer in layers.items()}

        def after(*_) -> None:
            for path, layer in layers.items():
                old = self._before[path]
                scale = float(old.norm())
                self.ratios[path] = float((layer.weight.detach() - old).norm()) / scale if scale else math.inf
            self._disarm()

        self._disarm()
        self._hooks = [optimizer.register_step_pre_hook(before), optimizer.register_step_post_hook(after)]

    def _disarm(self) -> None:
        for handle in self._hooks:
            handle.remove()
        self._hooks = []


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None
