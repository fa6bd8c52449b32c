"""Small dialogs: one asking for a file path (save and load config), one showing a text whole
(a field's help), and a question before running code."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static


class PathDialog(ModalScreen[Path | None]):
    """Asks for a path; enter answers it, escape answers None."""

    DEFAULT_CSS = """
    PathDialog { align: center middle; }
    PathDialog > Vertical {
        width: 70%; min-width: 40; height: auto; padding: 1 2;
        border: round $primary; background: $surface;
    }
    PathDialog Label { width: 1fr; }
    PathDialog .hint { color: $text-muted; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, path: Path) -> None:
        super().__init__()
        self.title_text = title
        self.input = Input(str(path), id="path")

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text)
            yield self.input
            yield Label("enter: OK · escape: cancel", classes="hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        self.dismiss(Path(text).expanduser() if text else None)

    def action_cancel(self) -> None:
        """Close without a path."""
        self.dismiss(None)


class ConfirmDialog(ModalScreen[bool]):
    """Asks before something that cannot be taken back (running code a config brings): ``yes``
    answers True; ``no``, escape or n answers False, and the focus starts on ``no``."""

    DEFAULT_CSS = """
    ConfirmDialog { align: center middle; }
    ConfirmDialog > Vertical {
        width: 80%; min-width: 40; max-width: 100; height: auto; padding: 1 2;
        border: round $warning; background: $surface;
    }
    ConfirmDialog Label { width: 1fr; }
    ConfirmDialog .title { text-style: bold; }
    ConfirmDialog Horizontal { height: auto; margin-top: 1; }
    ConfirmDialog Button { margin-right: 2; }
    """
    BINDINGS = [Binding("escape", "answer(False)", "Cancel"), Binding("n", "answer(False)", "No"),
                Binding("y", "answer(True)", "Yes")]

    def __init__(self, title: str, text: str, yes: str, no: str = "Cancel") -> None:
        super().__init__()
        self.title_text, self.text, self.yes, self.no = title, text, yes, no

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, classes="title")
            yield Label(self.text)
            with Horizontal():
                yield Button(f"{self.yes} (y)", id="yes", variant="warning")
                yield Button(f"{self.no} (n)", id="no", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        """Close with ``answer``."""
        self.dismiss(answer)


class TextDialog(ModalScreen[None]):
    """Shows a text whole, wrapped to the dialog's width (a field's help that the help line
    shows only in part); escape, enter or ``key`` closes it."""

    DEFAULT_CSS = """
    TextDialog { align: center middle; }
    TextDialog > Vertical {
        width: 80%; max-width: 90; min-width: 40; height: auto; max-height: 90%; padding: 1 2;
        border: round $primary; background: $surface;
    }
    TextDialog .title { text-style: bold; width: 1fr; }
    TextDialog .text { width: 1fr; height: auto; }
    TextDialog .hint { color: $text-muted; width: 1fr; margin-top: 1; }
    """
    BINDINGS = [Binding("escape", "close", "Close"), Binding("enter", "close", "Close")]

    def __init__(self, title: str, text: str, key: str) -> None:
        super().__init__()
        self.title_text, self.text, self.key = title, text, key

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, classes="title", markup=False)
            yield Static(self.text, classes="text", markup=False)
            yield Label(f"escape, enter or {self.key}: close", classes="hint")

    def action_close(self) -> None:
        """Close the dialog."""
        self.dismiss(None)

