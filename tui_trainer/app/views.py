"""The live pictures of a run, each in its own tab: the decision boundary of a classifier of 2-D
points (the plane in half-block cells, two pixels a cell, shaded by the predicted class and its
probability, the samples on top) and the fit of a regression on one input (the data and the
model's curve, with w and b for tutorial 003's line).

A panel asks the run (through its ``ViewRequest``) for pictures of its own size and shows the
newest at each redraw; the engine makes them at a bounded rate (``engine.views``)."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import groupby
from typing import TYPE_CHECKING, Any

from rich.segment import Segment
from rich.style import Style
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Static

from tui_trainer.app.charts import Plot, rgb
from tui_trainer.app.fields import fitting, set_text
from tui_trainer.app.pace import PICTURE_SHARE, Pace, Paced
from tui_trainer.app.palette import Mark, Palette, palette
from tui_trainer.app.picture import AT_ITS_END, LivePicture
from tui_trainer.app.pixels import neuron_pixels, pixel_strips
from tui_trainer.engine.control import ViewRequest
from tui_trainer.formatting import number
from tui_trainer.pictures import NEGATIVE, POSITIVE, RGB, ZERO

if TYPE_CHECKING:
    from tui_trainer.app.runs import Job, LiveRun

#: The size asked for before a panel has been laid out (its tab not shown yet).
UNMEASURED = (60, 40)
#: The boundary's caption before its first picture.
WAITING = "the boundary shows once an epoch ends"
#: The color of the ring around a misclassified sample (white: apart from every class color).
RING: RGB = (255, 255, 255)


class PlaneCanvas(Paced, Widget, can_focus=True):
    """The plane, two pixels a cell: each cell of the boundary picture shaded by its class and
    probability, or (``neuron``: a NetworkFrame, a column and a neuron) one neuron's value over
    the plane; the training samples on top in their class colors (validation samples, paler,
    when ``validation``), and once a run ended its misclassified validation samples ringed
    (``rings``: x, y, true class). A picture of another size is sampled to this one. On a terminal
    of 16 colors or none, the boundary is drawn in glyphs instead, one a cell: each class's region
    filled with its mark, the samples as their class's shape (``palette``), a misclassified one
    reversed. Escape, while it shows a neuron, goes back to the Network tab."""

    DEFAULT_CSS = "PlaneCanvas { height: 1fr; }"
    BINDINGS = [Binding("escape", "app.show_neuron", "Back to the network", show=False)]

    def __init__(self) -> None:
        super().__init__()
        self.frame: Any = None
        self.neuron: tuple[Any, int, int] | None = None
        self.validation = False
        self.rings: list[tuple[float, float, int]] = []
        self._strips: list[Strip] | None = None
        self._built_for: tuple | None = None
        self._cells: tuple[Any, list[tuple[int, int]]] | None = None  # a frame's (class, shade step) per cell
        self.drawn = 0  # pictures drawn so far (the benchmark counts a watched run's)

    @property
    def grid(self) -> tuple[int, int]:
        """(columns, rows) of pixels this canvas shows."""
        width, height = self.size
        return (width, 2 * height) if width and height else UNMEASURED

    def show(self, frame: Any, validation: bool, rings: list[tuple[float, float, int]] | None = None,
             neuron: tuple[Any, int, int] | None = None) -> None:
        """Draw ``frame`` (a BoundaryFrame), or ``neuron`` over its samples, with the validation
        samples or not, and ``rings`` around the misclassified samples."""
        rings = rings or []
        if (frame is not self.frame or validation != self.validation or rings != self.rings
                or neuron != self.neuron):
            self.frame, self.validation, self.rings, self.neuron = frame, validation, rings, neuron
            self._strips = None
            self.refresh()

    def render_line(self, y: int) -> Strip:
        key = (self.size, id(self.frame), self.validation, id(self.rings),
               self.neuron and (id(self.neuron[0]), *self.neuron[1:]))
        if self._strips is None or self._built_for != key:
            self._strips, self._built_for = self._build(), key
        return self._strips[y] if y < len(self._strips) else Strip.blank(self.size.width, self.rich_style)

    def _build(self) -> list[Strip]:
        width, height = self.size
        frame = self.frame
        if (frame is None and self.neuron is None) or not width or not height:
            return []
        self.drawn += 1
        colors = palette(self.app)
        if self.neuron is not None:  # a neuron's value is shaded in pixels, whatever the terminal
            return pixel_strips(self._neuron_pixels(width, 2 * height, colors))
        if colors.glyphs:
            return self._glyph_strips(frame, width, height, colors)
        return pixel_strips(self._pixels(frame, width, 2 * height, self.background_colors[1].rgb, colors))

    def _neuron_pixels(self, cols: int, rows: int, colors: Palette) -> list[list[RGB]]:
        """The shown neuron's value over the plane, ``rows`` lists of ``cols``, the samples on top."""
        network, column, index = self.neuron
        pixels = neuron_pixels(network, column, index, cols, rows)
        if self.frame is not None:
            paint = ((lambda label, validation: colors.sample_mark(label, validation).color) if colors.glyphs
                     else (lambda label, validation: colors.validation(label) if validation else colors.sample(label)))
            for row, column, label, validation in self._sample_places(self.frame, cols, rows, network.extent):
                pixels[row][column] = paint(label, validation)
        return pixels

    def _predicted(self, frame: Any, cols: int, rows: int) -> list[list[tuple[int, int]]]:
        """Each of ``rows`` x ``cols`` places' (class, shade step), the frame's cells sampled."""
        if self._cells is None or self._cells[0] is not frame:
            self._cells = (frame, list(zip(frame.predicted, frame.steps)))
        cells = self._cells[1]
        columns = [min(frame.cols - 1, (2 * x + 1) * frame.cols // (2 * cols)) for x in range(cols)]
        return [[cells[start + x] for x in columns]
                for y in range(rows)
                for start in [min(frame.rows - 1, (2 * y + 1) * frame.rows // (2 * rows)) * frame.cols]]

    def _sample_places(self, frame: Any, cols: int, rows: int,
                       extent: tuple[float, float, float, float] | None = None
                       ) -> Iterator[tuple[int, int, int, bool]]:
        """(row, column, class, validation) of each sample shown on ``rows`` x ``cols`` places of
        ``extent`` (default: the frame's), the validation samples (when shown) first, so the
        training samples end on top."""
        x_low, x_high, y_low, y_high = extent or frame.extent
        samples = frame.samples
        layers = [(samples.train_x, samples.train_y, samples.train_label, False)]
        if self.validation:
            layers.insert(0, (samples.val_x, samples.val_y, samples.val_label, True))
        for xs, ys, labels, validation in layers:
            for x, y, label in zip(xs, ys, labels):
                column = int((x - x_low) / (x_high - x_low) * cols)
                row = int((y_high - y) / (y_high - y_low) * rows)
                if 0 <= column < cols and 0 <= row < rows:
                    yield row, column, label, validation

    def _ring_places(self, frame: Any, cols: int, rows: int) -> list[tuple[int, int, int]]:
        """(row, column, true class) of each ringed sample on ``rows`` x ``cols`` places."""
        x_low, x_high, y_low, y_high = frame.extent
        places = [(int((y_high - y) / (y_high - y_low) * rows), int((x - x_low) / (x_high - x_low) * cols), label)
                  for x, y, label in self.rings]
        return [(row, column, label) for row, column, label in places if 0 <= column < cols and 0 <= row < rows]

    def _pixels(self, frame: Any, cols: int, rows: int, base: RGB, colors: Palette) -> list[list[RGB]]:
        """The picture's colors, ``rows`` lists of ``cols`` (the frame's cells sampled to them),
        the samples on top, the ringed ones last."""
        shades = _Shades(base, colors)
        pixels = [[shades[cell] for cell in line] for line in self._predicted(frame, cols, rows)]
        for row, column, label, validation in self._sample_places(frame, cols, rows):
            pixels[row][column] = colors.validation(label) if validation else colors.sample(label)
        spots = self._ring_places(frame, cols, rows)
        for row, column, _ in spots:  # a ring around each misclassified sample (the 4 pixels around it)...
            for r, c in ((row - 1, column), (row + 1, column), (row, column - 1), (row, column + 1)):
                if 0 <= c < cols and 0 <= r < rows:
                    pixels[r][c] = RING
        for row, column, label in spots:  # ...and the sample in its class's color
            pixels[row][column] = colors.sample(label)
        return pixels

    def _glyph_strips(self, frame: Any, cols: int, rows: int, colors: Palette) -> list[Strip]:
        """The picture in glyphs, one a cell: each region's mark (blank where the classes are a
        toss-up), the samples' shapes on top."""
        marks: list[list[Mark | None]] = [[colors.region_mark(label, step) for label, step in line]
                                          for line in self._predicted(frame, cols, rows)]
        for row, column, label, validation in self._sample_places(frame, cols, rows):
            marks[row][column] = colors.sample_mark(label, validation)
        for row, column, label in self._ring_places(frame, cols, rows):  # misclassified: reversed
            mark = colors.sample_mark(label)
            marks[row][column] = Mark(mark.glyph, mark.color, mark.bold, reverse=True)
        base = self.rich_style
        styles: dict[Mark | None, Style] = {None: base}
        strips = []
        for line in marks:
            segments = []
            for mark, run in groupby(line):
                style = styles.get(mark)
                if style is None:
                    style = styles[mark] = base + Style(color=rgb(mark.color), bold=mark.bold, reverse=mark.reverse)
                segments.append(Segment((mark.glyph if mark else " ") * sum(1 for _ in run), style))
            strips.append(Strip(segments, cols))
        return strips


class _Shades(dict):
    """Pixel colors over ``base`` by (class, shade step), each computed once."""

    def __init__(self, base: RGB, colors: Palette) -> None:
        super().__init__()
        self.base = base
        self.colors = colors

    def __missing__(self, key: tuple[int, int]) -> RGB:
        color = self[key] = self.colors.cell(*key, self.base)
        return color


class BoundaryPanel(LivePicture, Vertical):
    """The boundary view: a one-line caption (epoch, the class colors, what the shade means when
    there is room) over the plane, so the plane's size stays as the run was told."""

    DEFAULT_CSS = """
    BoundaryPanel > .caption { height: 1; padding: 0 1; }
    """

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.caption = Static(WAITING, classes="caption")
        self.canvas = PlaneCanvas()
        self.validation = False
        self.rings: list[tuple[float, float, int]] = []
        self.class_names: list[str] | None = None
        self.label = ""
        self.pace = self.canvas.pace = Pace(PICTURE_SHARE)
        # A neuron shown large in place of the boundary (column, neuron), its name, and the
        # network picture it comes from (the Network tab's, see ``show_neuron``).
        self.neuron: tuple[int, int] | None = None
        self.neuron_name = ""
        self.network: Any = None

    def compose(self) -> ComposeResult:
        yield self.caption
        yield self.canvas

    def show(self, job: Job, run: LiveRun, shown: bool, final: bool = False) -> None:
        wrong = run.feed.examples.get("val")
        rings = [(x, y, mistake.true) for (x, y), mistake in zip(wrong.points, wrong.mistakes.samples)] \
            if wrong is not None and wrong.points else []
        self.take(run.request(self.id), shown, final, run.short_label if job.compared else "",
                  run.feed.started.class_names if run.feed.started else None, rings)
        request = run.request("network") if self.neuron is not None and shown else None
        network = request.take() if request is not None else None
        if network is not None and network is not self.network:
            self.network = network
            self._show(self.canvas.frame)

    def show_neuron(self, neuron: tuple[int, int] | None, name: str = "", network: Any = None) -> None:
        """Show neuron ``neuron`` (column, neuron) of the network's pictures (``network``, the
        newest) large in place of the boundary, named ``name``; None: the boundary again."""
        self.neuron, self.neuron_name, self.network = neuron, name, network
        self._show(self.canvas.frame)

    def take(self, request: ViewRequest | None, shown: bool, final: bool = False, label: str = "",
             class_names: list[str] | None = None, rings: list[tuple[float, float, int]] | None = None) -> None:
        """Ask the run for pictures of this panel's size and, while the panel is ``shown``, show
        its newest (at the pace its drawing cost allows, unless ``final``); ``label`` names the
        run in a comparison; ``rings`` are its misclassified samples (x, y, true class)."""
        if request is None:
            return
        request.ask(*self.canvas.grid)
        self.class_names, self.label = class_names, label
        if shown and self.pace.due(final):
            frame = request.take()
            rings = rings or []
            if frame is not None and frame is not self.canvas.frame or rings != self.rings:
                self.rings = rings
                self._show(frame or self.canvas.frame)

    def on_resize(self) -> None:
        if self.canvas.frame is not None:  # the caption fits the new width
            self._show(self.canvas.frame)

    def toggle_validation(self) -> bool:
        """Show or hide the validation samples; returns whether they show now."""
        self.validation = not self.validation
        if self.canvas.frame is not None:
            self._show(self.canvas.frame)
        return self.validation

    def _show(self, frame: Any) -> None:
        neuron = (self.network, *self.neuron) if self.neuron is not None and self.network is not None else None
        self.canvas.show(frame, self.validation, self.rings, neuron)
        if neuron is not None:
            self.caption.update(Content("").join([
                Content.from_markup("[b]$label[/]epoch $epoch · $name", label=self.label and f"{self.label} · ",
                                    epoch=self.network.epoch, name=self.neuron_name),
                Content.from_markup(f" · [{rgb(NEGATIVE)}]██[/] − [{rgb(ZERO)}]██[/] 0 [{rgb(POSITIVE)}]██[/] +"),
                Content(" · esc: the network")]), layout=False)
            return
        if frame is None:
            return
        names = self.class_names or [str(k) for k in range(frame.classes)]
        colors = palette(self.app)
        parts = [Content.from_markup("[b]$label[/]epoch $epoch ·", label=self.label and f"{self.label} · ",
                                     epoch=frame.epoch)]
        for k, name in enumerate(names):
            swatch, color = colors.class_swatch(k)
            parts.append(Content.from_markup(f" [{rgb(color)}]$swatch[/] $name", swatch=swatch, name=name))
        shade = ("blank: a toss-up · hollow: validation" if colors.glyphs
                 else "stronger shade: more probable")
        ringed = [Content(f" · ✛ {len(self.rings)} wrong")] if self.rings else []
        short = Content("").join([*parts, *ringed, Content(" · f7: " + ("−val" if self.validation else "+val"))])
        long = Content("").join([*parts, *(Content(f" · {'reversed' if colors.glyphs else '✛ ringed'}: "
                                                   f"{len(self.rings)} validation samples misclassified")
                                           for _ in ringed),
                                 Content(f" · {shade} · f7: "
                                         + ("training points only" if self.validation else "+validation points"))])
        shorter = Content("").join([*parts, *(Content(f" · ✛{len(self.rings)}") for _ in ringed), Content(" · f7")])
        # One line high (CSS): a new caption needs no layout of the screen, at every picture; in
        # fewer words where it would be cut (the key last, then the picture's own words).
        texts = [long, short, shorter, Content("").join(parts)]
        self.caption.update(texts[fitting(self.size.width - 2, texts)], layout=False)

    def clear(self) -> None:
        """Blank, for a new run."""
        self.pace.reset()
        self.neuron, self.network = None, None
        self.rings = []
        self.canvas.show(None, self.validation)
        set_text(self.caption, WAITING)

    def watching(self) -> None:
        set_text(self.caption, AT_ITS_END)


class FitPanel(LivePicture, Vertical):
    """The fit view: the data and the model's current curve; for a task with a true line, the
    learned w and b next to the true ones, updated with every picture the run makes (the curve
    is redrawn at the pace its drawing cost allows)."""

    DEFAULT_CSS = """
    FitPanel > .caption { height: auto; padding: 0 1; }
    FitPanel > Plot { height: 1fr; }
    """

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.caption = Static("the model's curve appears once a run's first epoch ends", classes="caption")
        self.plot = Plot()
        self.frame: Any = None  # the newest picture taken
        self.drawn: Any = None  # the picture the plot shows
        self.label = ""
        self.pace = self.plot.pace = Pace(PICTURE_SHARE)

    def compose(self) -> ComposeResult:
        yield self.caption
        yield self.plot

    def show(self, job: Job, run: LiveRun, shown: bool, final: bool = False) -> None:
        self.take(run.request(self.id), shown, final, run.short_label if job.compared else "")

    def take(self, request: ViewRequest | None, shown: bool, final: bool = False, label: str = "") -> None:
        """Ask the run for a curve as wide as the plot (braille: two points a column) and, while
        the panel is ``shown``, show its newest: the caption (epoch, w and b) at once, the curve
        at the pace its drawing cost allows (``final``: at once too); ``label`` names the run in
        a comparison."""
        if request is None:
            return
        self.label = label
        width = self.plot.size.width
        request.ask(2 * width if width else UNMEASURED[0], 1)
        if not shown:
            return
        frame = request.take()
        if frame is not None and frame is not self.frame:
            self.frame = frame
            self._caption(frame)
        if self.frame is not None and self.frame is not self.drawn and self.pace.due(final):
            self._draw(self.frame)

    def on_resize(self) -> None:
        if self.frame is not None:
            self._draw(self.frame)

    def _draw(self, frame: Any) -> None:
        self.drawn = frame
        plt = self.plot.plt
        plt.clear_figure()
        samples = frame.samples
        data, model = palette(self.app).fit_colors()
        plt.plot(frame.xs, frame.ys, marker="braille", color=model)
        plt.scatter(samples.train_x, samples.train_y, marker="dot", color=data)  # on top of the curve
        plt.xlabel("x")
        self.plot.replot()

    def _caption(self, frame: Any) -> None:
        p = frame.parameters
        said = (f" · w = [b]{number(p['weight'], 5)}[/] → {number(p['true_weight'])}"
                f" · b = [b]{number(p['bias'], 5)}[/] → {number(p['true_bias'])}" if p else "")
        colors = palette(self.app)
        data, model = colors.fit_colors()
        self.caption.update(Content.from_markup(
            f"[b]$label[/]epoch {frame.epoch}{said} · [{rgb(data)}]••[/] data "
            f"[{rgb(model)}]$line[/] the model", label=self.label and f"{self.label} · ", line=colors.line_swatch))

    def clear(self) -> None:
        """Blank, for a new run."""
        self.pace.reset()
        self.frame = self.drawn = None
        self.plot.plt.clear_figure()
        self.plot.replot()
        set_text(self.caption, "the model's curve appears once a run's first epoch ends")

    def watching(self) -> None:
        set_text(self.caption, AT_ITS_END)
