"""The optimizer arena: 2-D test functions whose "model" is one point that an optimizer moves.

Torch-free: each surface's formula lives once, in torch ops, in ``engine/surfaces.py``; this
catalog holds what the rest of the program needs to know about it (its options, its known minima,
where to draw it, the recipe that reaches a minimum).

An arena task has no data: every optimizer step evaluates the function at the point and steps
on its gradient. An epoch is ``task.steps_per_epoch`` such steps, so ``training.epochs`` times
``task.steps_per_epoch`` is the run's number of steps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

from tui_trainer.schema import Param

#: The task kind of the arena's functions (no classes, no targets: the loss is the function).
ARENA_KIND = "arena"
#: The loss of every arena task: the function's value at the point.
ARENA_LOSS = "surface"


@dataclass(frozen=True)
class SurfaceSpec:
    """A 2-D test function: ``params`` are its own settings (Rosenbrock's a and b), ``minima``
    gives its known minima for those settings, ``domain`` is ((x_low, x_high), (y_low, y_high)),
    the part of the plane its picture shows; ``start``, ``optimizer``, ``lr`` and ``epochs``
    make the recipe."""

    name: str
    description: str
    formula: str
    params: tuple[Param, ...]
    minima: Callable[[dict[str, Any]], list[tuple[float, float]]]
    domain: tuple[tuple[float, float], tuple[float, float]]
    start: tuple[float, float]
    lr: float
    epochs: int
    optimizer: str = "adam"

    def function_params(self, options: dict[str, Any]) -> dict[str, Any]:
        """The function's own settings among a task's options."""
        return {p.name: options[p.name] for p in self.params}


SURFACES: dict[str, SurfaceSpec] = {
    spec.name: spec
    for spec in (
        SurfaceSpec(
            "rosenbrock", "a long curved valley; the minimum (a, a^2) lies at its flat end",
            "(a - x)^2 + b (y - x^2)^2",
            (Param("a", "float", 1.0, "the minimum is at (a, a^2)"),
             Param("b", "float", 100.0, "steepness of the valley's walls", minimum=0.0, min_exclusive=True)),
            lambda p: [(p["a"], p["a"] ** 2)], ((-2.0, 2.0), (-1.0, 3.0)), (-1.5, 2.0), 0.1, 15),
        SurfaceSpec(
            "rastrigin", "a bowl covered in local minima; the global one is (0, 0)",
            "2a + x^2 - a cos(2 pi x) + y^2 - a cos(2 pi y)",
            (Param("a", "float", 10.0, "height of the ripples", minimum=0.0),),
            lambda p: [(0.0, 0.0)], ((-5.12, 5.12), (-5.12, 5.12)), (-2.0, 3.5), 0.1, 10),
        SurfaceSpec(
            "beale", "flat plateaus and steep ridges; the minimum is (3, 0.5)",
            "(1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2",
            (), lambda p: [(3.0, 0.5)], ((-4.5, 4.5), (-4.5, 4.5)), (1.0, 1.5), 0.05, 20),
        SurfaceSpec(
            "himmelblau", "four minima of value 0; which one a run finds depends on the path",
            "(x^2 + y - 11)^2 + (x + y^2 - 7)^2",
            (), lambda p: [(3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186),
                           (3.584428, -1.848126)],
            ((-5.0, 5.0), (-5.0, 5.0)), (0.0, 0.0), 0.1, 10),
        SurfaceSpec(
            "quadratic", "an ill-conditioned bowl: steep across, flat along; the minimum is (0, 0)",
            "(x^2 + condition y^2) / 2",
            (Param("condition", "float", 50.0, "the condition number: curvature across / along",
                   minimum=1.0),),
            lambda p: [(0.0, 0.0)], ((-2.0, 2.0), (-2.0, 2.0)), (-1.8, 1.0), 0.05, 10),
        SurfaceSpec(
            "saddle", "a saddle point at (0, 0) between the minima (0, 1) and (0, -1)",
            "x^2 + y^4 / 4 - y^2 / 2",
            (), lambda p: [(0.0, 1.0), (0.0, -1.0)], ((-2.0, 2.0), (-2.0, 2.0)), (-1.5, 0.001), 0.05, 10),
    )
}


#: The fields an arena task does not take (it has no network, no data, no classes); of the mistake
#: lab only skip_zero_grad applies (the point's gradients pile up).
UNUSED_FIELDS = ("loss.", "model.", "training.batch_size", "training.val_split", "training.test_split", "lab.")
TAKEN_LAB_FIELDS = ("lab.skip_zero_grad",)
#: What an arena task's description says about the fields the form hides for it.
HIDDEN_NOTE = "no data, no network: loss, model, batch size and the data splits are hidden"


def arena_options(spec: SurfaceSpec) -> tuple[Param, ...]:
    """The task options of an arena task: the start point, the steps per epoch, the tolerance
    the leaderboard measures with, then the function's own settings."""
    return (
        Param("start", "floats", list(spec.start), "the point's start (x, y)", length=2),
        Param("steps_per_epoch", "int", 100, "optimizer steps per epoch (no data: each step "
              "evaluates the function at the point); the run takes epochs x steps_per_epoch steps",
              minimum=1, maximum=1_000_000),
        Param("tolerance", "float", 0.05, "a run has reached a minimum once the point is this "
              "close to one (the leaderboard's steps to get there)", minimum=0.0, min_exclusive=True),
        *spec.params,
    )


def nearest_minimum(spec: SurfaceSpec, options: dict[str, Any], x: float, y: float) -> tuple[tuple[float, float], float]:
    """The known minimum nearest to (x, y) and the distance to it (inf for a point not finite)."""
    minima = spec.minima(spec.function_params(options))
    if not (math.isfinite(x) and math.isfinite(y)):
        return minima[0], math.inf
    best = min(minima, key=lambda m: math.hypot(x - m[0], y - m[1]))
    return best, math.hypot(x - best[0], y - best[1])


def view_domain(spec: SurfaceSpec, options: dict[str, Any]) -> tuple[tuple[float, float], tuple[float, float]]:
    """The part of the plane a picture shows: the function's domain, widened to hold the start
    point and the known minima with a margin."""
    points = [tuple(options["start"]), *spec.minima(spec.function_params(options))]
    ranges = []
    for axis, (low, high) in enumerate(spec.domain):
        values = [p[axis] for p in points if math.isfinite(p[axis])]
        low, high = min([low, *values]), max([high, *values])
        margin = 0.05 * (high - low) if (low, high) != spec.domain[axis] else 0.0
        ranges.append((low - margin, high + margin))
    return ranges[0], ranges[1]
