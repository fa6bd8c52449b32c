"""A job's life in the app, from its start to its end: the worker its source fills the feeds on,
and what shows them (the status, the numbers or a comparison's leaderboard, the charts, the
picture of its task, the Layers and System tabs, the log lines and the History entries). A job
another process trains (watched) shows the same way; its status says who trains it, its
machine's figures are that process's, and it ends as ``lost`` when its writer died.

One path for a run alone and a comparison: a run alone is a job of one. The feeds are read on
the app's redraw timer (TICKS_PER_SECOND; WATCHED_TICKS while a person watches the job: paced,
paused or stepping), never per message; the bridges post only what happens once (a run began, a
run failed), which the app routes here. The job's runs go at the pace the app chose for them
(``pacing``), changed with the keys as they go.
"""

from __future__ import annotations

import math
import time
from functools import partial
from typing import TYPE_CHECKING

from textual.timer import Timer
from textual.worker import get_current_worker

from tui_trainer.app.bridge import MessageBridge
from tui_trainer.app.feed import RunFeed
from tui_trainer.app.history import RunEntry
from tui_trainer.app.messages import RunBegan, RunErrored
from tui_trainer.app.pace import READOUTS_PER_SECOND, TICKS_PER_SECOND, WATCHED_TICKS
from tui_trainer.app.readouts import REASON_STATES, pace_text
from tui_trainer.app.runs import Job, LiveRun
from tui_trainer.app.system import SystemFile, device_text
from tui_trainer.app.viewtabs import VIEW_TABS, view_of_tab
from tui_trainer.app.watch import stop_hint, writer_text
from tui_trainer.config import Config
from tui_trainer.engine.control import Pace
from tui_trainer.engine.events import RunResult, RunStarted
from tui_trainer.errors import ConfigError, UserFacingError
from tui_trainer.formatting import duration, epoch_line, number, outcome, point_text, rate

if TYPE_CHECKING:
    from tui_trainer.app.app import TrainerApp
    from tui_trainer.engine.loop import Trainer


