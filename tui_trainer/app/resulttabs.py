"""The tabs that show a run's model and how it ended, by name: the Model tab (the form's model,
layer by layer), the Confusion tab and the Mistakes tab (a classification's confusion matrix and
misclassified samples, once a run ends). Each is offered only for a config it has something to
show of."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from textual.widget import Widget

from tui_trainer.app.confusion import ConfusionPanel
from tui_trainer.app.mistakes import MistakesPanel
from tui_trainer.app.modelpanel import ModelPanel
from tui_trainer.config import Config


@dataclass(frozen=True)
class ResultTab:
    """A tab: its title and id, its panel's class (made with the tab's name as its id), whether a
    config's runs have it, and for which runs, in words (when a person asks for it elsewhere)."""

    title: str
    tab: str
    panel: type[Widget]
    offered: Callable[[Config], bool]
    shows: str


def _classifies(config: Config) -> bool:
    return config.task_spec.traits.score == "accuracy"


#: The tabs after the live pictures', in the order they show.
RESULT_TABS = {
    "model": ResultTab("Model", "tab-model", ModelPanel, lambda config: config.task_spec.traits.layers,
                       "the tasks that train a network (not the arena's points)"),
    "confusion": ResultTab("Confusion", "tab-confusion", ConfusionPanel, _classifies,
                           "the classification tasks"),
    "mistakes": ResultTab("Mistakes", "tab-mistakes", MistakesPanel, _classifies, "the classification tasks"),
}


def result_of_tab(tab: str) -> str | None:
    """The name of the result tab whose id is ``tab`` (None for the other tabs)."""
    return next((name for name, result in RESULT_TABS.items() if result.tab == tab), None)
