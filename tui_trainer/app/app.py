"""The Textual app: the config form on the left; status, readouts, charts, log and run history on
the right; controls in the Footer and the command palette. Training runs in a thread worker."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from textual import events
from textual.app import App, ComposeResult, SystemCommand
from textual.containers import Horizontal, Vertical
from textual.dom import DOMNode
from textual.lazy import Lazy
from textual.reactive import reactive
from textual.screen import ModalScreen, Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import TabbedContent, TabPane
from textual.worker import Worker, WorkerState, get_current_worker

from tui_trainer.app.arena import ArenaView
from tui_trainer.app.bridge import MessageBridge
from tui_trainer.app.charts import LiveCharts
from tui_trainer.app.compare import CompareDialog, Leaderboard
from tui_trainer.app.controls import CONTROLS, ControlsFooter, bindings, palette_help
from tui_trainer.app.dialogs import PathDialog
from tui_trainer.app.feed import RunFeed
from tui_trainer.app.form import ConfigForm
from tui_trainer.formatting import duration, epoch_line, number, point_text, rate
from tui_trainer.app.history import HistoryPanel, RunEntry
from tui_trainer.app.instruments import LayerPanel, LrFindDialog
from tui_trainer.app.messages import RunBegan, RunErrored
from tui_trainer.app.pace import TICKS_PER_SECOND
from tui_trainer.app.readouts import IDLE, REASON_STATES, Readouts
from tui_trainer.app.warmup import warm_engine
from tui_trainer.app.runlog import RunLog
from tui_trainer.app.views import BoundaryPanel, FitPanel
from tui_trainer.compare import PlannedRun, describe_assignments
from tui_trainer.catalog.arena import ARENA_KIND
from tui_trainer.catalog.losses import user_loss_parts
from tui_trainer.catalog.tasks import TASKS, TaskSpec
from tui_trainer.config import Config, default_config, load_config, save_config
from tui_trainer.engine.control import RunControl, ViewRequest
from tui_trainer.engine.events import RunResult
from tui_trainer.engine.rundir import default_runs_dir, list_runs, read_run
from tui_trainer.errors import ConfigError, UserFacingError
from tui_trainer.outputs import fresh_path

if TYPE_CHECKING:
    from tui_trainer.engine.loop import Trainer

#: The tab of each live picture (offered only for a task that has that picture).
VIEW_TABS = {"boundary": "tab-boundary", "fit": "tab-fit", "arena": "tab-arena"}


def view_of_task(spec: TaskSpec) -> str | None:
    """The picture a task's runs get: the arena for a point on a function, else the catalog's
    ``view`` (boundary, fit or none)."""
    return "arena" if spec.kind == ARENA_KIND else spec.view


def view_of(config: Config) -> str | None:
    """The picture ``config``'s runs get (a boundary or fit only when its loss gives what the
    picture shows, see Config.view)."""
    return "arena" if config.task_spec.kind == ARENA_KIND else config.view
#: Where save and load start when the app was not opened with --config.
DEFAULT_CONFIG_FILE = Path("tui-trainer.toml")
#: Where an exported script goes unless the person types another path.
DEFAULT_SCRIPT_FILE = Path("train.py")


@dataclass
class RaceEntry:
    """One run of a comparison in the app: its plan, number, feed and stop/pause handle."""

    run: PlannedRun
    number: int
    feed: RunFeed
    control: RunControl
    logged_epochs: int = 0
    view: ViewRequest | None = None

    @property
    def label(self) -> str:
        """``#4 optimizer=adam``: the app's run number and what the run varies."""
        return f"#{self.number} {describe_assignments(self.run.assignments)}"

    @property
    def short_label(self) -> str:
        """``#4 adam`` when one field varies (a chart's legend), else the label."""
        if len(self.run.assignments) == 1:
            return f"#{self.number} {describe_assignments(self.run.assignments).partition('=')[2]}"
        return self.label


@dataclass
class Job:
    """The run in progress (or the first run of a comparison): its number, config, feed,
    stop/pause handle and worker; ``race`` holds every run of a comparison (empty otherwise);
    ``view`` asks the run for its live picture when its task has one."""

    number: int
    config: Config
    feed: RunFeed
    control: RunControl
    worker: Worker
    logged_epochs: int = 0
    race: list[RaceEntry] = field(default_factory=list)
    sent: dict[str, Any] = field(default_factory=dict)  # mid-run changes sent to the run
    logged_changes: int = 0
    view: ViewRequest | None = None  # the live picture's request (a task that has one)

    @property
    def controls(self) -> list[RunControl]:
        """The stop/pause handles of every run of the job."""
        return [entry.control for entry in self.race] or [self.control]


class MainScreen(Screen):
    """The app's one screen. Its widgets were styled as they mounted a moment before Textual
    resumes it for the first time, so that first resume skips restyling every widget again."""

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        if not self.stack_updates:
            event.refresh_styles = False
        super()._on_screen_resume(event)