class LiveRuns:
    """The job going (``job``) and the last one that ended (``last_job``) on the app's panels;
    ``last_trainer`` is the engine's Trainer of the last run this process trained (f3 saves it)."""

    def __init__(self, app: TrainerApp) -> None:
        self.app = app
        self.job: Job | None = None
        self.last_job: Job | None = None
        self.last_trainer: Trainer | None = None
        self.timer: Timer | None = None
        self.watched = False  # whether the timer ticks at WATCHED_TICKS (a person watches the job)
        self.readout_at = -math.inf  # when the readouts were last shown
        self.system_file: SystemFile | None = None  # the samples of the job this process trains

    def mount(self) -> None:
        """Start the (paused) redraw timer."""
        self.timer = self.app.set_interval(1 / TICKS_PER_SECOND, self.redraw, pause=True)

    def _watch(self, job: Job | None) -> None:
        """Redraw WATCHED_TICKS a second, each view drawing every picture its watched budget
        allows, while a person watches ``job`` (paced, paused or stepping) or another process
        trains it (the drawing takes nothing from that run: at max pace its charts fell minutes
        behind its readouts); else TICKS_PER_SECOND, within the budgets that keep a run at max
        fast."""
        watched = job is not None and (job.watched or any(run.control.paused or not run.control.pace.is_max
                                                          for run in job.runs))
        if watched == self.watched:
            return
        self.watched = watched
        for budget in self._budgets():
            budget.watched = watched
        if self.timer is not None:
            self.timer.stop()
        self.timer = self.app.set_interval(1 / (WATCHED_TICKS if watched else TICKS_PER_SECOND), self.redraw,
                                           pause=self.job is None)

    def _budgets(self) -> list:
        app = self.app
        return [app.charts.pace, app.layers.pace,
                *(panel.pace for panel in app.views.values() if getattr(panel, "pace", None) is not None)]

    # -- start and end ------------------------------------------------------------------------------

    def start(self, job: Job) -> None:
        """Show the job from its first moment and start its worker."""
        app, config = self.app, job.config
        self.job = job
        score = config.task_spec.traits.score
        regression = score == "r2"
        self.show_leaderboard(job.compared)
        if job.compared:
            app.leaderboard.start([(run.number, run.run, run.feed) for run in job.runs], regression)
        app.readouts.clear("")
        app.readouts.status.note = job.lab_note  # on a line of its own: the run's status stays whole
        if not job.watched:  # (another process trains a watched job, at its own pace)
            pace = app.paces.of(config)
            for run in job.runs:
                run.control.set_pace(pace)
        building = "building data and models" if job.compared else "building data and model"
        if job.watched:
            building = "reading its folder" if not job.compared else "reading their folders"
        app.readouts.status.show("starting", f"{job.name}: "
                                 + (f"waiting for {app.loading} to load" if app.loading and not job.watched
                                    else building))
        app.charts.start([run.feed for run in job.runs], regression, [run.short_label for run in job.runs],
                         validated=config.training.val_split > 0, scored=score is not None)
        self._start_pictures(job)
        self.system_file = None
        app.system.clear()
        app.layers.clear()
        if job.compared:
            app.run_log.add(f"{job.name}: {config.summary()}, varying " + ", ".join(run.label for run in job.runs))
        else:
            app.run_log.add(f"{job.name}: {config.summary()}")
        job.worker = app.run_worker(partial(self._fill, job), name=job.name, group="runs", exclusive=True,
                                    thread=True, exit_on_error=False)
        self._watch(job)
        self.timer.resume()
        app.refresh_bindings()

    def _fill(self, job: Job) -> None:
        """The job's worker: its source fills the feeds (the bridges also stop the runs once
        Textual cancels the worker); the outcome is shown on the UI thread."""
        cancelled = get_current_worker().cancelled_event
        bridges = [MessageBridge(self.app, run.feed, cancelled, run.control) for run in job.runs]
        try:
            results = job.source.fill(job, bridges)
        except BaseException as error:  # noqa: BLE001 (a user loss may sys.exit; the job ends anyway)
            self.app.call_later(self._failed, job, error)
        else:
            self.app.call_later(self._ended, job, results)

    def _ended(self, job: Job, results: list[RunResult]) -> None:
        if job is not self.job:
            return
        app = self.app
        self.last_trainer = job.source.trainer or self.last_trainer
        for run, result in zip(job.runs, results):
            run.result = result
        self.redraw(final=True)
        self._end(job)
        self._show_outcomes(job)
        for run, result in zip(job.runs, results):
            app.run_log.add(*_ended_lines(run, result, job.compared))
        for view in job.config.views:
            app.views[view].finish(job, results)
        if job.compared:
            app.leaderboard.finish({run.number: result for run, result in zip(job.runs, results)})
        app.history.add([RunEntry.from_result(run.number, result) for run, result in zip(job.runs, results)],
                        ended=True)
        if job.compared:
            self._show_standings(job, results)
            return
        result = results[0]
        app.readouts.status.show(REASON_STATES[result.reason], f"{job.name} {result.message}")
        app.readouts.show_result(result)
        compared = app.history.selected
        if len(compared) > 1:
            app.run_log.add(f"History overlays {len(compared)} runs' loss curves: " + " vs ".join(app.history.labels()))

    def _show_standings(self, job: Job, results: list[RunResult]) -> None:
        """A comparison's end in the status: how it ended and the best run."""
        from tui_trainer.leaderboard import final_loss

        ranked = sorted((loss, run.number, run.label) for run, result in zip(job.runs, results)
                        if (loss := final_loss(result)) is not None)
        states = {REASON_STATES[result.reason] for result in results}
        state = ("finished" if states == {"finished"} else "lost" if "lost" in states
                 else "stopped" if "stopped" in states else "finished")
        best = (f"best {ranked[0][2]}, loss {number(ranked[0][0], 3)}" if ranked
                else "no run ended with a finite loss")
        self.app.readouts.status.show(state, f"{len(results)} runs · {best}")
        self.app.readouts.progress.clock = f"{duration(max(r.seconds for r in results))} · ended"

    def _failed(self, job: Job, error: BaseException) -> None:
        """The job could not start (its config refused) or its worker failed."""
        if job is not self.job:
            return
        app = self.app
        self._end(job)
        for panel in app.outcomes.values():
            panel.clear()
        name = f"run #{job.number}"
        if isinstance(error, ConfigError):
            app.form.show_problems(error.problems)
            app.readouts.status.show("invalid", f"{name} not started: {error.problems[0]}")
            for problem in error.problems:
                app.run_log.add(f"{name} not started: {problem}")
            return
        text = str(error) if isinstance(error, UserFacingError) else f"{type(error).__name__}: {error}"
        app.readouts.status.show("failed", f"{name}: {text}")
        app.readouts.show_message(f"{name} failed: {text}")
        app.run_log.add(f"{name} failed: {text}")

    def _end(self, job: Job) -> None:
        job.ended_at = time.monotonic()
        self.last_job, self.job = job, None
        # The form's task may have changed while it went; a watched run's picture stays offered
        # (it comes at the run's end) until the form changes.
        self.app.offer_views(job.config if job.watched else self.app.form.config)
        self.timer.pause()
        self._watch(None)
        self.app.refresh_bindings()

    def unwatch(self) -> bool:
        """Stop following the watched job (its runs go on where they run); False when no watched
        job goes."""
        job = self.job
        if job is None or not job.watched:
            return False
        if job.worker is not None:
            job.worker.cancel()
        self._end(job)
        self.app.run_log.add(f"stopped watching {job.name}; it goes on where it runs")
        return True

    def watched_notice(self) -> str:
        """Why the controls that act on a run do nothing to the watched job, and what does."""
        job = self.job
        info = job.first.feed.writer if job is not None else None
        return (f"{job.name if job else 'The run'} is trained by {writer_text(info)}: this app only reads "
                f"its folder and cannot stop, pause or change it. {stop_hint(info)}")

    # -- what the bridges post ------------------------------------------------------------------------

    def began(self, message: RunBegan) -> None:
        """A run of the job built everything and is about to take its first step."""
        job = self.job
        run = next((run for run in job.runs if run.feed is message.feed), None) if job else None
        if run is None:
            return
        if job.compared:
            self.app.leaderboard.set_state(run.number, "paused" if run.control.paused else "running")
        if job.paused:
            self.app.readouts.status.show("paused", held(job))
        else:
            self.app.readouts.status.show("running", job.name)
        self.app.run_log.add(_started_line(run, message.started, job.compared))
        if job.watched:
            self.app.run_log.add(f"{run.label}: watching {message.started.run_dir}, written by "
                                 f"{writer_text(run.feed.writer)} (this app only reads it)")
        elif message.started.run_dir is not None:
            self.app.own_folders.add(message.started.run_dir)
            if run is job.first:
                self.system_file = SystemFile(message.started.run_dir)

    def errored(self, message: RunErrored) -> None:
        """An exception stopped a run: its message and the end of its traceback in the log."""
        self.app.run_log.add(message.failure.message)
        self.app.run_log.add(*message.failure.traceback.rstrip().splitlines()[-3:])

    # -- showing the feeds ----------------------------------------------------------------------------

    def redraw(self, final: bool = False) -> None:
        """Show what the feeds gained: TICKS_PER_SECOND times a second (the live views draw when
        their pace allows), and at the job's end (``final``)."""
        job = self.job
        if job is None:
            return
        app = self.app
        self._watch(job)
        self._readouts(job, final)
        app.charts.update(final)
        pictured = self.pictured(job)
        for view in job.config.views:
            app.views[view].show(job, pictured, app.tabs.active == VIEW_TABS[view].tab, final)
        for run in job.runs:
            self._log(job, run)

    def _readouts(self, job: Job, final: bool) -> None:
        """The numbers (or the leaderboard), the progress line, the Layers and System tabs and a
        watched job's status: at every
        tick, but at most READOUTS_PER_SECOND while watched (text nobody reads 30 times a second,
        and UI time a paced run would wait for)."""
        now = time.monotonic()
        if not final and now - self.readout_at < 1 / READOUTS_PER_SECOND:
            return
        self.readout_at = now
        app = self.app
        pace = job.control.pace
        if job.compared:
            for run in job.runs:  # a run that ended says so at once (``stopping`` no more)
                if run.ended is not None and run.result is None:
                    app.leaderboard.set_state(run.number, _ending(run.ended))
            app.readouts.progress.fraction = race_fraction(job.runs)
            elapsed = max(run.feed.elapsed for run in job.runs)
            app.readouts.progress.clock = f"{duration(elapsed)} · {pace_text(pace)}"
            app.leaderboard.show()
            app.charts.highlight(self.pictured(job).short_label)  # the run picked in the leaderboard on top
        else:
            feed = job.feed
            app.readouts.show_feed(feed, device_text(feed) if job.watched else _resources(feed), pace)
            measured = next((m for m in reversed(feed.epochs) if m.layers), None)
            if measured is not None:
                app.layers.show(measured.epoch, measured.layers, final)
        if job.watched and not final:
            self._show_writer(job)
        if self.system_file is not None:
            self.system_file.read_into(job.first.feed)
        app.system.show(job.first.feed, final)

    def _show_writer(self, job: Job) -> None:
        """A watched job's status: who trains it, and what its follower says of its writer (quiet
        for a while, suspended)."""
        feed = job.first.feed
        if feed.started is None or self.app.readouts.status.state not in ("starting", "running"):
            return
        reason = feed.liveness.reason if feed.liveness is not None else ""
        self.app.readouts.status.show("running", f"{job.name} · watching {writer_text(feed.writer)}"
                                      + (f" · {reason}" if reason else ""))

    def _log(self, job: Job, run: LiveRun) -> None:
        """The run's epochs and mid-run changes the log has not taken yet."""
        feed, epochs = run.feed, run.config.training.epochs
        prefix = f"#{run.number} " if job.compared else ""
        self.app.run_log.add(*[prefix + epoch_line(m, epochs, compact=True) for m in feed.epochs[run.logged_epochs:]])
        run.logged_epochs = len(feed.epochs)
        made = feed.changes[run.logged_changes:]
        self.app.run_log.add(*[f"{run.label}: changed at epoch {x:.2f}: {what}" for x, what in made])
        run.logged_changes += len(made)

    def pictured(self, job: Job) -> LiveRun:
        """The run whose picture the panels show: the job's, or in a comparison the run
        highlighted in the leaderboard (the first until one is)."""
        if not job.compared:
            return job.first
        return job.run_numbered(self.app.leaderboard.selected_number) or job.first

    def highlighted(self) -> None:
        """Another run of the comparison highlighted: its picture shows (as the job goes, at the
        next redraw; once it ended, at once), and once it ended its outcome."""
        job = self.job or self.last_job
        if job is None or not job.compared:
            return
        if self.job is None:
            for view in job.config.views:
                self.app.views[view].show(job, self.pictured(job), self.app.tabs.active == VIEW_TABS[view].tab,
                                          final=True)
            self._show_outcomes(job)

    def _show_outcomes(self, job: Job) -> None:
        """The ended job's outcome (the pictured run's) in the Confusion and Mistakes tabs."""
        run = self.pictured(job)
        for panel in self.app.outcomes.values():
            panel.show(job, run)

    def tab_shown(self, tab: str) -> None:
        """A picture's tab shown: its job's newest picture at once (a job that ended too)."""
        view = view_of_tab(tab)
        job = self.job or self.last_job
        if view is not None and job is not None and view in job.config.views:
            self.app.views[view].show(job, self.pictured(job), True, final=True)

    def _start_pictures(self, job: Job) -> None:
        """Blank pictures, the job's own picture started, and its tab offered."""
        for panel in self.app.views.values():
            panel.clear()
        for panel in self.app.outcomes.values():
            panel.start(job)
        for view in job.config.views:
            self.app.views[view].start(job)
            if job.watched:
                self.app.views[view].watching()
        self.app.offer_views(job.config)

    def clear(self, config: Config | None) -> None:
        """Blank readouts, charts and pictures for the next run of ``config`` (the form's, None
        when it is invalid); the status says what no run going says."""
        app = self.app
        app.show_idle()
        app.readouts.clear()
        score = config.task_spec.traits.score if config else "r2"
        app.charts.start([RunFeed(0)], regression=bool(config) and score == "r2", scored=score is not None)
        for panel in [*app.views.values(), *app.outcomes.values(), app.layers]:
            panel.clear()
        app.offer_views(config)

    def show_leaderboard(self, shown: bool) -> None:
        """The leaderboard in place of the numbers of a run alone (compare mode), or not."""
        app = self.app
        if app.leaderboard.display != shown:  # setting it lays the screen out, even unchanged
            app.leaderboard.display = shown
            app.readouts.numbers.display = not shown

    # -- controls: every run of the job -----------------------------------------------------------------

    def stop(self) -> None:
        """Stop every run after its current step; their history stays on disk."""
        if self.job is not None:
            self.job.stop("stopped")
            self.app.readouts.status.show("stopping", self.job.name)

    def pause(self) -> None:
        """Pause every run before its next step, or let paused runs go on."""
        job = self.job
        if job is None:
            return
        if job.paused:
            job.resume()
            self.app.readouts.status.show("running", job.name)
        else:
            job.pause()
            self.app.readouts.status.show("paused", held(job))
        self._watch(job)

    def step(self, unit: str) -> None:
        """Every run trains one more epoch or batch, then waits."""
        job = self.job
        if job is not None:
            job.step(unit)
            self._watch(job)
            self.app.readouts.status.show("paused", held(job, unit))

    def set_pace(self, pace: Pace) -> None:
        """Every run goes at ``pace`` from now on."""
        if self.job is not None:
            self.job.set_pace(pace)
            self._watch(self.job)

    def stop_one(self) -> bool:
        """Stop the run highlighted in the leaderboard (False: no comparison goes)."""
        job = self.job
        run = job.run_numbered(self.app.leaderboard.selected_number) if job is not None and job.compared else None
        if run is None:
            return False
        run.control.stop("stopped")
        self.app.leaderboard.set_state(run.number, "stopping")
        self.app.leaderboard.show()
        return True

    def change(self, config: Config) -> None:
        """A run alone takes the form's changed learning rate, momentum, betas, weight decay or
        number of epochs from its next step on."""
        job = self.job
        for key, value in job.change(config) if job is not None else []:
            self.app.run_log.add(f"run #{job.number}: {key} = {value} from its next step on")

    def quitting(self) -> None:
        """The app quits once the job's runs have ended: they stop as interrupted after their
        current step, without the final pass over the data (a big model's slowest part)."""
        job = self.job
        if job is not None:
            job.stop("interrupted", final_pass=False)
            self.app.readouts.status.show("stopping", f"{job.name}: saving, then quitting")
            self.app.run_log.add(f"{job.name} stops after its current step; the app quits once its "
                                 "summary is written (ctrl+q again quits at once)")

    def interrupt(self) -> None:
        """Stop the job's runs as interrupted and drop their worker (the app quits now)."""
        if self.job is not None:
            self.job.stop("interrupted", final_pass=False)
            if self.job.worker is not None:
                self.job.worker.cancel()


