"""What a run's pictures show, as plain data: the decision boundary of a classifier of 2-D points
(the model's predicted class and its probability at every cell of a grid over the plane, the
samples on top), the fit of a regression on one input (the data and the model's curve), and an
MLP drawn neuron by neuron (its weights, and each neuron's picture over the plane or its mean
activation).

``ModelView`` (boundary, fit) and ``NetworkView`` (network) are the hooks that make them, for a
live view that asked for a size (``control.ViewRequest``, set from another thread) and took the
last picture: at epoch ends, at most once every VIEW_GAP seconds; while a person follows the run
step by step (paced, paused or stepping), at every epoch end and report, up to once every
WATCHED_VIEW_GAP seconds; at the run's end, a last one for the view. ``ModelView`` also writes
one at FINAL_GRID to the run folder's VIEW_FILE for ``export-plot``.
Pictures are made under ``torch.no_grad()`` and ``model.eval()``, with the model's mode put back,
and draw no random numbers, so a run trains the same with a view or without.
"""

from __future__ import annotations

import json
import math
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

import torch

from tui_trainer.config import Config
from tui_trainer.engine.control import ViewRequest
from tui_trainer.engine.data import Dataset
from tui_trainer.engine.events import Callback, RunEnded, RunStarted, finite_or_none
from tui_trainer.engine.hooks import DEAD_RELU_SAMPLES, EpochContext, StepContext
from tui_trainer.engine.plane import expand_features
from tui_trainer.engine.rundir import VIEW_FILE
from tui_trainer.engine.state import RunState
from tui_trainer.errors import UserFacingError
from tui_trainer.outputs import write_text
from tui_trainer.pictures import SHADE_STEPS

if TYPE_CHECKING:
    from tui_trainer.engine.loop import Trainer

#: A live view gets a new picture at most this often (seconds of wall time), and at most once
#: per epoch: a few per second, as often as the app redraws.
VIEW_GAP = 0.25
#: While a person follows a run step by step, a live view gets a picture at every epoch end and
#: report, at most this often: about 30 a second.
WATCHED_VIEW_GAP = 1 / 30
#: The most neurons of a layer a network picture holds (the first ones; each column says how
#: many its layer has).
MAX_NEURONS = 32
#: The picture a run leaves in its folder: (columns, rows) of the boundary's grid, or the number
#: of points on the fitted curve (columns).
FINAL_GRID = (100, 100)
#: The plane's margin around the samples, as a share of their span.
MARGIN = 0.08
#: The most samples a picture shows (the first ones of each split).
MAX_POINTS = 2000


@dataclass(frozen=True)
class Plane:
    """The 2-D points of a task's samples (training and validation, the points a boundary view
    draws) and the function that makes the model's inputs from points of the plane."""

    train: torch.Tensor
    val: torch.Tensor
    inputs: Callable[[torch.Tensor], torch.Tensor]


def plane_of(data: Dataset, config: Config) -> Plane:
    """The one place that says which points a boundary view draws and what the model takes for
    a point: a playground task's points with their chosen input features (``task.features``),
    else the task's two inputs themselves."""
    if data.points_train is not None:
        names = config.task.params["features"]
        return Plane(data.points_train, data.points_val, lambda points: expand_features(points, names))
    return Plane(data.x_train, data.x_val, lambda points: points)


@dataclass
class Samples:
    """Samples as a picture draws them: coordinates and class (or target) per split."""

    train_x: list[float]
    train_y: list[float]
    train_label: list[int]
    val_x: list[float]
    val_y: list[float]
    val_label: list[int]

    def rounded(self) -> dict[str, list]:
        """Plain data, coordinates to 5 significant digits (a picture needs no more)."""
        return {k: [float(f"{v:.5g}") for v in values] if k.endswith(("_x", "_y")) else values
                for k, values in asdict(self).items()}


@dataclass
class BoundaryFrame:
    """A classifier's view of the plane: over ``extent`` (x low, x high, y low, y high), a grid of
    ``cols`` x ``rows`` cells (row 0 at the top, y high), each cell's predicted class (-1 where
    the output is not finite), that class's probability and its shade (``shade_steps``); the
    samples on top."""

    kind = "boundary"
    epoch: int
    extent: tuple[float, float, float, float]
    cols: int
    rows: int
    classes: int
    predicted: list[int]
    confidence: list[float]
    steps: list[int]
    samples: Samples

    def as_json(self) -> dict[str, Any]:
        """Plain JSON data (the run folder's VIEW_FILE); non-finite numbers become null."""
        return {"kind": self.kind, **asdict(self), "samples": self.samples.rounded(),
                "confidence": [finite_or_none(round(c, 3)) for c in self.confidence]}


