"""Run history: every run of the session and the earlier ones found in the runs folder, with an
overlay of the selected runs' loss curves. A run another process is still writing is marked live
(● in its row); enter on its row watches it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import SelectionList, Static
from textual.widgets.selection_list import Selection

from tui_trainer.app.charts import Chart, Line
from tui_trainer.app.fields import TickList
from tui_trainer.formatting import number, percent
from tui_trainer.app.series import MinMaxSeries
from tui_trainer.catalog.lab import on_purpose
from tui_trainer.compare import differing_labels as compare_labels
from tui_trainer.config import resolve
from tui_trainer.engine.events import RunResult
from tui_trainer.engine.follow import LIVE, LOST, WAITING, Liveness
from tui_trainer.engine.rundir import RunRecord
from tui_trainer.errors import ConfigError

#: At most this many differing settings name a run in the overlay's legend.
#: When a run ends, the newest this many runs are ticked for the overlay.
TICKED_AFTER_A_RUN = 2
#: What the line under the list says until a run is highlighted.
TICK_HINT = "space or a click ticks a run; the ticked runs' loss curves overlay below"
#: The mark of a run another process is still writing.
LIVE_MARK = "●"


@dataclass
class RunEntry:
    """One run: its config (as a TOML dict), its per-epoch history and its summary (None for a
    run that never ended, e.g. one killed by the system). A run found in the runs folder has its
    ``liveness`` (whether another process still writes it) and ``writer`` (who: ``process 1234
    on gpu-box``)."""

    number: int
    config: dict[str, Any]
    history: list[dict[str, Any]]
    summary: dict[str, Any] | None
    path: Path | None
    liveness: Liveness | None = None
    writer: str = ""

    @classmethod
    def from_record(cls, number: int, record: RunRecord, liveness: Liveness | None = None,
                    writer: str = "") -> RunEntry:
        """A run read from its folder."""
        return cls(number, record.config, record.history, record.summary, record.path, liveness, writer)

    @classmethod
    def from_result(cls, number: int, result: RunResult) -> RunEntry:
        """A run that just ended in this session."""
        summary = result.as_json()
        history = summary.pop("history")
        return cls(number, summary["config"], history, summary, result.run_dir)

    @property
    def live(self) -> bool:
        """Whether another process is still writing the run."""
        return self.liveness is not None and self.liveness.state in (LIVE, WAITING)

    @property
    def reason(self) -> str:
        """Why the run ended: ``live`` while another process writes it, ``lost`` when its writer
        died, ``unfinished`` when it has no summary otherwise."""
        if self.live:
            return "live"
        if self.summary:
            return self.summary["stopped_reason"]
        return "lost" if self.liveness is not None and self.liveness.state == LOST else "unfinished"

    def config_summary(self) -> str:
        """The run's main choices on one line."""
        try:
            config = resolve(self.config)
        except ConfigError:
            return "config no longer valid"
        return " · ".join(filter(None, (config.summary(), on_purpose(config.mistakes))))

    def describe(self) -> str:
        """Number, config summary, how it ended and its final metrics (a run without its summary,
        a live one too: those of its last epoch)."""
        ended = self.summary is not None and not self.live
        figures = (self.summary.get("final") or {}) if ended else (self.history[-1] if self.history else {})
        if figures.get("val_accuracy") is not None or figures.get("train_accuracy") is not None:
            metric = f"acc {percent(figures.get('val_accuracy', figures.get('train_accuracy')))}"
        else:
            metric = f"R² {number(figures.get('val_r2', figures.get('train_r2')))}"
        loss = (figures.get("val_loss", figures.get("train_loss")) if ended
                else figures.get("val_loss") or figures.get("train_loss"))
        at = f" at epoch {self.history[-1].get('epoch')}" if self.live and self.history else ""
        mark = f"{LIVE_MARK} " if self.live else ""
        return (f"#{self.number} {mark}{self.config_summary()} → {self.reason}{at}, "
                f"loss {number(loss)}, {metric}")

    def prompt(self) -> Content:
        """The run's row: ``describe``, a live run's mark in the success color."""
        text = self.describe()
        if not self.live:
            return Content(text)
        head, _, rest = text.partition(LIVE_MARK)
        return Content.assemble(head, (LIVE_MARK, "$text-success"), rest)

    def details(self) -> str:
        """The row's description, its folder, and for a run another process writes who writes it
        and what enter does."""
        where = f" · {self.path}" if self.path else ""
        if self.live:
            return f"{self.describe()}{where} · written by {self.writer}; enter watches it"
        if self.liveness is not None and self.liveness.state == LOST:
            return f"{self.describe()}{where} · {self.liveness.reason}"
        return self.describe() + where

    def curve(self, key: str) -> list[tuple[float, float]]:
        """(epoch, value) of one history column, skipping missing values."""
        return [(row["epoch"], row[key]) for row in self.history if row.get(key) is not None]


