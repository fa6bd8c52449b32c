"""One form field: a schema Param's name, its editor, and the message when its value is refused."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.content import Content
from textual.geometry import Size
from textual.message import Message
from textual.timer import Timer
from textual.widget import Widget
from rich.cells import cell_len
from rich.segment import Segment
from textual.strip import Strip
from textual.style import Style
from textual.widgets import Checkbox, Input, Select, SelectionList, Static
from textual.widgets.option_list import OptionDoesNotExist

from tui_trainer.app.labels import label
from tui_trainer.config import Text
from tui_trainer.fences.textual import HookedInput
from tui_trainer.schema import Param


#: Seconds without a key before the message of the field being typed into changes on screen: a
#: message line coming and going at every key laid the whole screen out per key, and flickered.
TYPING_PAUSE = 0.3


class FieldRow(Widget):
    """Edits the value of ``key`` (dotted, ``optimizer.lr``) as ``param`` describes it.

    Choices and ``options`` (label, value) pairs get a Select, booleans a Checkbox, everything
    else an Input whose text is handed to the config as ``Text`` so the Param parses it.
    ``value`` is a typed value (from a Config) or what an editor held (carried over).
    """

    # The row draws the field's name itself (a component style) in the columns its editor leaves,
    # not a Label of its own: one widget fewer per field (the form has dozens), and every widget
    # costs the first frame its styling, layout and paint. The editor keeps to its first line, as
    # the name's line it is (a long choice is cut, not wrapped).
    COMPONENT_CLASSES = {"field-row--name"}
    NAME_WIDTH = 16  # columns of the name (the CSS's editor margin)
    CHECK_WIDTH = 8  # columns of a checkbox (the CSS's width): its row's name has all the others
    DEFAULT_CSS = """
    FieldRow { height: auto; }
    FieldRow > .field-row--name { color: $text-muted; }
    FieldRow > Input, FieldRow > Select, FieldRow > Checkbox { height: 1; }
    FieldRow Input, FieldRow Select { margin-left: 16; width: 1fr; }  /* NAME_WIDTH */
    FieldRow.-check { align-horizontal: right; }
    FieldRow Checkbox, FieldRow Checkbox:focus { width: 8; border: none !important; padding: 0; }
    FieldRow .field-error { color: $text-error; display: none; height: auto; padding-left: 1; }
    FieldRow.-invalid .field-error { display: block; }
    FieldRow.-invalid > .field-row--name { color: $text-error; text-style: bold; }
    FieldRow.-focused > .field-row--name { text-style: bold reverse; }
    """

    class Changed(Message):
        """The person changed the field's value."""

        def __init__(self, row: FieldRow) -> None:
            super().__init__()
            self.row = row

    def __init__(self, key: str, param: Param, value: Any,
                 options: list[tuple[str, str]] | None = None) -> None:
        super().__init__(classes="-check" if param.kind == "bool" else "")
        self.key = key
        self.param = param
        if options is None and param.kind == "choice":
            options = [(choice, choice) for choice in param.choices]
        self.kind = "select" if options is not None else "check" if param.kind == "bool" else "input"
        self.options: list[tuple[str, str]] = _with(options, self._text(value)) if options is not None else []
        self.selected = self._text(value) if options is not None else ""
        self.pending_options = False  # options set before the Select was mounted
        # What an editor not built yet starts with (a Select starts with ``selected``).
        self.start: Any = _as_bool(value) if self.kind == "check" else self._text(value)
        self.built: Select | Checkbox | Input | None = None
        self.error = Static("", classes="field-error")
        self.message = ""
        self.pending_message: str | None = None  # a message waiting for typing to pause
        self.message_timer: Timer | None = None
        self.shown = str(self.raw)

    @property
    def editor(self) -> Select | Checkbox | Input:
        """The field's editor, built when first needed: the fields of the sections mounted after
        the first frame cost it nothing (an Input takes longer to build than a plain widget to
        mount), and they hold their values until then."""
        if self.built is None:
            self.built = self._make_editor()
        return self.built

    def _make_editor(self) -> Select | Checkbox | Input:
        if self.kind == "select":
            return Select(self.options, value=self.selected, allow_blank=False, compact=True)
        if self.kind == "check":
            return TickBox(value=self.start)
        # Tabbing into a field keeps its value: Textual would select it all, so that a stray key replaced it.
        return FieldInput(self.start, compact=True, placeholder="(empty)", select_on_focus=False)

    def _text(self, value: Any) -> str:
        return str(value) if isinstance(value, str) else self.param.format(value)

    def compose(self) -> ComposeResult:
        yield self.editor

    def render(self) -> Content:
        """The field's name on the first line, in the columns the editor leaves it (cut short
        with an ellipsis where it does not fit)."""
        width = self.size.width - self.CHECK_WIDTH if self.param.kind == "bool" else self.NAME_WIDTH
        name = Content(label(self.key, self.param)).truncate(max(width, 0), ellipsis=True)
        return name.stylize(Style.from_rich_style(self.get_component_rich_style("field-row--name")))

    @property
    def raw(self) -> Any:
        """The value as the config takes it: ``Text`` from an Input, else the editor's value."""
        if self.kind == "select":
            return self.selected  # a Select holds no value until it is mounted
        value = self.start if self.built is None else self.built.value
        return Text(value) if self.kind == "input" else value

    @property
    def changed_from_default(self) -> bool:
        """Whether the value differs from the Param's default (the person or a recipe set it)."""
        if self.kind == "check":
            return self.raw != _as_bool(self.param.default)
        return str(self.raw).strip() != self._text(self.param.default)

    def set_value(self, value: Any) -> None:
        """Show a new value without the person typing it (the form is not told)."""
        if self.kind == "select":
            self.set_options(self.options, self._text(value))
        else:
            self.start = _as_bool(value) if self.kind == "check" else self._text(value)
            if self.built is not None:
                self.built.value = self.start
        self.shown = str(self.raw)

    def set_options(self, options: list[tuple[str, str]], value: str | None = None) -> None:
        """Replace a Select's options, keeping (or setting) its value even if it is not offered
        (a Select still being mounted takes them once it is)."""
        value = self.selected if value is None else value
        options = _with(options, value)
        changed = options != self.options
        self.options, self.selected = options, value
        if self.built is None:  # built with them
            return
        if not self._options_list_mounted():
            self.pending_options = True
            self._take_pending_options()
        elif changed:
            self._show_options()
        elif self.editor.value != value:
            self.editor.value = value

    def _show_options(self) -> None:
        self.editor.set_options(self.options)
        self.editor.value = self.selected

    def _options_list_mounted(self) -> bool:
        """Whether the Select's list of options is mounted (it takes new options only then)."""
        return bool(self.editor.query("SelectOverlay"))

    def _take_pending_options(self) -> None:
        """Show the options set while the Select was being mounted, once its list is there
        (tried again at each refresh while this row is mounted; on_mount tries once it is)."""
        if not self.pending_options or not self.is_mounted:
            return
        if self._options_list_mounted():
            self.pending_options = False
            self._show_options()
        else:
            self.call_after_refresh(self._take_pending_options)

    def on_mount(self) -> None:
        self._mount_error()
        if self.pending_options:
            self.call_after_refresh(self._take_pending_options)

    def show_error(self, message: str | None) -> None:
        """Show why the value is refused, or clear the message (only a change costs a layout;
        the message's widget is mounted the first time it is needed, so the first frame has
        fewer widgets to lay out). While the person types into this field, the message changes
        once typing pauses for TYPING_PAUSE seconds (or the field loses focus), not at each key."""
        message = message or ""
        self.pending_message = None
        if message == self.message:
            self._stop_timer()
        elif isinstance(self.built, Input) and self.built.has_focus:
            self.pending_message = message
            if self.message_timer is None:
                self.message_timer = self.set_timer(TYPING_PAUSE, self._show_pending)
            else:
                self.message_timer.reset()
        else:
            self._stop_timer()
            self._show(message)

    def _show(self, message: str) -> None:
        self.message = message
        self.error.update(message)
        if self.is_attached:
            self._mount_error()
        self.set_class(bool(message), "-invalid")

    def _show_pending(self) -> None:
        self.message_timer = None
        if self.pending_message is not None:
            message, self.pending_message = self.pending_message, None
            self._show(message)

    def _stop_timer(self) -> None:
        if self.message_timer is not None:
            self.message_timer.stop()
            self.message_timer = None

    # The focused field's name shows reversed, on any terminal (a compact editor's own focus style
    # is faint). A class on this row restyles only its two widgets.
    def on_descendant_focus(self) -> None:
        self.set_class(True, "-focused")

    def on_descendant_blur(self) -> None:
        self.set_class(False, "-focused")
        self._stop_timer()
        self._show_pending()

    def _mount_error(self) -> None:
        if self.message and not self.error.is_attached:
            self.mount(self.error)

    def on_input_changed(self, event: Input.Changed) -> None:
        self._edited(event)

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.value is not Select.NULL:
            self.selected = str(event.value)
        self._edited(event)

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        self._edited(event)

    def _edited(self, event: Message) -> None:
        """Tell the form, once per real change (editors also report the value they start with)."""
        event.stop()
        if str(self.raw) != self.shown:
            self.shown = str(self.raw)
            self.post_message(self.Changed(self))


