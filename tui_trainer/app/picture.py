"""What a live picture's panel does for the app: the panel of a view (Boundary, Fit, Arena...)
shows a job's pictures through these methods, called by ``live.LiveRuns``; ``viewtabs`` says
which panel and tab each view has."""

from __future__ import annotations

from typing import TYPE_CHECKING

#: What a panel says while a run another process trains goes on (its picture comes at its end).
AT_ITS_END = "a watched run's picture comes at its end"

if TYPE_CHECKING:
    from tui_trainer.app.runs import Job, LiveRun
    from tui_trainer.engine.events import RunResult


class LivePicture:
    """A live picture's panel (mixed in before its widget class)."""

    def start(self, job: Job) -> None:
        """A new job of this picture's task (the panel was cleared): by default each run is asked
        for pictures of the panel's size before it starts, so a short run has a picture too."""
        for run in job.runs:
            self.show(job, run, shown=False)

    def show(self, job: Job, run: LiveRun, shown: bool, final: bool = False) -> None:
        """Show what the job's runs gained (``run``: the one pictured, in a comparison the run
        highlighted in the leaderboard), while ``shown`` (the tab is on screen) at the pace the
        drawing cost allows; ``final``: the job's last redraw, or the tab was just shown."""
        raise NotImplementedError

    def watching(self) -> None:
        """The job's runs are trained by another process, whose folder holds a run's picture only
        once the run ended (``view.json``): a panel whose picture comes from there says so. (The
        arena's paths come with each epoch.)"""

    def finish(self, job: Job, results: list[RunResult]) -> None:
        """The job ended (its runs' results, in its order)."""

    def clear(self) -> None:
        """Blank, for a new run."""
        raise NotImplementedError
