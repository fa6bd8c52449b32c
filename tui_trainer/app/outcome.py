"""What a panel showing how a run ended does for the app (the Confusion and Mistakes tabs): it
shows the ended run's result, in a comparison the run highlighted in the leaderboard, and says
"after the run" while one goes. ``resulttabs`` says which panel and tab each has."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.content import Content

if TYPE_CHECKING:
    from tui_trainer.app.runs import Job, LiveRun

#: The splits a run's result holds matrices and mistakes of, and their words on screen.
SPLITS = {"val": "validation", "test": "test"}


class OutcomePanel:
    """A panel of a run's outcome (mixed in before its widget class). ``split`` is the split it
    shows (f7 switches it, ``switch_split``)."""

    split = "val"

    def start(self, job: Job) -> None:
        """A new job began: blank, saying what shows once its runs end."""
        raise NotImplementedError

    def show(self, job: Job, run: LiveRun) -> None:
        """Show ``run``'s outcome (the run alone, or the comparison's highlighted run)."""
        raise NotImplementedError

    def clear(self) -> None:
        """Blank, for a new run."""
        raise NotImplementedError

    def switch_split(self) -> str:
        """Show the other split (validation, test); returns the split shown now."""
        self.split = "test" if self.split == "val" else "val"
        self.redraw()
        return self.split

    def redraw(self) -> None:
        """Show what it holds again (the split or the size changed)."""
        raise NotImplementedError


def fitting(variants: list[Content], width: int) -> Content:
    """The first of ``variants`` (longest first) that fits ``width`` cells, else the last."""
    return next((content for content in variants if content.cell_length <= width), variants[-1])


def ending_words(run: LiveRun, what: str) -> str | None:
    """Why ``run`` has no ``what`` (``confusion matrix``), or None when its result may have one:
    it is still going, it diverged or failed, or its loss gives no class scores."""
    result = run.result
    if result is None:
        return f"the {what} shows once {run.label} ends"
    if result.reason == "diverged":
        return f"{run.label} diverged: no {what} of a model that gives NaN or infinite outputs"
    if result.reason == "failed":
        return f"{run.label} failed: no {what}"
    if not result.confusion:
        if result.final.val_loss is None and result.final.test_loss is None:
            return f"{run.label} has no validation or test set (training.val_split is 0): no {what}"
        return (f"{run.label}'s loss ({result.config.loss.name}) gives no class scores of the task's "
                f"classes: no {what}")
    return None


def split_words(run: LiveRun, split: str) -> str | None:
    """Why ``run``'s result has no ``split`` (``test``) while it has the other, or None."""
    result = run.result
    if result is None or split in result.confusion:
        return None
    if split == "test":
        from tui_trainer.engine.evaluation import no_test_hint  # torch is in: a run ended

        return f"{run.label} has no test set ({no_test_hint(result.config)}); f7 shows validation"
    return f"{run.label} has no validation set (training.val_split is 0); f7 shows the test set"
