"""What a run's pictures show, as plain data: the decision boundary of a classifier of 2-D points
(the model's predicted class and its probability at every cell of a grid over the plane, the
samples on top) and the fit of a regression on one input (the data and the model's curve).

``ModelView`` is the hook that makes them: at epoch ends, for a live view that asked for a grid
size (``control.ViewRequest``, set from another thread) and took the last picture, at most once
every VIEW_GAP seconds; at the run's end, a last one for the view, and one at FINAL_GRID written
to the run folder's VIEW_FILE for ``export-plot``.
Pictures are made under ``torch.no_grad()`` and ``model.eval()``, with the model's mode put back,
and draw no random numbers, so a run trains the same with a view or without.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

import torch

from tui_trainer.config import Config
from tui_trainer.engine.control import ViewRequest
from tui_trainer.engine.data import Dataset
from tui_trainer.engine.events import Callback, RunEnded, RunStarted, finite_or_none
from tui_trainer.engine.hooks import EpochContext
from tui_trainer.engine.plane import expand_features
from tui_trainer.engine.rundir import VIEW_FILE
from tui_trainer.errors import UserFacingError
from tui_trainer.outputs import write_text
from tui_trainer.pictures import SHADE_STEPS

#: A live view gets a new picture at most this often (seconds of wall time), and at most once
#: per epoch: a few per second, as often as the app redraws.
VIEW_GAP = 0.25
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


Frame = BoundaryFrame | FitFrame


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


class ModelView(Callback):
    """Makes a run's picture (``kind``: ``boundary`` or ``fit``) of ``model`` on ``data``: for a
    live view that asked through ``request`` (and took the last picture), at epoch ends at most
    once every ``gap`` seconds; at the run's end, a last one for the view and the FINAL_GRID
    picture in the run folder. ``line`` gives the learned line of a task that has a true one."""

    def __init__(self, kind: str, model: torch.nn.Module, data: Dataset, config: Config, head: str,
                 request: ViewRequest | None = None, line: Callable[[], dict[str, float] | None] | None = None,
                 gap: float = VIEW_GAP) -> None:
        self.kind, self.model, self.head = kind, model, head
        self.request = request
        self.line = line or (lambda: None)
        self.gap = gap
        self.classes = data.classes or 2
        self.run_dir: Path | None = None
        self.last = -math.inf
        self.broken = False  # a picture failed once: no more (a view never ends a run)
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

    def at_epoch_end(self, context: EpochContext) -> None:
        size = self.request.wanted if self.request is not None else None
        now = time.monotonic()
        if size is None or now - self.last < self.gap or self.broken:
            return None
        self.last = now
        self._post(context.metrics.epoch, size)
        return None

    def on_run_end(self, event: RunEnded) -> None:
        epoch = event.result.epochs_run
        size = self.request.size if self.request is not None else None
        if size is not None:
            self._post(epoch, size)
        if self.run_dir is not None and not self.broken:
            frame = self._safe_frame(epoch, FINAL_GRID)
            if frame is not None:
                try:
                    write_text(self.run_dir / VIEW_FILE, json.dumps(frame.as_json()), VIEW_FILE)
                except UserFacingError as exc:  # a full disk: the run's other files matter more
                    event.result.message += f"; {exc}"

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

    def frame(self, epoch: int, cols: int, rows: int) -> Frame:
        """The picture now: the boundary on a ``cols`` x ``rows`` grid, or the curve at ``cols``
        points."""
        model = self.model
        was_training = model.training
        device = next(model.parameters()).device
        model.eval()
        try:
            with torch.no_grad():
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
        finally:
            model.train(was_training)


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
