"""Run history: every run of the session and the earlier ones found in the runs folder, with an
overlay of the selected runs' loss curves."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import SelectionList, Static

from tui_trainer.app.charts import Chart, Line
from tui_trainer.app.fields import TickList
from tui_trainer.formatting import number, percent
from tui_trainer.app.series import MinMaxSeries
from tui_trainer.compare import differing_labels as compare_labels
from tui_trainer.config import resolve
from tui_trainer.engine.events import RunResult
from tui_trainer.engine.rundir import RunRecord
from tui_trainer.errors import ConfigError

#: At most this many differing settings name a run in the overlay's legend.
#: When a run ends, the newest this many runs are ticked for the overlay.
TICKED_AFTER_A_RUN = 2
#: What the line under the list says until a run is highlighted.
TICK_HINT = "space or a click ticks a run; the ticked runs' loss curves overlay below"


@dataclass
class RunEntry:
    """One run: its config (as a TOML dict), its per-epoch history and its summary (None for a
    run that never ended, e.g. one killed by the system)."""

    number: int
    config: dict[str, Any]
    history: list[dict[str, Any]]
    summary: dict[str, Any] | None
    path: Path | None

    @classmethod
    def from_record(cls, number: int, record: RunRecord) -> RunEntry:
        """An earlier run read from its folder."""
        return cls(number, record.config, record.history, record.summary, record.path)

    @classmethod
    def from_result(cls, number: int, result: RunResult) -> RunEntry:
        """A run that just ended in this session."""
        summary = result.as_json()
        history = summary.pop("history")
        return cls(number, summary["config"], history, summary, result.run_dir)

    @property
    def reason(self) -> str:
        """Why the run ended (``unfinished`` when it has no summary)."""
        return self.summary["stopped_reason"] if self.summary else "unfinished"

    def config_summary(self) -> str:
        """The run's main choices on one line."""
        try:
            return resolve(self.config).summary()
        except ConfigError:
            return "config no longer valid"

    def describe(self) -> str:
        """Number, config summary, how it ended and its final metrics."""
        final = (self.summary or {}).get("final") or {}
        if final.get("val_accuracy") is not None or final.get("train_accuracy") is not None:
            metric = f"acc {percent(final.get('val_accuracy', final.get('train_accuracy')))}"
        else:
            metric = f"R² {number(final.get('val_r2', final.get('train_r2')))}"
        loss = final.get("val_loss", final.get("train_loss"))
        if self.summary is None and self.history:
            loss = self.history[-1].get("val_loss") or self.history[-1].get("train_loss")
        return (f"#{self.number} {self.config_summary()} → {self.reason}, "
                f"loss {number(loss)}, {metric}")

    def curve(self, key: str) -> list[tuple[float, float]]:
        """(epoch, value) of one history column, skipping missing values."""
        return [(row["epoch"], row[key]) for row in self.history if row.get(key) is not None]


def differing_labels(entries: list[RunEntry]) -> list[str]:
    """Legend labels that name what differs between runs (``#2 optimizer=sgd``)."""
    return compare_labels([entry.config for entry in entries], [entry.number for entry in entries])


class HistoryPanel(Vertical):
    """The list of runs (select two or more to compare) and their loss curves in one chart."""

    DEFAULT_CSS = """
    HistoryPanel > SelectionList, HistoryPanel > SelectionList:focus {
        height: auto; max-height: 40%; border: none; padding: 0;
    }
    HistoryPanel > #run-details { height: auto; max-height: 3; color: $text-muted; padding: 0 1; }
    HistoryPanel > Chart { height: 1fr; }
    """

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.entries: dict[int, RunEntry] = {}
        self.runs: SelectionList[int] = TickList(id="run-list")
        self.details = Static("no runs yet: every run of this session and of the runs folder "
                              "shows here", id="run-details")
        self.chart = Chart("loss per epoch of the selected runs", scale="log", id="overlay-chart")

    def compose(self) -> ComposeResult:
        yield self.runs
        yield self.details
        yield self.chart

    def add(self, entries: list[RunEntry], ended: bool = False) -> None:
        """List runs (the newest on top). When ``ended`` (a run of this session just ended), the
        two newest runs are the ones ticked for the overlay; earlier runs come unticked."""
        self.entries.update((entry.number, entry) for entry in entries)
        chosen = set(sorted(self.entries)[-TICKED_AFTER_A_RUN:]) if ended else set(self.runs.selected)
        self.runs.clear_options()
        self.runs.add_options([(e.describe(), n, n in chosen)
                               for n, e in sorted(self.entries.items(), reverse=True)])
        self.details.update(TICK_HINT)
        self.draw()

    @property
    def selected(self) -> list[RunEntry]:
        """The runs chosen for the overlay, oldest first."""
        return [self.entries[n] for n in sorted(self.runs.selected)]

    def labels(self) -> list[str]:
        """The legend labels of the selected runs."""
        return differing_labels(self.selected)

    def draw(self) -> None:
        """Overlay the selected runs' validation loss (train loss when a run has none)."""
        entries = self.selected
        key = "val_loss" if entries and all(e.curve("val_loss") for e in entries) else "train_loss"
        lines = []
        for i, (entry, label) in enumerate(zip(entries, self.labels())):
            series = MinMaxSeries()
            series.extend(entry.curve(key))
            lines.append(Line(label, series, i))
        what = "validation" if key == "val_loss" else "train"
        self.chart.draw(lines, title=f"{what} loss per epoch, {len(entries)} run(s) selected")

    def on_selection_list_selected_changed(self, event: SelectionList.SelectedChanged) -> None:
        self.draw()

    def on_selection_list_selection_highlighted(self, event: SelectionList.SelectionHighlighted) -> None:
        entry = self.entries[event.selection.value]
        where = f" · {entry.path}" if entry.path else ""
        self.details.update(entry.describe() + where)
