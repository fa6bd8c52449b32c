"""The Network tab: an MLP drawn neuron by neuron, live, as TensorFlow Playground draws it.

Columns of neurons (the inputs, each hidden layer, the output) with the links between them: a
link's color says its weight's sign (blue positive, orange negative; a negative link is also
dashed, so the sign reads without color) and its brightness the weight's size. On a task of 2-D
points each neuron is a small picture of its value over the plane (half-block cells, as the
Boundary tab draws); on other tasks its mean value on the training samples, and a dead hidden
unit is marked ✕. A layer shows what fits (``+N more`` under it says how many are not drawn).
The arrow keys (or a click) select a neuron; enter shows its picture large: in the Boundary tab
when the task has one, else in place of the network here (enter or escape goes back).

The run makes the pictures (``engine.views.NetworkView``, through the run's ViewRequest); the
panel asks for thumbnails of its own size, or for the large picture's size while one shows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Static

from tui_trainer.app.charts import rgb
from tui_trainer.app.fields import set_text
from tui_trainer.app.pace import PICTURE_SHARE, Pace, Paced
from tui_trainer.app.picture import LivePicture
from tui_trainer.app.pixels import neuron_pixels, pixel_strips
from tui_trainer.pictures import NEGATIVE, POSITIVE, RGB, UNKNOWN, blend, signed_color

if TYPE_CHECKING:
    from tui_trainer.app.runs import Job, LiveRun

#: The most neurons of a layer drawn (the rest are said as ``+N more``).
MOST_SHOWN = 16
#: The neurons of a layer a layout tries to show before it shrinks the thumbnails.
WANTED = 8
#: Thumbnail heights tried, in rows (two pixels each; as wide as high, in pixels).
HEIGHTS = (3, 2, 1)
#: A mean value's cell width (``+0.53``).
TEXT_WIDTH = 6
#: The longest input or output label drawn beside its neuron.
LABEL_WIDTH = 8
#: The columns' short names, where the long ones do not fit.
SHORT_NAMES = {"inputs": "in", "output": "out"}
#: What the panel says before the first picture.
WAITING = "the network shows once a run's first epoch ends"
#: Braille dots by (x, y) within a cell of 2 x 4 dots.
DOTS = ((0x01, 0x02, 0x04, 0x40), (0x08, 0x10, 0x20, 0x80))
#: A dashed (negative) link draws this many dots, then leaves as many out.
DASH = 2
#: The thumbnails' size asked for before the panel is laid out.
UNMEASURED = (8, 8)
#: The smallest grid asked for the neurons' pictures (thumbnails are sampled from it): a neuron
#: chosen while the run is paused shows large from it until the run's next picture.
SMALLEST_GRID = 24


@dataclass(frozen=True)
class Layout:
    """Where the network goes on a canvas: per column its left x, its neurons' top rows; the
    neurons' size in cells, the width of the input labels (left) and output labels (right)."""

    xs: list[int]
    tops: list[list[int]]
    node_width: int
    node_height: int
    labels_left: int
    labels_right: int

    @property
    def slot(self) -> int:
        """A neuron's cells across: the selection mark, the neuron, the dead mark."""
        return self.node_width + 2

    def at(self, x: int, y: int) -> tuple[int, int] | None:
        """The (column, neuron) whose cells hold (x, y), if any."""
        for column, (left, tops) in enumerate(zip(self.xs, self.tops)):
            if left <= x < left + self.slot:
                for index, top in enumerate(tops):
                    if top <= y < top + self.node_height:
                        return column, index
        return None


