"""Textual's private names that the app uses (Textual 8.2), reached only here: the footer's key
widget and its state, whether the footer has its bindings, the app's registry of mounted
widgets and its terminal driver, two private handlers the app runs code before (as hooks of the
classes below), the tab bar's scrolling of its active tab into view, and the breakpoint classes
a screen takes at a terminal size."""

from __future__ import annotations

import inspect

from textual import events
from textual.app import App
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widgets import Footer, Input, TabbedContent, Tabs
from textual.widgets._footer import FooterKey

__all__ = ["FooterKey", "HookedInput", "HookedScreen", "breakpoint_classes", "driver_of",
           "footer_bindings_ready", "footer_key_disabled", "is_mounted", "keep_active_tab_centered",
           "missing", "set_footer_key_disabled"]

#: What this module reaches of Textual's private names.
REACHED = ("textual.widgets._footer.FooterKey", "FooterKey._disabled", "Footer._bindings_ready",
           "App._registry", "App._driver", "Screen._on_screen_resume", "Input._watch_value",
           "Tabs._scroll_active_tab", "Tabs #tabs-scroll", "Screen._get_breakpoint_classes")


def footer_key_disabled(key: FooterKey) -> bool:
    """Whether a footer key shows as disabled (its state, kept by FooterKey in ``_disabled``)."""
    return key._disabled


def set_footer_key_disabled(key: FooterKey, disabled: bool) -> None:
    """Disable or enable a footer key in place (its state and its ``-disabled`` class)."""
    key._disabled = disabled
    key.set_class(disabled, "-disabled")


def footer_bindings_ready(footer: Footer) -> bool:
    """Whether the footer has built its keys from the screen's bindings once."""
    return footer._bindings_ready


def is_mounted(app: App, node: DOMNode) -> bool:
    """Whether ``node`` is mounted in ``app`` (in Textual's registry of the app's widgets)."""
    return node in app._registry


def driver_of(app: App) -> object | None:
    """The driver that talks to the app's terminal (None before it starts or after it ends)."""
    return app._driver


def breakpoint_classes(screen: Screen, width: int, height: int) -> set[str]:
    """The breakpoint classes Textual gives ``screen`` at this terminal size (the app's
    HORIZONTAL_BREAKPOINTS and VERTICAL_BREAKPOINTS, or the screen's own)."""
    app = screen.app
    horizontal = (app.HORIZONTAL_BREAKPOINTS if screen.HORIZONTAL_BREAKPOINTS is None
                  else screen.HORIZONTAL_BREAKPOINTS) or []
    vertical = (app.VERTICAL_BREAKPOINTS if screen.VERTICAL_BREAKPOINTS is None
                else screen.VERTICAL_BREAKPOINTS) or []
    return screen._get_breakpoint_classes(width, horizontal) | screen._get_breakpoint_classes(height, vertical)


def keep_active_tab_centered(tabbed: TabbedContent) -> None:
    """Scroll ``tabbed``'s tab bar to center its active tab whenever the bar's tabs change width
    (tabs shown, hidden or retitled), as Textual's Tabs does only when the bar itself is resized
    or another tab is activated; where the bar ends up never depends on which change came last."""
    tabs = tabbed.query_one(Tabs)
    tabbed.watch(tabs.query_one("#tabs-scroll"), "virtual_size", lambda _: tabs._scroll_active_tab(), init=False)


class HookedScreen(Screen):
    """A Screen whose ``resuming(event)`` runs before Textual's own handling of ScreenResume.
    (As the app's screen always has, it then hands the event to Screen's handler, which Textual
    runs once more on its own: it calls the handler of each class of a screen's in turn.)"""

    def resuming(self, event: events.ScreenResume) -> None:
        """Called with each ScreenResume, before the Screen acts on it."""

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        self.resuming(event)
        super()._on_screen_resume(event)


class HookedInput(Input):
    """An Input whose ``value_changing(value)`` runs before Input's own watcher of its value."""

    def value_changing(self, value: str) -> None:
        """Called with each new value, before Input's watcher."""

    def _watch_value(self, value: str) -> None:
        self.value_changing(value)
        super()._watch_value(value)


def missing() -> list[str]:
    """The names of REACHED the installed Textual does not have."""
    lost = []
    key = FooterKey("q", "q", "quit", "quit")
    if not isinstance(getattr(key, "_disabled", None), bool):
        lost.append("FooterKey._disabled")
    if not hasattr(Footer, "_bindings_ready"):
        lost.append("Footer._bindings_ready")
    app = App()
    if not hasattr(app, "_registry"):
        lost.append("App._registry")
    if not hasattr(app, "_driver"):
        lost.append("App._driver")
    if not callable(Screen.__dict__.get("_on_screen_resume")):
        lost.append("Screen._on_screen_resume")
    if not callable(Input.__dict__.get("_watch_value")):
        lost.append("Input._watch_value")
    if not callable(getattr(Tabs, "_scroll_active_tab", None)):
        lost.append("Tabs._scroll_active_tab")
    if not callable(getattr(Screen, "_get_breakpoint_classes", None)):
        lost.append("Screen._get_breakpoint_classes")
    if "tabs-scroll" not in inspect.getsource(Tabs.compose):
        lost.append("Tabs #tabs-scroll")
    return lost
