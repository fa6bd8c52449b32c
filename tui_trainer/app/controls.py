"""Every control of the app in one table: its key, what it does, its word in the footer and its
title in the command palette. The app's bindings and palette commands are both made from it."""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer

from tui_trainer.fences.textual import (
    FooterKey, footer_bindings_ready, footer_key_disabled, set_footer_key_disabled,
)


@dataclass(frozen=True)
class Control:
    """One control: ``key`` runs ``action`` (an app action, with arguments as Textual writes
    them); ``label`` is its word in the footer (shown there when ``footer``), ``title`` and
    ``help`` its entry in the command palette and the keys panel. ``acts_on_run``: it acts on the
    run going (stop, pause...), which a run another process trains does not let it do."""

    key: str | None
    action: str
    label: str
    title: str
    help: str
    footer: bool = False
    acts_on_run: bool = False


#: In footer order; those with ``footer`` fit in 80 columns, f1 lists the rest.
CONTROLS = (
    Control("ctrl+r", "run", "Run", "Run", "Start training with the form's settings", footer=True),
    Control("ctrl+t", "stop", "Stop", "Stop run", "Stop the run after its current step", footer=True,
            acts_on_run=True),
    Control("ctrl+g", "pause", "Pause", "Pause / resume run", "Pause before the next step, or go on",
            footer=True, acts_on_run=True),
    Control("ctrl+e", "step('epoch')", "Step", "Step one epoch",
            "Train exactly one epoch, then pause (every run of a comparison); with no run going, "
            "start one that pauses after its first epoch", acts_on_run=True),
    Control("ctrl+y", "step('batch')", "Batch", "Step one batch",
            "Train exactly one optimizer step (one batch), then pause; with no run going, start one "
            "that pauses after its first step", acts_on_run=True),
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
            "Show Charts, Log, History, Layers, System, the task's picture (Boundary, Fit, Arena), "
            "Network, and its Model, Confusion and Mistakes in turn"),
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
            "Stop the run highlighted in the comparison's leaderboard; the others go on", acts_on_run=True),
    Control("ctrl+n", "new_run", "New", "New run",
            "Clear the live panels (stop watching a run another process trains); the history stays"),
    Control("ctrl+s", "save_config", "Save", "Save config", "Save the form as a TOML file"),
    Control("ctrl+o", "load_config", "Load", "Load config", "Fill the form from a TOML file"),
    Control("f2", "export_script", "Script", "Export script",
            "Write a standalone PyTorch script of the form's config"),
    Control("f3", "save_model", "Model", "Save model", "Save the last run's model.pt into its run folder"),
    Control("f9", "explain_field", "Help", "Explain field",
            "Show the focused field's whole help: what it does, its torch keyword, what it takes "
            "(a lab mistake: what goes wrong, what to watch, the fix)"),
    Control("f7", "toggle_validation", "Points", "Show validation points",
            "Boundary view: draw the validation samples too (paler), or only the training samples; "
            "Confusion and Mistakes tabs: the test set's, or the validation set's"),
    Control("pagedown", "page(1)", "Next", "Next mistakes", "Mistakes tab: the next page of misclassified samples"),
    Control("pageup", "page(-1)", "Previous", "Previous mistakes",
            "Mistakes tab: the previous page of misclassified samples"),
    Control("f8", "save_picture", "Picture", "Save picture",
            "Draw the current or last run's charts and picture into a PNG in its run folder "
            "(a comparison's: compare.png beside the run folders); never over a file"),
    Control(None, "show_tab('tab-charts')", "Charts", "Show charts", "The loss, accuracy and learning-rate charts"),
    Control(None, "show_tab('tab-log')", "Log", "Show log", "One line per epoch, and every message in full"),
    Control(None, "show_tab('tab-history')", "History", "Show history",
            "Every run, ticked runs' loss curves overlaid"),
    Control(None, "show_tab('tab-layers')", "Layers", "Show layers",
            "Gradient flow per layer: gradient and weight norms, update/weight ratio, dead ReLUs"),
    Control(None, "show_tab('tab-system')", "System", "Show system",
            "The machine beside the run: the process's CPU and memory, each GPU's load, memory and temperature"),
    Control(None, "show_tab('tab-boundary')", "Boundary", "Show boundary",
            "2-D classification: the plane colored by the predicted class, the samples on top, live"),
    Control(None, "show_tab('tab-fit')", "Fit", "Show fit",
            "Regression on one input: the data and the model's curve (w and b for linear), live"),
    Control(None, "show_tab('tab-arena')", "Arena", "Show arena",
            "An arena task's function as a heatmap with each run's path (rosenbrock, rastrigin ...)"),
    Control(None, "show_tab('tab-network')", "Network", "Show network",
            "An MLP neuron by neuron, live: links colored by their weights' sign, each neuron's "
            "picture (2-D tasks) or mean value; arrows select, enter shows a neuron large"),
    Control(None, "show_tab('tab-model')", "Model", "Show model",
            "The form's model layer by layer: type, output shape, parameters (as Keras' summary)"),
    Control(None, "show_tab('tab-confusion')", "Confusion", "Show confusion matrix",
            "Classification: the confusion matrix of the run that ended, validation or test set (f7)"),
    Control(None, "show_tab('tab-mistakes')", "Mistakes", "Show mistakes",
            "Classification: the misclassified samples of the run that ended, a page at a time (pgdn, pgup)"),
    *(Control(None, f"focus_section('{name}')", title, f"Form: {title}",
              f"Move the focus to the form's {title} section ({what})")
      for name, title, what in (("task", "Task", "the task and its data"),
                                ("model", "Model", "the kind (mlp, cnn, your own file) and its settings"),
                                ("loss", "Loss", "the loss function"),
                                ("optimizer", "Optimizer", "the optimizer and its hyperparameters"),
                                ("scheduler", "Scheduler", "the learning-rate schedule"),
                                ("training", "Training", "epochs, batch size, validation split, seed"),
                                ("device", "Device", "CPU or GPU, threads"),
                                ("lab", "Lab", "the mistakes made on purpose"),
                                ("logging", "Logging", "TensorBoard event files beside the run folder"))),
    Control("ctrl+q", "quit", "Quit", "Quit", "Stop any run (it stays on disk) and quit", footer=True),
)


#: The actions that act on the run going (a watched run's are disabled, saying why).
RUN_ACTIONS = frozenset(control.action for control in CONTROLS if control.acts_on_run)


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
    restyled in place (``fences.textual``)."""

    shown: tuple = ()

    def bindings_changed(self, screen: Screen) -> None:
        palette = screen.app.COMMAND_PALETTE_BINDING
        shown = tuple((key, binding, enabled, tooltip)
                      for key, (_, binding, enabled, tooltip) in screen.active_bindings.items()
                      if binding.show or key == palette)
        if footer_bindings_ready(self) and (shown == self.shown or self._enable_in_place(shown)):
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
            if footer_key_disabled(key) == enabled[action]:
                set_footer_key_disabled(key, not enabled[action])
        return True
