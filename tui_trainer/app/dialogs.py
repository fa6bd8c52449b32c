"""A small dialog asking for a file path (save and load config)."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label


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