@dataclass
class FitFrame:
    """A regression's fit on one input: the model's curve (``xs``, ``ys``), the samples (their
    label lists unused), and for a task with a true line the learned weight and bias."""

    kind = "fit"
    epoch: int
    xs: list[float]
    ys: list[float]
    samples: Samples
    parameters: dict[str, float] | None = None

    def as_json(self) -> dict[str, Any]:
        """Plain JSON data (the run folder's VIEW_FILE); non-finite numbers become null."""
        parameters = self.parameters and {k: finite_or_none(v) for k, v in self.parameters.items()}
        return {"kind": self.kind, **asdict(self), "samples": self.samples.rounded(),
                "ys": [finite_or_none(y) for y in self.ys], "parameters": parameters}


@dataclass
class NeuronColumn:
    """One column of neurons of a network picture: the inputs, a hidden layer (its values after
    the activation) or the output (the model's output as the loss reads it: logits, a
    probability, log-probabilities or values). It holds the layer's first MAX_NEURONS neurons of
    ``size``. ``labels``: the inputs' feature names (the output's class names, when the data
    names them; else None). ``mean``: each neuron's mean value on the first DEAD_RELU_SAMPLES
    training samples; ``dead``: whether a hidden neuron is zero on every one of them (a dead
    ReLU unit). For a task on 2-D points, ``thumbnails`` holds each neuron's value at every cell
    of the frame's grid (row 0 at the top, as a boundary's cells) and ``scale`` each
    thumbnail's largest finite absolute value (0 when it has none); None for other tasks."""

    name: str
    size: int
    activation: str | None
    labels: list[str] | None
    mean: list[float]
    dead: list[bool]
    thumbnails: list[list[float]] | None = None
    scale: list[float] | None = None


@dataclass
class NetworkFrame:
    """An MLP drawn neuron by neuron at ``epoch`` (after optimizer step ``step``): its columns
    (inputs, each hidden layer, the output) and between each pair the links, ``weights[i][o][j]``
    from neuron j of column i to neuron o of column i + 1 (nn.Linear's ``weight[o, j]``: its sign
    the link's color, its magnitude over ``weight_scale``, the largest shown, its intensity),
    with ``biases[i]`` of column i + 1's neurons. For a task on 2-D points the thumbnails cover
    ``extent`` (as BoundaryFrame's) on a grid of ``cols`` x ``rows`` cells (0 x 0 for others)."""

    kind = "network"
    epoch: int
    step: int
    columns: list[NeuronColumn]
    weights: list[list[list[float]]]
    biases: list[list[float]]
    weight_scale: float
    extent: tuple[float, float, float, float] | None
    cols: int
    rows: int


Frame = BoundaryFrame | FitFrame | NetworkFrame


def frame_from_json(data: dict[str, Any]) -> Frame:
    """A frame read back from a run folder's VIEW_FILE (ValueError when it is not one)."""
    try:
        samples = Samples(**data["samples"])
        if data["kind"] == "boundary":
            frame = BoundaryFrame(int(data["epoch"]), tuple(data["extent"]), int(data["cols"]),
                                  int(data["rows"]), int(data["classes"]), list(data["predicted"]),
                                  [math.nan if c is None else c for c in data["confidence"]],
                                  list(data["steps"]), samples)
            cells = frame.cols * frame.rows
            if not len(frame.predicted) == len(frame.confidence) == len(frame.steps) == cells:
                raise ValueError("the grid's size does not match its cells")
            return frame
        if data["kind"] == "fit":
            return FitFrame(int(data["epoch"]), list(data["xs"]),
                            [math.nan if y is None else y for y in data["ys"]], samples, data.get("parameters"))
    except (KeyError, TypeError) as exc:
        raise ValueError(f"not a picture: {exc}") from None
    raise ValueError(f"unknown picture kind {data.get('kind')!r}")


def read_view(run_dir: Path) -> Frame | None:
    """The picture a run left in its folder (None when it left none); UserFacingError naming the
    file when it is damaged."""
    path = Path(run_dir) / VIEW_FILE
    if not path.is_file():
        return None
    try:
        return frame_from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, RecursionError) as exc:
        raise UserFacingError(f"{path}: not a picture tui-trainer wrote: {exc}") from None


