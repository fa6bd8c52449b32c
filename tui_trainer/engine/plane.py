"""TensorFlow Playground's 2-D tasks: the point generators and the input features.

Torch and the standard library only. Each generator follows the playground's ``src/dataset.ts``
(the same shapes, noise and labels), drawing from a seeded ``torch.Generator`` instead of
``Math.random``: it takes the sample count and the noise as a fraction (the playground's noise
slider / 100) and returns the points, shape (N, 2) in about [-6, 6], with their targets: class
indices (int64, 1 where the playground labels +1) or, for ``make_plane`` and ``make_bumps``,
values (N, 1). ``make_gauss`` and ``make_two_spirals`` also take a class count: with 2 they are
the playground's, with more they make one blob (spiral arm) per class.
``expand_features`` turns points into the model's inputs. The script export copies these
functions as they are, so each is self-contained.
"""

import math
from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from collections.abc import Sequence


def uniform(g, shape, low, high):
    """Samples of U(low, high) drawn from ``g`` (the playground's randUniform)."""
    return torch.rand(shape, generator=g) * (high - low) + low


def make_circle(g, samples, noise):
    """Half the points inside radius 2.5 (class 1), half in the ring 3.5 to 5 (class 0); the
    label is the side of radius 2.5 the point lies on after moving it by noise * U(-5, 5)."""
    radius = 5.0
    inner = samples // 2
    r = torch.cat([uniform(g, (inner,), 0.0, radius * 0.5),
                   uniform(g, (samples - inner,), radius * 0.7, radius)])
    angle = uniform(g, (samples,), 0.0, 2 * math.pi)
    points = torch.stack([r * torch.sin(angle), r * torch.cos(angle)], dim=1)
    moved = points + uniform(g, (samples, 2), -radius, radius) * noise
    return points, (moved.norm(dim=1) < radius * 0.5).long()


def make_xor(g, samples, noise):
    """Points in [-5.3, 5.3]^2 kept 0.3 off the axes; class 1 where x1 * x2 >= 0 after moving the
    point by noise * U(-5, 5)."""
    points = uniform(g, (samples, 2), -5.0, 5.0)
    points = points + torch.where(points > 0, 0.3, -0.3)
    moved = points + uniform(g, (samples, 2), -5.0, 5.0) * noise
    return points, (moved[:, 0] * moved[:, 1] >= 0).long()


def class_counts(samples, classes):
    """How many of ``samples`` points each class gets, in the order the generators make them (the
    last class first): as even as they go, ``samples // 2`` for class 1 of two."""
    return [samples * (classes - c) // classes - samples * (classes - c - 1) // classes
            for c in reversed(range(classes))]


def make_gauss(g, samples, noise, classes=2):
    """Gaussian blobs of variance 0.5 at no noise growing to 4 at noise 0.5, one per class, their
    centres on the circle of radius 2 * sqrt(2) from (-2, -2) (class 0) on: for two classes,
    class 1 around (2, 2) and class 0 around (-2, -2)."""
    variance = 0.5 + 7.0 * noise
    counts = class_counts(samples, classes)
    labels = torch.cat([torch.full((count,), c) for c, count in zip(reversed(range(classes)), counts)])
    angles = 1.25 * math.pi + 2 * math.pi * torch.arange(classes, dtype=torch.float64) / classes
    centers = (2 * math.sqrt(2) * torch.stack([angles.cos(), angles.sin()], dim=1)).round(decimals=9).float()
    points = centers[labels] + math.sqrt(variance) * torch.randn(samples, 2, generator=g)
    return points, labels.long()


def make_two_spirals(g, samples, noise, classes=2):
    """Interleaved spirals of 1.75 turns out to radius 5, one per class, turned 1 / classes of a
    turn apart (two: class 1 and class 0 half a turn apart), each point moved by noise * U(-1, 1)
    per coordinate."""
    points, labels = [], []
    counts = class_counts(samples, classes)[::-1]
    for label in range(classes):
        count, turn = counts[label], math.pi * (1 - 2 * label / classes)
        i = torch.arange(count, dtype=torch.float32)
        r = i / count * 5
        t = 1.75 * i / count * 2 * math.pi + turn
        spiral = torch.stack([r * torch.sin(t), r * torch.cos(t)], dim=1)
        points.append(spiral + uniform(g, (count, 2), -1.0, 1.0) * noise)
        labels.append(torch.full((count,), label))
    return torch.cat(points), torch.cat(labels).long()


def make_plane(g, samples, noise):
    """Points in [-6, 6]^2 with the value (x1 + x2) / 10 of the point moved by noise * U(-6, 6)
    (a tilted plane, -1.2 to 1.2), as an (N, 1) float column."""
    points = uniform(g, (samples, 2), -6.0, 6.0)
    moved = points + uniform(g, (samples, 2), -6.0, 6.0) * noise
    return points, (moved.sum(dim=1, keepdim=True) / 10)


def make_bumps(g, samples, noise):
    """Points in [-6, 6]^2 with the value of six bumps (the playground's regressGaussian): centred
    at x1 = -4, 0, 4 and x2 = 2.5, -2.5 with signs alternating, each falling linearly from +-1 at
    its centre to 0 at distance 2; a point takes the value largest in size among the six, at the
    point moved by noise * U(-6, 6), as an (N, 1) float column."""
    points = uniform(g, (samples, 2), -6.0, 6.0)
    moved = points + uniform(g, (samples, 2), -6.0, 6.0) * noise
    centers = torch.tensor([[-4.0, 2.5], [0.0, 2.5], [4.0, 2.5], [-4.0, -2.5], [0.0, -2.5], [4.0, -2.5]])
    signs = torch.tensor([1.0, -1.0, 1.0, -1.0, 1.0, -1.0])
    values = signs * (1 - (moved[:, None, :] - centers).norm(dim=2) / 2).clamp(0.0, 1.0)
    largest = values.abs().argmax(dim=1, keepdim=True)
    return points, values.gather(1, largest)


def expand_features(points: torch.Tensor, names: "Sequence[str]") -> torch.Tensor:
    """The model's inputs for points of shape (N, 2): one column per name, in order, from x1, x2,
    x1^2, x2^2, x1*x2, sin(x1), sin(x2) (ValueError for any other name or none). The annotation
    is text: the exported script copies this function without the typing import."""
    x1, x2 = points[:, 0], points[:, 1]
    columns = {"x1": lambda: x1, "x2": lambda: x2, "x1^2": lambda: x1 * x1, "x2^2": lambda: x2 * x2,
               "x1*x2": lambda: x1 * x2, "sin(x1)": lambda: torch.sin(x1),
               "sin(x2)": lambda: torch.sin(x2)}
    unknown = [name for name in names if name not in columns]
    if unknown or not names:
        raise ValueError(f"features {list(names)!r}: each must be one of {', '.join(columns)}")
    return torch.stack([columns[name]() for name in names], dim=1)


#: Each 2-D task's generator.
GENERATORS = {"circle": make_circle, "xor": make_xor, "gauss": make_gauss,
              "spiral": make_two_spirals, "plane": make_plane, "bumps": make_bumps}
