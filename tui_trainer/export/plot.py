"""Pictures of runs for reports: the loss (every step's train loss, validation per epoch), the
accuracy or R^2, and the learning rate, drawn with matplotlib as PNG or SVG; several runs (a
comparison) in one figure, each in its own color named by what differs; and the run's picture
when its task has one (``engine.views``, kept in the run folder's view.json): the decision
boundary of a 2-D classifier over its samples, or the data with the model's curve (and, for
tutorial 003's line, the learned and the true line), and a classifier's confusion matrix (test
set, else validation, from its summary). Several runs' pictures form a second row.
Arena runs (a point on a function) draw the function with each run's path in place of the
accuracy."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui_trainer.catalog.lab import on_purpose
from tui_trainer.catalog.views import VIEWS
from tui_trainer.compare import differing_labels
from tui_trainer.config import Config, resolve
from tui_trainer.engine.rundir import (
    CONFIG_FILE, HISTORY_FILE, STEPS_FILE, RunRecord, point_path, read_run,
)
from tui_trainer.errors import ConfigError, UserFacingError
from tui_trainer.outputs import output_path
from tui_trainer.pictures import NEGATIVE, POSITIVE, cell_color, class_color, signed_color, validation_color

#: The longest title that fits across the figure; a longer one (many runs) is summed up.
TITLE_CHARS = 110
#: The picture formats matplotlib writes here, by file suffix.
FORMATS = ("png", "svg")
#: Runs' pictures in one row of the figure, at most.
PICTURES_PER_ROW = 4
#: The neurons of a layer a network picture draws, at most.
NETWORK_NEURONS = 12


def plot_runs(run_dirs: list[Path], output: Path, force: bool = False,
              pictures: dict[Path, list[Any]] | None = None) -> Path:
    """Draw the runs in ``run_dirs`` into ``output`` (.png or .svg); returns the path. An existing
    file is kept unless ``force``; a damaged folder is refused with its path. ``pictures`` gives
    a run's pictures (``engine.views`` frames: a run still going, or its network) drawn in place
    of its folder's picture of the same view."""
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
    labels = differing_labels([r.config for r in records], [i + 1 for i in range(len(records))]) \
        if len(records) > 1 else [r.path.name for r in records]
    drawn = [(label, frame) for record, label in zip(records, labels)
             for frame in _pictures(record, (pictures or {}).get(record.path, []))]
    drawn += [(label, confusion) for record, label in zip(records, labels)
              if (confusion := _confusion(record)) is not None]
    import matplotlib

    matplotlib.use("Agg")  # files only: no window, no display needed
    import matplotlib.pyplot as plt

    beside = len(records) == 1 and drawn  # one run's picture (and confusion matrix) are panels beside
    columns = 3 + len(drawn) if beside else 3
    rows = 0 if beside else math.ceil(len(drawn) / PICTURES_PER_ROW)
    figure = plt.figure(figsize=(4.6 * columns, 4.2 * (1 + rows)), layout="constrained")
    top, *below = figure.subfigures(1 + rows, 1) if rows else [figure]
    axes = top.subplots(1, columns)
    regression = all(resolve(r.config).task_spec.traits.values for r in records)
    arena = _arena_config(records)
    # loss, accuracy or R^2 (none for the arena: its picture instead), learning rate
    charts = [axes[0], None if arena else axes[1], axes[2] if not arena else axes[1]]
    # matplotlib's ten default colors, or tab20's twenty for more runs (a compare holds 16)
    colors = [f"C{i}" for i in range(10)] if len(records) <= 10 else list(matplotlib.colormaps["tab20"].colors)
    for index, (record, label) in enumerate(zip(records, labels)):
        _draw_run(charts, record, label, colors[index % len(colors)], regression)
        if arena:
            _draw_path(axes[2], record, label, colors[index % len(colors)])
    axes[0].set(title="loss", xlabel="epoch")
    if all(v > 0 for ax_line in axes[0].get_lines() for v in ax_line.get_ydata()):
        axes[0].set_yscale("log")
    if not arena:
        axes[1].set(title="R²" if regression else "accuracy", xlabel="epoch")
    charts[2].set(title="learning rate", xlabel="epoch")
    for axis in axes[:3]:
        axis.grid(alpha=0.3)
    # Every panel with both says it the same way: solid train, dashed validation (the loss's legend
    # names the runs by color too).
    from matplotlib.lines import Line2D

    styles = [Line2D([], [], color="gray", linestyle=style, label=words)
              for style, words in (("-", "solid: train"), ("--", "dashed: validation"))]
    for axis in (axes[0], charts[1]):
        if axis is not None and axis.get_lines():  # a run still going may have nothing on disk yet
            handles = axis.get_legend_handles_labels()[0] if axis is axes[0] else []
            axis.legend(handles=handles + styles, fontsize="small")
    if arena:
        DRAWERS[arena.view](axes[2], arena)
    if beside:
        for axis, (_, frame) in zip(axes[3:], drawn):
            _draw_picture(axis, frame, "")
    for index, row in enumerate(below):
        part = drawn[index * PICTURES_PER_ROW:(index + 1) * PICTURES_PER_ROW]
        axes_row = row.subplots(1, PICTURES_PER_ROW)
        for axis in axes_row[len(part):]:
            axis.set_axis_off()
        for axis, (label, frame) in zip(axes_row, part):
            _draw_picture(axis, frame, f"{label}\n")
    title = " vs ".join(labels) if len(records) > 1 else resolve(records[0].config).summary()
    if len(title) > TITLE_CHARS:  # many runs: the legend names each
        title = f"{len(records)} runs (the legend says what differs)"
    mistakes = [resolve(r.config).mistakes for r in records]
    if any(mistakes):  # a run making a mistake on purpose says so
        title += " · " + (on_purpose(mistakes[0]) if all(m == mistakes[0] for m in mistakes)
                          else on_purpose([f"{label.split()[0]} {', '.join(m)}"
                                           for label, m in zip(labels, mistakes) if m], sep="; "))
    # Above the top row's own titles, with room between (the figure's title crowded them).
    top.suptitle(title, fontsize="x-large", fontweight="bold")
    figure.get_layout_engine().set(h_pad=0.12)
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
        train, validation = ("train_r2", "val_r2") if regression else ("train_accuracy", "val_accuracy")
        _plot(axes[1], history, train, color, "-")
        _plot(axes[1], history, validation, color, "--")
    _plot(axes[2], history, "lr", color, "-")


