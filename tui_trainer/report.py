"""Headless reporting for ``tui-trainer train``: a rich progress bar on a terminal (epoch lines
above it with --verbose), Keras-style epoch lines otherwise, and the end-of-run summary."""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

from tui_trainer.engine.events import (
    Callback, ChangeMade, EpochEnded, Progress, RunResult, RunStarted,
)
from tui_trainer.catalog.arena import SURFACES
from tui_trainer.formatting import epoch_line, epoch_of, number, outcome, point_text

if TYPE_CHECKING:
    from tui_trainer.engine.evaluation import Confusion, SplitScore
    from tui_trainer.engine.lrfind import LrFindResult


def start_line(event: RunStarted) -> str:
    """What the run trains before its first step: the data (and what user data decided), the
    model's size and the device."""
    spec = event.config.task_spec
    if spec.traits.point:
        options = event.config.task.params
        surface = SURFACES[spec.name]
        start = ", ".join(number(v) for v in options["start"])
        settings = ", ".join(f"{name}={number(value)}" for name, value in surface.function_params(options).items())
        return (f"{spec.name}: a 2-D point from ({start}) on f(x, y) = {surface.formula}"
                + (f" ({settings})" if settings else "")
                + f" · {_length(event)} · {event.device} ({event.device_name})")
    test = f" / {event.test_size:,} test" if event.test_size else ""
    parts = [f"{event.config.task.name}: {event.train_size:,} training / {event.val_size:,} "
             f"validation{test} samples"]
    if spec.note:
        parts.append(spec.note)
    parts += [f"model {event.param_count:,} parameters", f"{event.device} ({event.device_name})"]
    return " · ".join(parts)


def _length(event: RunStarted) -> str:
    """``15 epochs of 100 steps``, or ``epochs of 100 steps until stopped``."""
    steps = f"of {event.steps_per_epoch} steps"
    return f"epochs {steps} until stopped" if event.epochs is None else f"{event.epochs} epochs {steps}"


class EpochLines(Callback):
    """A line saying what trains, then one line per epoch, as Keras prints with verbose=2 (for
    logs and pipes)."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def on_run_start(self, event: RunStarted) -> None:
        print(start_line(event), file=self.out, flush=True)

    def on_epoch_end(self, event: EpochEnded) -> None:
        print(epoch_line(event.metrics, event.epochs), file=self.out, flush=True)

    def on_change(self, event: ChangeMade) -> None:
        print(change_line(event), file=self.out, flush=True)


def change_line(event: ChangeMade) -> str:
    """``Change at step 200 (epoch 25): optimizer.lr = 0.001``."""
    change = event.change
    return f"Change at step {change.at_step} (epoch {event.epoch}): {change.field} = {change.value}"


class ProgressBar(Callback):
    """A rich progress bar over all steps with ETA and samples/s (a run until stopped: a moving
    bar, no ETA); with ``verbose``, each epoch's line is printed above it."""

    def __init__(self, verbose: bool = False) -> None:
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress as RichProgress,
                                   TextColumn, TimeElapsedColumn, TimeRemainingColumn)

        self.bar = RichProgress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]}"), TextColumn("{task.fields[speed]} {task.fields[unit]}/s"),
            TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), transient=True)
        self.task_id = None
        self.verbose = verbose

    def on_run_start(self, event: RunStarted) -> None:
        self.bar.console.print(start_line(event), highlight=False)
        self.bar.start()
        self.task_id = self.bar.add_task(f"Epoch {epoch_of(event.start_epoch, event.epochs)}",
                                         total=event.total_steps, loss="-", speed="-",
                                         unit=event.config.task_spec.traits.unit)

    def on_progress(self, event: Progress) -> None:
        self.bar.update(self.task_id, completed=event.global_step, loss=f"{event.train_loss:.4g}",
                        speed=f"{event.samples_per_second:,.0f}",
                        description=f"Epoch {epoch_of(event.epoch, event.epochs)}")

    def on_epoch_end(self, event: EpochEnded) -> None:
        if self.verbose:
            self.bar.console.print(epoch_line(event.metrics, event.epochs), highlight=False)
        self.bar.update(self.task_id, completed=event.metrics.global_step,
                        speed=f"{event.metrics.samples_per_second:,.0f}")

    def on_change(self, event: ChangeMade) -> None:
        self.bar.console.print(change_line(event), highlight=False)

    def on_run_end(self, event) -> None:
        self.bar.stop()


