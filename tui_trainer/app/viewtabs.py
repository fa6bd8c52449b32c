"""The live pictures' places in the app, by view name (``catalog.views``): each view's tab and
the panel that shows it (a ``picture.LivePicture`` widget). A new view is one entry here and its
panel."""

from __future__ import annotations

from dataclasses import dataclass

from textual.widget import Widget

from tui_trainer.app.arena import ArenaView
from tui_trainer.app.network import NetworkPanel
from tui_trainer.app.views import BoundaryPanel, FitPanel


@dataclass(frozen=True)
class ViewTab:
    """A view in the app: its tab's title and id, and its panel's class (made with the view's
    name as its id); ``short``: its title below 120 columns, where the tabs must fit in 46;
    ``hosts_neurons``: its panel shows a Network neuron's picture large (``show_neuron``), over
    the same plane, when the task has this view."""

    title: str
    tab: str
    panel: type[Widget]
    short: str = ""
    hosts_neurons: bool = False


#: Every live picture's tab, in the order the tabs show.
VIEW_TABS = {
    "boundary": ViewTab("Boundary", "tab-boundary", BoundaryPanel, hosts_neurons=True),
    "fit": ViewTab("Fit", "tab-fit", FitPanel),
    "arena": ViewTab("Arena", "tab-arena", ArenaView),
    "network": ViewTab("Network", "tab-network", NetworkPanel, short="Net"),
}


def view_of_tab(tab: str) -> str | None:
    """The view whose tab has the id ``tab`` (None for the other tabs)."""
    return next((name for name, view in VIEW_TABS.items() if view.tab == tab), None)