class TrainerApp(App[int]):
    """tui-trainer's app. ``config`` (or the file at ``config_path``) fills the form; runs are
    written under ``runs_dir`` (default: the user data folder)."""

    TITLE = "tui-trainer"
    CSS = """
    #main { height: 1fr; }
    #form { width: 34; }
    .-wide #form { width: 48; }
    #live { width: 1fr; }
    #tabs { height: 1fr; }
    #tabs TabPane { padding: 0; }
    """ + LiveCharts.WIDE_CSS
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]
    #: What is loading in the background after the first frame ("" once all is in).
    loading: reactive[str] = reactive("torch")
    BINDINGS = bindings()

    def __init__(self, config_path: Path | None = None, runs_dir: Path | None = None, *,
                 config: Config | None = None, report_interval: float = 0.1) -> None:
        super().__init__()
        self.config_path = config_path
        self.runs_dir = Path(runs_dir) if runs_dir else default_runs_dir()
        self.report_interval = report_interval
        self.start_problems: list[str] = []
        self.initial_config = config or self._initial_config(config_path)
        self.job: Job | None = None
        self.last_trainer: Trainer | None = None  # the last run that ended (f3 saves its model)
        self.next_number = 1
        self.engine_ready = False
        self.starting = False  # ctrl+r is waiting for the form to settle
        self.last_run: tuple[int, Config] | None = None  # the number and config of the last run
        self.last_job: Job | None = None  # the last run (or race) that ended: f8 draws it
        self.offered_view: str | None = None  # the picture whose tab is offered now
        self.redraw_timer: Timer | None = None
        self.loss_imports: set[str] = set()  # user loss files being imported by a worker

    def _initial_config(self, path: Path | None) -> Config:
        if path is None:
            return default_config()
        try:
            return load_config(path)
        except ConfigError as exc:
            self.start_problems = [f"{path}: {p}" for p in exc.problems]
            return default_config()

    def get_default_screen(self) -> Screen:
        return MainScreen(id="_default")

    def update_styles(self, node: DOMNode, animate: bool = True) -> None:
        """Restyle ``node`` after a class change, unless it is not mounted yet: mounting styles
        it with the classes it has then. (Textual restyles at each class change, even of a widget
        still being built; the form's widgets set about 90 classes as they are built.)"""
        if isinstance(node, Widget) and node not in self._registry:
            return
        super().update_styles(node, animate)

    # -- layout -------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        # Widgets the worker's messages update are created here (inside the app) and kept.
        self.form = ConfigForm(self.initial_config, id="form")
        self.readouts = Readouts(id="readouts")
        self.leaderboard = Leaderboard(id="leaderboard")
        self.leaderboard.display = False
        self.charts = LiveCharts(id="charts")
        self.run_log = RunLog(id="log")
        self.history = HistoryPanel(id="history")
        self.layers = LayerPanel(id="layers")
        self.boundary = BoundaryPanel(id="boundary")
        self.fit = FitPanel(id="fit")
        self.arena = ArenaView(id="arena")
        with Horizontal(id="main"):
            yield self.form
            with Vertical(id="live"):
                yield self.readouts
                yield self.leaderboard
                with TabbedContent(id="tabs") as self.tabs:
                    with TabPane("Charts", id="tab-charts"):
                        yield self.charts
                    # The tabs hidden at start mount just after the first frame.
                    for title, tab, panel in (("Log", "tab-log", self.run_log),
                                              ("History", "tab-history", self.history),
                                              ("Layers", "tab-layers", self.layers),
                                              ("Boundary", "tab-boundary", self.boundary),
                                              ("Fit", "tab-fit", self.fit),
                                              ("Arena", "tab-arena", self.arena)):
                        with TabPane(title, id=tab):
                            yield Lazy(panel)
        yield ControlsFooter()

    def on_mount(self) -> None:
        self.redraw_timer = self.set_interval(1 / TICKS_PER_SECOND, self._redraw, pause=True)
        self._clear_live()
        for line in self.start_problems:
            self.run_log.add(f"config not loaded: {line}")
        if self.start_problems:
            self.notify("\n".join(self.start_problems), title="Config file refused; using defaults",
                        severity="error")
        self.form.validate()
        self.form.rows[0].editor.focus()
        folders = list_runs(self.runs_dir)  # listed now, so this session's runs come after them
        self.next_number = len(folders) + 1
        self.call_after_refresh(self._after_first_frame, folders)

    def _after_first_frame(self, folders: list[Path]) -> None:
        """Load torch and read earlier runs in threads, once the first frame is on screen."""
        self.run_worker(self._load_engine, name="load engine", group="engine", thread=True,
                        exit_on_error=False)
        if folders:
            self.run_worker(partial(self._read_runs, folders), name="read runs", group="history",
                            thread=True, exit_on_error=False)

    def _clear_live(self) -> None:
        """Status ready (or what is loading), blank readouts, empty charts and pictures."""
        config = self.form.config
        self._show_idle()
        self.readouts.clear()
        self.charts.start(RunFeed(0), regression=bool(config) and config.task_spec.kind == "regression",
                          scored=not config or config.task_spec.kind != ARENA_KIND)
        self._start_views(config)

    def _start_views(self, config: Config | None) -> None:
        """Blank pictures, and the tab of the new run's picture offered."""
        self.boundary.clear()
        self.fit.clear()
        self._offer_views(config)

    def _offer_views(self, config: Config | None) -> None:
        """Offer the picture tab that fits ``config``'s task (Boundary, Fit, Arena), hide the
        others; nothing changes for an invalid form (None)."""
        if config is None:
            return
        self.offered_view = view_of(config)
        self._show_view_tabs()

    def _show_view_tabs(self) -> None:
        """Show the offered picture's tab and hide the other pictures' tabs (once the tabs are
        composed: on a busy machine the form can check itself before)."""
        if not self.tabs.children:
            self.tabs.call_after_refresh(self._show_view_tabs)
            return
        for view, tab in VIEW_TABS.items():
            if self.offered_view == view:
                self.tabs.show_tab(tab)
            else:
                self.tabs.hide_tab(tab)

    # -- threads --------------------------------------------------------------------------------

    def _load_engine(self) -> list[tuple[str, str]]:
        """Warm what every run needs (torch, the engine, torch's optimizer machinery), saying
        what is loading; return the devices as (label, name) choices."""
        return warm_engine(partial(self.call_from_thread, setattr, self, "loading"))

    @staticmethod
    def _read_runs(folders: list[Path]) -> tuple[list[RunEntry], list[str]]:
        """Read earlier run folders: the entries, and why any folder was skipped."""
        entries, skipped = [], []
        for number, folder in enumerate(folders, start=1):
            try:
                entries.append(RunEntry.from_record(number, read_run(folder)))
            except (OSError, ValueError) as exc:
                skipped.append(f"skipped run folder {folder}: {exc}")
        return entries, skipped

    def _train(self, config: Config, feed: RunFeed, control: RunControl,
               view: ViewRequest | None = None) -> RunResult:
        """The training worker: check what torch refuses, then run the engine."""
        from tui_trainer.engine.checks import torch_problems
        from tui_trainer.engine.loop import Trainer

        problems = torch_problems(config)
        if problems:
            raise ConfigError(problems)
        bridge = MessageBridge(self, feed, get_current_worker().cancelled_event, control)
        trainer = Trainer(config, [bridge], control, self.runs_dir, self.report_interval, beside_ui=True,
                          view=view)
        result = trainer.run()
        self.last_trainer = trainer
        return result

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker, state = event.worker, event.state
        if worker.group == "engine":
            self._engine_loaded(worker, state)
        elif worker.group == "lr-find":
            self._lr_found(worker, state)
        elif worker.group == "files":
            self._file_written(worker, state)
        elif worker.group == "loss import" and state in (WorkerState.SUCCESS, WorkerState.ERROR):
            self.loss_imports.discard(worker.name)
            self.form.validate()  # the import's outcome is cached now: the form shows it
        elif worker.group == "history" and state == WorkerState.SUCCESS:
            entries, skipped = worker.result
            self.history.add(entries)
            self.run_log.add(*skipped)
        elif self.job is not None and worker is self.job.worker:
            if state == WorkerState.SUCCESS:
                (self._finish_race if self.job.race else self._finish)(worker.result)
            elif state == WorkerState.ERROR:
                self._fail(worker.error)

    def _engine_loaded(self, worker: Worker, state: WorkerState) -> None:
        if state in (WorkerState.SUCCESS, WorkerState.ERROR):
            self.loading = ""
        if state == WorkerState.SUCCESS:
            self.engine_ready = True
            self.form.set_devices(worker.result)
            self.form.torch_check = self._torch_check
            self.form.validate()
        elif state == WorkerState.ERROR:
            self.run_log.add(f"torch could not be loaded: {worker.error}")
            self.notify(str(worker.error), title="torch could not be loaded", severity="error")

    def _torch_check(self, config: Config) -> list:
        """What torch refuses in the form's config. A user loss file not imported yet (or changed
        since) is imported once, in a worker thread; the form is checked again when it is done."""
        from tui_trainer.engine.checks import torch_problems
        from tui_trainer.engine.components import load_user_loss, user_loss_imported

        name = config.loss.name
        if user_loss_parts(name) and not user_loss_imported(name) and name not in self.loss_imports:
            self.loss_imports.add(name)
            self.run_worker(partial(load_user_loss, name), name=name, group="loss import",
                            thread=True, exit_on_error=False)
        return torch_problems(config, import_user_loss=False)

    def _file_written(self, worker: Worker, state: WorkerState) -> None:
        """Say where a script or model went, or why it was not written."""
        if state == WorkerState.SUCCESS:
            what, path = worker.result
            hint = {"script": f"run it with: python {path}", "model": "load it with torch.load(weights_only=True)",
                    "picture": "the charts, and the task's picture when it has one"}[what]
            self.run_log.add(f"{what} written to {path}")
            self.notify(f"{path}\n{hint}", title=f"{what.capitalize()} written")
        elif state == WorkerState.ERROR:
            error = worker.error
            text = "\n".join(map(str, error.problems)) if isinstance(error, ConfigError) else str(error)
            self.run_log.add(f"{worker.name} failed: {text}")
            self.notify(text, title=f"{worker.name.capitalize()} failed", severity="error")

    def on_config_form_validated(self, event: ConfigForm.Validated) -> None:
        """Keep the status true to the form while no run goes: invalid while a field is, ready
        once fixed; a finished run's status stays until the form differs from its config. While
        one run goes (or is paused), a changed learning rate, momentum, betas, weight decay or
        number of epochs goes to it, from its next step on."""
        if self.job is not None and not self.job.race and event.config is not None:
            self._change_running(event.config)
        if self.job is not None or self.starting:
            return
        number, config = self.last_run or (None, None)
        if event.config is not None and event.config == config and self.readouts.status.state not in IDLE:
            return
        self._show_idle()
        self.readouts.mark_stale(number)
        self._offer_views(event.config)

    def _change_running(self, config: Config) -> None:
        """Send the run the changeable fields where ``config`` differs from what the run uses."""
        from tui_trainer.changes import changeable

        job = self.job
        if config.optimizer.name != job.config.optimizer.name:
            return
        for key in changeable(job.config):
            name = key.partition(".")[2]
            epochs = key == "training.epochs"
            value = config.training.epochs if epochs else config.optimizer.params.get(name)
            using = job.sent.get(key, job.config.training.epochs if epochs else job.config.optimizer.params.get(name))
            if value is not None and value != using:
                job.control.change(key, value)
                job.sent[key] = value
                self.run_log.add(f"run #{job.number}: {key} = {value} from its next step on")

    def _arena_job(self) -> bool:
        return self.job is not None and self.job.config.task_spec.kind == ARENA_KIND

    def watch_loading(self, loading: str) -> None:
        if self.is_mounted and self.readouts.status.state in IDLE:
            self._show_idle()

    def _show_idle(self) -> None:
        """The status while no run goes: invalid, loading (what) or ready."""
        config, problems = self.form.config, self.form.problems
        if config is None:
            self.readouts.status.show("invalid", f"{len(problems)} problem(s): {problems[0]}" if problems else "")
        elif self.loading:
            self.readouts.status.show("loading", f"{self.loading}; ctrl+r trains {config.task.name} once it is in")
        else:
            self.readouts.status.show("ready", f"ctrl+r trains {config.task.name}")

    # -- messages from the training worker -----------------------------------------------------

    def on_run_began(self, message: RunBegan) -> None:
        job = self.job
        if job is not None and job.race:
            self._race_run_began(message)
            return
        if job is None or message.feed is not job.feed:
            return
        s = message.started
        self.readouts.status.show("paused" if job.control.paused else "running", f"run #{job.number}")
        self.run_log.add(
            f"run #{job.number} started on {s.device_name} ({s.threads} thread(s)): {s.param_count:,} "
            f"parameters, {s.train_size} train / {s.val_size} validation samples, "
            f"{s.steps_per_epoch} step(s) per epoch" + (f", folder {s.run_dir}" if s.run_dir else "")
            + (f"; {s.config.task_spec.note}" if s.config.task_spec.note else ""))

    def on_run_errored(self, message: RunErrored) -> None:
        self.run_log.add(message.failure.message)
        self.run_log.add(*message.failure.traceback.rstrip().splitlines()[-3:])

    def _redraw(self, final: bool = False) -> None:
        """Show what the feed gained: TICKS_PER_SECOND times a second, never per message (the
        live views draw when their pace allows)."""
        job = self.job
        if job is None:
            return
        if job.race:
            self._redraw_race(final)
            return
        feed = job.feed
        self.readouts.show_feed(feed, self._resources(feed))
        measured = next((m for m in reversed(feed.epochs) if m.layers), None)
        if measured is not None:
            self.layers.show(measured.epoch, measured.layers, final)
        self._take_view(*self._pictured(job), final=final)
        self.charts.update(final)
        if self._arena_job() and self.tabs.active == "tab-arena":
            self.arena.update()
        epochs = len(feed.epochs)
        if epochs > job.logged_epochs:
            accuracy = job.config.task_spec.kind != "regression"
            self.run_log.add(*[
                epoch_line(m.epoch, job.config.training.epochs, m.train_loss, m.val_loss,
                           m.train_accuracy if accuracy else m.train_r2,
                           m.val_accuracy if accuracy else m.val_r2, accuracy, m.lr, m.seconds)
                for m in feed.epochs[job.logged_epochs:epochs]])
            job.logged_epochs = epochs
        made = feed.changes[job.logged_changes:]
        self.run_log.add(*[f"run #{job.number}: changed at epoch {x:.2f}: {what}" for x, what in made])
        job.logged_changes += len(made)

    def _take_view(self, config: Config, view: ViewRequest | None, feed: RunFeed, label: str = "",
                   final: bool = False) -> None:
        """Show the run's newest picture in its panel while its tab shows (the panel asks the
        run for pictures of its own size); ``label`` names the run in a comparison."""
        if config.view == "boundary":
            self.boundary.take(view, self.tabs.active == "tab-boundary", final, label,
                               feed.started.class_names if feed.started else None)
        elif config.view == "fit":
            self.fit.take(view, self.tabs.active == "tab-fit", final, label)

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        """A picture's tab shown: its run's newest picture at once (a run that ended too)."""
        if event.pane.id == VIEW_TABS["arena"]:
            self.arena.update()  # what came while another tab showed
            return
        job = self.job or self.last_job
        if job is not None and event.pane.id in VIEW_TABS.values():
            self._take_view(*self._pictured(job), final=True)

    def _pictured(self, job: Job) -> tuple[Config, ViewRequest | None, RunFeed, str]:
        """The run whose picture the panels show, and its label: the job's, or in a comparison
        the run highlighted in the leaderboard (the first until one is)."""
        if not job.race:
            return job.config, job.view, job.feed, ""
        entry = next((e for e in job.race if e.number == self.leaderboard.selected_number), job.race[0])
        return entry.run.config, entry.view, entry.feed, entry.short_label

    @staticmethod
    def _resources(feed: RunFeed) -> str:
        """The run's device now: GPU memory (and NVML's load and temperature), or CPU threads
        and the process's memory ("" before the run started)."""
        if feed.started is None:
            return ""
        from tui_trainer.engine.resources import sample  # torch is loaded once a run started

        return sample(feed.started.device, feed.started.threads).describe()

    def _finish(self, result: RunResult) -> None:
        job = self.job
        self._redraw(final=True)
        self._end_job()
        state = REASON_STATES[result.reason]
        self.readouts.status.show(state, f"run #{job.number} {result.message}")
        self.readouts.show_result(result)
        self.run_log.add(
            f"run #{job.number} {result.reason}: {result.message} · {result.epochs_run} epoch(s) in "
            f"{duration(result.seconds)}, {rate(result.samples_per_second)} samples/s")
        if result.point:
            self.arena.finish([result])
            self.run_log.add(f"run #{job.number} point {point_text(result.point)}")
        if result.parameters:
            p = result.parameters
            self.run_log.add(f"learned w = {number(p['weight'], 5)}, b = {number(p['bias'], 5)} "
                             f"(true w = {number(p['true_weight'])}, b = {number(p['true_bias'])})")
        self.history.add([RunEntry.from_result(job.number, result)], ended=True)
        compared = self.history.selected
        if len(compared) > 1:
            self.run_log.add(f"History overlays {len(compared)} runs' loss curves: "
                                    + " vs ".join(self.history.labels()))

    def _fail(self, error: BaseException | None) -> None:
        job = self.job
        self._end_job()
        if isinstance(error, ConfigError):
            self.form.show_problems(error.problems)
            self.readouts.status.show("invalid", f"run #{job.number} not started: {error.problems[0]}")
            for problem in error.problems:
                self.run_log.add(f"run #{job.number} not started: {problem}")
            return
        text = str(error) if isinstance(error, UserFacingError) else f"{type(error).__name__}: {error}"
        self.readouts.status.show("failed", f"run #{job.number}: {text}")
        self.readouts.show_message(f"run #{job.number} failed: {text}")
        self.run_log.add(f"run #{job.number} failed: {text}")

    def _end_job(self) -> None:
        self.last_run = (self.job.number, self.job.config)
        self.last_job, self.job = self.job, None
        self._offer_views(self.form.config)  # the form's task may have changed while the run went
        if self.redraw_timer is not None:
            self.redraw_timer.pause()
        self.refresh_bindings()

    # -- actions ------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Dim the controls that do nothing right now; while a dialog is open its own keys go
        first (ctrl+r there races, not runs)."""
        if isinstance(self.screen, ModalScreen) and action in ("run", "compare", "new_run", "stop_one",
                                                               "lr_find"):
            return False
        running = self.job is not None
        if action in ("stop", "pause"):
            return True if running else None
        if action in ("run", "new_run", "compare", "lr_find"):
            return None if running else True
        if action == "stop_one":
            return True if running and self.job.race else None
        if action == "save_model":
            return None if running or self.last_trainer is None else True
        return True

    def action_run(self) -> None:
        """Start a run with exactly what the form shows, once every change still on its way
        (keys typed just before, a recipe being mounted) has been applied; not while a run is
        going or a field is invalid."""
        if self.job is not None or self.starting:
            self.notify("A run is going: ctrl+t stops it, ctrl+g pauses it.")
            return
        self.starting = True
        self.run_worker(self._start_when_settled(), name="start", group="start", exit_on_error=False)

    async def _start_when_settled(self) -> None:
        try:
            config = await self.form.settle()
        finally:
            self.starting = False
        self._start(config)

    def _start(self, config: Config | None) -> None:
        """Start a run of ``config``, or point at the first invalid field when it is None."""
        if config is None:
            problems = self.form.problems
            self.readouts.status.show("invalid", f"{len(problems)} problem(s): {problems[0]}")
            row = self.form.first_invalid()
            if row is not None:
                row.editor.focus()
            return
        number = self.next_number
        self.next_number += 1
        feed, control = RunFeed(number), RunControl()
        view = ViewRequest() if config.view else None
        worker = self.run_worker(partial(self._train, config, feed, control, view), name=f"run {number}",
                                 group="training", exclusive=True, thread=True, exit_on_error=False)
        self.job = Job(number, config, feed, control, worker, view=view)
        self._show_leaderboard(False)
        self.readouts.clear("")
        self.readouts.status.show("starting", f"run #{number}: "
                                  + (f"waiting for {self.loading} to load" if self.loading else "building data and model"))
        self.charts.start(feed, regression=config.task_spec.kind == "regression",
                          scored=config.task_spec.kind != ARENA_KIND)
        self._start_views(config)
        self._take_view(config, view, feed)  # the size is asked before the run starts: a short run has a picture too
        if config.task_spec.kind == ARENA_KIND:
            self.arena.start(config, [feed], [f"#{number}"])
        self.run_log.add(f"run #{number}: {config.summary()}")
        self.redraw_timer.resume()
        self.refresh_bindings()

    # -- compare mode -----------------------------------------------------------------------------

    def action_compare(self) -> None:
        """Ask what to vary, then race those runs of the form's config side by side."""
        if self.job is not None or self.starting:
            self.notify("A run is going: ctrl+t stops it, ctrl+g pauses it.")
            return
        config = self._valid_config("compare")
        if config is not None:
            self.push_screen(CompareDialog(config), self._start_race)

    def _start_race(self, runs: list[PlannedRun] | None) -> None:
        if not runs:
            return
        entries = [RaceEntry(run, self.next_number + i, RunFeed(self.next_number + i), RunControl(),
                             view=ViewRequest() if run.config.view else None)
                   for i, run in enumerate(runs)]
        self.next_number += len(entries)
        first = entries[0]
        worker = self.run_worker(partial(self._race, entries), name=f"race {first.number}",
                                 group="training", exclusive=True, thread=True, exit_on_error=False)
        self.job = Job(first.number, first.run.config, first.feed, first.control, worker, race=entries)
        config = first.run.config
        regression = config.task_spec.kind == "regression"
        self.readouts.clear("")
        self._show_leaderboard(True)
        self.leaderboard.start([(e.number, e.run, e.feed) for e in entries], regression)
        self.readouts.status.show("starting", f"{self._job_name(self.job)}: "
                                  + (f"waiting for {self.loading} to load" if self.loading else "building data and models"))
        self.charts.start([e.feed for e in entries], regression, [e.short_label for e in entries],
                          validated=config.training.val_split > 0, scored=config.task_spec.kind != ARENA_KIND)
        self._start_views(config)
        for entry in entries:
            self._take_view(config, entry.view, entry.feed)
        if config.task_spec.kind == ARENA_KIND:
            self.arena.start(config, [e.feed for e in entries], [e.short_label for e in entries])
        self.run_log.add(f"race of runs #{first.number}-#{entries[-1].number}: {config.summary()}, varying "
                         + ", ".join(e.label for e in entries))
        self.redraw_timer.resume()
        self.refresh_bindings()

    def _race(self, entries: list[RaceEntry]) -> list[RunResult]:
        """The comparison's worker: check every run, then train them taking turns (engine.race),
        each with its own bridge, feed and stop handle."""
        from tui_trainer.engine.checks import torch_problems
        from tui_trainer.engine.loop import Trainer
        from tui_trainer.engine.race import race
        from tui_trainer.errors import FieldError

        problems = [FieldError(p.field, f"{p.message} (run {e.label})")
                    for e in entries for p in torch_problems(e.run.config)]
        if problems:
            raise ConfigError(problems)
        cancelled = get_current_worker().cancelled_event
        trainers = [Trainer(e.run.config, [MessageBridge(self, e.feed, cancelled, e.control)], e.control,
                            self.runs_dir, self.report_interval, beside_ui=True, view=e.view)
                    for e in entries]
        results = race(trainers)
        self.last_trainer = trainers[-1]
        return results

    def _race_run_began(self, message: RunBegan) -> None:
        job = self.job
        entry = next((e for e in job.race if e.feed is message.feed), None)
        if entry is None:
            return
        self.leaderboard.set_state(entry.number, "paused" if entry.control.paused else "running")
        self.readouts.status.show("paused" if job.control.paused else "running", self._job_name(job))
        s = message.started
        self.run_log.add(f"{entry.label} started: "
                         f"{s.param_count:,} parameters" + (f", folder {s.run_dir}" if s.run_dir else ""))

    def _redraw_race(self, final: bool) -> None:
        job = self.job
        done = sum(e.feed.global_step for e in job.race)
        total = sum(e.feed.started.total_steps or 0 if e.feed.started else 0 for e in job.race)
        if total:
            self.readouts.progress.fraction = done / total
        self.charts.update(final)
        if self._arena_job() and self.tabs.active == "tab-arena":
            self.arena.update()
        self.leaderboard.show()
        self._take_view(*self._pictured(job), final=final)
        for entry in job.race:
            epochs = entry.feed.epochs
            config = entry.run.config
            accuracy = config.task_spec.kind != "regression"
            self.run_log.add(*[
                f"#{entry.number} " + epoch_line(
                    m.epoch, config.training.epochs, m.train_loss, m.val_loss,
                    m.train_accuracy if accuracy else m.train_r2, m.val_accuracy if accuracy else m.val_r2,
                    accuracy, m.lr, m.seconds)
                for m in epochs[entry.logged_epochs:]])
            entry.logged_epochs = len(epochs)

    def _finish_race(self, results: list[RunResult]) -> None:
        from tui_trainer.leaderboard import ending, final_loss

        job = self.job
        self._redraw_race(final=True)
        self._end_job()
        for entry, result in zip(job.race, results):
            self.leaderboard.set_state(entry.number, ending(result))
            self.run_log.add(f"{entry.label} {ending(result)}: {result.message}")
            if result.point:
                self.run_log.add(f"{entry.label} point {point_text(result.point)}")
        if job.config.task_spec.kind == ARENA_KIND:
            self.arena.finish(results)
        self.leaderboard.show()
        self.history.add([RunEntry.from_result(e.number, r) for e, r in zip(job.race, results)], ended=True)
        ranked = sorted((loss, e.number, e.label) for e, r in zip(job.race, results)
                        if (loss := final_loss(r)) is not None)
        states = {REASON_STATES[r.reason] for r in results}
        state = "finished" if states == {"finished"} else "stopped" if "stopped" in states else "finished"
        best = (f"best {ranked[0][2]}, loss {number(ranked[0][0], 3)}" if ranked
                else "no run ended with a finite loss")
        self.readouts.status.show(state, f"{len(results)} runs · {best}")
        self.readouts.progress.clock = f"{duration(max(r.seconds for r in results))} · ended"

    def action_lr_find(self) -> None:
        """Run the learning-rate range test on the form's config, then show its curve; enter
        writes the suggestion into the form's learning rate."""
        if self.job is not None or self.starting:
            self.notify("A run is going: the finder runs between runs.")
            return
        config = self._valid_config("find a learning rate")
        if config is None:
            return
        self.readouts.status.show("starting", "learning-rate finder: the rate grows over 100 steps")
        self.run_worker(partial(self._find_lr, config), name="lr finder", group="lr-find", thread=True,
                        exit_on_error=False)

    @staticmethod
    def _find_lr(config: Config):
        from tui_trainer.engine.lrfind import find_lr

        return find_lr(config)

    def _lr_found(self, worker: Worker, state: WorkerState) -> None:
        if state == WorkerState.ERROR:
            error = worker.error
            text = "\n".join(map(str, error.problems)) if isinstance(error, ConfigError) else str(error)
            self.run_log.add(f"learning-rate finder failed: {text}")
            self.readouts.status.show("failed", f"learning-rate finder: {text}")
            return
        if state != WorkerState.SUCCESS:
            return
        self._show_idle()
        result = worker.result
        self.run_log.add(f"learning-rate finder: suggested {number(result.suggestion, 3)} ({result.rule})"
                         if result.suggestion else "learning-rate finder: no suggestion")

        def use(lr: float | None) -> None:
            if lr is not None:
                self.form.set_value("optimizer.lr", float(f"{lr:.3g}"))
                self.notify(f"learning rate set to {lr:.3g}", title="Learning rate")

        self.push_screen(LrFindDialog(result), use)

    def action_stop_one(self) -> None:
        """Stop the run highlighted in the leaderboard; the others go on."""
        job = self.job
        number = self.leaderboard.selected_number if job is not None and job.race else None
        entry = next((e for e in job.race if e.number == number), None) if number else None
        if entry is None:
            self.notify("ctrl+k stops one run of a comparison (highlight it in the leaderboard); "
                        "ctrl+t stops every run.")
            return
        entry.control.stop("stopped")
        self.leaderboard.set_state(entry.number, "stopping")
        self.leaderboard.show()

    def _show_leaderboard(self, shown: bool) -> None:
        """The leaderboard in place of the single run's numbers (compare mode), or not."""
        if self.leaderboard.display != shown:  # setting it lays the screen out, even unchanged
            self.leaderboard.display = shown
            self.readouts.numbers.display = not shown

    @staticmethod
    def _job_name(job: Job) -> str:
        if job.race:
            return f"race of runs #{job.race[0].number}-#{job.race[-1].number}"
        return f"run #{job.number}"

    def action_stop(self) -> None:
        """Stop the run after its current step; its history stays on disk."""
        if self.job is not None:
            for control in self.job.controls:
                control.stop("stopped")
            self.readouts.status.show("stopping", self._job_name(self.job))

    def action_pause(self) -> None:
        """Pause the run before its next step, or let a paused run go on."""
        job = self.job
        if job is None:
            return
        if job.control.paused:
            for control in job.controls:
                control.resume()
            self.readouts.status.show("running", self._job_name(job))
        else:
            for control in job.controls:
                control.pause()
            self.readouts.status.show("paused", f"{self._job_name(job)}: ctrl+g resumes, ctrl+t stops")

    def action_new_run(self) -> None:
        """Clear the live panels for the next run; the history stays."""
        if self.job is not None:
            self.notify("Stop the run first (ctrl+t).")
            return
        self.run_log.clear()
        self._show_leaderboard(False)
        self._clear_live()

    def _valid_config(self, doing: str) -> Config | None:
        """The form's config, or None after telling what to fix before ``doing`` it."""
        config = self.form.validate()
        if config is None:
            self.notify("\n".join(str(p) for p in self.form.problems), title=f"Cannot {doing}: fix these",
                        severity="error")
        return config

    def action_save_config(self) -> None:
        """Save the form's config as TOML (it must be valid)."""
        config = self._valid_config("save")
        if config is None:
            return

        def save(path: Path | None) -> None:
            if path is None:
                return
            try:
                saved = save_config(config, path)
            except OSError as exc:
                self.notify(str(exc), title="Config not saved", severity="error")
                return
            self.config_path = saved
            self.notify(str(saved), title="Config saved")

        self.push_screen(PathDialog("Save config (TOML) to:", self.config_path or DEFAULT_CONFIG_FILE), save)

    def action_load_config(self) -> None:
        """Fill the form from a TOML config file."""

        async def load(path: Path | None) -> None:
            if path is None:
                return
            try:
                config = load_config(path)
            except ConfigError as exc:
                self.notify("\n".join(str(p) for p in exc.problems), title=f"{path} not loaded",
                            severity="error")
                return
            self.config_path = path
            await self.form.load(config)
            self.notify(str(path), title="Config loaded")

        self.push_screen(PathDialog("Load config (TOML) from:", self.config_path or DEFAULT_CONFIG_FILE), load)

    def action_export_script(self) -> None:
        """Write a standalone PyTorch script of the form's (valid) config; the log says where."""
        config = self._valid_config("export")
        if config is None:
            return

        def export(path: Path | None) -> None:
            if path is not None:
                self.run_worker(partial(self._write_script, config, path), name="export script",
                                group="files", thread=True, exit_on_error=False)

        self.push_screen(PathDialog("Export a standalone PyTorch script to:", DEFAULT_SCRIPT_FILE), export)

    @staticmethod
    def _write_script(config: Config, path: Path) -> tuple[str, Path]:
        from tui_trainer.engine.checks import check
        from tui_trainer.export.script import write_script

        check(config)
        return "script", write_script(config, path)

    def action_save_model(self) -> None:
        """Save the last finished run's model, optimizer state and config as model.pt in its folder."""
        if self.job is not None:
            self.notify("A run is going: save its model once it ends (ctrl+t stops it).")
            return
        if self.last_trainer is None:
            self.notify("No run has ended yet: ctrl+r starts one.")
            return
        self.run_worker(partial(self._save_model, self.last_trainer), name="save model", group="files",
                        thread=True, exit_on_error=False)

    @staticmethod
    def _save_model(trainer: Trainer) -> tuple[str, Path]:
        from tui_trainer.engine.checkpoint import save_checkpoint

        return "model", save_checkpoint(trainer)

    def action_save_picture(self) -> None:
        """Draw the run going (or the last one that ended) into a PNG: ``plot.png`` in its run
        folder (a comparison: ``compare.png`` beside its run folders), under a fresh name when
        that file exists; the log and a notice say where."""
        job = self.job or self.last_job
        if job is None:
            self.notify("No run yet: ctrl+r starts one.")
            return
        runs = [(e.feed, e.view) for e in job.race] or [(job.feed, job.view)]
        folders = [(feed.started.run_dir, view) for feed, view in runs if feed.started and feed.started.run_dir]
        if not folders:
            self.notify("The run has no folder yet: save its picture once it started.")
            return
        # A run still going has no picture in its folder yet: its newest live one is drawn.
        pictures = {folder: frame for folder, view in folders
                    if self.job is not None and view is not None and (frame := view.take()) is not None}
        run_dirs = [folder for folder, _ in folders]
        target = run_dirs[0] / "plot.png" if len(run_dirs) == 1 else run_dirs[0].parent / "compare.png"
        self.run_worker(partial(self._save_picture, run_dirs, fresh_path(target), pictures),
                        name="save picture", group="files", thread=True, exit_on_error=False)

    @staticmethod
    def _save_picture(run_dirs: list[Path], path: Path, pictures: dict) -> tuple[str, Path]:
        from tui_trainer.export.plot import plot_runs

        return "picture", plot_runs(run_dirs, path, pictures=pictures)

    async def action_quit(self) -> None:
        """Stop any run (its history stays on disk) and quit."""
        self._interrupt()
        self.exit(0)

    def on_unmount(self) -> None:
        self._interrupt()

    def _interrupt(self) -> None:
        if self.job is not None:
            for control in self.job.controls:
                control.stop("interrupted")
            self.job.worker.cancel()

    def action_next_tab(self) -> None:
        """Show the next tab: Charts, Log, History, Layers, and the run's picture (Boundary, Fit
        or Arena)."""
        tabs = ["tab-charts", "tab-log", "tab-history", "tab-layers"]
        tabs += [VIEW_TABS[self.offered_view]] if self.offered_view else []
        at = tabs.index(self.tabs.active) if self.tabs.active in tabs else -1
        self.action_show_tab(tabs[(at + 1) % len(tabs)])

    def action_show_tab(self, tab: str) -> None:
        """Show one tab (``tab-charts``, ``tab-log``, ``tab-history``, ``tab-layers``, and
        ``tab-boundary``, ``tab-fit`` or ``tab-arena`` when the task has that picture)."""
        view = next((v for v, t in VIEW_TABS.items() if t == tab), None)
        if view is not None and view != self.offered_view:
            tasks = ", ".join(name for name, spec in TASKS.items() if view_of_task(spec) == view)
            self.notify(f"The {view} view shows the tasks {tasks} (choose one as the task).",
                        title=f"No {view} view for this task")
            return
        self.tabs.active = tab

    def action_toggle_validation(self) -> None:
        """Boundary view: draw the validation samples too, or only the training samples."""
        if self.offered_view != "boundary":
            self.action_show_tab("tab-boundary")  # says what the view is for
            return
        shown = self.boundary.toggle_validation()
        self.notify("validation samples shown (paler)" if shown else "validation samples hidden",
                    title="Boundary view")
        self.action_show_tab("tab-boundary")

    def action_next_chart(self) -> None:
        """Show the next live chart (loss, accuracy or R², learning rate) when one shows at a time."""
        self.charts.show_next()
        self.action_show_tab("tab-charts")

    def action_toggle_keys(self) -> None:
        """Show or hide the panel listing every key."""
        if self.screen.query("HelpPanel"):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The controls, in the command palette too."""
        titles = set()
        for control in CONTROLS:
            titles.add(control.title.lower())
            yield SystemCommand(control.title, palette_help(control), partial(self.run_action, control.action))
        yield from (command for command in super().get_system_commands(screen)
                    if command.title.lower() not in titles)
