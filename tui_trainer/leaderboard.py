"""Compare mode's reporting: each run's ending in words, the leaderboard (runs sorted by their
final loss), the ``compare --json`` object, and per-run progress for the headless command."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, TextIO

from tui_trainer.compare import PlannedRun, describe_assignments, varied_values
from tui_trainer.engine.events import Callback, EpochEnded, Progress, RunEnded, RunResult, RunStarted
from tui_trainer.formatting import epoch_line, epoch_of, number, outcome
from tui_trainer.report import start_line


def ending(result: RunResult) -> str:
    """How a run ended, in a few words: ``completed``, ``diverged at epoch 3``, ``early-stopped``."""
    if result.reason != "diverged":
        return result.reason
    last = result.history[-1] if result.history else None
    # A run that diverged inside an epoch never finished it; one whose validation loss was not
    # finite did, and the epoch is in its history.
    diverged_on_validation = last is not None and not _finite(last.val_loss, last.train_loss)
    return f"diverged at epoch {result.epochs_run if diverged_on_validation else result.epochs_run + 1}"


def final_loss(result: RunResult) -> float | None:
    """What the leaderboard ranks by: the final validation loss, or the train loss without a
    validation split (None when not finite)."""
    final = result.final
    loss = final.val_loss if final.val_loss is not None else final.train_loss
    return loss if loss is not None and math.isfinite(loss) else None


@dataclass
class Standing:
    """One row of the leaderboard."""

    rank: int
    run: PlannedRun
    result: RunResult

    @property
    def loss(self) -> float | None:
        """The final loss the row is ranked by."""
        return final_loss(self.result)

    @property
    def score(self) -> float | None:
        """Final validation (else train) accuracy, or R^2 for regression."""
        final = self.result.final
        for value in (final.val_accuracy, final.val_r2, final.train_accuracy, final.train_r2):
            if value is not None:
                return value if math.isfinite(value) else None
        return None

    @property
    def test_score(self) -> float | None:
        """Test accuracy, or R^2 for regression, when the run has a test set (else None)."""
        return test_score(self.result)


def test_score(result: RunResult) -> float | None:
    """A run's test accuracy, or R^2 for regression, when it has a test set (else None)."""
    final = result.final
    value = final.test_accuracy if final.test_accuracy is not None else final.test_r2
    return value if value is not None and math.isfinite(value) else None


def standings(runs: list[PlannedRun], results: list[RunResult]) -> list[Standing]:
    """The runs best first: by final loss, runs without a finite one last (in run order)."""
    pairs = sorted(zip(runs, results), key=lambda pair: (final_loss(pair[1]) is None,
                                                         final_loss(pair[1]) or 0.0, pair[0].number))
    return [Standing(rank, run, result) for rank, (run, result) in enumerate(pairs, start=1)]


def leaderboard_text(runs: list[PlannedRun], results: list[RunResult]) -> str:
    """The leaderboard as a plain-text table (80 columns for a few varied values), then each
    run's folder on its own line."""
    rows = standings(runs, results)
    traits = runs[0].config.task_spec.traits
    table = _arena_table(rows) if traits.point else _table(rows, traits.score == "r2")
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() for line in table]
    lines.insert(1, "  ".join("-" * width for width in widths))
    lines += ["", "run folders:"] + [f"  #{row.run.number}  {row.result.run_dir or '-'}" for row in rows]
    return "\n".join(lines)


def _table(rows: list[Standing], regression: bool) -> list[list[str]]:
    validated = any(r.result.final.val_loss is not None for r in rows)
    tested = any(r.test_score is not None for r in rows)  # a column only when a run has a test set
    table = [["rank", "run", "varies", "val loss" if validated else "train loss",
              "R^2" if regression else "accuracy"] + [f"test {'R^2' if regression else 'acc'}"] * tested
             + ["epochs", "time", "ending"]]

    def shown(score: float | None) -> str:
        return "-" if score is None else (f"{score:.4f}" if regression else f"{score:.2%}")

    for row in rows:
        result = row.result
        table.append([
            str(row.rank), f"#{row.run.number}", describe_assignments(row.run.assignments),
            f"{row.loss:.4g}" if row.loss is not None else "-", shown(row.score)]
            + [shown(row.test_score)] * tested
            + [str(result.epochs_run), f"{result.seconds:.2f}s", ending(result)])
    return table


