"""Every control of the app in one table: its key, what it does, its word in the footer and its
title in the command palette. The app's bindings and palette commands are both made from it."""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey


@dataclass(frozen=True)
class Control:
    """One control: ``key`` runs ``action`` (an app action, with arguments as Textual writes
    them); ``label`` is its word in the footer (shown there when ``footer``), ``title`` and
    ``help`` its entry in the command palette and the keys panel."""

    key: str | None
    action: str
    label: str
    title: str
    help: str
    footer: bool = False


#: In footer order; those with ``footer`` fit in 80 columns, f1 lists the rest.
CONTROLS = (
    Control("ctrl+r", "run", "Run", "Run", "Start training with the form's settings", footer=True),
    Control("ctrl+t", "stop", "Stop", "Stop run", "Stop the run after its current step", footer=True),
    Control("ctrl+g", "pause", "Pause", "Pause / resume run", "Pause before the next step, or go on",
            footer=True),
    Control("f9", "step('epoch')", "Step", "Step one epoch",
            "Train exactly one epoch, then pause (every run of a comparison); with no run going, "
            "start one that pauses after its first epoch"),
    Control("f10", "step('batch')", "Batch", "Step one batch",
            "Train exactly one optimizer step (one batch), then pause; with no run going, start one "
            "that pauses after its first step"),
    Control("ctrl+b", "pace(False)", "Slower", "Slower pace",
            "Watch at a slower pace: 60, 20, 5, 1 epochs a second (the arena: 300, 100, 30, 10 "
            "steps); now and for the session's runs like this one"),
    Control("ctrl+f", "pace(True)", "Faster", "Faster pace",
            "Watch at a faster pace, up to max (as fast as it trains); now and for the session's "
            "runs like this one"),
    Control("f12", "smoothing", "Smooth", "Smoothing",
            "Smooth the loss and score curves as TensorBoard does: 0.6, 0.8, 0.9, 0.95, 0.99, then "
            "none ([ and ] too, and 1-9 hide a series, while the charts have the focus)"),
    Control("ctrl+l", "next_tab", "Tab", "Next tab",
            "Show Charts, Log, History, Layers and the run's pictures (Boundary, Fit or Arena; "
            "Network) in turn"),
    Control("f4", "next_chart", "Chart", "Next chart",
            "Show the next chart (loss, accuracy or R², learning rate) when they show one at a time",
            footer=True),
    Control("f1", "toggle_keys", "Keys", "Show keys", "List every key and what it does", footer=True),
    Control("f5", "compare", "Compare", "Compare runs",
            "Race runs of the form's config that differ in one field (optimizers, learning rates, "
            "losses...), overlaid live with a leaderboard", footer=True),
    Control("f6", "lr_find", "LR find", "Find a learning rate",
            "The learning-rate range test on the form's config: its curve and a suggested rate "
            "(enter writes it into the form)"),
    Control("ctrl+k", "stop_one", "Stop one", "Stop one run",
            "Stop the run highlighted in the comparison's leaderboard; the others go on"),
    Control("ctrl+n", "new_run", "New", "New run", "Clear the live panels; the history stays"),
    Control("ctrl+s", "save_config", "Save", "Save config", "Save the form as a TOML file"),
    Control("ctrl+o", "load_config", "Load", "Load config", "Fill the form from a TOML file"),
    Control("f2", "export_script", "Script", "Export script",
            "Write a standalone PyTorch script of the form's config"),
    Control("f3", "save_model", "Model", "Save model", "Save the last run's model.pt into its run folder"),
    Control("f7", "toggle_validation", "Points", "Show validation points",
            "Boundary view: draw the validation samples too (paler), or only the training samples"),
    Control("f8", "save_picture", "Picture", "Save picture",
            "Draw the current or last run's charts and picture into a PNG in its run folder "
            "(a comparison's: compare.png beside the run folders); never over a file"),
    Control(None, "show_tab('tab-charts')", "Charts", "Show charts", "The loss, accuracy and learning-rate charts"),
    Control(None, "show_tab('tab-log')", "Log", "Show log", "One line per epoch, and every message in full"),
    Control(None, "show_tab('tab-history')", "History", "Show history",
            "Every run, ticked runs' loss curves overlaid"),
    Control(None, "show_tab('tab-layers')", "Layers", "Show layers",
            "Gradient flow per layer: gradient and weight norms, update/weight ratio, dead ReLUs"),
    Control(None, "show_tab('tab-boundary')", "Boundary", "Show boundary",
            "2-D classification: the plane colored by the predicted class, the samples on top, live"),
    Control(None, "show_tab('tab-fit')", "Fit", "Show fit",
            "Regression on one input: the data and the model's curve (w and b for linear), live"),
    Control(None, "show_tab('tab-arena')", "Arena", "Show arena",
            "An arena task's function as a heatmap with each run's path (rosenbrock, rastrigin ...)"),
    Control(None, "show_tab('tab-network')", "Network", "Show network",
            "An MLP neuron by neuron, live: links colored by their weights' sign, each neuron's "
            "picture (2-D tasks) or mean value; arrows select, enter shows a neuron large"),
    Control("ctrl+q", "quit", "Quit", "Quit", "Stop any run (it stays on disk) and quit", footer=True),
)


def bindings() -> list[Binding]:
    """The app's key bindings: priority ones, so they work while typing in a field."""
    return [Binding(c.key, c.action, c.label, show=c.footer, priority=True, tooltip=c.help)
            for c in CONTROLS if c.key]


def palette_help(control: Control) -> str:
    """A control's help in the command palette, with its key."""
    return f"{control.help} ({control.key})" if control.key else control.help


class ControlsFooter(Footer):
    """The footer, rebuilt only when the keys it shows change. Textual's Footer rebuilds its keys
    at every change of the active bindings (each move of the focus between fields, a run starting
    or ending), and building them lays the screen out; a key only enabled or disabled is
    restyled in place (FooterKey keeps that state in ``_disabled``: Textual 8.2, pinned)."""

    shown: tuple = ()

    def bindings_changed(self, screen: Screen) -> None:
        palette = screen.app.COMMAND_PALETTE_BINDING
        shown = tuple((key, binding, enabled, tooltip)
                      for key, (_, binding, enabled, tooltip) in screen.active_bindings.items()
                      if binding.show or key == palette)
        if self._bindings_ready and (shown == self.shown or self._enable_in_place(shown)):
            self.shown = shown
            return
        if screen.app.app_focus and self.is_attached and screen is self.screen:
            self.shown = shown  # what the rebuild, asked for now, will show
        super().bindings_changed(screen)

    def _enable_in_place(self, shown: tuple) -> bool:
        """Enable or disable the keys already shown, when only that changed; False otherwise."""
        if [(key, binding, tooltip) for key, binding, _, tooltip in shown] != [
                (key, binding, tooltip) for key, binding, _, tooltip in self.shown]:
            return False
        keys = {key.action: key for key in self.query(FooterKey)}
        enabled = {binding.action: on for _, binding, on, _ in shown}
        if set(keys) != set(enabled):
            return False
        for action, key in keys.items():
            if key._disabled == enabled[action]:
                key._disabled = not enabled[action]
                key.set_class(key._disabled, "-disabled")
        return True