class TickBox(Checkbox):
    """A checkbox told apart at a glance on any terminal, colors or none: ``▐✔▌ on`` when
    ticked, ``▐ ▌ off`` when not (the focus shows on the word)."""

    def __init__(self, value: bool = False) -> None:
        super().__init__(self._word(value), value=value, compact=True)
        self.BUTTON_INNER = self._tick(value)

    @staticmethod
    def _word(value: bool) -> str:
        return "on" if value else "off"

    @staticmethod
    def _tick(value: bool) -> str:
        return "✔" if value else " "

    def watch_value(self) -> None:
        self.BUTTON_INNER = self._tick(self.value)  # what Checkbox draws between its sides
        self.label = self._word(self.value)
        super().watch_value()


class TickList(SelectionList):
    """A SelectionList whose ticked choices are told apart at a glance on any terminal: ``✔``
    in the box of a ticked one, an empty box otherwise (Textual's shows ``X`` in both, in two
    colors)."""

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        try:
            option = self.get_option_at_index(self.scroll_offset.y + y)
        except OptionDoesNotExist:
            return strip
        segments = list(strip)
        if len(segments) > 1 and segments[1].text == Checkbox.BUTTON_INNER:
            segments[1] = Segment("✔" if option.value in self.selected else " ", segments[1].style)
        return Strip(segments, strip.cell_length)


