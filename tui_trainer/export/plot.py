"""Pictures of runs for reports: the loss (every step's train loss, validation per epoch), the
accuracy or R^2, and the learning rate, drawn with matplotlib as PNG or SVG; several runs (a
comparison) in one figure, each in its own color named by what differs; for a run that learned a
line (tutorial 003), the data with the learned and the true line."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from tui_trainer.compare import differing_labels
from tui_trainer.catalog.arena import ARENA_KIND
from tui_trainer.config import Config, resolve
from tui_trainer.engine.rundir import (
    CONFIG_FILE, HISTORY_FILE, STEPS_FILE, RunRecord, point_path, read_run,
)
from tui_trainer.errors import ConfigError, UserFacingError
from tui_trainer.outputs import output_path

#: The longest title that fits across the figure; a longer one (many runs) is summed up.
TITLE_CHARS = 110
#: The picture formats matplotlib writes here, by file suffix.
FORMATS = ("png", "svg")


def plot_runs(run_dirs: list[Path], output: Path, force: bool = False) -> Path:
    """Draw the runs in ``run_dirs`` into ``output`` (.png or .svg); returns the path. An existing
    file is kept unless ``force``; a damaged folder is refused with its path."""
    suffix = output.suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise UserFacingError(f"-o {output}: the picture must be a .png or .svg file")
    path = output_path(output, force, "-o")
    seen: dict[Path, Path] = {}
    for run_dir in run_dirs:
        same = seen.setdefault(run_dir.resolve(), run_dir)
        if same is not run_dir:
            raise UserFacingError(f"{run_dir}: given twice (also as {same}); each run is drawn once")
    records = []
    for run_dir in run_dirs:
        try:
            record = read_run(run_dir)
            resolve(record.config)
        except ConfigError as exc:
            raise UserFacingError(f"{run_dir / CONFIG_FILE} is not a run's config: "
                                  + "; ".join(str(p) for p in exc.problems)) from None
        except (OSError, ValueError) as exc:
            raise UserFacingError(f"{run_dir}: not a readable run folder: {exc}") from None
        if not record.history and not any(row.get("train_loss") is not None for row in record.steps):
            raise UserFacingError(f"{run_dir}: nothing to draw: no finished step in {STEPS_FILE} and "
                                  f"no epoch in {HISTORY_FILE}")
        records.append(record)
    import matplotlib

    matplotlib.use("Agg")  # files only: no window, no display needed
    import matplotlib.pyplot as plt

    line = _line_run(records)
    arena = _arena_config(records)
    columns = 4 if line else 3
    figure, axes = plt.subplots(1, columns, figsize=(4.6 * columns, 4.2), layout="constrained")
    labels = differing_labels([r.config for r in records], [i + 1 for i in range(len(records))]) \
        if len(records) > 1 else [r.path.name for r in records]
    regression = all(resolve(r.config).task_spec.kind == "regression" for r in records)
    # loss, accuracy or R^2 (none for the arena: its picture instead), learning rate
    charts = [axes[0], None if arena else axes[1], axes[2] if not arena else axes[1]]
    # matplotlib's ten default colors, or tab20's twenty for more runs (a compare holds 16)
    colors = [f"C{i}" for i in range(10)] if len(records) <= 10 else list(matplotlib.colormaps["tab20"].colors)
    for index, (record, label) in enumerate(zip(records, labels)):
        _draw_run(charts, record, label, colors[index % len(colors)], regression)
        if arena:
            _draw_path(axes[2], record, label, colors[index % len(colors)])
    axes[0].set(title="loss (solid: train per step; dashed: validation)", xlabel="epoch")
    if all(v > 0 for ax_line in axes[0].get_lines() for v in ax_line.get_ydata()):
        axes[0].set_yscale("log")
    if not arena:
        axes[1].set(title=("R²" if regression else "accuracy") + " (solid: validation; dashed: train)",
                    xlabel="epoch")
    charts[2].set(title="learning rate", xlabel="epoch")
    for axis in axes[:3]:
        axis.grid(alpha=0.3)
    axes[0].legend(fontsize="small")
    if line:
        _draw_line_fit(axes[3], line)
    if arena:
        _draw_surface(axes[2], arena)
    title = " vs ".join(labels) if len(records) > 1 else resolve(records[0].config).summary()
    if len(title) > TITLE_CHARS:  # many runs: the legend names each
        title = f"{len(records)} runs (the legend says what differs)"
    figure.suptitle(title)
    partial = path.with_name(path.name + ".part")
    try:
        figure.savefig(partial, format=suffix)
        partial.replace(path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise UserFacingError(f"-o: cannot write {path}: {exc.strerror or exc}") from None
    finally:
        plt.close(figure)
    return path


def _draw_run(axes, record: RunRecord, label: str, color: str, regression: bool) -> None:
    """The run's loss, its accuracy or R^2 (when ``axes[1]`` is not None) and learning rate."""
    history = record.history
    per_epoch = (history[0]["global_step"] / history[0]["epoch"]) if history else 1.0
    steps = [(row["step"] / per_epoch, row["train_loss"]) for row in record.steps
             if row["train_loss"] is not None]
    if steps:
        axes[0].plot(*zip(*steps), color=color, linewidth=0.8, label=label)
    _plot(axes[0], history, "val_loss", color, "--")
    if axes[1] is not None:
        metric = ("val_r2", "train_r2") if regression else ("val_accuracy", "train_accuracy")
        _plot(axes[1], history, metric[0], color, "-")
        _plot(axes[1], history, metric[1], color, "--")
    _plot(axes[2], history, "lr", color, "-")


