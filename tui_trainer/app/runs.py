"""The runs the app shows, started together as a ``Job`` (one run is a job of one, a comparison
a job of several), and what fills their feeds.

Each ``LiveRun`` has a ``RunFeed``. A ``FeedSource`` fills the feeds on the job's worker thread,
giving each run's engine events to a ``MessageBridge`` over its feed: ``Training`` trains the runs
in this process; a source that follows run folders another process writes would give the bridges
the same events, read from the folders' files (``watch.Following``). What shows the feeds
(``live.LiveRuns``) does not know which source fills them; it asks only whether the runs are
``watched`` (another process trains them: the controls cannot act on them). A run's
``RunControl`` is its handle: stop, pause, mid-run changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from tui_trainer.app.bridge import MessageBridge
from tui_trainer.app.feed import RunFeed
from tui_trainer.app.mistakes import gather
from tui_trainer.catalog.lab import MISTAKES, on_purpose
from tui_trainer.catalog.views import VIEWS
from tui_trainer.compare import PlannedRun, describe_assignments
from tui_trainer.config import Config
from tui_trainer.engine.control import Pace, RunControl, ViewRequest

if TYPE_CHECKING:
    from textual.worker import Worker

    from tui_trainer.engine.events import RunResult
    from tui_trainer.engine.loop import Trainer


@dataclass
class LiveRun:
    """One run the app shows: its plan (its config and, in a comparison, what it varies), its
    number in the session, its feed and control, the requests for its live pictures by view (each
    of its config's ``views`` whose picture the run makes, see ``catalog.views``), how much of its
    feed the log has taken, and once it ended its result."""

    run: PlannedRun
    number: int
    feed: RunFeed
    control: RunControl = field(default_factory=RunControl)
    requests: dict[str, ViewRequest] = field(default_factory=dict)
    logged_epochs: int = 0
    logged_changes: int = 0
    result: RunResult | None = None

    @classmethod
    def of(cls, number: int, run: PlannedRun) -> LiveRun:
        """A new run numbered ``number``, asking for the pictures its views make."""
        requests = {name: ViewRequest() for name in run.config.views if VIEWS[name].frames}
        return cls(run, number, RunFeed(number), requests=requests)

    def request(self, view: str | None) -> ViewRequest | None:
        """The request for the picture of ``view`` (None: the run makes none)."""
        return self.requests.get(view) if view else None

    @property
    def ended(self) -> RunResult | None:
        """How the run ended: as soon as its feed says so (a race's other runs may go on), or
        once its job ended; None while it goes."""
        return self.result or self.feed.result

    @property
    def config(self) -> Config:
        """What the run trains."""
        return self.run.config

    @property
    def label(self) -> str:
        """``#4 optimizer=adam`` in a comparison (what the run varies), else ``run #4``."""
        if not self.run.assignments:
            return f"run #{self.number}"
        return f"#{self.number} {describe_assignments(self.run.assignments)}"

    @property
    def short_label(self) -> str:
        """``#4 adam`` when one field varies (a chart's legend), ``#4`` for a run alone, else the
        label."""
        if not self.run.assignments:
            return f"#{self.number}"
        if len(self.run.assignments) == 1:
            return f"#{self.number} {describe_assignments(self.run.assignments).partition('=')[2]}"
        return self.label


class FeedSource(Protocol):
    """What fills a job's feeds, on the job's worker thread: it gives each run's events to its
    bridge (``bridges`` in the job's run order), then each run's misclassified samples to its
    feed (``feed.examples``), and returns the runs' results once all ended; it raises ConfigError
    or UserFacingError when they cannot start. ``trainer`` is the engine's Trainer of the job's
    last run when this process trained it (f3 saves its model); ``watched``: another process
    trains the runs (the app only shows them)."""

    trainer: Trainer | None
    watched: bool

    def fill(self, job: Job, bridges: list[MessageBridge]) -> list[RunResult]: ...


@dataclass
class Training:
    """Fills a job's feeds by training its runs here, beside the UI: what torch refuses is
    checked first, then one engine Trainer per run (its bridge its only callback); several runs
    race in the worker's thread, taking turns (``engine.race``)."""

    runs_dir: Path
    report_interval: float
    trainer: Trainer | None = None
    watched = False

    def fill(self, job: Job, bridges: list[MessageBridge]) -> list[RunResult]:
        from tui_trainer.engine.checks import check_runs
        from tui_trainer.engine.loop import Trainer
        from tui_trainer.engine.race import race

        check_runs([(run.config, run.label if job.compared else None) for run in job.runs])
        trainers = [Trainer(run.config, [bridge], run.control, self.runs_dir, self.report_interval,
                            beside_ui=True, **{VIEWS[view].request: request for view, request in run.requests.items()})
                    for run, bridge in zip(job.runs, bridges)]
        results = race(trainers) if job.compared else [trainers[0].run()]
        self.trainer = trainers[-1]
        for run, trainer, result in zip(job.runs, trainers, results):
            if result.mistakes:
                run.feed.examples = gather(trainer.data, run.config, result.mistakes)
        return results


@dataclass
class Job:
    """The runs started together, the source that fills their feeds and the worker it runs on.
    The controls act on every run of the job (``stop_run``: one of a comparison)."""

    runs: list[LiveRun]
    source: FeedSource
    worker: Worker | None = None
    sent: dict[str, Any] = field(default_factory=dict)  # mid-run changes sent to a run alone
    ended_at: float | None = None  # time.monotonic() when the app ended it (None while it goes)

    @classmethod
    def single(cls, number: int, config: Config, source: FeedSource) -> Job:
        """One run of ``config``, numbered ``number``."""
        return cls([LiveRun.of(number, PlannedRun(number, (), config))], source)

    @classmethod
    def comparison(cls, first: int, runs: list[PlannedRun], source: FeedSource) -> Job:
        """A comparison's runs, numbered from ``first``."""
        return cls([LiveRun.of(first + i, run) for i, run in enumerate(runs)], source)

    @property
    def compared(self) -> bool:
        """Whether the job races several runs (a comparison)."""
        return len(self.runs) > 1

    @property
    def race(self) -> list[LiveRun]:
        """The runs of a comparison (empty for a run alone)."""
        return self.runs if self.compared else []

    @property
    def first(self) -> LiveRun:
        """The job's first run (its only one, unless a comparison)."""
        return self.runs[0]

    @property
    def number(self) -> int:
        """The first run's number."""
        return self.first.number

    @property
    def config(self) -> Config:
        """The first run's config (a comparison's runs share their task)."""
        return self.first.config

    @property
    def feed(self) -> RunFeed:
        """The first run's feed."""
        return self.first.feed

    @property
    def control(self) -> RunControl:
        """The first run's control."""
        return self.first.control

    @property
    def name(self) -> str:
        """``run #4``, or ``race of runs #4-#6``."""
        if self.compared:
            return f"race of runs #{self.runs[0].number}-#{self.runs[-1].number}"
        return f"run #{self.number}"

    @property
    def lab_note(self) -> str:
        """The lab mistakes the job's runs make on purpose, in words ("" for none)."""
        made = {name for run in self.runs for name in run.config.mistakes}
        return on_purpose([name for name in MISTAKES if name in made])

    @property
    def watched(self) -> bool:
        """Whether another process trains the job's runs (the app follows their folders; the
        controls that act on a run cannot reach them)."""
        return self.source.watched

    @property
    def paused(self) -> bool:
        """Whether the job's runs are asked to wait."""
        return self.control.paused

    def stop(self, reason: str = "stopped", final_pass: bool = True) -> None:
        """Ask every run to stop after its current step (``reason``: stopped or interrupted;
        without ``final_pass``, no final pass over the data: see RunControl.stop)."""
        for run in self.runs:
            run.control.stop(reason, final_pass)

    def pause(self) -> None:
        """Ask every run to wait before its next step."""
        for run in self.runs:
            run.control.pause()

    def resume(self) -> None:
        """Let every paused run go on."""
        for run in self.runs:
            run.control.resume()

    def step(self, unit: str) -> None:
        """Every run trains one more ``epoch`` (up to its next epoch end) or ``batch``, then waits."""
        for run in self.runs:
            run.control.step(unit)

    def set_pace(self, pace: Pace) -> None:
        """Every run goes at ``pace`` from now on."""
        for run in self.runs:
            run.control.set_pace(pace)

    def run_numbered(self, number: int | None) -> LiveRun | None:
        """The job's run numbered ``number`` (None when it has none)."""
        return next((run for run in self.runs if run.number == number), None)

    def change(self, config: Config) -> list[tuple[str, Any]]:
        """Send a run alone the changeable fields where ``config`` differs from what it uses
        (none when the optimizer differs, for a comparison, or for a run another process trains);
        returns the (field, value) sent."""
        from tui_trainer.changes import changeable

        using = self.config
        if self.compared or self.watched or config.optimizer.name != using.optimizer.name:
            return []
        sent = []
        for key in changeable(using):
            name = key.partition(".")[2]
            epochs = key == "training.epochs"
            value = config.training.epochs if epochs else config.optimizer.params.get(name)
            now = self.sent.get(key, using.training.epochs if epochs else using.optimizer.params.get(name))
            if value is not None and value != now:
                self.control.change(key, value)
                self.sent[key] = value
                sent.append((key, value))
        return sent