def summary_text(result: RunResult) -> str:
    """The end-of-run summary: outcome, final metrics, learned w and b (linear), size, device, folder."""
    final = result.final
    lines = [f"Run ended: {outcome(result.reason, result.message)}"]
    # The losses on one line, the accuracy or R^2 on the next: each line well under 80 columns,
    # so no terminal wraps a piece of one.
    groups = [[("train_loss", final.train_loss, ".6g"), ("val_loss", final.val_loss, ".6g")],
              [("train_accuracy", final.train_accuracy, ".2%"), ("val_accuracy", final.val_accuracy, ".2%"),
               ("train_r2", final.train_r2, ".4f"), ("val_r2", final.val_r2, ".4f")]]
    shown = ["  ".join(f"{name} {value:{fmt}}" for name, value, fmt in group if value is not None)
             for group in groups]
    shown = [line for line in shown if line] or ["none (no finite values)"]
    lines += [("  final:       " if i == 0 else " " * 15) + line for i, line in enumerate(shown)]
    tested = [f"{name} {value:{fmt}}" for name, value, fmt in (
        ("test_loss", final.test_loss, ".6g"), ("test_accuracy", final.test_accuracy, ".2%"),
        ("test_r2", final.test_r2, ".4f")) if value is not None]
    if tested:
        lines += ["  test set:    " + "  ".join(tested), " " * 15 + "(scored once, on the final weights)"]
    if result.point:
        lines.append(f"  point:       {point_text(result.point)}")
    if result.parameters:
        p = result.parameters
        lines.append(f"  learned:     w = {number(p['weight'], 5)} (true {number(p['true_weight'])})   "
                     f"b = {number(p['bias'], 5)} (true {number(p['true_bias'])})")
    if result.class_names:
        lines.append(f"  classes:     {', '.join(result.class_names)}")
    lines.append(f"  parameters:  {result.param_count:,}")
    lines.append(f"  device:      {result.device} ({result.device_name})")
    lines.append(f"  epochs run:  {result.epochs_run}   time: {result.seconds:.2f}s   "
                 f"speed: {result.samples_per_second:,.0f} {'steps' if result.point else 'samples'}/s")
    if result.compile_seconds is not None:
        lines.append(f"  compile:     {result.compile_seconds:.2f}s (torch.compile, the first step; "
                     "not in the training time)")
    if result.run_dir:
        lines.append(f"  run folder:  {result.run_dir}")
    return "\n".join(lines)


def lr_find_text(result: LrFindResult, width: int = 72, height: int = 18) -> str:
    """The range test's curve (smoothed loss against the learning rate, log x) with the
    suggestion marked, then the suggestion and its rule in words."""
    import math

    import plotext as plt

    points = [(lr, loss) for lr, loss in zip(result.lrs, result.losses) if loss is not None]
    plt.clear_figure()
    plt.plotsize(width, height)
    plt.theme("clear")
    if points:
        plt.plot([math.log10(lr) for lr, _ in points], [loss for _, loss in points], marker="braille")
        low, high = math.floor(math.log10(points[0][0])), math.ceil(math.log10(points[-1][0]))
        ticks = list(range(low, high + 1))
        plt.xticks(ticks, [f"1e{t}" for t in ticks])
    if result.suggestion:
        plt.vline(math.log10(result.suggestion))
    plt.xlabel("learning rate (log scale)")
    plt.ylabel("smoothed loss")
    chart = plt.uncolorize(plt.build())
    ended = (f"stopped early at lr {result.lrs[-1]:.3g}: the loss passed 4x its best" if result.stopped_early
             else f"ran all {len(result.lrs)} steps")
    said = (f"suggested learning rate: {result.suggestion:.3g} (rule: {result.rule}; marked by the "
            "vertical line)" if result.suggestion else "no suggestion: too few finite losses past the first "
            "tenth of the steps and before the last 5 (fastai's rule; try more --steps)")
    return f"{chart}\n{ended}\n{said}\nthe model and optimizer were put back as they were"


def confusion_text(confusion: Confusion, max_classes: int = 20) -> str:
    """A confusion matrix as a table: a row per true class, a column per predicted class (class
    names cut to 10 characters); more than ``max_classes`` classes are left to ``--json``."""
    names = confusion.classes
    if len(names) > max_classes:
        return f"confusion matrix: {len(names)} classes (see --json)"
    labels = [name[:10] for name in names]
    width = max([len(label) for label in labels] + [len(str(v)) for row in confusion.matrix for v in row])
    head = " " * (width + 4) + "  ".join(label.rjust(width) for label in labels)
    rows = [f"  {label.ljust(width)}  " + "  ".join(str(v).rjust(width) for v in row)
            for label, row in zip(labels, confusion.matrix)]
    return "\n".join([f"confusion matrix ({confusion.split}; rows: true class, columns: predicted):", head, *rows])


def evaluation_text(score: SplitScore) -> str:
    """What ``tui-trainer evaluate`` prints: the split scored, its loss, accuracy or R², and for
    a classifier its confusion matrix and how many samples it gets wrong."""
    metrics = [f"loss {number(score.loss, 6)}"]
    if score.accuracy is not None:
        metrics.append(f"accuracy {score.accuracy:.2%}")
    if score.r2 is not None:
        metrics.append(f"R² {score.r2:.4f}")
    lines = [f"{score.run_dir}: {score.split} set, {score.samples:,} samples", "  " + "   ".join(metrics)]
    if score.confusion is not None:
        lines.append(confusion_text(score.confusion))
    if score.mistakes is not None:
        lines.append(f"misclassified: {score.mistakes.count:,} of {score.mistakes.total:,}")
    return "\n".join(lines)