def layout(frame: Any, width: int, height: int, class_names: list[str] | None = None) -> Layout:
    """The layout of ``frame``'s columns on ``width`` x ``height`` cells: the first row names the
    layers, the last says what is not drawn; neurons as large as lets WANTED of a layer fit."""
    pictures = frame.cols > 0
    counts = [min(len(c.mean), MOST_SHOWN) for c in frame.columns]
    rows = max(1, height - 2)
    want = min(WANTED, max(counts))
    for node_height in HEIGHTS if pictures else (1,):
        gap = 1  # a blank row between two neurons, unless too few would fit then
        fit = max(1, (rows + gap) // (node_height + gap))
        if fit < min(want, 4):
            gap, fit = 0, rows // node_height
        if fit >= want or node_height == 1:
            break
    # square pictures (two pixels a cell up, one across), at least four pixels across
    node_width = max(4, 2 * node_height) if pictures else TEXT_WIDTH
    shown = [min(count, fit) for count in counts]
    first, last = frame.columns[0], frame.columns[-1]
    left = min(LABEL_WIDTH, max((len(s) for s in first.labels or []), default=0))
    right = min(LABEL_WIDTH, max((len(s) for s in last.labels or (class_names if last.size > 1 else None) or []),
                                 default=0))
    n = len(frame.columns)
    free = width - n * (node_width + 2)
    if free - left - right < 2 * (n - 1):  # too narrow for the labels: the links come first
        left = right = 0
    gap_width = max(1, (free - left - right) // max(1, n - 1))
    start = left + max(0, (free - left - right - gap_width * (n - 1)) // 2)
    xs = [start + i * (node_width + 2 + gap_width) for i in range(n)]
    tops = []
    for count in shown:
        total = count * node_height + (count - 1) * gap
        top = 1 + max(0, (rows - total) // 2)
        tops.append([top + i * (node_height + gap) for i in range(count)])
    return Layout(xs, tops, node_width, node_height, left, right)


class NetworkCanvas(Paced, Widget, can_focus=True):
    """The network's drawing (or one neuron's picture, large). Arrow keys move the selection,
    enter (or a click) shows the selected neuron large, escape goes back."""

    DEFAULT_CSS = "NetworkCanvas { height: 1fr; } NetworkCanvas:focus { background-tint: $foreground 4%; }"
    BINDINGS = [
        Binding("up", "move(0, -1)", "Neuron above", show=False),
        Binding("down", "move(0, 1)", "Neuron below", show=False),
        Binding("left", "move(-1, 0)", "Layer before", show=False),
        Binding("right", "move(1, 0)", "Layer after", show=False),
        Binding("enter", "choose", "Show large", show=False),
        Binding("escape", "back", "Back to the network", show=False),
    ]

    class Chosen(Message):
        """A neuron was chosen to show large (``neuron`` None: back to the network)."""

        def __init__(self, neuron: tuple[int, int] | None) -> None:
            super().__init__()
            self.neuron = neuron

    def __init__(self) -> None:
        super().__init__()
        self.frame: Any = None
        self.class_names: list[str] | None = None  # the output's labels when the frame has none
        self.selected = (1, 0)  # (column, neuron): the first hidden neuron
        self.large = False  # the selected neuron's picture fills the canvas
        self.plan: Layout | None = None
        self._strips: list[Strip] | None = None
        self._built_for: tuple | None = None

    @property
    def thumbnail_grid(self) -> tuple[int, int]:
        """The pixels of one thumbnail as laid out now (a guess before the first picture)."""
        if self.frame is None or self.plan is None or not self.frame.cols:
            return UNMEASURED
        return self.plan.node_width, 2 * self.plan.node_height

    @property
    def grid(self) -> tuple[int, int]:
        """The canvas in pixels (two a cell, up and down)."""
        width, height = self.size
        return (width, 2 * height) if width and height else (60, 40)

    def show(self, frame: Any) -> None:
        """Draw ``frame`` (a NetworkFrame)."""
        if frame is not self.frame:
            self.frame = frame
            self._clamp()
            self.refresh()

    def _clamp(self) -> None:
        if self.frame is None:
            return
        width, height = self.size
        self.plan = layout(self.frame, width, height, self.class_names) if width and height else None
        if self.plan is not None:
            column = min(max(0, self.selected[0]), len(self.plan.tops) - 1)
            self.selected = (column, min(self.selected[1], len(self.plan.tops[column]) - 1))

    def on_resize(self) -> None:
        self._clamp()
        self.refresh()

    def action_move(self, columns: int, neurons: int) -> None:
        if self.plan is None:
            return
        column, index = self.selected
        column = min(max(0, column + columns), len(self.plan.tops) - 1)
        count = len(self.plan.tops[column])
        index = min(max(0, index + neurons), count - 1)
        self.selected = (column, index)
        self.refresh()
        if self.large:
            self.post_message(self.Chosen(self.selected))

    def action_choose(self) -> None:
        if self.frame is not None:
            self.post_message(self.Chosen(None if self.large else self.selected))

    def action_back(self) -> None:
        if self.large:
            self.post_message(self.Chosen(None))

    def on_click(self, event: events.Click) -> None:
        if self.plan is None or self.large:
            return
        hit = self.plan.at(event.x, event.y)
        if hit is not None:
            self.selected = hit
            self.refresh()
            if event.chain > 1:  # a double click shows it large
                self.post_message(self.Chosen(hit))

    def render_line(self, y: int) -> Strip:
        key = (self.size, id(self.frame), self.selected, self.large, self.has_focus)
        if self._strips is None or self._built_for != key:
            self._strips, self._built_for = self._build(), key
        return self._strips[y] if y < len(self._strips) else Strip.blank(self.size.width, self._blank)

    @property
    def _blank(self) -> Style:
        return Style(bgcolor=rgb(self.background_colors[1].rgb))

    def _build(self) -> list[Strip]:
        width, height = self.size
        if self.frame is None or not width or not height:
            return []
        if self.large and self.frame.cols:
            return pixel_strips(neuron_pixels(self.frame, *self.selected, width, 2 * height))
        self._clamp()  # laid out for this size
        return Drawing(self.frame, self.plan, width, height, self.selected, self.has_focus,
                       self.background_colors[1].rgb, self.styles.color.rgb, self.class_names).strips()


class Drawing:
    """One picture of the network on a grid of cells: each cell a character and a style."""

    def __init__(self, frame: Any, plan: Layout, width: int, height: int, selected: tuple[int, int],
                 focused: bool, base: RGB, ink: RGB, class_names: list[str] | None = None) -> None:
        self.frame, self.plan, self.width, self.height = frame, plan, width, height
        self.class_names = class_names
        self.selected, self.focused, self.base, self.ink = selected, focused, base, ink
        self.blank = Style(color=rgb(ink), bgcolor=rgb(base))
        self.chars = [[" "] * width for _ in range(height)]
        self.styles = [[self.blank] * width for _ in range(height)]

    def put(self, x: int, y: int, text: str, style: Style) -> None:
        for i, char in enumerate(text):
            if 0 <= x + i < self.width and 0 <= y < self.height:
                self.chars[y][x + i] = char
                self.styles[y][x + i] = style

    def strips(self) -> list[Strip]:
        self._links()
        self._neurons()
        self._names()
        lines = []
        for chars, styles in zip(self.chars, self.styles):
            segments, start = [], 0
            for end in range(1, self.width + 1):
                if end == self.width or styles[end] is not styles[start]:
                    segments.append(Segment("".join(chars[start:end]), styles[start]))
                    start = end
            lines.append(Strip(segments, self.width))
        return lines

    def _style(self, color: RGB, bold: bool = False) -> Style:
        return Style(color=rgb(color), bgcolor=rgb(self.base), bold=bold)

    def _links(self) -> None:
        """Each link as a braille line from its neuron to the next layer's; the larger weights
        drawn last, so a cell takes the color of the largest link through it."""
        frame, plan = self.frame, self.plan
        scale = frame.weight_scale or 1.0
        cells: dict[tuple[int, int], list] = {}
        for i, weights in enumerate(frame.weights):
            if i + 1 >= len(plan.xs):
                break
            x0 = plan.xs[i] + plan.slot
            x1 = plan.xs[i + 1]
            if x1 <= x0:
                continue
            sources, targets = plan.tops[i], plan.tops[i + 1]
            links = [(abs(w), w, j, o) for o, row in enumerate(weights[:len(targets)])
                     for j, w in enumerate(row[:len(sources)]) if w == w]
            for size, w, j, o in sorted(links):
                share = min(1.0, size / scale)
                if share < 0.02:
                    continue
                color = blend(self.base, POSITIVE if w > 0 else NEGATIVE, 0.3 + 0.7 * share)
                style = self._style(color)
                y0 = sources[j] * 4 + plan.node_height * 2
                y1 = targets[o] * 4 + plan.node_height * 2
                self._line(cells, x0 * 2, y0, x1 * 2 - 1, y1, style, dashed=w < 0)
        for (cx, cy), (bits, style) in cells.items():
            self.put(cx, cy, chr(0x2800 + bits), style)

    @staticmethod
    def _line(cells: dict, x0: int, y0: int, x1: int, y1: int, style: Style, dashed: bool) -> None:
        steps = max(abs(x1 - x0), abs(y1 - y0), 1)
        for k in range(steps + 1):
            if dashed and (k // DASH) % 2:
                continue
            x = x0 + (x1 - x0) * k // steps
            y = y0 + (y1 - y0) * k // steps
            key = (x // 2, y // 4)
            bit = DOTS[x % 2][y % 4]
            cell = cells.get(key)
            if cell is None:
                cells[key] = [bit, style]
            else:
                cell[0] |= bit
                cell[1] = style

    def _neurons(self) -> None:
        frame, plan = self.frame, self.plan
        accent = self._style(self.ink, bold=True)
        dead_style = self._style((225, 65, 65), bold=True)
        for c, (left, tops) in enumerate(zip(plan.xs, plan.tops)):
            neurons = frame.columns[c]
            for index, top in enumerate(tops):
                if frame.cols:
                    pixels = neuron_pixels(frame, c, index, plan.node_width, 2 * plan.node_height)
                    for row, strip in enumerate(pixel_strips(pixels)):
                        x = left + 1
                        for segment in strip:
                            self.put(x, top + row, segment.text, segment.style)
                            x += len(segment.text)
                else:
                    mean = neurons.mean[index]
                    scale = max((abs(m) for m in neurons.mean if m == m), default=0.0) or 1.0
                    color = signed_color(mean / scale, self.ink) if mean == mean else UNKNOWN
                    self.put(left + 1, top, _mean_text(mean), self._style(color))
                middle = top + plan.node_height // 2
                if (c, index) == self.selected:
                    self.put(left, middle, "▶", accent if self.focused else self._style(self.ink))
                if neurons.dead[index]:
                    self.put(left + plan.slot - 1, middle, "✕", dead_style)
                labels = neurons.labels or (self.class_names if c == len(plan.xs) - 1 and neurons.size > 1 else None)
                if labels and index < len(labels):
                    if c == 0 and plan.labels_left:
                        label = labels[index][:plan.labels_left]
                        self.put(left - len(label), middle, label, self._style(self.ink))
                    elif c == len(plan.xs) - 1 and plan.labels_right:
                        self.put(left + plan.slot, middle, labels[index][:plan.labels_right], self._style(self.ink))

    def _names(self) -> None:
        """The layers' names on the first row, and under each layer how many are not drawn."""
        frame, plan = self.frame, self.plan
        name_style = self._style(self.ink, bold=True)
        muted = self._style(blend(self.base, self.ink, 0.6))
        for c, (left, tops) in enumerate(zip(plan.xs, plan.tops)):
            neurons = frame.columns[c]
            room = (plan.xs[c + 1] - left - 1) if c + 1 < len(plan.xs) else self.width - left
            name = neurons.name
            if len(f"{name} {neurons.size}") > room:
                name = SHORT_NAMES.get(name, name.replace("hidden ", "h"))
            self.put(left, 0, f"{name} {neurons.size}" if len(f"{name} {neurons.size}") <= room else name[:room],
                     name_style)
            hidden = neurons.size - len(tops)
            if hidden > 0:
                more = f"+{hidden} more"
                self.put(left, self.height - 1, (more if len(more) <= room else f"+{hidden}")[:max(room, 2)], muted)


def _mean_text(mean: float) -> str:
    """A mean value in TEXT_WIDTH cells, its sign always written (none for what rounds to 0)."""
    if mean != mean:
        return " nan  "
    if abs(mean) < 0.005:
        return " 0.00 "
    text = f"{mean:+.2f}" if abs(mean) < 10 else f"{mean:+.1f}" if abs(mean) < 100 else f"{mean:+.0e}"
    return text[:TEXT_WIDTH].ljust(TEXT_WIDTH)


class NetworkPanel(LivePicture, Vertical):
    """The Network tab: a caption (the run, its epoch, what the colors and marks mean, the keys)
    over the canvas. ``large`` holds the pixel grid of the neuron picture shown large elsewhere
    (the Boundary tab), so the run's pictures are made that big."""

    DEFAULT_CSS = """
    NetworkPanel > .caption { height: 1; padding: 0 1; }
    """

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.caption = Static(WAITING, classes="caption")
        self.canvas = NetworkCanvas()
        self.label = ""
        self.large: tuple[int, int] | None = None
        self.pace = self.canvas.pace = Pace(PICTURE_SHARE)

    def compose(self) -> ComposeResult:
        yield self.caption
        yield self.canvas

    def show(self, job: Job, run: LiveRun, shown: bool, final: bool = False) -> None:
        request = run.request(self.id)
        if request is None:
            return
        self.label = run.short_label if job.compared else ""
        started = run.feed.started
        self.canvas.class_names = (started.class_names if started else None) or run.config.task_spec.class_names
        request.ask(*self.wanted_grid())
        if shown and self.pace.due(final):
            frame = request.take()
            if frame is not None and frame is not self.canvas.frame:
                self.canvas.show(frame)
                self._caption()

    def wanted_grid(self) -> tuple[int, int]:
        """The pixels to ask the run for: the large picture's, else one thumbnail's."""
        if self.large is not None:
            return self.large
        if self.canvas.large:
            return self.canvas.grid
        width, height = self.canvas.thumbnail_grid
        return max(width, SMALLEST_GRID), max(height, SMALLEST_GRID)

    def on_resize(self) -> None:
        if self.canvas.frame is not None:
            self._caption()

    def on_network_canvas_chosen(self, event: NetworkCanvas.Chosen) -> None:
        """Enter on a neuron: the app shows it large (in the Boundary tab, or here)."""
        if event.neuron is not None:
            self.canvas.selected = event.neuron

    @property
    def has_pictures(self) -> bool:
        """Whether the neurons shown have pictures over the plane."""
        return self.canvas.frame is not None and self.canvas.frame.cols > 0

    def show_large(self, on: bool) -> None:
        """Show the selected neuron's picture in place of the network (or the network again)."""
        self.canvas.large = on
        self.canvas.refresh()
        self._caption()

    def neuron_name(self) -> str:
        """The selected neuron, as the caption and the Boundary tab name it."""
        frame = self.canvas.frame
        column, index = self.canvas.selected
        if frame is None:
            return ""
        neurons = frame.columns[column]
        label = neurons.labels[index] if neurons.labels and index < len(neurons.labels) else f"#{index + 1}"
        return f"{neurons.name} {label}"

    def _caption(self) -> None:
        frame = self.canvas.frame
        head = Content.from_markup("[b]$label[/]epoch $epoch", label=self.label and f"{self.label} · ",
                                   epoch=frame.epoch)
        if self.canvas.large:
            parts = [Content(f" · {self.neuron_name()}"), _legend_picture(), Content(" · esc: the network")]
            short = parts
        else:
            links = Content.from_markup(f" · links [{rgb(POSITIVE)}]━━[/] + [{rgb(NEGATIVE)}]╍╍[/] −")
            parts = [links, Content(", brighter: larger"), Content(" · ✕ dead"),
                     Content(" · arrows, enter: large" if self.canvas.frame.cols else " · mean value on the data")]
            short = [links, Content(" · ✕ dead")]
        long = Content("").join([head, *parts])
        self.caption.update(long if long.cell_length <= self.size.width - 2 else Content("").join([head, *short]),
                            layout=False)

    def clear(self) -> None:
        """Blank, for a new run."""
        self.pace.reset()
        self.canvas.frame = None
        self.canvas.large = False
        self.canvas.plan = None
        self.canvas.refresh()
        set_text(self.caption, WAITING)


def _legend_picture() -> Content:
    return Content.from_markup(f" · [{rgb(NEGATIVE)}]██[/] − [{rgb(signed_color(0.0))}]██[/] 0 "
                               f"[{rgb(POSITIVE)}]██[/] +")
