"""Compare mode in the app: the dialog that asks what to vary, and the live leaderboard."""

from __future__ import annotations

import math
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Input, Label, Select, Static

from tui_trainer.app.feed import RunFeed
from tui_trainer.app.fields import TickList
from tui_trainer.compare import MAX_RUNS, PlannedRun, Variation, describe_assignments, plan_runs
from tui_trainer.config import Config, choice_names, params_of, to_dict
from tui_trainer.errors import ConfigError
from tui_trainer.formatting import number, percent
from tui_trainer.schema import show_value

#: The choices a comparison offers to vary, with the words the dialog shows.
CHOICE_FIELDS = {"optimizer.name": "optimizer", "loss.name": "loss", "scheduler.name": "scheduler",
                 "model.activation": "activation"}


def varied_fields(config: Config) -> dict[str, str]:
    """The fields a comparison of ``config`` can vary: the choices, then the current optimizer's
    and scheduler's settings, the model's (a model of your own: each of its keyword arguments,
    ``model.args.width``), the training's and the lab's (field: what the dialog says); what a run
    records beside its folder (logging) changes no run."""
    fields = dict(CHOICE_FIELDS)
    for section, values in to_dict(config).items():
        for key, value in values.items():
            field = f"{section}.{key}"
            if isinstance(value, dict):  # a table: its entries one by one
                fields.update({f"{field}.{name}": f"{field}.{name} (now {show_value(item)})"
                               for name, item in value.items()})
            elif field not in fields and key != "name" and section not in ("task", "logging"):
                fields[field] = f"{field} (now {show_value(value)})"
    takes = config.task_spec.traits.takes  # a point on a function: no loss, model or data to vary
    return {field: words for field, words in fields.items() if takes(field)}


def choice_options(config: Config, field: str) -> list[str]:
    """The names a choice field can take for ``config`` (losses: those that fit its task)."""
    if field == "loss.name":
        return list(config.task_spec.losses)
    if field == "model.activation":
        return list(next(p for p in params_of("model") if p.name == "activation").choices)
    return list(choice_names(field.partition(".")[0]))


#: What the dialog's keys do, for a choice (ticked) and for typed values.
CHOICE_HINT = ("space or enter ticks or unticks the highlighted choice · ctrl+r: race the ticked ones "
               "(at most {runs}) · escape: cancel")
VALUES_HINT = "enter or ctrl+r: race these values (at most {runs}) · escape: cancel"