def _plot(axis, history: list[dict[str, Any]], key: str, color: str, style: str) -> None:
    points = [(row["epoch"], row[key]) for row in history
              if row.get(key) is not None and math.isfinite(row[key])]
    if points:
        axis.plot(*zip(*points), style, color=color, linewidth=1.2)


def _pictures(record: RunRecord, given: list[Any]) -> list[Any]:
    """The run's pictures: its folder's (``_picture``) unless ``given`` holds one of the same
    view, then ``given``."""
    view = resolve(record.config).view
    own = _picture(record) if view is not None and view not in {frame.kind for frame in given} else None
    return [*([own] if own is not None else []), *given]


def _picture(record: RunRecord):
    """The run's picture in its folder, else for an older run that learned a line (tutorial
    003) the line from its summary over its data; None when it has none."""
    from tui_trainer.engine.views import read_view

    frame = read_view(record.path)
    parameters = (record.summary or {}).get("parameters")
    if frame is not None or not parameters:
        return frame
    from tui_trainer.engine.data import build_dataset
    from tui_trainer.engine.views import FitFrame, fit_samples

    data = build_dataset(resolve(record.config))
    xs = [float(data.x_train.min()), float(data.x_train.max())]
    return FitFrame(record.history[-1]["epoch"] if record.history else 0, xs,
                    [parameters["weight"] * x + parameters["bias"] for x in xs], fit_samples(data), parameters)


def _draw_picture(axis, frame, label: str) -> None:
    """A run's picture (a frame of its view), by its view's drawer, or a confusion matrix."""
    if isinstance(frame, SplitConfusion):
        _draw_confusion(axis, frame, label)
        return
    DRAWERS[frame.kind](axis, frame, label)