def class_probabilities(out: torch.Tensor, head: str) -> torch.Tensor:
    """(N, classes) class probabilities of a classification head's output, as its loss reads it."""
    if head == "logits":
        return torch.softmax(out.float(), dim=1)
    if head == "log-probs":
        return out.float().exp()
    positive = out.float()[:, :1] if head == "probability" else torch.sigmoid(out.float()[:, :1])
    return torch.cat([1 - positive, positive], dim=1)


def shade_steps(confidence: torch.Tensor, classes: int) -> torch.Tensor:
    """How sure each cell is, from the probability of its predicted class (at least one in
    ``classes``): in steps from 0 (every class equally likely) to SHADE_STEPS (certain); 0 where
    it is not finite."""
    chance = 1 / max(2, classes)
    steps = ((confidence - chance) * (SHADE_STEPS / (1 - chance)) + 0.5).floor().clamp(0, SHADE_STEPS)
    return steps.nan_to_num(0.0).long()


def plane_extent(points: torch.Tensor, cols: int, rows: int) -> tuple[float, float, float, float]:
    """The part of the plane a grid of ``cols`` x ``rows`` square cells shows: the samples with a
    margin, centred, the shorter side widened so cells stay square."""
    low, high = points.min(dim=0).values.tolist(), points.max(dim=0).values.tolist()
    half = max(high[0] - low[0], high[1] - low[1], 1e-6) * (0.5 + MARGIN)
    cx, cy = (low[0] + high[0]) / 2, (low[1] + high[1]) / 2
    side = min(cols, rows)
    hx, hy = half * cols / side, half * rows / side
    return (cx - hx, cx + hx, cy - hy, cy + hy)


def grid_points(extent: tuple[float, float, float, float], cols: int, rows: int) -> torch.Tensor:
    """(rows * cols, 2) centres of a grid's cells over ``extent``, row by row from the top."""
    x_low, x_high, y_low, y_high = extent
    xs = x_low + (torch.arange(cols, dtype=torch.float64) + 0.5) * (x_high - x_low) / cols
    ys = y_high - (torch.arange(rows, dtype=torch.float64) + 0.5) * (y_high - y_low) / rows
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([grid_x.flatten(), grid_y.flatten()], dim=1).float()


class LiveView(Callback):
    """What the picture hooks share: for a live view that asked through ``request`` (and took the
    last picture), a picture at epoch ends at most once every ``gap`` seconds, and while
    ``watched()`` says a person follows the run step by step, at every epoch end and report up to
    once every WATCHED_VIEW_GAP seconds; at the run's end a last one. A picture that fails stops
    the view, never the run. Subclasses make the picture (``frame``)."""

    def __init__(self, request: ViewRequest | None, watched: Callable[[], bool] | None = None,
                 gap: float = VIEW_GAP) -> None:
        self.request = request
        self.watched = watched or (lambda: False)
        self.gap = gap
        self.ready = -math.inf  # when the next picture may come
        self.broken = False  # a picture failed once: no more (a view never ends a run)

    def frame(self, epoch: int, cols: int, rows: int) -> Frame:
        """The picture now, ``cols`` x ``rows`` in size."""
        raise NotImplementedError

    def at_report(self, context: StepContext) -> None:
        if self.watched():
            self._offer(context.epoch)
        return None

    def at_epoch_end(self, context: EpochContext) -> None:
        self._offer(context.metrics.epoch)
        return None

    def on_run_end(self, event: RunEnded) -> None:
        size = self.request.size if self.request is not None else None
        if size is not None and not self.broken:
            self._post(event.result.epochs_run, size)

    def _offer(self, epoch: int) -> None:
        size = self.request.wanted if self.request is not None else None
        if size is None or self.broken:
            return
        # While watched, on average at most one picture a gap, but one may come early after a
        # late one: on a busy machine a paced run's epochs end unevenly (12 ms, then 88 ms apart
        # at 20 a second), and each epoch still gets its picture. Else one a gap at most.
        now = time.monotonic()
        if now < self.ready:
            return
        watched = self.watched()
        gap = WATCHED_VIEW_GAP if watched else self.gap
        self.ready = max(self.ready, now - gap if watched else now) + gap
        self._post(epoch, size)

    def _post(self, epoch: int, size: tuple[int, int]) -> None:
        frame = self._safe_frame(epoch, size)
        if frame is not None:
            self.request.post(frame)

    def _safe_frame(self, epoch: int, size: tuple[int, int]) -> Frame | None:
        try:
            return self.frame(epoch, *size)
        except Exception:  # e.g. a model that cannot take the grid: the view stops, the run goes on
            self.broken = True
            return None


