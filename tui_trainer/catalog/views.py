"""The live pictures a run can have, torch-free: its task's (``view``) and, for an MLP, its
network drawn neuron by neuron (a config's ``views`` lists them). For each: what it shows, the
loss heads whose output it can draw, the engine hook that makes it (``module:function`` taking
the Trainer, named here so the catalog imports no torch), the Trainer's keyword that takes its
picture request, and the pace the app starts its runs at so a person can watch them. The app has
a tab and a panel for each view (``app.viewtabs``) and ``export-plot`` a drawer
(``export.plot.DRAWERS``); a test checks that every view has both. A new view is one entry here,
its hook, its panel and its drawer."""

from __future__ import annotations

from dataclasses import dataclass

#: The heads of a classifier's output (class scores of some form).
CLASS_HEADS = ("logits", "log-probs", "probability", "logit")


@dataclass(frozen=True)
class ViewSpec:
    """A live picture. ``hook`` makes the engine hook of a run that has it (or None when it has
    nothing to do), kept among the loop's rules as ``rule`` (its state's name in checkpoints).
    With ``frames`` the hook hands the app pictures through the run's ViewRequest (the Trainer's
    keyword ``request``); without, the picture is drawn from what the runs report (the arena's
    paths). ``pace`` is how fast the app starts a run with this picture: (per second, ``epoch``
    or ``step``), so that the eye can follow it (None: as fast as it trains); with
    ``pace_on_plane`` only for a task on 2-D points (the network's neuron pictures)."""

    name: str
    shows: str
    heads: tuple[str, ...]
    hook: str
    rule: str
    frames: bool = True
    request: str = "view"
    pace: tuple[float, str] | None = None
    pace_on_plane: bool = False


VIEWS: dict[str, ViewSpec] = {
    view.name: view
    for view in (
        ViewSpec("boundary", "a classifier of 2-D points: the plane colored by the predicted class",
                 CLASS_HEADS, "tui_trainer.engine.views:model_view", "view", pace=(5, "epoch")),
        ViewSpec("fit", "a regression on one input: the data and the model's curve", ("value",),
                 "tui_trainer.engine.views:model_view", "view", pace=(60, "epoch")),
        ViewSpec("arena", "a point on a 2-D function: the function with each run's path", ("surface",),
                 "tui_trainer.engine.arena:arena_path", "path", frames=False, pace=(100, "step")),
        ViewSpec("network", "an MLP neuron by neuron: its links' weights, and each neuron's picture "
                 "over the plane (2-D tasks) or its mean value", (*CLASS_HEADS, "value"),
                 "tui_trainer.engine.views:network_view", "network", request="network",
                 pace=(5, "epoch"), pace_on_plane=True),
    )
}