def _draw_boundary(axis, frame, label: str) -> None:
    """A boundary: the plane shaded by class and probability, the samples on top (training with
    a white edge, validation paler with a dark one)."""
    samples = frame.samples
    white = (255, 255, 255)
    image = [[[v / 255 for v in cell_color(frame.predicted[r * frame.cols + c],
                                            frame.steps[r * frame.cols + c], white)]
              for c in range(frame.cols)] for r in range(frame.rows)]
    axis.imshow(image, extent=frame.extent, interpolation="nearest", aspect="equal")
    for xs, ys, classes, edge, paint in (
            (samples.val_x, samples.val_y, samples.val_label, "black", validation_color),
            (samples.train_x, samples.train_y, samples.train_label, "white", class_color)):
        axis.scatter(xs, ys, c=[[v / 255 for v in paint(k)] for k in classes], s=14,
                     edgecolors=edge, linewidths=0.5)
    axis.set(title=f"{label}decision boundary, epoch {frame.epoch}", xlabel="x1", ylabel="x2")
    axis.set_xlim(frame.extent[0], frame.extent[1])
    axis.set_ylim(frame.extent[2], frame.extent[3])


def _draw_fit(axis, frame, label: str) -> None:
    """A fit: the data and the model's curve (with the learned and the true line of a task
    that has one)."""
    samples = frame.samples
    axis.scatter(samples.train_x, samples.train_y, s=8, alpha=0.6, label="training data")
    if samples.val_x:
        axis.scatter(samples.val_x, samples.val_y, s=8, alpha=0.6, label="validation data")
    p = frame.parameters
    name = f"learned: y = {p['weight']:.4g}x + {p['bias']:.4g}" if p else "the model"
    axis.plot(frame.xs, frame.ys, "-", color="C3", label=name)
    if p:
        low, high = frame.xs[0], frame.xs[-1]
        w, b = p["true_weight"], p["true_bias"]
        axis.plot([low, high], [w * low + b, w * high + b], ":", color="black", label=f"true: y = {w:.4g}x + {b:.4g}")
    axis.set(title=f"{label}the fit, epoch {frame.epoch}", xlabel="x", ylabel="y")
    axis.legend(fontsize="small")


@dataclass
class SplitConfusion:
    """A run's confusion matrix on one split, as its summary holds it."""

    split: str
    classes: list[str]
    matrix: list[list[int]]


def _confusion(record: RunRecord) -> SplitConfusion | None:
    """A classifier's confusion matrix from its summary: the test set's when it has one, else
    validation's (None for regression, or a run without a summary)."""
    matrices = (record.summary or {}).get("confusion") or {}
    for split in ("test", "val"):
        found = matrices.get(split)
        if isinstance(found, dict) and found.get("classes") and found.get("matrix"):
            return SplitConfusion(split, list(found["classes"]), found["matrix"])
    return None


def _draw_confusion(axis, confusion: SplitConfusion, label: str) -> None:
    """Rows: the true class, columns: the predicted one, shaded by the share of the row (the
    counts written in when the classes are few)."""
    rows = [[v / max(1, sum(row)) for v in row] for row in confusion.matrix]
    n = len(confusion.classes)
    axis.imshow(rows, cmap="Blues", vmin=0, vmax=1, aspect="equal")
    if n <= 12:
        for r, row in enumerate(confusion.matrix):
            for c, value in enumerate(row):
                axis.text(c, r, str(value), ha="center", va="center", fontsize="small",
                          color="white" if rows[r][c] > 0.5 else "black")
    names = [name[:12] for name in confusion.classes] if n <= 20 else [""] * n
    axis.set_xticks(range(n), names, rotation=90 if n > 4 else 0, fontsize="small")
    axis.set_yticks(range(n), names, fontsize="small")
    total, correct = sum(map(sum, confusion.matrix)), sum(r[i] for i, r in enumerate(confusion.matrix))
    axis.set(title=f"{label}confusion ({confusion.split}: {correct}/{total} right)", xlabel="predicted",
             ylabel="true")