class ModelView(LiveView):
    """Makes a run's picture (``kind``: ``boundary`` or ``fit``) of ``model`` on ``data`` for a
    live view (``LiveView``), and at the run's end the FINAL_GRID picture in the run folder.
    ``line`` gives the learned line of a task that has a true one."""

    def __init__(self, kind: str, model: torch.nn.Module, data: Dataset, config: Config, head: str,
                 request: ViewRequest | None = None, watched: Callable[[], bool] | None = None,
                 line: Callable[[], dict[str, float] | None] | None = None, gap: float = VIEW_GAP) -> None:
        super().__init__(request, watched, gap)
        self.kind, self.model, self.head = kind, model, head
        self.line = line or (lambda: None)
        self.classes = data.classes or 2
        self.run_dir: Path | None = None
        if kind == "boundary":
            self.plane = plane_of(data, config)
            self.points = torch.cat([self.plane.train, self.plane.val]).float()
            self.samples = _samples(self.plane.train, data.y_train, self.plane.val, data.y_val)
        else:
            self.samples = fit_samples(data)
            inputs = torch.cat([data.x_train[:, 0], data.x_val[:, 0]])
            self.x_range = _padded(float(inputs.min()), float(inputs.max()))

    def on_run_start(self, event: RunStarted) -> None:
        self.run_dir = event.run_dir

    def on_run_end(self, event: RunEnded) -> None:
        super().on_run_end(event)
        if self.run_dir is not None and not self.broken:
            frame = self._safe_frame(event.result.epochs_run, FINAL_GRID)
            if frame is not None:
                try:
                    write_text(self.run_dir / VIEW_FILE, json.dumps(frame.as_json()), VIEW_FILE)
                except UserFacingError as exc:  # a full disk: the run's other files matter more
                    event.result.message += f"; {exc}"

    def frame(self, epoch: int, cols: int, rows: int) -> Frame:
        """The picture now: the boundary on a ``cols`` x ``rows`` grid, or the curve at ``cols``
        points."""
        model = self.model
        with looked_at(model) as device:
            if self.kind == "boundary":
                extent = plane_extent(self.points, cols, rows)
                points = grid_points(extent, cols, rows).to(device)
                probabilities = class_probabilities(model(self.plane.inputs(points)), self.head)
                confidence, predicted = probabilities.max(dim=1)
                predicted = torch.where(probabilities.isfinite().all(dim=1), predicted, -1)
                return BoundaryFrame(epoch, extent, cols, rows, self.classes, predicted.tolist(),
                                     confidence.tolist(), shade_steps(confidence, self.classes).tolist(),
                                     self.samples)
            xs = torch.linspace(*self.x_range, cols, device=device).unsqueeze(1)
            ys = model(xs).float()[:, 0]
            return FitFrame(epoch, xs[:, 0].tolist(), ys.tolist(), self.samples, self.line())


