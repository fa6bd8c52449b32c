"""The Textual app: the config form on the left; status, readouts, charts, log and run history on
the right; controls in the Footer and the command palette. Training runs in a thread worker."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.lazy import Lazy
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, TabbedContent, TabPane
from textual.worker import Worker, WorkerState, get_current_worker

from tui_trainer.app.bridge import MessageBridge
from tui_trainer.app.charts import LiveCharts
from tui_trainer.app.dialogs import PathDialog
from tui_trainer.app.feed import RunFeed
from tui_trainer.app.form import ConfigForm
from tui_trainer.app.formatting import duration, epoch_line, number, rate
from tui_trainer.app.history import HistoryPanel, RunEntry
from tui_trainer.app.messages import MetricsReport, RunBegan, RunErrored
from tui_trainer.app.readouts import REASON_STATES, Readouts
from tui_trainer.app.runlog import RunLog
from tui_trainer.config import Config, default_config, load_config, save_config
from tui_trainer.engine.control import RunControl
from tui_trainer.engine.events import RunResult
from tui_trainer.engine.rundir import default_runs_dir, list_runs, read_run
from tui_trainer.errors import ConfigError, UserFacingError

if TYPE_CHECKING:
    from tui_trainer.engine.loop import Trainer

#: Redraws per second of readouts, charts and log while a run goes.
REDRAWS_PER_SECOND = 4
#: Where save and load start when the app was not opened with --config.
DEFAULT_CONFIG_FILE = Path("tui-trainer.toml")
#: Where an exported script goes unless the person types another path.
DEFAULT_SCRIPT_FILE = Path("train.py")


@dataclass
class Job:
    """The run in progress: its number, config, feed, stop/pause handle and worker."""

    number: int
    config: Config
    feed: RunFeed
    control: RunControl
    worker: Worker[RunResult]
    logged_epochs: int = 0


class TrainerApp(App[int]):
    """tui-trainer's app. ``config`` (or the file at ``config_path``) fills the form; runs are
    written under ``runs_dir`` (default: the user data folder)."""

    TITLE = "tui-trainer"
    CSS = """
    #main { height: 1fr; }
    #form { width: 34; }
    .-wide #form { width: 48; }
    .-narrow Readouts Bar { width: 18; }
    .-wide LiveCharts { layout: horizontal; }
    #live { width: 1fr; }
    #tabs { height: 1fr; }
    #tabs TabPane { padding: 0; }
    """
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]
    BINDINGS = [
        Binding("ctrl+r", "run", "Run", priority=True, tooltip="Start training with the form's settings"),
        Binding("ctrl+t", "stop", "Stop", priority=True, tooltip="Stop the run after its current step"),
        Binding("ctrl+g", "pause", "Pause/Resume", priority=True),
        Binding("ctrl+n", "new_run", "New", priority=True, tooltip="Clear the live panels; history stays"),
        Binding("ctrl+s", "save_config", "Save", priority=True, tooltip="Save the form as a TOML config"),
        Binding("ctrl+o", "load_config", "Load", priority=True, tooltip="Fill the form from a TOML config"),
        Binding("f2", "export_script", "Script", priority=True,
                tooltip="Write a standalone PyTorch script of the form's config"),
        Binding("f3", "save_model", "Model", priority=True,
                tooltip="Save the last run's model.pt into its run folder"),
        Binding("ctrl+q", "quit", "Quit", priority=True, tooltip="Stop any run and quit"),
    ]

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
        self.redraw_timer: Timer | None = None

    def _initial_config(self, path: Path | None) -> Config:
        if path is None:
            return default_config()
        try:
            return load_config(path)
        except ConfigError as exc:
            self.start_problems = [f"{path}: {p}" for p in exc.problems]
            return default_config()

    # -- layout -------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        # Widgets the worker's messages update are created here (inside the app) and kept.
        self.form = ConfigForm(self.initial_config, id="form")
        self.readouts = Readouts(id="readouts")
        self.charts = LiveCharts(id="charts")
        self.run_log = RunLog(id="log")
        self.history = HistoryPanel(id="history")
        with Horizontal(id="main"):
            yield self.form
            with Vertical(id="live"):
                yield self.readouts
                with TabbedContent(id="tabs"):
                    with TabPane("Charts", id="tab-charts"):
                        yield self.charts
                    with TabPane("Log", id="tab-log"):
                        yield Lazy(self.run_log)
                    with TabPane("History", id="tab-history"):
                        yield Lazy(self.history)
        yield Footer()

    def on_mount(self) -> None:
        self.redraw_timer = self.set_interval(1 / REDRAWS_PER_SECOND, self._redraw, pause=True)
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
        """Status ready, blank readouts and empty charts."""
        config = self.form.config
        self.readouts.status.show("ready", f"ctrl+r trains {config.task.name if config else 'the form'}")
        self.readouts.clear()
        self.charts.start(RunFeed(0), regression=bool(config) and config.task_spec.kind == "regression")

    # -- threads --------------------------------------------------------------------------------

    @staticmethod
    def _load_engine() -> list[tuple[str, str]]:
        """Import torch and the engine; return the devices as (label, name) choices."""
        import tui_trainer.engine.loop  # noqa: F401  (the import is the work: torch loads here)
        from tui_trainer.engine.devices import available_devices

        return [("auto (best available)", "auto")] + [
            (f"{d.name} — {d.description}" if d.description.lower() != d.name else d.name, d.name)
            for d in available_devices()]

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

    def _train(self, config: Config, feed: RunFeed, control: RunControl) -> RunResult:
        """The training worker: check what torch refuses, then run the engine."""
        from tui_trainer.engine.checks import torch_problems
        from tui_trainer.engine.loop import Trainer

        problems = torch_problems(config)
        if problems:
            raise ConfigError(problems)
        bridge = MessageBridge(self, feed, get_current_worker().cancelled_event, control)
        trainer = Trainer(config, [bridge], control, self.runs_dir, self.report_interval, beside_ui=True)
        result = trainer.run()
        self.last_trainer = trainer
        return result

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker, state = event.worker, event.state
        if worker.group == "engine":
            self._engine_loaded(worker, state)
        elif worker.group == "files":
            self._file_written(worker, state)
        elif worker.group == "history" and state == WorkerState.SUCCESS:
            entries, skipped = worker.result
            self.history.add(entries)
            self.run_log.add(*skipped)
        elif self.job is not None and worker is self.job.worker:
            if state == WorkerState.SUCCESS:
                self._finish(worker.result)
            elif state == WorkerState.ERROR:
                self._fail(worker.error)

    def _engine_loaded(self, worker: Worker, state: WorkerState) -> None:
        if state == WorkerState.SUCCESS:
            from tui_trainer.engine.checks import torch_problems

            self.engine_ready = True
            self.form.set_devices(worker.result)
            self.form.torch_check = torch_problems
            self.form.validate()
        elif state == WorkerState.ERROR:
            self.run_log.add(f"torch could not be loaded: {worker.error}")
            self.notify(str(worker.error), title="torch could not be loaded", severity="error")

    def _file_written(self, worker: Worker, state: WorkerState) -> None:
        """Say where a script or model went, or why it was not written."""
        if state == WorkerState.SUCCESS:
            what, path = worker.result
            hint = f"run it with: python {path}" if what == "script" else "load it with torch.load(weights_only=True)"
            self.run_log.add(f"{what} written to {path}")
            self.notify(f"{path}\n{hint}", title=f"{what.capitalize()} written")
        elif state == WorkerState.ERROR:
            error = worker.error
            text = "\n".join(map(str, error.problems)) if isinstance(error, ConfigError) else str(error)
            self.run_log.add(f"{worker.name} failed: {text}")
            self.notify(text, title=f"{worker.name.capitalize()} failed", severity="error")

    # -- messages from the training worker -----------------------------------------------------

    def on_run_began(self, message: RunBegan) -> None:
        job = self.job
        if job is None or message.feed is not job.feed:
            return
        s = message.started
        self.readouts.status.show("paused" if job.control.paused else "running", f"run #{job.number}")
        self.run_log.add(
            f"run #{job.number} started on {s.device_name} ({s.threads} thread(s)): {s.param_count:,} "
            f"parameters, {s.train_size} train / {s.val_size} validation samples, "
            f"{s.steps_per_epoch} step(s) per epoch" + (f", folder {s.run_dir}" if s.run_dir else "")
            + (f"; {s.config.task_spec.note}" if s.config.task_spec.note else ""))

    def on_metrics_report(self, message: MetricsReport) -> None:
        message.feed.unread = False

    def on_run_errored(self, message: RunErrored) -> None:
        self.run_log.add(message.failure.message)
        self.run_log.add(*message.failure.traceback.rstrip().splitlines()[-3:])

    def _redraw(self, final: bool = False) -> None:
        """Show what the feed gained: at most REDRAWS_PER_SECOND times a second, never per message."""
        job = self.job
        if job is None:
            return
        feed = job.feed
        self.readouts.show_feed(feed)
        self.charts.update(final)
        epochs = len(feed.epochs)
        if epochs > job.logged_epochs:
            accuracy = job.config.task_spec.kind != "regression"
            self.run_log.add(*[
                epoch_line(m.epoch, job.config.training.epochs, m.train_loss, m.val_loss,
                           m.train_accuracy if accuracy else m.train_r2,
                           m.val_accuracy if accuracy else m.val_r2, accuracy, m.lr, m.seconds)
                for m in feed.epochs[job.logged_epochs:epochs]])
            job.logged_epochs = epochs

    def _finish(self, result: RunResult) -> None:
        job = self.job
        self._redraw(final=True)
        self._end_job()
        state = REASON_STATES[result.reason]
        self.readouts.status.show(state, f"#{job.number} {result.message}")
        self.readouts.show_result(result)
        self.run_log.add(
            f"run #{job.number} {result.reason}: {result.message} · {result.epochs_run} epoch(s) in "
            f"{duration(result.seconds)}, {rate(result.samples_per_second)} samples/s")
        if result.parameters:
            p = result.parameters
            self.run_log.add(f"learned w = {p['weight']:.4f}, b = {p['bias']:.4f} "
                                    f"(true w = {number(p['true_weight'])}, b = {number(p['true_bias'])})")
        self.history.add([RunEntry.from_result(job.number, result)], selected=True)
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
        self.run_log.add(f"run #{job.number} failed: {text}")

    def _end_job(self) -> None:
        self.job = None
        if self.redraw_timer is not None:
            self.redraw_timer.pause()
        self.refresh_bindings()

    # -- actions ------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Dim the controls that do nothing right now."""
        running = self.job is not None
        if action in ("stop", "pause"):
            return True if running else None
        if action in ("run", "new_run"):
            return None if running else True
        if action == "save_model":
            return None if running or self.last_trainer is None else True
        return True

    def action_run(self) -> None:
        """Start a run with the form's settings, unless one is going or a field is invalid."""
        if self.job is not None:
            self.notify("A run is going: ctrl+t stops it, ctrl+g pauses it.")
            return
        config = self.form.validate()
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
        worker = self.run_worker(partial(self._train, config, feed, control), name=f"run {number}",
                                 group="training", exclusive=True, thread=True, exit_on_error=False)
        self.job = Job(number, config, feed, control, worker)
        self.readouts.clear("")
        self.readouts.status.show("starting", f"run #{number}: "
                                  + ("building data and model" if self.engine_ready else "loading torch"))
        self.charts.start(feed, regression=config.task_spec.kind == "regression")
        self.run_log.add(f"run #{number}: {config.summary()}")
        self.redraw_timer.resume()
        self.refresh_bindings()

    def action_stop(self) -> None:
        """Stop the run after its current step; its history stays on disk."""
        if self.job is not None:
            self.job.control.stop("stopped")
            self.readouts.status.show("stopping", f"run #{self.job.number}")

    def action_pause(self) -> None:
        """Pause the run before its next step, or let a paused run go on."""
        job = self.job
        if job is None:
            return
        if job.control.paused:
            job.control.resume()
            self.readouts.status.show("running", f"run #{job.number}")
        else:
            job.control.pause()
            self.readouts.status.show("paused", f"run #{job.number}: ctrl+g resumes, ctrl+t stops")

    def action_new_run(self) -> None:
        """Clear the live panels for the next run; the history stays."""
        if self.job is not None:
            self.notify("Stop the run first (ctrl+t).")
            return
        self.run_log.clear()
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

    async def action_quit(self) -> None:
        """Stop any run (its history stays on disk) and quit."""
        self._interrupt()
        self.exit(0)

    def on_unmount(self) -> None:
        self._interrupt()

    def _interrupt(self) -> None:
        if self.job is not None:
            self.job.control.stop("interrupted")
            self.job.worker.cancel()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The controls, in the command palette too."""
        yield SystemCommand("Run", "Start training with the form's settings (ctrl+r)", self.action_run)
        yield SystemCommand("Stop run", "Stop the run after its current step (ctrl+t)", self.action_stop)
        yield SystemCommand("Pause / resume run", "Pause before the next step, or go on (ctrl+g)",
                            self.action_pause)
        yield SystemCommand("New run", "Clear the live panels; the history stays (ctrl+n)",
                            self.action_new_run)
        yield SystemCommand("Save config", "Save the form as a TOML file (ctrl+s)", self.action_save_config)
        yield SystemCommand("Load config", "Fill the form from a TOML file (ctrl+o)", self.action_load_config)
        yield SystemCommand("Export script", "Write a standalone PyTorch script of the form's config (f2)",
                            self.action_export_script)
        yield SystemCommand("Save model", "Save the last run's model.pt into its run folder (f3)",
                            self.action_save_model)
        yield from super().get_system_commands(screen)
