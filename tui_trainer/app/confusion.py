"""The Confusion tab: a classifier's confusion matrix at the end of a run (rows the true class,
columns the predicted one), on the validation set or the test set (f7 switches), each count
shaded by its share of its true class: the diagonal (right) in green, mistakes in vermillion
(the Okabe-Ito colors, told apart by color-blind people), zeros a dim dot. Without color too: a
mistake is bold, a count of half its class or more reversed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.color import Color
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import ScrollableContainer, Vertical
from textual.content import Content
from textual.widgets import Static

from tui_trainer.app.palette import STANDARD, Palette, ansi, palette
from tui_trainer.app.fields import set_text
from tui_trainer.app.outcome import SPLITS, OutcomePanel, ending_words, fitting, split_words
from tui_trainer.formatting import percent
from tui_trainer.pictures import RGB, blend

if TYPE_CHECKING:
    from tui_trainer.app.runs import Job, LiveRun

#: The diagonal's color (right) and the mistakes' color (Okabe-Ito bluish green and vermillion).
RIGHT: RGB = (0, 158, 115)
WRONG: RGB = (213, 94, 0)
#: The cell background the shades start from (a dark panel).
BASE: RGB = (30, 30, 30)
#: A nonzero count is shaded at least this much, so a single mistake shows.
LEAST_SHADE = 0.6
#: The header of the column of true classes, and its short form for a narrow panel.
CORNER, SHORT_CORNER = "true ↓ predicted →", "true↓ pred→"
#: From this share of its true class a count is reversed (readable without color).
REVERSE_SHARE = 0.5


def cell_style(count: int, share: float, right: bool, colors: Palette) -> Style:
    """A count's style: its color's shade by ``share`` of its row (in the terminal's ``colors``:
    with 16 colors, cyan or yellow, unshaded), text in black or white to stand out on it; without
    color too: a zero dim, a mistake bold, a count of half its row or more reversed."""
    if count == 0:
        return Style(dim=True)
    hue = RIGHT if right else WRONG
    shade = blend(BASE, hue, LEAST_SHADE + (1 - LEAST_SHADE) * share)
    if colors.mode == STANDARD:
        shade = ansi("cyan" if right else "yellow")
    elif not colors.glyphs:
        shade = colors.color(shade, hue, colored=True)
    text = (0, 0, 0) if sum(shade) > 3 * 140 or colors.mode == STANDARD else (255, 255, 255)
    reverse = share >= REVERSE_SHARE
    if reverse:  # swapped here, so that the terminal's reverse shows the text on the shade
        shade, text = text, shade
    return Style(color=Color.from_rgb(*text), bgcolor=Color.from_rgb(*shade), bold=not right, reverse=reverse)


def matrix_text(classes: list[str], matrix: list[list[int]], width: int, colors: Palette) -> Text:
    """The matrix as a table of text: a header of predicted classes, a row per true class. The
    columns are named by class when that fits ``width``, else by index (each row then says which
    class an index is)."""
    n = len(classes)
    cell = max(len(f"{max(map(max, matrix)):,}"), 2)
    label = max(len(CORNER), *map(len, classes))
    named = label + n * (max(cell, *map(len, classes)) + 1) <= width
    heads = classes if named or [str(i) for i in range(n)] == classes else [str(i) for i in range(n)]
    rows = classes if heads == classes else [f"{i} {name}" for i, name in enumerate(classes)]
    cell = max(cell, *map(len, heads))
    corner = CORNER if max(len(CORNER), *map(len, rows)) + n * (cell + 1) <= width else SHORT_CORNER
    label = max(len(corner), *map(len, rows))
    out = Text()
    out.append(corner.ljust(label), Style(dim=True))
    for head in heads:
        out.append(" " + head.rjust(cell), Style(bold=True))
    for t, (name, counts) in enumerate(zip(rows, matrix)):
        out.append("\n")
        out.append(name.ljust(label), Style(bold=True))
        total = sum(counts) or 1
        for p, count in enumerate(counts):
            out.append(" ", Style())
            out.append((f"{count:,}" if count else "·").rjust(cell), cell_style(count, count / total, t == p, colors))
    return out


class ConfusionPanel(OutcomePanel, Vertical):
    """A run's confusion matrix on one split: a caption (which run, which split, how many right)
    over the matrix, which scrolls when it is larger than the panel."""

    DEFAULT_CSS = """
    ConfusionPanel > .caption { height: auto; padding: 0 1; }
    ConfusionPanel > ScrollableContainer { height: 1fr; padding: 0 1; }
    ConfusionPanel .matrix { width: auto; }
    """

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.caption = Static("the confusion matrix shows once a run of a classification ends", classes="caption")
        self.matrix = Static("", classes="matrix")
        self.run: LiveRun | None = None
        self.label = ""

    def compose(self) -> ComposeResult:
        yield self.caption
        with ScrollableContainer():
            yield self.matrix

    def start(self, job: Job) -> None:
        self.run = None
        set_text(self.caption, f"the confusion matrix shows once {job.name} ends (rows: true class, "
                 "columns: predicted)")
        set_text(self.matrix, "")

    def show(self, job: Job, run: LiveRun) -> None:
        self.run, self.label = run, run.label if job.compared else ""
        self.redraw()

    def clear(self) -> None:
        self.run = None
        self.caption.update("the confusion matrix shows once a run of a classification ends")
        self.matrix.update("")

    def on_resize(self) -> None:
        if self.run is not None:
            self.redraw()

    @property
    def confusion(self) -> Any:
        """The matrix shown (an ``evaluation.Confusion``), or None."""
        result = self.run.result if self.run is not None else None
        return result.confusion.get(self.split) if result is not None else None

    def redraw(self) -> None:
        run = self.run
        if run is None:
            return
        why = ending_words(run, "confusion matrix") or split_words(run, self.split)
        if why is not None:
            self.caption.update(why)
            self.matrix.update("")
            return
        confusion = self.confusion
        other = "test" if self.split == "val" else "val"
        switch = other in run.result.confusion
        right = f"{confusion.correct:,} of {confusion.total:,} right"
        share = percent(confusion.correct / confusion.total if confusion.total else None)
        variants = [f"[b]$who$split set[/]: {right} ({share}) · rows: the true class, columns: the predicted"
                    + (f" · f7: {SPLITS[other]} set" if switch else ""),
                    f"[b]$who$split set[/]: {right} ({share})" + (f" · f7: {SPLITS[other]} set" if switch else ""),
                    f"[b]$who$split[/]: {right}" + (f" · f7: {other}" if switch else "")]
        self.caption.update(fitting([Content.from_markup(text, who=f"{self.label} · " if self.label else "",
                                                         split=SPLITS[self.split]) for text in variants],
                                    self.size.width - 2))
        self.matrix.update(matrix_text(confusion.classes, confusion.matrix, max(20, self.size.width - 2),
                                       palette(self.app)))