class NetworkView(LiveView):
    """Makes a live view's picture of an MLP ``model`` neuron by neuron (``NetworkFrame``; the
    view's size is its thumbnails' grid), measured on ``data``: the first DEAD_RELU_SAMPLES
    training samples, and for a task on 2-D points (``plane_of``) a grid over the plane.
    ``head`` names the output as the loss reads it; ``state`` is the run's (its step count)."""

    def __init__(self, model: torch.nn.Sequential, data: Dataset, config: Config, head: str,
                 state: RunState, request: ViewRequest | None = None,
                 watched: Callable[[], bool] | None = None, gap: float = VIEW_GAP) -> None:
        super().__init__(request, watched, gap)
        self.model, self.state = model, state
        self.samples = data.x_train[:DEAD_RELU_SAMPLES]
        self.linear = [i for i, layer in enumerate(model) if isinstance(layer, torch.nn.Linear)]
        self.activation = config.model.activation
        self.head = head
        self.class_names = data.class_names
        self.plane = plane_of(data, config) if data.points_train is not None or data.features == 2 else None
        if self.plane is not None:
            self.points = torch.cat([self.plane.train, self.plane.val]).float()
        self.input_labels = (list(config.task.params["features"]) if data.points_train is not None
                             else [f"x{i + 1}" for i in range(data.features)])

    def columns_of(self, inputs: torch.Tensor) -> list[torch.Tensor]:
        """The values of every column for ``inputs`` (N, features): the inputs, each hidden layer
        after its activation (and dropout, which eval mode turns off), and the model's output."""
        ends = {index - 1 for index in self.linear[1:]} | {len(self.model) - 1}
        columns, x = [inputs], inputs
        for index, layer in enumerate(self.model):
            x = layer(x)
            if index in ends:
                columns.append(x)
        return columns

    def frame(self, epoch: int, cols: int, rows: int) -> NetworkFrame:
        """The network now, its thumbnails on a ``cols`` x ``rows`` grid (2-D tasks)."""
        model = self.model
        with looked_at(model) as device:
            means = self.columns_of(self.samples)
            grid = extent = None
            if self.plane is not None:
                extent = plane_extent(self.points, cols, rows)
                grid = self.columns_of(self.plane.inputs(grid_points(extent, cols, rows).to(device)))
            columns = [self._column(index, values, grid[index] if grid else None)
                       for index, values in enumerate(means)]
            layers = [model[index] for index in self.linear]
            weights = [layer.weight[:MAX_NEURONS, :MAX_NEURONS].float().cpu() for layer in layers]
            shown = [w.abs() for w in weights if w.numel()]
            scale = float(torch.stack([w.max() for w in shown]).max()) if shown else 0.0
            return NetworkFrame(epoch, self.state.global_step, columns, [w.tolist() for w in weights],
                                [layer.bias[:MAX_NEURONS].float().tolist() for layer in layers],
                                scale if math.isfinite(scale) else 0.0, extent,
                                cols if grid else 0, rows if grid else 0)

    def _column(self, index: int, values: torch.Tensor, grid: torch.Tensor | None) -> NeuronColumn:
        last = len(self.linear)
        size = values.shape[1]
        shown = values[:, :MAX_NEURONS].float()
        if index == 0:
            name, activation, labels = "inputs", None, self.input_labels[:MAX_NEURONS]
        elif index == last:
            name, activation = "output", self.head
            labels = self.class_names[:MAX_NEURONS] if self.class_names and size > 1 else None
        else:
            name, activation, labels = f"hidden {index}", self.activation, None
        hidden = 0 < index < last
        dead = (shown == 0).all(dim=0) if hidden else torch.zeros(shown.shape[1], dtype=torch.bool)
        column = NeuronColumn(name, size, activation, labels, shown.mean(dim=0).tolist(), dead.tolist())
        if grid is not None:
            cells = grid[:, :MAX_NEURONS].float().T  # (neurons, cells), the cells row by row
            finite = cells.nan_to_num(0.0, posinf=0.0, neginf=0.0).abs()
            column.thumbnails = cells.cpu().tolist()
            column.scale = finite.max(dim=1).values.tolist() if cells.shape[1] else [0.0] * len(cells)
        return column


@contextmanager
def looked_at(model: torch.nn.Module) -> Iterator[torch.device]:
    """The model in eval mode under ``torch.no_grad()`` (gives its device), its mode put back after:
    how every picture looks at a model without changing its run."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield next(model.parameters()).device
    finally:
        model.train(was_training)


def model_view(trainer: Trainer) -> ModelView:
    """The hook of a boundary or fit view (``catalog.views``) for ``trainer``'s run."""
    return ModelView(trainer.config.view, trainer.model, trainer.data, trainer.config, trainer.head,
                     trainer.view, trainer.watched, trainer.learned_line)


def network_view(trainer: Trainer) -> NetworkView | None:
    """The hook of the network view (``catalog.views``) for ``trainer``'s run of an MLP: only for
    a live view that asks for it (``Trainer(network=...)``); a run nobody watches draws none."""
    if trainer.network is None:
        return None
    return NetworkView(trainer.model, trainer.data, trainer.config, trainer.head, trainer.state,
                       trainer.network, trainer.watched)


def fit_samples(data: Dataset) -> Samples:
    """The samples of a regression on one input as a fit picture draws them: (x, y) per split."""
    return _samples(torch.cat([data.x_train[:, :1], data.y_train[:, :1]], dim=1), None,
                    torch.cat([data.x_val[:, :1], data.y_val[:, :1]], dim=1), None)


def _samples(train: torch.Tensor, train_labels: torch.Tensor | None, val: torch.Tensor,
             val_labels: torch.Tensor | None) -> Samples:
    def split(points: torch.Tensor, labels: torch.Tensor | None) -> tuple[list, list, list]:
        points = points[:MAX_POINTS].float().cpu()
        classes = [] if labels is None else labels[:MAX_POINTS].flatten().long().tolist()
        return points[:, 0].tolist(), points[:, 1].tolist(), classes

    return Samples(*split(train, train_labels), *split(val, val_labels))


def _padded(low: float, high: float) -> tuple[float, float]:
    pad = max(high - low, 1e-6) * MARGIN
    return low - pad, high + pad
