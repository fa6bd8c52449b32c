"""The live pictures a task's runs can have (its ``view``), torch-free: what each shows, the loss
heads whose output it can draw, and the engine hook that makes it (``module:function`` taking
the Trainer, named here so the catalog imports no torch). The app has a tab and a panel for each
view (``app.viewtabs``) and ``export-plot`` a drawer (``export.plot.DRAWERS``); a test checks that
every view has both. A new view is one entry here, its hook, its panel and its drawer."""

from __future__ import annotations

from dataclasses import dataclass

#: The heads of a classifier's output (class scores of some form).
CLASS_HEADS = ("logits", "log-probs", "probability", "logit")


@dataclass(frozen=True)
class ViewSpec:
    """A live picture. ``hook`` makes the engine hook of a run that has it, kept among the loop's
    rules as ``rule`` (its state's name in checkpoints). With ``frames`` the hook hands the app
    pictures through the run's ViewRequest and leaves its last one in the run folder; without,
    the picture is drawn from what the runs report (the arena's paths)."""

    name: str
    shows: str
    heads: tuple[str, ...]
    hook: str
    rule: str
    frames: bool = True


VIEWS: dict[str, ViewSpec] = {
    view.name: view
    for view in (
        ViewSpec("boundary", "a classifier of 2-D points: the plane colored by the predicted class",
                 CLASS_HEADS, "tui_trainer.engine.views:model_view", "view"),
        ViewSpec("fit", "a regression on one input: the data and the model's curve", ("value",),
                 "tui_trainer.engine.views:model_view", "view"),
        ViewSpec("arena", "a point on a 2-D function: the function with each run's path", ("surface",),
                 "tui_trainer.engine.arena:arena_path", "path", frames=False),
    )
}