def differing_labels(entries: list[RunEntry]) -> list[str]:
    """Legend labels that name what differs between runs (``#2 optimizer=sgd``)."""
    return compare_labels([entry.config for entry in entries], [entry.number for entry in entries])


class RunList(TickList):
    """The runs, newest on top: space or a click ticks one for the overlay; enter opens one
    (``Open``: the app watches a run another process writes, else ticks it)."""

    BINDINGS = [Binding("enter", "open", "Open run", show=False)]

    class Open(Message):
        """Enter on the run numbered ``number``."""

        def __init__(self, number: int) -> None:
            super().__init__()
            self.number = number

    def action_open(self) -> None:
        if self.highlighted is not None:
            self.post_message(self.Open(self.get_option_at_index(self.highlighted).value))


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
        self.runs = RunList(id="run-list")
        self.details = Static("no runs yet: every run of this session and of the runs folder "
                              "shows here", id="run-details")
        self.chart = Chart("loss per epoch of the selected runs", scale="log", id="overlay-chart")

    def compose(self) -> ComposeResult:
        yield self.runs
        yield self.details
        yield self.chart

    def add(self, entries: list[RunEntry], ended: bool = False) -> None:
        """List runs (the newest on top; a run listed already is shown anew in its row). When
        ``ended`` (a run of this session just ended), the two newest runs are the ones ticked for
        the overlay; earlier runs come unticked."""
        listed = set(self.entries)
        numbers = {entry.number for entry in entries}
        self.entries.update((entry.number, entry) for entry in entries)
        if not ended and numbers <= listed:  # rows shown anew in place: the cursor stays
            for entry in entries:
                self.runs.replace_option_prompt(_row_id(entry.number), entry.prompt())
            self.runs.refresh()
            self._show_details()
            if numbers & set(self.runs.selected):
                self.draw()
            return
        highlighted = self.highlighted
        chosen = set(sorted(self.entries)[-TICKED_AFTER_A_RUN:]) if ended else set(self.runs.selected)
        self.runs.clear_options()
        self.runs.add_options([Selection(e.prompt(), n, n in chosen, id=_row_id(n))
                               for n, e in sorted(self.entries.items(), reverse=True)])
        if highlighted is not None:
            self.runs.highlighted = self.runs.get_option_index(_row_id(highlighted.number))
            self._show_details()
        else:
            self.details.update(TICK_HINT)
        self.draw()

    def number_of(self, path: Path) -> int | None:
        """The number of the run listed with folder ``path`` (None when none is)."""
        return next((n for n, entry in self.entries.items() if entry.path == path), None)

    @property
    def highlighted(self) -> RunEntry | None:
        """The run the list's cursor is on."""
        index = self.runs.highlighted
        return None if index is None else self.entries.get(self.runs.get_option_at_index(index).value)

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
        self._show_details()

    def _show_details(self) -> None:
        entry = self.highlighted
        if entry is not None:
            self.details.update(entry.details())


def _row_id(number: int) -> str:
    return f"run-{number}"