def _arena_config(records: list[RunRecord]) -> Config | None:
    """The config of the arena runs drawn, when every run moves a point on the same function
    with the same settings (a compare, maybe of starts): their paths then share one picture."""
    configs = [resolve(r.config) for r in records]
    first = configs[0]

    def surface(config: Config) -> tuple:
        """What decides the picture: the function and its settings (the start may differ)."""
        return config.task.name, sorted((k, v) for k, v in config.task.params.items() if k != "start")

    same = all(surface(c) == surface(first) for c in configs)
    view = VIEWS.get(first.view)
    return first if view is not None and not view.frames and same else None


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


#: Each view's drawer (``catalog.views``): a view with frames draws one run's frame (axis, frame,
#: label); the arena draws the function its runs share (axis, config), their paths on it.
def _draw_network(axis, frame, label: str) -> None:
    """A network neuron by neuron: its columns of neurons (the first NETWORK_NEURONS of a layer,
    the rest said), each neuron its picture over the plane (2-D tasks) or a dot colored by its
    mean value (a dead unit crossed out); the links between them blue for a positive weight,
    orange (dashed) for a negative one, stronger as the weight is larger."""
    columns = frame.columns
    shown = [min(len(c.mean), NETWORK_NEURONS) for c in columns]
    tallest = max(shown)
    positions = [[(i, (n - 1) / 2 - k) for k in range(n)] for i, n in enumerate(shown)]
    scale = frame.weight_scale or 1.0
    for i, weights in enumerate(frame.weights):
        links = sorted((abs(w), w, j, o) for o, row in enumerate(weights[:shown[i + 1]])
                       for j, w in enumerate(row[:shown[i]]) if math.isfinite(w))
        for size, w, j, o in links:
            (x0, y0), (x1, y1) = positions[i][j], positions[i + 1][o]
            color = [v / 255 for v in (POSITIVE if w > 0 else NEGATIVE)]
            axis.plot([x0, x1], [y0, y1], "-" if w > 0 else "--", color=color, alpha=0.15 + 0.85 * size / scale,
                      linewidth=0.5 + 2 * size / scale, zorder=1)
    half = 0.3
    for i, neurons in enumerate(columns):
        for k, (x, y) in enumerate(positions[i]):
            if neurons.thumbnails is not None:
                values = neurons.thumbnails[k]
                top = neurons.scale[k] or 1.0
                image = [[[c / 255 for c in signed_color(values[r * frame.cols + col] / top)]
                          for col in range(frame.cols)] for r in range(frame.rows)]
                axis.imshow(image, extent=(x - half, x + half, y - half, y + half), zorder=2,
                            interpolation="nearest")
            else:
                means = [abs(m) for m in neurons.mean if math.isfinite(m)]
                top = max(means, default=0.0) or 1.0
                color = [c / 255 for c in signed_color(neurons.mean[k] / top)]
                axis.scatter([x], [y], s=160, c=[color], edgecolors="black", linewidths=0.5, zorder=2)
            if neurons.dead[k]:
                axis.text(x, y, "✕", ha="center", va="center", color="red", fontsize="large", zorder=3)
            if neurons.labels and k < len(neurons.labels) and i in (0, len(columns) - 1):
                axis.text(x + (-half - 0.05 if i == 0 else half + 0.05), y, neurons.labels[k][:12],
                          ha="right" if i == 0 else "left", va="center", fontsize="small")
        more = neurons.size - shown[i]
        bottom = (shown[i] - 1) / 2
        axis.text(i, bottom + half + 0.2, f"{neurons.name}\n{neurons.size}" if not more else
                  f"{neurons.name}\n{neurons.size} (first {shown[i]})", ha="center", va="bottom", fontsize="small")
    axis.set_xlim(-1, len(columns))
    axis.set_ylim(-(tallest - 1) / 2 - 0.6, (tallest - 1) / 2 + 1.2)
    axis.set_aspect("equal")
    axis.set_axis_off()
    axis.set(title=f"{label}the network, epoch {frame.epoch} (blue: +, orange dashed: −)")


DRAWERS = {"boundary": _draw_boundary, "fit": _draw_fit, "arena": _draw_surface, "network": _draw_network}
