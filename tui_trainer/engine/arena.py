"""The optimizer arena in the engine: an arena task's data (none: empty rows, one per step of an
epoch) and the hook that records the point's path."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Callable

import torch

from tui_trainer.catalog.arena import SURFACES, nearest_minimum
from tui_trainer.config import Config
from tui_trainer.engine import surfaces
from tui_trainer.engine.data import Dataset
from tui_trainer.engine.events import Callback
from tui_trainer.engine.hooks import EpochContext, StepContext
from tui_trainer.errors import UserFacingError

if TYPE_CHECKING:
    from tui_trainer.engine.loop import Trainer


def arena_dataset(config: Config) -> Dataset:
    """An arena task's "data": ``task.steps_per_epoch`` empty rows, so that an epoch is that many
    steps of batch size 1; no validation set, no targets to learn."""
    steps = config.task.params["steps_per_epoch"]
    return Dataset(torch.zeros(steps, 0), torch.zeros(steps), torch.zeros(0, 0), torch.zeros(0), None)


def script_data(options: dict[str, Any]) -> str:
    """An exported script's lines making the same empty rows."""
    steps = options["steps_per_epoch"]
    return (f"# An arena task has no data: {steps} empty rows make an epoch of {steps} steps of batch size 1.\n"
            f"x_train, y_train = torch.zeros({steps}, 0), torch.zeros({steps})\n"
            "x_val, y_val = torch.zeros(0, 0), torch.zeros(0)")


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


class ArenaPath(Callback):
    """An arena run's path: the point after every k-th step, k = ``stride(step)`` as the run's
    step curve strides (every step when the run has at most MAX_STEP_POINTS steps; the start is
    step 0), each epoch's share of it in that
    epoch's metrics (``path``), the point now in each report's figures (``x``, ``y``,
    ``distance`` to the nearest known minimum), and the first step after which the point was
    within the task's tolerance of a known minimum."""

    def __init__(self, model: torch.nn.Module, config: Config, stride: Callable[[int], int]) -> None:
        self.surface = SURFACES[config.task.name]
        self.options = config.task.params
        self.tolerance = self.options["tolerance"]
        self.stride = stride
        start = model.point.detach().tolist()
        with torch.no_grad():
            value = float(model(model.point.new_zeros(1, 0))[0])
        if not math.isfinite(value):
            settings = ", ".join(f"{k}={v:g}" for k, v in self.surface.function_params(self.options).items())
            raise UserFacingError(f"task.start: {config.task.name}({start[0]:g}, {start[1]:g}) = {value} in "
                                  f"float32{' with ' + settings if settings else ''}: no step can start "
                                  "there; choose a start (and settings) where the function is finite")
        self.path: list[list[float | None]] = [[0, *start]]
        self.given = 0  # points of the path already given to an epoch
        self.pending: list[torch.Tensor] = []
        self.current: tuple[float, float] = (start[0], start[1])
        self.current_step = 0
        self.reached: int | None = 0 if self._distance(*start) <= self.tolerance else None

    def _distance(self, x: float, y: float) -> float:
        return nearest_minimum(self.surface, self.options, x, y)[1]

    def after_step(self, context: StepContext) -> None:
        self.pending.append(context.model.point.detach().clone())

    def flush(self, global_step: int) -> None:
        """Read the points of the steps since the last flush (``global_step``: the last one's)."""
        if not self.pending:
            return
        values = torch.stack(self.pending).tolist()
        self.pending.clear()
        first = global_step - len(values) + 1
        for step, (x, y) in enumerate(values, start=first):
            if self.reached is None and self._distance(x, y) <= self.tolerance:
                self.reached = step
            if step % self.stride(step) == 0:
                self.path.append([step, _finite(x), _finite(y)])
        self.current, self.current_step = (values[-1][0], values[-1][1]), global_step

    def at_report(self, context: StepContext) -> dict[str, float]:
        self.flush(context.state.global_step)
        x, y = self.current
        return {"x": x, "y": y, "distance": self._distance(x, y),
                "reached_step": math.nan if self.reached is None else float(self.reached)}

    def at_epoch_end(self, context: EpochContext) -> None:
        self.flush(context.state.global_step)
        context.metrics.path = self.path[self.given:]
        self.given = len(self.path)

    def finish(self, global_step: int) -> list[list[float | None]]:
        """The whole path at the run's end, its last step included."""
        self.flush(global_step)
        if self.path[-1][0] != self.current_step:
            self.path.append([self.current_step, *map(_finite, self.current)])
        return list(self.path)

    def summary(self, value: float | None) -> dict[str, Any]:
        """Where the point ended: its place and ``value``, the nearest known minimum and the
        distance to it, the tolerance and the first step within it (None: never)."""
        x, y = self.current
        minimum, distance = nearest_minimum(self.surface, self.options, x, y)
        return {"x": _finite(x), "y": _finite(y), "value": value, "start": list(self.options["start"]),
                "nearest_minimum": list(minimum), "distance": _finite(distance),
                "tolerance": self.tolerance, "reached_step": self.reached}

    def state_dict(self) -> dict[str, Any]:
        return {"path": self.path, "given": self.given, "current": list(self.current),
                "current_step": self.current_step, "reached": self.reached}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state:
            self.path, self.given = state["path"], state["given"]
            self.current, self.current_step = tuple(state["current"]), state["current_step"]
            self.reached = state["reached"]


def arena_path(trainer: Trainer) -> ArenaPath:
    """The hook of the arena view (``catalog.views``) for ``trainer``'s run: the point's path."""
    return ArenaPath(trainer.model, trainer.config, trainer.curve.stride_at)


def surface_grid(config: Config, columns: int, rows: int,
                 domain: tuple[tuple[float, float], tuple[float, float]]) -> list[list[float]]:
    """The task's function on a ``rows`` x ``columns`` grid over ``domain`` (row 0 at the top,
    the highest y), as nested lists: what a picture of the surface colors."""
    surface = SURFACES[config.task.name]
    (x_low, x_high), (y_low, y_high) = domain
    xs = torch.linspace(x_low, x_high, columns, dtype=torch.float64)
    ys = torch.linspace(y_high, y_low, rows, dtype=torch.float64)
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")
    function = getattr(surfaces, surface.name)
    with torch.no_grad():
        values = function(grid_x, grid_y, **surface.function_params(config.task.params))
    return values.tolist()

