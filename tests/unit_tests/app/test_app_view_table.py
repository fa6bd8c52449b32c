"""Every view of the catalog (a task's live picture) has its place in the app and a drawer in
``export-plot``, and its engine hook exists; every task's view is one of the catalog's."""

import importlib

from tui_trainer.app.picture import LivePicture
from tui_trainer.app.viewtabs import VIEW_TABS
from tui_trainer.catalog.tasks import KINDS, SOURCES, TASKS
from tui_trainer.catalog.views import VIEWS
from tui_trainer.export.plot import DRAWERS


def test_every_catalog_view_has_an_app_tab_a_panel_a_drawer_and_a_hook():
    assert set(VIEW_TABS) == set(VIEWS) == set(DRAWERS)
    assert len({tab.tab for tab in VIEW_TABS.values()}) == len(VIEW_TABS)
    for name, view in VIEWS.items():
        assert issubclass(VIEW_TABS[name].panel, LivePicture), name
        module, _, function = view.hook.partition(":")
        assert callable(getattr(importlib.import_module(module), function)), view.hook


def test_every_task_names_a_known_kind_source_and_view():
    for name, spec in TASKS.items():
        assert spec.kind in KINDS and spec.source in SOURCES, name
        assert spec.view is None or spec.view in VIEWS, name