class CompareDialog(ModalScreen[list[PlannedRun] | None]):
    """Asks what to vary: a field, then several choices (ticked) or values (typed, separated by
    commas); answers the planned runs once every one of them is valid, else says what to fix."""

    DEFAULT_CSS = """
    CompareDialog { align: center middle; }
    CompareDialog > Vertical {
        width: 90%; max-width: 90; height: auto; max-height: 90%; padding: 0 1;
        border: round $primary; background: $surface;
    }
    CompareDialog SelectionList { height: auto; max-height: 8; }
    CompareDialog Label { width: 1fr; }
    CompareDialog .hint { color: $text-muted; }
    CompareDialog #problems { color: $text-error; height: auto; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("ctrl+r", "race", "Race", priority=True)]
    AUTO_FOCUS = None  # the list of choices (or the values' field) takes the focus, not the first widget

    def __init__(self, config: Config) -> None:
        super().__init__()
        self.config = config
        self.fields = varied_fields(config)
        self.field_select = Select([(label, field) for field, label in self.fields.items()],
                                   value="optimizer.name", allow_blank=False, id="vary-field")
        self.choices = TickList(id="vary-choices")
        self.values = Input(placeholder="values separated by commas, e.g. 0.1, 0.01, 0.001", id="vary-values")
        self.problems = Static("", id="problems")
        self.hint = Label("", classes="hint")

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Compare: race runs of the form's config that differ in one field")
            yield self.field_select
            yield self.choices
            yield self.values
            yield self.problems
            yield self.hint

    def on_mount(self) -> None:
        self._show_field("optimizer.name")

    def on_select_changed(self, event: Select.Changed) -> None:
        self._show_field(str(event.value))

    def _show_field(self, field: str) -> None:
        choice = field in CHOICE_FIELDS
        self.choices.display, self.values.display = choice, not choice
        self.hint.update((CHOICE_HINT if choice else VALUES_HINT).format(runs=MAX_RUNS))
        self.problems.update("")
        if choice:
            current = to_dict(self.config)[field.partition(".")[0]]
            current = current.get("name", current.get("activation"))
            names = choice_options(self.config, field)
            self.choices.clear_options()
            self.choices.add_options([(name, name, name == current) for name in names])
            self.choices.highlighted = names.index(current) if current in names else 0
            self.choices.focus()
        else:
            self.values.value = ""
            self.values.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.action_race()

    def action_race(self) -> None:
        """Plan the runs; answer them, or show what is wrong."""
        field = str(self.field_select.value)
        if field in CHOICE_FIELDS:
            ticked = set(self.choices.selected)  # in the catalog's order, whatever the ticking order
            text = ",".join(name for name in choice_options(self.config, field) if name in ticked)
        else:
            text = self.values.value.strip()
        try:
            variation = Variation.parse(f"{field}={text}")
            runs = plan_runs(to_dict(self.config), {}, [variation])
        except ConfigError as exc:
            self.problems.update("\n".join(str(p) for p in exc.problems))
            return
        if len(runs) < 2:
            self.problems.update("choose two or more values to compare")
            return
        self.dismiss(runs)

    def action_cancel(self) -> None:
        """Close without racing."""
        self.dismiss(None)


#: How the leaderboard words a run's ending (the Log has the whole message).
SHORT_ENDINGS = {"completed": "done", "early-stopped": "early stop", "target-reached": "target",
                 "stopped": "stopped", "interrupted": "stopped", "diverged": "diverged", "failed": "failed"}


class Leaderboard(DataTable):
    """The runs of a comparison as they race: best first by their last validation (else train)
    loss, with their status, epoch, loss and accuracy or R^2. When their data has a test set, its
    scores take the epoch column's place once the runs ended (the Log keeps their epochs), so the
    board fits 80 columns."""

    DEFAULT_CSS = """
    Leaderboard { height: auto; max-height: 8; overflow-x: hidden; }
    """

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.runs: list[tuple[int, str, RunFeed]] = []
        self.states: dict[int, str] = {}
        self.regression = False
        self.arena = False
        self.tested = False  # the runs have a test set: a column of its scores
        self.test_scores: dict[int, float | None] = {}

    def start(self, runs: list[tuple[int, PlannedRun, RunFeed]], regression: bool) -> None:
        """Show a new comparison's runs (number, plan, feed), all waiting. One varied field is
        the column's name and each run shows its value; several show as ``field=value`` words."""
        single = len(runs[0][1].assignments) == 1
        header = describe_assignments(runs[0][1].assignments).partition("=")[0] if single else "varies"
        self.runs = [(number, describe_assignments(run.assignments).partition("=")[2] if single
                      else describe_assignments(run.assignments), feed) for number, run, feed in runs]
        self.regression = regression
        self.arena = runs[0][1].config.task_spec.traits.point
        self.states = {number: "waiting" for number, _, _ in self.runs}
        self.tested = any(run.config.has_test_set for _, run, _ in runs)
        self.test_scores = {}
        self.header = header
        self._columns()
        self.show()

    def _columns(self) -> None:
        """The columns: an arena's run has no epoch (the Arena tab's lines say the step each run
        came within tolerance); the test score's (``test``: its accuracy or R²) take the epoch's
        place once the runs' scores are in."""
        self.clear(columns=True)
        if self.arena:
            self.add_columns("#", self.header, "status", "f(x,y)", "to min")
        else:
            self.add_columns("#", self.header, "status", "test" if self.test_scores else "epoch", "loss",
                             "R²" if self.regression else "acc")

    def finish(self, results: dict[int, Any]) -> None:
        """The runs ended (their RunResults by number): how each ended, and the test scores when
        their data has a test set."""
        from tui_trainer.leaderboard import ending, test_score

        keep = self.selected_number
        for number_, result in results.items():
            self.set_state(number_, ending(result))
        if self.tested:
            self.test_scores = {number_: test_score(result) for number_, result in results.items()}
            self._columns()
        self.show(keep)

    def set_state(self, number: int, state: str) -> None:
        """Say what one run is doing (running, stopping) or how it ended (a RunResult reason, or
        the leaderboard's ending: ``diverged at epoch 3`` shows as ``diverged``; the Log says
        where)."""
        self.states[number] = SHORT_ENDINGS.get(state.split(" ", 1)[0], state)

    def show(self, keep: int | None = None) -> None:
        """Redraw from the feeds, best first (the highlighted run, or run ``keep``, stays
        highlighted)."""
        rows = [(self._loss(feed), number, label, feed) for number, label, feed in self.runs]
        rows.sort(key=lambda row: (row[0] is None, row[0] if row[0] is not None else 0.0, row[1]))
        keep = self.selected_number if keep is None else keep
        self.clear()
        for loss, number_, label, feed in rows:
            last = feed.epochs[-1] if feed.epochs else None
            loss_text = number(loss, 3) if loss is not None else "-"
            lost = self.states.get(number_) in ("diverged", "failed")  # its last figures mean nothing now
            first = (self._shown(self.test_scores.get(number_)) if self.test_scores
                     else str(last.epoch) if last else "-")
            cells = ([loss_text, "-" if lost else self._distance(feed)] if self.arena
                     else [first, loss_text, self._score(last)])
            self.add_row(f"#{number_}", label, self.states.get(number_, ""), *cells, key=str(number_))
        if keep is not None:
            self.move_cursor(row=self.get_row_index(str(keep)))

    @property
    def selected_number(self) -> int | None:
        """The run number of the highlighted row."""
        if not self.row_count:
            return None
        return int(self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value)

    @staticmethod
    def _loss(feed: RunFeed) -> float | None:
        if not feed.epochs:
            return None
        last = feed.epochs[-1]
        loss = last.val_loss if last.val_loss is not None else last.train_loss
        return loss if loss is not None and math.isfinite(loss) else None

    @staticmethod
    def _distance(feed: RunFeed) -> str:
        """An arena run's distance to the nearest known minimum at its last report."""
        distance = feed.progress.figures.get("distance") if feed.progress else None
        return "-" if distance is None or not math.isfinite(distance) else number(distance, 3)

    def _score(self, last: Any) -> str:
        if last is None:
            return "-"
        values = (last.val_r2, last.train_r2) if self.regression else (last.val_accuracy, last.train_accuracy)
        return self._shown(next((v for v in values if v is not None), None))

    def _shown(self, value: float | None) -> str:
        """An accuracy or R^2 as the board shows it ("-": none, or not finite)."""
        if value is None or not math.isfinite(value):
            return "-"
        return number(value, 3) if self.regression else percent(value)
