"""Chart series stay small and finite however long a run is."""

from __future__ import annotations

import math

from hypothesis import given, strategies as st

from tui_trainer.app.charts import log_ticks
from tui_trainer.app.series import MinMaxSeries


def test_non_finite_points_never_reach_the_chart():
    series = MinMaxSeries()
    for x, y in [(1, 1.0), (2, math.nan), (3, math.inf), (4, -math.inf), (math.nan, 2.0), (5, 0.5)]:
        series.add(x, y)
    assert series.points(80) == ([1, 5], [1.0, 0.5])
    assert series.count == 2


def test_buckets_stay_bounded_and_keep_each_columns_extremes():
    series = MinMaxSeries(capacity=64)
    values = [math.sin(i / 50) for i in range(100_000)]
    values[31_337] = 5.0  # one spike must survive downsampling
    values[77_777] = -5.0
    series.extend(enumerate(values))
    xs, ys = series.points(40)
    assert len(series._buckets) <= 64
    assert len(xs) <= 80 and xs == sorted(xs)
    assert max(ys) == 5.0 and min(ys) == -5.0
    assert (31_337, 5.0) in zip(xs, ys) and (77_777, -5.0) in zip(xs, ys)


@given(st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32), max_size=300),
       st.integers(min_value=1, max_value=200))
def test_points_are_finite_ordered_and_at_most_two_per_column(values, width):
    series = MinMaxSeries(capacity=16)
    series.extend(enumerate(values))
    xs, ys = series.points(width)
    finite = [v for v in values if math.isfinite(v)]
    assert len(xs) == len(ys) <= 2 * width
    assert all(math.isfinite(y) for y in ys) and xs == sorted(xs)
    if finite:
        assert min(ys) == min(finite) and max(ys) == max(finite)


def test_log_ticks_are_decades_or_four_spaced_values():
    assert log_ticks(0.004, 13.0) == [0.01, 0.1, 1.0, 10.0]
    ticks = log_ticks(0.2, 0.9)
    assert len(ticks) == 4 and math.isclose(ticks[0], 0.2) and math.isclose(ticks[-1], 0.9)
    assert log_ticks(0.5, 0.5) == [0.5]


def test_an_empty_series_has_no_points_and_no_middle():
    # Before: middle() of a series with no point yet failed (a range step of 0).
    assert MinMaxSeries().points(40) == ([], []) and MinMaxSeries().middle(40) == ([], [])