def _plot(axis, history: list[dict[str, Any]], key: str, color: str, style: str) -> None:
    points = [(row["epoch"], row[key]) for row in history
              if row.get(key) is not None and math.isfinite(row[key])]
    if points:
        axis.plot(*zip(*points), style, color=color, linewidth=1.2)


def _line_run(records: list[RunRecord]) -> RunRecord | None:
    """The run, when there is one, whose summary holds a learned line (tutorial 003)."""
    if len(records) != 1 or not records[0].summary or not records[0].summary.get("parameters"):
        return None
    return records[0]


def _draw_line_fit(axis, record: RunRecord) -> None:
    """The task's data, the learned line and the true one."""
    from tui_trainer.engine.data import build_dataset

    config = resolve(record.config)
    data = build_dataset(config)
    p = record.summary["parameters"]
    axis.scatter(data.x_train.flatten(), data.y_train.flatten(), s=8, alpha=0.6, label="training data")
    low, high = float(data.x_train.min()), float(data.x_train.max())
    for w, b, style, name in ((p["weight"], p["bias"], "-", "learned"),
                              (p["true_weight"], p["true_bias"], ":", "true")):
        axis.plot([low, high], [w * low + b, w * high + b], style, label=f"{name}: y = {w:.4g}x + {b:.4g}")
    axis.set(title="the line", xlabel="x", ylabel="y")
    axis.legend(fontsize="small")


def _arena_config(records: list[RunRecord]) -> Config | None:
    """The config of the arena runs drawn, when every run moves a point on the same function
    with the same settings (a compare, maybe of starts): their paths then share one picture."""
    configs = [resolve(r.config) for r in records]
    first = configs[0]

    def surface(config: Config) -> tuple:
        """What decides the picture: the function and its settings (the start may differ)."""
        return config.task.name, sorted((k, v) for k, v in config.task.params.items() if k != "start")

    same = all(surface(c) == surface(first) for c in configs)
    return first if first.task_spec.kind == ARENA_KIND and same else None


def _draw_path(axis, record: RunRecord, label: str, color: str) -> None:
    """A run's path on the arena's picture: a line from its start (a circle) to its end (a dot)."""
    path = point_path(record)
    if path:
        xs, ys = [p[1] for p in path], [p[2] for p in path]
        axis.plot(xs, ys, color=color, linewidth=1.2, label=label)
        axis.plot(xs[:1], ys[:1], "o", color=color, markerfacecolor="none")
        axis.plot(xs[-1:], ys[-1:], "o", color=color, markersize=4)


def _draw_surface(axis, config: Config) -> None:
    """The function as filled contours of log(1 + f - min f), so the valleys show, with its known
    minima as white stars; the paths (already drawn) stay on top."""
    from tui_trainer.catalog.arena import SURFACES, view_domain
    from tui_trainer.engine.arena import surface_grid

    surface = SURFACES[config.task.name]
    (x_low, x_high), (y_low, y_high) = domain = view_domain(surface, config.task.params)
    values = surface_grid(config, 200, 200, domain)
    lowest = min(min(row) for row in values)
    shade = [[math.log1p(v - lowest) for v in row] for row in values]
    axis.imshow(shade, extent=(x_low, x_high, y_low, y_high), origin="upper", aspect="auto",
                cmap="viridis", zorder=0)
    axis.contour([[x_low + (x_high - x_low) * i / 199 for i in range(200)]] * 200,
                 [[y_high - (y_high - y_low) * j / 199] * 200 for j in range(200)], shade, levels=12,
                 colors="white", linewidths=0.4, alpha=0.5, zorder=1)
    minima = surface.minima(surface.function_params(config.task.params))
    axis.plot([m[0] for m in minima], [m[1] for m in minima], "*", color="white", markersize=11,
              markeredgecolor="black", zorder=3, label="known minima")
    axis.set(title=f"{config.task.name}: f(x, y) = {surface.formula}", xlabel="x", ylabel="y",
             xlim=(x_low, x_high), ylim=(y_low, y_high))
    axis.title.set_fontsize("small")
    axis.legend(fontsize="x-small", loc="upper right")
