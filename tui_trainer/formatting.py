"""How numbers look in the app, the CLI's lines and run lists: significant digits, never a
fixed number of decimals (0.0001234, not 0.0000; 3.1544e+19, not 31543941865823797248.0000)."""

from __future__ import annotations

import math


def number(value: float | None, digits: int = 4) -> str:
    """A number with ``digits`` significant digits; a dash for None; nan/inf spelled out."""
    if value is None:
        return "—"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return f"{value:.{digits}g}"


def percent(value: float | None) -> str:
    """A fraction as a percentage with one decimal."""
    return "—" if value is None else f"{value * 100:.1f}%"


def duration(seconds: float | None) -> str:
    """Seconds as ``0.42 s``, ``1:05`` or ``1:02:03``."""
    if seconds is None or not math.isfinite(seconds):
        return "—"
    if seconds < 10:
        return f"{seconds:.2f} s"
    whole = int(round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def rate(per_second: float | None) -> str:
    """A rate with a k/M suffix (``12.3k``)."""
    if per_second is None or not math.isfinite(per_second):
        return "—"
    for limit, suffix in ((1e6, "M"), (1e3, "k")):
        if per_second >= limit:
            return f"{per_second / limit:.1f}{suffix}"
    return f"{per_second:.0f}"


def epoch_of(epoch: int, epochs: int | str | None) -> str:
    """``3/20``; ``3`` alone for a run until stopped (``epochs`` None or ``until-stopped``)."""
    return f"{epoch}/{epochs}" if isinstance(epochs, int) else str(epoch)


def epoch_line(epoch: int, epochs: int | str | None, train_loss: float, val_loss: float | None,
               train_metric: float | None, val_metric: float | None, accuracy: bool, lr: float,
               seconds: float) -> str:
    """One log line for a finished epoch (no scores when neither is measured: an arena run)."""
    total = isinstance(epochs, int)
    width = len(str(epochs)) if total else 1
    show = percent if accuracy else number
    metric = "acc" if accuracy else "R²"
    scores = f"{metric} {show(train_metric)}/{show(val_metric)}  " if (train_metric, val_metric) != (None, None) else ""
    return (f"epoch {epoch:>{width}}{f'/{epochs}' if total else ''}  train {number(train_loss)}  val {number(val_loss)}  "
            f"{scores}lr {number(lr)}  {duration(seconds)}")


def point_text(point: dict) -> str:
    """Where an arena run's point ended: ``(0.99999, 0.99998) f = 1.5e-12 · nearest minimum (1, 1)
    at 5.6e-07 · within 0.05 from step 968``."""
    def place(values) -> str:
        return "(" + ", ".join(number(v, 6) for v in values) + ")"

    reached = point.get("reached_step")
    within = (f"within {number(point['tolerance'])} from step {reached}" if reached is not None
              else f"never within {number(point['tolerance'])}")
    if point["x"] is None or point["y"] is None:
        return f"not finite: the point diverged · {within}"
    return (f"{place((point['x'], point['y']))} f = {number(point['value'])} · nearest minimum "
            f"{place(point['nearest_minimum'])} at {number(point['distance'])} · {within}")