class FieldInput(HookedInput):
    """An Input whose typing never lays the screen out: its size is fixed by the form's CSS.
    Textual's Input grows its virtual size (a reactive that asks for a layout of the whole
    screen) with every key, which cost each key press a reflow of every field."""

    def value_changing(self, value: str) -> None:
        # Set first without asking for a layout, so Input's own assignment finds no change.
        self.set_reactive(Widget.virtual_size, Size(self.content_width, 1))


def set_text(widget: Static, text: str) -> None:
    """Show ``text`` in ``widget`` unless it shows it already (an update lays the screen out,
    unless a container hides the widget: a hidden tab is laid out as it shows, so a run's start
    clearing the hidden tabs costs no layout)."""
    if str(widget.content) != text:
        widget.update(text, layout=all(node.display for node in widget.ancestors_with_self))


def fitting(width: int, texts: list) -> int:
    """The index of the first of ``texts`` (strings or Contents, longest first) that fits ``width``
    cells (the first while the width is not known yet), else of the last: a line in fewer words
    rather than cut."""
    return next((i for i, text in enumerate(texts) if width <= 0 or cell_len(str(text)) <= width), len(texts) - 1)


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "on", "1")
    return bool(value)


def _with(options: list[tuple[str, str]], value: str) -> list[tuple[str, str]]:
    """The options, plus ``value`` when none of them has it (a file may name an unlisted device)."""
    return list(options) if any(v == value for _, v in options) else [*options, (value, value)]
