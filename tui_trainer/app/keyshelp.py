"""The keys panel f1 shows: the focused widget's help, then every key that works now (the app's
own first). Its own module: Textual's HelpPanel brings its Markdown parser and Pygments, imported
when f1 is first pressed rather than before the first frame."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import HelpPanel, KeyPanel, Markdown, Static

from tui_trainer.app.controls import CONTROLS


class KeysTable(Static):
    """Every key that works now: the app's own first, in the order of CONTROLS (dimmed when they
    do nothing right now), then the focused widget's and Textual's (scrolling, the palette...)."""

    DEFAULT_CSS = "KeysTable { width: 1fr; height: auto; }"

    def render(self) -> Table:
        app = self.app
        active = list(self.screen.active_bindings.values())
        table = Table(padding=(0, 1, 0, 0), show_header=False, box=None, expand=True)
        table.add_column("", justify="right", style="bold")
        table.add_column("", ratio=1)
        table.add_row("", Text("tui-trainer", style="bold underline"))
        enabled = {binding.action: on for _, binding, on, _ in active}
        ours = {c.action for c in CONTROLS if c.key}
        for control in CONTROLS:
            if control.key:
                on = enabled.get(control.action, True)
                table.add_row(Text(app.get_key_display(Binding(control.key, control.action)),
                                   style="" if on else "dim"),
                              Text(control.help, style="" if on else "dim"))
        others = {}  # one row per action, its keys together
        for _, binding, _, _ in active:
            if binding.action not in ours and not binding.system and binding.description:
                others.setdefault(binding.action, []).append(binding)
        if others:
            table.add_row("", "")
            table.add_row("", Text("this field and Textual", style="bold underline"))
        for bindings in others.values():
            keys = " ".join(dict.fromkeys(app.get_key_display(binding) for binding in bindings))
            table.add_row(keys, Text.assemble(bindings[0].description, " ", (bindings[0].tooltip or "", "dim")))
        return table


class KeysPanel(KeyPanel):
    """Textual's keys panel (redrawn as the bindings change) with the app's keys first."""

    def compose(self) -> ComposeResult:
        yield KeysTable()


class KeysHelpPanel(HelpPanel):
    """The panel f1 shows: the focused widget's help, then every key (the app's first)."""

    def compose(self) -> ComposeResult:
        yield Markdown(id="widget-help")
        yield KeysPanel(id="keys-help")
