"""How numbers look in the app, the CLI's lines and run lists: significant digits, never a
fixed number of decimals (0.0001234, not 0.0000; 3.1544e+19, not 31543941865823797248.0000)."""

from __future__ import annotations

import math
from typing import Any


def number(value: float | None, digits: int = 4) -> str:
    """A number with ``digits`` significant digits; a dash for None; nan/inf spelled out."""
    if value is None:
        return "—"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return f"{value:.{digits}g}"


def outcome(reason: str, message: str) -> str:
    """How a run ended, said once: its message when that already says the reason (``completed
    3 epochs``, ``diverged at epoch 2, step 5: ...``, ``early stop at epoch 9: ...``), else the
    reason and the message (``failed: no module named ...``)."""
    said = message.partition(":")[0].lower()
    if message and any(word in said for word in reason.split("-")):
        return message
    return f"{reason}: {message}" if message else reason


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


def age(seconds: float) -> str:
    """A span in words, rounded down: ``8 s``, ``2 min``, ``1 h 5 min``, ``3 d 2 h``."""
    whole = max(0, int(seconds))
    if whole < 60:
        return f"{whole} s"
    minutes, hours, days = whole // 60, whole // 3600, whole // 86400
    if minutes < 60:
        return f"{minutes} min"
    if hours < 24:
        return f"{hours} h" + (f" {minutes % 60} min" if minutes % 60 else "")
    return f"{days} d" + (f" {hours % 24} h" if hours % 24 else "")


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


def epoch_line(metrics: Any, epochs: int | str | None, compact: bool = False) -> str:
    """A finished epoch (an ``EpochMetrics``) as one line, its numbers in significant digits (a
    small loss stays readable: ``1.234e-05``), with the scores the run has (none for an arena
    run): as Keras prints it with verbose=2, for the headless commands' logs
    (``Epoch 3/20 - train_loss: 0.1234 - val_loss: 0.13 - accuracy: 0.952 - lr: 0.01 - 1.2s``),
    or ``compact``, aligned for the app's log (``epoch  3/20  train 0.1234  val 0.13  acc
    95.2%/96.0%  lr 0.01  1.20 s``). A run until stopped says ``epoch 3`` alone."""
    m = metrics
    if compact:
        accuracy = (m.train_accuracy, m.val_accuracy) != (None, None)
        train, val = (m.train_accuracy, m.val_accuracy) if accuracy else (m.train_r2, m.val_r2)
        show = percent if accuracy else number
        scores = f"{'acc' if accuracy else 'R²'} {show(train)}/{show(val)}  " if (train, val) != (None, None) else ""
        total = f"/{epochs}" if isinstance(epochs, int) else ""
        return (f"epoch {m.epoch:>{len(str(epochs)) if total else 1}}{total}  train {number(m.train_loss)}  "
                f"val {number(m.val_loss)}  {scores}lr {number(m.lr)}  {duration(m.seconds)}")
    parts = [f"Epoch {epoch_of(m.epoch, epochs)}", f"train_loss: {number(m.train_loss)}"]
    optional = (("val_loss", m.val_loss, 4), ("accuracy", m.train_accuracy, 3), ("val_accuracy", m.val_accuracy, 3),
                ("r2", m.train_r2, 4), ("val_r2", m.val_r2, 4))
    parts += [f"{name}: {number(value, digits)}" for name, value, digits in optional if value is not None]
    seconds = m.seconds
    parts += [f"lr: {number(m.lr)}", f"{seconds:.1f}s" if seconds >= 1 else f"{seconds * 1000:.0f}ms"]
    return " - ".join(parts)


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
