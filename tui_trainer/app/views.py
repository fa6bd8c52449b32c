"""The live pictures of a run, each in its own tab: the decision boundary of a classifier of 2-D
points (the plane in half-block cells, two pixels a cell, shaded by the predicted class and its
probability, the samples on top) and the fit of a regression on one input (the data and the
model's curve, with w and b for tutorial 003's line).

A panel asks the run (through its ``ViewRequest``) for pictures of its own size and shows the
newest at each redraw; the engine makes them at a bounded rate (``engine.views``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.style import Style
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Static

from tui_trainer.app.charts import Plot, rgb
from tui_trainer.app.fields import set_text
from tui_trainer.app.pace import PICTURE_SHARE, Pace, Paced
from tui_trainer.app.picture import LivePicture
from tui_trainer.app.pixels import neuron_pixels, pixel_strips
from tui_trainer.engine.control import ViewRequest
from tui_trainer.formatting import number
from tui_trainer.pictures import (
    NEGATIVE, POSITIVE, RGB, ZERO, blend, cell_color, class_color, sample_color, validation_color,
)

if TYPE_CHECKING:
    from tui_trainer.app.runs import Job, LiveRun

#: The size asked for before a panel has been laid out (its tab not shown yet).
UNMEASURED = (60, 40)
#: The boundary's caption before its first picture.
WAITING = "the boundary shows once an epoch ends"


class PlaneCanvas(Paced, Widget, can_focus=True):
    """The plane, two pixels a cell: each cell of the boundary picture shaded by its class and
    probability, or (``neuron``: a NetworkFrame, a column and a neuron) one neuron's value over
    the plane; the training samples on top in their class colors (validation samples, paler,
    when ``validation``). A picture of another size is sampled to this one. Escape, while it
    shows a neuron, goes back to the Network tab."""

    DEFAULT_CSS = "PlaneCanvas { height: 1fr; }"
    BINDINGS = [Binding("escape", "app.show_neuron", "Back to the network", show=False)]

    def __init__(self) -> None:
        super().__init__()
        self.frame: Any = None
        self.neuron: tuple[Any, int, int] | None = None
        self.validation = False
        self._strips: list[Strip] | None = None
        self._built_for: tuple | None = None
        self._cells: tuple[Any, list[tuple[int, int]]] | None = None  # a frame's (class, shade step) per cell
        self.drawn = 0  # pictures drawn so far (the benchmark counts a watched run's)

    @property
    def grid(self) -> tuple[int, int]:
        """(columns, rows) of pixels this canvas shows."""
        width, height = self.size
        return (width, 2 * height) if width and height else UNMEASURED

    def show(self, frame: Any, validation: bool, neuron: tuple[Any, int, int] | None = None) -> None:
        """Draw ``frame`` (a BoundaryFrame), or ``neuron`` over its samples, with the validation
        samples or not."""
        if frame is not self.frame or validation != self.validation or neuron != self.neuron:
            self.frame, self.validation, self.neuron = frame, validation, neuron
            self._strips = None
            self.refresh()

    def render_line(self, y: int) -> Strip:
        key = (self.size, id(self.frame), self.validation, self.neuron and (id(self.neuron[0]), *self.neuron[1:]))
        if self._strips is None or self._built_for != key:
            self._strips, self._built_for = self._build(), key
        return self._strips[y] if y < len(self._strips) else Strip.blank(self.size.width)

    def _build(self) -> list[Strip]:
        width, height = self.size
        if (self.frame is None and self.neuron is None) or not width or not height:
            return []
        self.drawn += 1
        return pixel_strips(self._pixels(width, 2 * height, self.background_colors[1].rgb))

    def _pixels(self, cols: int, rows: int, base: RGB) -> list[list[RGB]]:
        """The picture's colors, ``rows`` lists of ``cols`` (the frame's cells, or the neuron's,
        sampled to them), the samples on top."""
        frame = self.frame
        if self.neuron is not None:
            network, column, index = self.neuron
            pixels = neuron_pixels(network, column, index, cols, rows)
            extent = network.extent
        else:
            if self._cells is None or self._cells[0] is not frame:
                self._cells = (frame, list(zip(frame.predicted, frame.steps)))
            cells = self._cells[1]
            palette = _Palette(base)
            columns = [min(frame.cols - 1, (2 * x + 1) * frame.cols // (2 * cols)) for x in range(cols)]
            pixels = []
            for y in range(rows):
                start = min(frame.rows - 1, (2 * y + 1) * frame.rows // (2 * rows)) * frame.cols
                pixels.append([palette[cells[start + x]] for x in columns])
            extent = frame.extent
        if frame is None:
            return pixels
        x_low, x_high, y_low, y_high = extent
        samples = frame.samples
        layers = [(samples.train_x, samples.train_y, samples.train_label, sample_color)]
        if self.validation:
            layers.insert(0, (samples.val_x, samples.val_y, samples.val_label, validation_color))
        for xs, ys, labels, paint in layers:
            colors = {label: paint(label) for label in set(labels)}
            for x, y, label in zip(xs, ys, labels):
                column = int((x - x_low) / (x_high - x_low) * cols)
                row = int((y_high - y) / (y_high - y_low) * rows)
                if 0 <= column < cols and 0 <= row < rows:
                    pixels[row][column] = colors[label]
        return pixels


class _Palette(dict):
    """Cell colors over ``base`` by (class, shade step), each computed once."""

    def __init__(self, base: RGB) -> None:
        super().__init__()
        self.base = base

    def __missing__(self, key: tuple[int, int]) -> RGB:
        color = self[key] = cell_color(*key, self.base)
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
        self.take(run.request(self.id), shown, final, run.short_label if job.compared else "",
                  run.feed.started.class_names if run.feed.started else None)
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
             class_names: list[str] | None = None) -> None:
        """Ask the run for pictures of this panel's size and, while the panel is ``shown``, show
        its newest (at the pace its drawing cost allows, unless ``final``); ``label`` names the
        run in a comparison."""
        if request is None:
            return
        request.ask(*self.canvas.grid)
        self.class_names, self.label = class_names, label
        if shown and self.pace.due(final):
            frame = request.take()
            if frame is not None and frame is not self.canvas.frame:
                self._show(frame)

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
        self.canvas.show(frame, self.validation, neuron)
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
        parts = [Content.from_markup("[b]$label[/]epoch $epoch ·", label=self.label and f"{self.label} · ",
                                     epoch=frame.epoch)]
        parts += [Content.from_markup(f" [{rgb(class_color(k))}]██[/]$name", name=name)
                  for k, name in enumerate(names)]
        short = Content("").join([*parts, Content(" · f7: " + ("−val" if self.validation else "+val"))])
        long = Content("").join([*parts, Content(" · stronger shade: more probable · f7: "
                                                 + ("training points only" if self.validation
                                                    else "+validation points"))])
        # One line high (CSS): a new caption needs no layout of the screen, at every picture.
        self.caption.update(long if long.cell_length <= self.size.width - 2 else short, layout=False)

    def clear(self) -> None:
        """Blank, for a new run."""
        self.pace.reset()
        self.neuron, self.network = None, None
        self.canvas.show(None, self.validation)
        set_text(self.caption, WAITING)


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
        plt.plot(frame.xs, frame.ys, marker="braille", color=COLOR_MODEL)
        plt.scatter(samples.train_x, samples.train_y, marker="dot", color=COLOR_DATA)  # on top of the curve
        plt.xlabel("x")
        self.plot.replot()

    def _caption(self, frame: Any) -> None:
        p = frame.parameters
        said = (f" · w = [b]{number(p['weight'], 5)}[/] → {number(p['true_weight'])}"
                f" · b = [b]{number(p['bias'], 5)}[/] → {number(p['true_bias'])}" if p else "")
        self.caption.update(Content.from_markup(
            f"[b]$label[/]epoch {frame.epoch}{said} · [{rgb(COLOR_DATA)}]••[/] data "
            f"[{rgb(COLOR_MODEL)}]━━[/] the model", label=self.label and f"{self.label} · "))

    def clear(self) -> None:
        """Blank, for a new run."""
        self.pace.reset()
        self.frame = self.drawn = None
        self.plot.plt.clear_figure()
        self.plot.replot()
        set_text(self.caption, "the model's curve appears once a run's first epoch ends")


#: The fit view's colors: the data (TensorFlow Playground's blue) and the model's curve.
COLOR_DATA: RGB = class_color(1)
COLOR_MODEL: RGB = blend(class_color(0), (255, 255, 255), 0.1)
