"""The Mistakes tab: a classifier's misclassified samples at the end of a run, the most confident
first, a page at a time (pgdn / pgup), on the validation or the test set (f7 switches): for an
image task each sample's picture in half-block cells (two pixels a cell, as the Boundary draws
its plane) with its true and predicted class and the probability the model gave; for a table
(csv) its row as the file has it, named by its line; for a 2-D task its point (the Boundary rings
the validation mistakes); else the inputs the model took.

``gather`` collects what the tab shows of a run's mistakes (``evaluation.Mistakes``) from the
run's data, on the thread that trained it, once the run ended."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Static

from tui_trainer.app.fields import set_text
from tui_trainer.app.outcome import SPLITS, OutcomePanel, ending_words, fitting, split_words
from tui_trainer.formatting import number

if TYPE_CHECKING:
    from tui_trainer.app.runs import Job, LiveRun
    from tui_trainer.config import Config
    from tui_trainer.engine.data import Dataset
    from tui_trainer.engine.evaluation import Mistakes

#: A picture is kept at most this many pixels a side (larger images are scaled down to it).
PICTURE_SIDE = 28
#: A picture's caption: its classes, then its probability and sample.
CAPTION_LINES = 2
#: Columns between two pictures, and the narrowest a picture's column may be (its caption).
GAP, CAPTION_WIDTH = 2, 12
#: A page holds this many pictures when they can be drawn at least SMALLEST pixels high.
PER_PAGE, SMALLEST = 4, 14
#: The upper half block: its foreground is a cell's top pixel, its background the bottom one.
HALF_BLOCK = "▀"
#: How many of a sample's inputs a line shows (the rest are counted).
SHOWN_INPUTS = 8
#: The most lines a sample's words take in the list (a table's row; the rest is cut).
WORD_LINES = 3
#: The predicted (wrong) class's color: Okabe-Ito vermillion, as the Confusion tab's mistakes.
WRONG = Style(color=Color.from_rgb(230, 120, 40), bold=True)
PLAIN, BOLD, DIM = Style(), Style(bold=True), Style(dim=True)


@dataclass
class Examples:
    """A split's misclassified samples (``mistakes``: the most confident first) with what the
    tab shows of each: where it is in the data (``line 17 of iris.csv``, ``sample 12``) and its
    words (a table's row, a point, inputs), or its picture (``pictures``: uint8, (N, C, H, W));
    for a 2-D task its ``points`` (x, y), which the Boundary rings."""

    mistakes: Mistakes
    where: list[str]
    words: list[str] = field(default_factory=list)
    pictures: Any = None
    points: list[tuple[float, float]] | None = None


def gather(data: Dataset, config: Config, mistakes: dict[str, Mistakes]) -> dict[str, Examples]:
    """What the tab shows of each split's mistakes, from the run's data (torch is loaded: the
    run's thread calls it)."""
    return {split: _examples(data, config, split, wrong) for split, wrong in mistakes.items()}


def _examples(data: Dataset, config: Config, split: str, wrong: Mistakes) -> Examples:
    indices = [mistake.index for mistake in wrong.samples]
    if data.image_size is not None:
        return Examples(wrong, [f"#{i}" for i in indices], pictures=_pictures(data, split, indices))
    x = getattr(data, f"x_{split}")
    if data.rows is not None:
        file = config.task.params["test_path" if split == "test" else "path"]
        try:
            return Examples(wrong, *_table_rows(file, config.task.params["delimiter"], config.task.params["target"],
                                                data.rows[split], indices))
        except (OSError, ValueError) as error:  # the file changed or went since the run read it
            return Examples(wrong, [f"sample {i} ({Path(file).name} unreadable now: {error})" for i in indices],
                            [_inputs(x[i].tolist()) for i in indices])
    if config.on_plane:  # points of the plane (a playground task's, or two inputs)
        points = getattr(data, f"points_{split}" if data.points_train is not None else f"x_{split}")
        xy = [(float(points[i, 0]), float(points[i, 1])) for i in indices]
        return Examples(wrong, [f"sample {i}" for i in indices],
                        [f"point ({number(x, 3)}, {number(y, 3)})" for x, y in xy], points=xy)
    return Examples(wrong, [f"sample {i}" for i in indices], [_inputs(x[i].tolist()) for i in indices])


def _pictures(data: Dataset, split: str, indices: list[int]) -> Any:
    """The samples' pictures as uint8 (N, C, H, W), scaled down to PICTURE_SIDE a side."""
    import torch

    from tui_trainer.engine.evaluation import image_of

    channels, height, width = data.image_size
    if not indices:
        return torch.zeros(0, channels, height, width, dtype=torch.uint8)
    pictures = torch.stack([image_of(data, split, i) for i in indices])
    scale = PICTURE_SIDE / max(height, width)
    if scale < 1:
        size = (max(1, round(height * scale)), max(1, round(width * scale)))
        pictures = torch.nn.functional.interpolate(pictures, size=size, mode="area")
    return (pictures * 255).round().to(torch.uint8)


def _table_rows(file: str, delimiter: str, target: str, rows: list[int],
                indices: list[int]) -> tuple[list[str], list[str]]:
    """Each sample's line in its file and its row as the file has it (``name=value, ...``; the
    target's value is its true class, said beside)."""
    from tui_trainer.engine.table_reader import read_table

    frame = read_table(file, delimiter)
    name = Path(file).name
    where, words = [], []
    for i in indices:
        row = rows[i]
        where.append(f"line {row + 2} of {name}")  # the header is line 1
        words.append(", ".join(f"{column}={value}" for column, value in frame.iloc[row].items()
                               if column != target))
    return where, words


def _inputs(values: list[float]) -> str:
    shown = ", ".join(number(v, 3) for v in values[:SHOWN_INPUTS])
    return f"inputs {shown}" + (f", … ({len(values)} in all)" if len(values) > SHOWN_INPUTS else "")


class Gallery(Widget):
    """A page of misclassified samples from ``first`` on: pictures in a grid of tiles, each with
    its classes and probability below, or two lines a sample (where it is, its classes and
    probability; its words)."""

    DEFAULT_CSS = "Gallery { height: 1fr; }"

    def __init__(self) -> None:
        super().__init__()
        self.examples: Examples | None = None
        self.first = 0
        self.resized: Callable[[], None] | None = None  # told when the gallery's size changes
        self._strips: list[Strip] | None = None
        self._built_for: tuple | None = None

    def on_resize(self) -> None:
        if self.resized is not None:
            self.resized()

    def show(self, examples: Examples | None, first: int) -> None:
        """Show ``examples`` from sample ``first`` on."""
        self.examples, self.first = examples, first
        self._strips = None
        self.refresh()

    @property
    def page_size(self) -> int:
        """How many samples a page holds at the widget's size."""
        examples = self.examples
        if examples is None:
            return 1
        if examples.pictures is None:
            return max(1, self.size.height // (1 + self._word_lines()))
        columns, rows = self._grid()
        return columns * rows

    def _word_lines(self) -> int:
        """Lines a sample's words take: as many as the longest needs at this width, at most
        WORD_LINES (the rest is cut)."""
        longest = max(map(len, self.examples.words), default=0) + 2
        return max(1, min(WORD_LINES, -(-longest // max(1, self.size.width))))

    def _tile(self) -> tuple[int, int]:
        """(pixel columns, pixel rows) of a picture at this size: the largest (at most its own
        size) at which a page holds PER_PAGE pictures, not below SMALLEST pixels high; else the
        size at which a page holds the most."""
        _, _, height, width = self.examples.pictures.shape
        room = max(2, 2 * (self.size.height - CAPTION_LINES))
        highest = min(height, room) // 2 * 2
        sizes = [(max(1, round(width * high / height)), high)
                 for high in range(max(2, highest), min(highest, SMALLEST) - 1, -2)]
        fits = [size for size in sizes if self._count(*size) >= PER_PAGE]
        return fits[0] if fits else max(sizes, key=lambda size: (self._count(*size), size[1]))

    def _count(self, pixels_wide: int, pixels_high: int) -> int:
        columns, rows = self._grid((pixels_wide, pixels_high))
        return columns * rows

    def _grid(self, tile: tuple[int, int] | None = None) -> tuple[int, int]:
        """(columns, rows) of tiles on a page (of tiles of ``tile`` pixels, else ``_tile``'s)."""
        pixels_wide, pixels_high = tile or self._tile()
        tile_width = max(pixels_wide, CAPTION_WIDTH)
        tile_height = pixels_high // 2 + CAPTION_LINES
        return (max(1, (self.size.width + GAP) // (tile_width + GAP)),
                max(1, (self.size.height + 1) // (tile_height + 1)))

    def render_line(self, y: int) -> Strip:
        key = (self.size, id(self.examples), self.first)
        if self._strips is None or self._built_for != key:
            self._strips, self._built_for = self._build(), key
        return self._strips[y] if y < len(self._strips) else Strip([Segment(" " * self.size.width, PLAIN)])

    def _build(self) -> list[Strip]:
        examples = self.examples
        if examples is None or not self.size.width:
            return []
        page = range(self.first, min(self.first + self.page_size, len(examples.mistakes.samples)))
        if examples.pictures is None:
            return [Strip(line).crop(0, self.size.width) for i in page for line in self._lines(examples, i)]
        return self._tiles(examples, list(page))

    def _lines(self, examples: Examples, i: int) -> list[list[Segment]]:
        mistake, classes = examples.mistakes.samples[i], examples.mistakes.classes
        count = self._word_lines()
        words = textwrap.wrap(examples.words[i], max(8, self.size.width - 2)) or [""]
        if len(words) > count:
            words = words[:count - 1] + [textwrap.shorten(" ".join(words[count - 1:]), max(8, self.size.width - 2),
                                                          placeholder=" …")]
        return [[Segment(f"{examples.where[i]} · ", DIM), Segment(classes[mistake.true], BOLD),
                 Segment(" → ", PLAIN), Segment(classes[mistake.predicted], WRONG),
                 Segment(f" {mistake.probability:.0%}", PLAIN)],
                *([Segment("  " + line, PLAIN)] for line in words)]

    def _tiles(self, examples: Examples, page: list[int]) -> list[Strip]:
        pixels_wide, pixels_high = self._tile()
        tile_width = max(pixels_wide, CAPTION_WIDTH)
        columns, _ = self._grid()
        strips: list[Strip] = []
        styles: dict[tuple, Style] = {}
        for start in range(0, len(page), columns):
            row = page[start:start + columns]
            tiles = [self._tile_lines(examples, i, pixels_wide, pixels_high, tile_width, styles) for i in row]
            for line in range(pixels_high // 2 + CAPTION_LINES):
                segments: list[Segment] = []
                for k, tile in enumerate(tiles):
                    if k:
                        segments.append(Segment(" " * GAP, PLAIN))
                    segments += tile[line]
                strips.append(Strip(segments))
            strips.append(Strip([Segment(" ", PLAIN)]))
        return strips

    def _tile_lines(self, examples: Examples, i: int, pixels_wide: int, pixels_high: int, tile_width: int,
                    styles: dict[tuple, Style]) -> list[list[Segment]]:
        """One sample's tile: its picture's lines, then its caption, each ``tile_width`` wide."""
        picture = examples.pictures[i]
        channels, height, width = picture.shape
        xs = [min(width - 1, (2 * x + 1) * width // (2 * pixels_wide)) for x in range(pixels_wide)]
        ys = [min(height - 1, (2 * y + 1) * height // (2 * pixels_high)) for y in range(pixels_high)]
        values = picture.tolist()
        pad = Segment(" " * (tile_width - pixels_wide), PLAIN) if tile_width > pixels_wide else None
        lines = []
        for top, bottom in zip(ys[::2], ys[1::2]):
            pairs = [(_color(values, top, x), _color(values, bottom, x)) for x in xs]
            line = []
            for pair, run in groupby(pairs):
                style = styles.get(pair)
                if style is None:
                    style = styles[pair] = Style(color=Color.from_rgb(*pair[0]), bgcolor=Color.from_rgb(*pair[1]))
                line.append(Segment(HALF_BLOCK * sum(1 for _ in run), style))
            lines.append(line + ([pad] if pad else []))
        mistake, classes = examples.mistakes.samples[i], examples.mistakes.classes
        lines.append(_fit([Segment(classes[mistake.true], BOLD), Segment("→", PLAIN),
                           Segment(classes[mistake.predicted], WRONG)], tile_width))
        lines.append(_fit([Segment(f"{mistake.probability:.0%} {examples.where[i]}", DIM)], tile_width))
        return lines


def _color(values: list, y: int, x: int) -> tuple[int, int, int]:
    """The pixel's color: gray from one channel, else its first three channels."""
    if len(values) == 1:
        v = values[0][y][x]
        return (v, v, v)
    return (values[0][y][x], values[1][y][x], values[2][y][x])


def _fit(segments: list[Segment], width: int) -> list[Segment]:
    """Segments cut or padded to ``width`` cells."""
    return list(Strip(segments).crop(0, width).extend_cell_length(width, PLAIN))


class MistakesPanel(OutcomePanel, Vertical):
    """A run's misclassified samples on one split, a page at a time: a caption (which run and
    split, how many wrong, which page, the keys) over the gallery."""

    DEFAULT_CSS = """
    MistakesPanel > .caption { height: 1; padding: 0 1; }
    MistakesPanel > Gallery { padding: 0 1; }
    """

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.caption = Static("misclassified samples show once a run of a classification ends",
                              classes="caption")
        self.gallery = Gallery()
        self.run: LiveRun | None = None
        self.label = ""
        self.first = 0

    def compose(self) -> ComposeResult:
        yield self.caption
        yield self.gallery

    def on_mount(self) -> None:
        self.gallery.resized = self.redraw  # a new size holds another number of samples a page

    @property
    def examples(self) -> Examples | None:
        """The split's samples shown, or None."""
        examples = self.run.feed.examples if self.run is not None else {}
        return examples.get(self.split)

    def start(self, job: Job) -> None:
        self.run = None
        set_text(self.caption, f"misclassified samples show once {job.name} ends")
        self.gallery.show(None, 0)

    def show(self, job: Job, run: LiveRun) -> None:
        if run is not self.run:
            self.first = 0
        self.run, self.label = run, run.label if job.compared else ""
        self.redraw()

    def clear(self) -> None:
        self.run, self.first = None, 0
        set_text(self.caption, "misclassified samples show once a run of a classification ends")
        self.gallery.show(None, 0)

    def switch_split(self) -> str:
        self.first = 0
        return super().switch_split()

    def page(self, step: int) -> None:
        """Show the next (``step`` 1) or previous (-1) page."""
        examples = self.examples
        if examples is None:
            return
        size = self.gallery.page_size
        last = max(0, (len(examples.mistakes.samples) - 1) // size * size)
        self.first = min(last, max(0, (self.first // size + step) * size))
        self.redraw()


    def redraw(self) -> None:
        run = self.run
        if run is None:
            return
        why = ending_words(run, "list of misclassified samples") or split_words(run, self.split)
        examples = self.examples
        if why is None and examples is None:
            why = f"{run.label}: no misclassified samples kept"
        if why is not None:
            set_text(self.caption, why)
            self.gallery.show(None, 0)
            return
        self.gallery.show(examples, self.first)
        self.caption.update(self._caption(examples), layout=False)

    def _caption(self, examples: Examples) -> Content:
        wrong = examples.mistakes
        kept = len(wrong.samples)
        shown = min(kept, self.first + self.gallery.page_size)
        other = "test" if self.split == "val" else "val"
        switch = other in (self.run.feed.examples if self.run else {})
        share = f" ({wrong.count / wrong.total:.1%})" if wrong.total else ""
        if not kept:
            variants = [f"[b]$who$split set[/]: no sample of {wrong.total:,} misclassified"
                        + (f" · f7: {SPLITS[other]} set" if switch else "")]
        else:
            page = f"{self.first + 1}-{shown} of {kept:,}" + (" kept" if kept < wrong.count else "")
            variants = [f"[b]$who$split set[/]: {wrong.count:,} of {wrong.total:,} misclassified{share}, most "
                        f"confident first · {page} · pgdn/pgup: pages"
                        + (f" · f7: {SPLITS[other]} set" if switch else ""),
                        f"[b]$who$split[/]: {wrong.count:,} of {wrong.total:,} wrong · {page} · pgdn/pgup"
                        + (f" · f7: {other}" if switch else ""),
                        f"[b]$who$split[/]: {wrong.count:,} wrong · {page} · pgdn"]
        return fitting([Content.from_markup(text, who=f"{self.label} · " if self.label else "",
                                            split=SPLITS[self.split]) for text in variants], self.size.width - 2)
