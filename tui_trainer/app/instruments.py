"""Instruments: the per-layer gradient-flow panel, and the learning-rate finder's curve with its
suggestion (one key writes it into the form)."""

from __future__ import annotations

import math
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label, Static
from textual_plotext import PlotextPlot

from tui_trainer.app.pace import TABLE_SHARE, Pace, Paced
from tui_trainer.formatting import number, percent


#: How the panel marks a layer whose gradient vanishes or explodes.
FLAG_MARKS = {"vanishing": "▼", "exploding": "▲"}


class LayerTable(Paced, DataTable):
    """The layers' figures, one row a layer (its drawing paid from the panel's pace)."""


class LayerPanel(Vertical):
    """Each Linear layer's gradient norm, weight norm, update-to-weight ratio of a step and dead
    ReLU share, as last measured (the engine measures them at epoch ends); a layer whose gradient
    vanishes or explodes is marked."""

    DEFAULT_CSS = """
    LayerPanel > DataTable { height: auto; max-height: 1fr; }
    LayerPanel > .hint { color: $text-muted; padding: 0 1; }
    """

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.table = LayerTable(zebra_stripes=True, cursor_type="none")
        self.pace = self.table.pace = Pace(TABLE_SHARE)
        self.hint = Static("per-layer figures appear after a run's first epoch", classes="hint")
        self.shown: tuple[int, Any] | None = None
        self.latest: tuple[int | None, list[dict[str, Any]] | None] = (None, None)
        self.in_view = False  # drawn only while on screen: a hidden tab costs no layout

    def compose(self) -> ComposeResult:
        yield self.table
        yield self.hint

    def on_mount(self) -> None:
        self.table.add_columns("layer", "grad", "weight", "ΔW/W", "dead")

    def on_show(self) -> None:
        self.in_view = True
        self.show(*self.latest, final=True)  # figures that came while the tab was not shown

    def on_hide(self) -> None:
        self.in_view = False

    def clear(self) -> None:
        """Blank, for a new run: the panel waits for its first epoch's figures (the last run's
        layers are not the new one's)."""
        self.pace.reset()
        self.latest, self.shown = (None, None), None
        if self.table.columns:
            self._fill(None, None)

    def show(self, epoch: int | None, layers: list[dict[str, Any]] | None, final: bool = False) -> None:
        """Show the figures measured at the end of ``epoch`` (nothing new: nothing redrawn; kept
        for when the tab shows, while it is hidden), when the panel's pace allows (``final``, a
        run's end: at once)."""
        self.latest = (epoch, layers)
        if not self.in_view or not self.table.columns or (epoch, id(layers)) == self.shown:
            return
        if not self.pace.due(final):
            return
        with self.pace.timed():
            self._fill(epoch, layers)

    def _fill(self, epoch: int | None, layers: list[dict[str, Any]] | None) -> None:
        self.shown = (epoch, id(layers))
        self.table.clear()
        flagged = []
        for count, layer in enumerate(layers or [], start=1):
            flag = layer["flag"]
            # Counted as a person counts the Linear layers: "0: Linear(4→16)" shows as "#1 4→16".
            shape = layer["name"].partition("(")[2].rstrip(")")
            name = f"#{count} {shape}" + (f" [b red]{FLAG_MARKS[flag]}[/]" if flag else "")
            if flag:
                flagged.append(f"#{count} {flag}")
            self.table.add_row(
                name, number(layer["grad_norm"], 3), number(layer["weight_norm"], 3),
                number(layer["update_ratio"], 2),
                "-" if layer["dead_relu"] is None else percent(layer["dead_relu"]))
        text = "per-layer figures appear after a run's first epoch" if not layers else (
            f"epoch {epoch}: gradient and weight norms, the update/weight ratio of a step "
            "(healthy: about 1e-3), the share of dead ReLU units"
            + (f"; {FLAG_MARKS['vanishing']} vanishing, {FLAG_MARKS['exploding']} exploding: "
               + ", ".join(flagged) if flagged else ""))
        # Only the epoch's digits change from epoch to epoch: a text of the same length wraps the
        # same, so it is redrawn without a layout of the whole screen.
        self.hint.update(text, layout=len(text) != len(str(self.hint.content)))


class LrFindDialog(ModalScreen[float | None]):
    """The learning-rate range test's curve (smoothed loss against the rate, log x) with the
    suggestion marked; enter answers the suggestion (the app writes it into the form's lr)."""

    DEFAULT_CSS = """
    LrFindDialog { align: center middle; }
    LrFindDialog > Vertical {
        width: 90%; height: 80%; padding: 0 1; border: round $primary; background: $surface;
    }
    LrFindDialog PlotextPlot { height: 1fr; }
    LrFindDialog Label { width: 1fr; }
    LrFindDialog .hint { color: $text-muted; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("enter", "use", "Use it")]

    def __init__(self, result) -> None:
        super().__init__()
        self.result = result
        self.plot = PlotextPlot()

    def compose(self) -> ComposeResult:
        result = self.result
        suggestion = result.suggestion
        said = (f"suggested learning rate {number(suggestion, 3)} (rule: {result.rule}; the vertical line)"
                if suggestion else "no suggestion: too few finite losses")
        ended = (f"stopped early at lr {number(result.lrs[-1], 3)}: the loss passed 4x its best"
                 if result.stopped_early else f"ran all {len(result.lrs)} steps")
        with Vertical():
            yield Label("learning-rate finder: the form's config, the rate growing step by step")
            yield self.plot
            yield Label(f"{said} · {ended}; the model was put back")
            yield Label("enter: write it into the form's learning rate · escape: close", classes="hint")

    def on_mount(self) -> None:
        plt = self.plot.plt
        points = [(math.log10(lr), loss) for lr, loss in zip(self.result.lrs, self.result.losses)
                  if loss is not None]
        if points:
            plt.plot([x for x, _ in points], [y for _, y in points], marker="braille")
            ticks = list(range(math.floor(points[0][0]), math.ceil(points[-1][0]) + 1))
            plt.xticks(ticks, [f"1e{t}" for t in ticks])
        if self.result.suggestion:
            plt.vline(math.log10(self.result.suggestion), "red")
        plt.xlabel("learning rate (log scale)")
        plt.ylabel("smoothed loss")

    def action_use(self) -> None:
        """Answer the suggestion."""
        self.dismiss(self.result.suggestion)

    def action_cancel(self) -> None:
        """Close without changing the form."""
        self.dismiss(None)