def race_fraction(runs: list[LiveRun]) -> float | None:
    """How far a comparison's runs are: the share of their steps done by the runs with an end (a
    run until stopped has none: its steps are not counted); None when no run has one. A run that
    ended finished (completed, early-stopped, reached its target) counts as all its steps, one
    that ended otherwise (stopped by hand, diverged) as the steps it trained: once the race ended
    it reads 100% unless a run was cut short."""
    done = total = 0
    for run in runs:
        feed, result = run.feed, run.ended
        end = feed.started.total_steps if feed.started is not None else None
        if not end:
            continue
        trained = max(feed.global_step, result.history[-1].global_step if result and result.history else 0)
        total += end
        done += end if result is not None and REASON_STATES[result.reason] == "finished" else min(trained, end)
    return done / total if total else None


def held(job: Job, unit: str | None = None) -> str:
    """What the status says of a job paused (after a step of ``unit``): the keys that go on."""
    did = {"epoch": " took a step of one epoch", "batch": " took a step of one batch"}.get(unit, "")
    return f"{job.name}{did} · ctrl+e epoch, ctrl+y batch, ctrl+g resume"


def _started_line(run: LiveRun, s: RunStarted, compared: bool) -> str:
    folder = f", folder {s.run_dir}" if s.run_dir else ""
    if compared:
        return f"{run.label} started: {s.param_count:,} parameters{folder}"
    return (f"{run.label} started on {s.device_name} ({s.threads} thread(s)): {s.param_count:,} "
            f"parameters, {s.train_size} train / {s.val_size} validation"
            + (f" / {s.test_size} test" if s.test_size else "") + " samples, "
            f"{s.steps_per_epoch} step(s) per epoch{folder}"
            + (f"; {s.config.task_spec.note}" if s.config.task_spec.note else ""))


def _ended_lines(run: LiveRun, result: RunResult, compared: bool) -> list[str]:
    ended = f"{run.label} {outcome(result.reason, result.message)}"  # said once, not "completed: completed"
    if compared:
        lines = [ended]
    else:
        lines = [f"{ended} · {result.epochs_run} epoch(s) in {duration(result.seconds)}, "
                 f"{rate(result.samples_per_second)} samples/s"]
    if result.point:
        lines.append(f"{run.label} point {point_text(result.point)}")
    p = result.parameters
    if p and not compared:
        lines.append(f"learned w = {number(p['weight'], 5)}, b = {number(p['bias'], 5)} "
                     f"(true w = {number(p['true_weight'])}, b = {number(p['true_bias'])})")
    return lines


def _ending(result: RunResult) -> str:
    from tui_trainer.leaderboard import ending

    return ending(result)


def _resources(feed: RunFeed) -> str:
    """The run's device now: GPU memory (and NVML's load and temperature), or CPU threads and the
    process's memory ("" before the run started)."""
    if feed.started is None:
        return ""
    from tui_trainer.engine.resources import sample  # torch is loaded once a run started

    return sample(feed.started.device, feed.started.threads).describe()
