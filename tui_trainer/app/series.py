"""Chart series that stay small: finite points only, kept as a bounded number of min/max buckets."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterator


@dataclass
class _Bucket:
    """Consecutive points reduced to their lowest and highest point."""

    min_x: float
    min_y: float
    max_x: float
    max_y: float
    count: int

    def add(self, x: float, y: float, count: int = 1) -> None:
        if y < self.min_y:
            self.min_x, self.min_y = x, y
        if y >= self.max_y:  # a flat stretch spans its first to its last point
            self.max_x, self.max_y = x, y
        self.count += count

    def merge(self, other: _Bucket) -> None:
        self.add(other.min_x, other.min_y, 0)
        self.add(other.max_x, other.max_y, other.count)


class MinMaxSeries:
    """One line of a chart. Non-finite points are dropped (plotext cannot draw them). At most
    ``capacity`` buckets are kept, each holding the lowest and highest of its points; when full,
    neighbours merge, so adding is O(1) amortised and drawing costs O(capacity) however long the
    run. ``points(width)`` gives at most two points per column, so peaks and dips stay visible."""

    def __init__(self, capacity: int = 512) -> None:
        self.capacity = capacity
        self._buckets: list[_Bucket] = []
        self._per_bucket = 1
        self.count = 0
        self.last_x: float | None = None  # the x of the latest point

    def add(self, x: float, y: float) -> None:
        """Add a point; NaN and infinities are skipped."""
        if not (math.isfinite(x) and math.isfinite(y)):
            return
        self.count += 1
        self.last_x = x
        if self._buckets and self._buckets[-1].count < self._per_bucket:
            self._buckets[-1].add(x, y)
            return
        self._buckets.append(_Bucket(x, y, x, y, 1))
        if len(self._buckets) > self.capacity:
            merged = []
            for i in range(0, len(self._buckets), 2):
                bucket = self._buckets[i]
                if i + 1 < len(self._buckets):
                    bucket.merge(self._buckets[i + 1])
                merged.append(bucket)
            self._buckets = merged
            self._per_bucket *= 2

    def extend(self, points) -> None:
        """Add many (x, y) points."""
        for x, y in points:
            self.add(x, y)

    def points(self, width: int) -> tuple[list[float], list[float]]:
        """The series reduced to ``width`` columns: each column's lowest and highest point, in x order."""
        xs: list[float] = []
        ys: list[float] = []
        for group in self._columns(width):
            ends = sorted({(group.min_x, group.min_y), (group.max_x, group.max_y)})
            for x, y in ends:
                xs.append(x)
                ys.append(y)
        return xs, ys

    def middle(self, width: int) -> tuple[list[float], list[float]]:
        """The series reduced to ``width`` columns, one point each: the middle of its lowest and
        highest point (a thin line, for a smoothed series)."""
        xs: list[float] = []
        ys: list[float] = []
        for group in self._columns(width):
            xs.append((group.min_x + group.max_x) / 2)
            ys.append((group.min_y + group.max_y) / 2)
        return xs, ys

    def _columns(self, width: int) -> Iterator[_Bucket]:
        """The buckets merged into at most ``width`` columns (none for an empty series)."""
        if not self._buckets:
            return
        per_group = math.ceil(len(self._buckets) / max(1, width))
        for start in range(0, len(self._buckets), per_group):
            group = _Bucket(**vars(self._buckets[start]))
            for bucket in self._buckets[start + 1:start + per_group]:
                group.merge(bucket)
            yield group

    def lowest(self) -> float | None:
        """The smallest y kept (None when empty)."""
        return min((b.min_y for b in self._buckets), default=None)


#: The smoothing weights the keys step through (0: none), TensorBoard's default first after none.
SMOOTHING = (0.0, 0.6, 0.8, 0.9, 0.95, 0.99)


class Smoother:
    """TensorBoard's smoothing of a scalar series, one point at a time: an exponential moving
    average with weight ``weight`` (0 to 0.99), debiased so that its first points are not pulled
    toward 0 (TensorBoard's ``resmoothDataset``); a value that is not finite passes through and
    leaves the average as it was."""

    def __init__(self, weight: float) -> None:
        self.weight = weight
        self.last = 0.0
        self.count = 0

    def __call__(self, value: float) -> float:
        if not math.isfinite(value):
            return value
        self.last = self.last * self.weight + (1 - self.weight) * value
        self.count += 1
        return self.last / (1 - self.weight ** self.count)


def smoothed(values: list[float], weight: float) -> list[float]:
    """A whole series smoothed as TensorBoard smooths it (``Smoother``)."""
    smoother = Smoother(weight)
    return [smoother(value) for value in values]