def _arena_table(rows: list[Standing]) -> list[list[str]]:
    """The arena's leaderboard: the function's value at each run's point, the distance to the
    nearest known minimum and the first step within the tolerance (the column names it when
    every run has the same one)."""
    tolerances = {row.result.config.task.params["tolerance"] for row in rows}
    same = len(tolerances) == 1
    table = [["rank", "run", "varies", "f(x, y)", "to minimum",
              f"steps to {number(tolerances.pop())}" if same else "steps to tolerance", "time", "ending"]]
    for row in rows:
        result, point = row.result, row.result.point or {}
        reached = point.get("reached_step")
        cell = "never" if reached is None else str(reached)
        if not same:
            cell += f" ({number(result.config.task.params['tolerance'])})"
        table.append([str(row.rank), f"#{row.run.number}", describe_assignments(row.run.assignments),
                      f"{row.loss:.4g}" if row.loss is not None else "-",
                      "-" if point.get("distance") is None else f"{point['distance']:.4g}",
                      cell, f"{result.seconds:.2f}s", ending(result)])
    return table


def compare_json(runs: list[PlannedRun], results: list[RunResult]) -> dict[str, Any]:
    """The ``compare --json`` object: ``runs`` (each the ``train --json`` object of that run, in
    run order) and ``varied`` (each varied field and its values)."""
    return {"runs": [{**result.as_json(), "model_file": None} for result in results],
            "varied": varied_values(runs)}


class LabelledEpochLines(Callback):
    """What the run trains, then one Keras-style line per epoch, each led by the run's label
    (for logs and pipes)."""

    def __init__(self, out: TextIO, label: str) -> None:
        self.out, self.label = out, label

    def on_run_start(self, event: RunStarted) -> None:
        print(f"[{self.label}] {start_line(event)}", file=self.out, flush=True)

    def on_epoch_end(self, event: EpochEnded) -> None:
        print(f"[{self.label}] {epoch_line(event.metrics, event.epochs)}", file=self.out, flush=True)

    def on_run_end(self, event: RunEnded) -> None:
        print(f"[{self.label}] {outcome(event.result.reason, event.result.message)}", file=self.out, flush=True)


class RaceBars:
    """One rich progress line per run (on a terminal); ``callback(label)`` gives each run its own."""

    def __init__(self) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress as RichProgress, TextColumn

        self.display = RichProgress(
            TextColumn("{task.description}"), BarColumn(bar_width=24), MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]}"), TextColumn("{task.fields[state]}"))

    def __enter__(self) -> RaceBars:
        self.display.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.display.stop()

    def callback(self, label: str) -> Callback:
        """The progress callback of the run called ``label``."""
        return _RaceBar(self.display, label)


class _RaceBar(Callback):
    def __init__(self, display, label: str) -> None:
        self.display, self.label = display, label
        self.task_id = display.add_task(label, total=None, loss="-", state="waiting")
        self.steps = 0  # the steps the bar shows done

    def _done(self, steps: int, **fields: str) -> None:
        self.steps = max(self.steps, steps)
        self.display.update(self.task_id, completed=self.steps, **fields)

    def on_run_start(self, event: RunStarted) -> None:
        self.display.update(self.task_id, total=event.total_steps, state="running")

    def on_progress(self, event: Progress) -> None:
        self._done(event.global_step, loss=f"{event.train_loss:.4g}",
                   state=f"epoch {epoch_of(event.epoch, event.epochs)}")

    def on_epoch_end(self, event: EpochEnded) -> None:
        self._done(event.metrics.global_step)

    def on_run_end(self, event: RunEnded) -> None:
        # Progress is reported at most every report interval: the bar ends where the run did.
        history = event.result.history
        self._done(history[-1].global_step if history else 0, state=ending(event.result))


def _finite(*values: float | None) -> bool:
    return all(value is None or math.isfinite(value) for value in values)
