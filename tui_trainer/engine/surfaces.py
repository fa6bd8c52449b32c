"""The optimizer arena's functions in torch ops, the point that is an arena run's model, and its
loss. Torch and the standard library only: the script exporter copies what an arena run uses.

Each function takes the point's coordinates (tensors) and its own settings by name, as
``catalog/arena.py`` lists them.
"""

import math

import torch
import torch.nn as nn


def rosenbrock(x, y, a, b):
    """(a - x)^2 + b (y - x^2)^2: a curved valley, minimum (a, a^2)."""
    return (a - x) ** 2 + b * (y - x ** 2) ** 2


def rastrigin(x, y, a):
    """2a + x^2 - a cos(2 pi x) + y^2 - a cos(2 pi y): ripples of local minima, minimum (0, 0)."""
    return 2 * a + x ** 2 - a * torch.cos(2 * math.pi * x) + y ** 2 - a * torch.cos(2 * math.pi * y)


def beale(x, y):
    """Beale's function: plateaus and ridges, minimum (3, 0.5)."""
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y ** 2) ** 2 + (2.625 - x + x * y ** 3) ** 2


def himmelblau(x, y):
    """Himmelblau's function: four minima of value 0."""
    return (x ** 2 + y - 11) ** 2 + (x + y ** 2 - 7) ** 2


def quadratic(x, y, condition):
    """(x^2 + condition y^2) / 2: an ill-conditioned bowl, minimum (0, 0)."""
    return (x ** 2 + condition * y ** 2) / 2


def saddle(x, y):
    """x^2 + y^4 / 4 - y^2 / 2: a saddle point at (0, 0), minima (0, 1) and (0, -1)."""
    return x ** 2 + y ** 4 / 4 - y ** 2 / 2


class Point(nn.Module):
    """An arena run's model: one 2-D point (its only parameter) on ``function``. Called with a
    batch (arena tasks have no data: the batch is empty rows), it gives the function's value at
    the point once per row."""

    def __init__(self, function, start, **settings):
        super().__init__()
        self.point = nn.Parameter(torch.tensor(start, dtype=torch.float32))
        self.function = function
        self.settings = settings

    def forward(self, inputs):
        value = self.function(self.point[0], self.point[1], **self.settings)
        return value.expand(len(inputs))


class SurfaceValue(nn.Module):
    """An arena run's loss: the function's value at the point (the model's output)."""

    def forward(self, value, target):
        return value.mean()
