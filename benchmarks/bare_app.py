"""The first-frame baseline: a bare Textual app (a Static reading ``Task`` and a Footer), the
least a Textual app draws. ``bench_app.py`` times its first frame beside tui-trainer's."""

from textual.app import App, ComposeResult
from textual.widgets import Footer, Static


class BareApp(App[None]):
    """A Static and a Footer; ctrl+q quits."""

    def compose(self) -> ComposeResult:
        yield Static("Task")
        yield Footer()


if __name__ == "__main__":
    BareApp().run()
