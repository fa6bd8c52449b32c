"""The Textual app: the config form on the left; status, readouts, charts, log and run history on
the right; controls in the Footer and the command palette. Training runs in a thread worker.

Watch mode (``tui-trainer watch``) shows runs other processes train, without the form: nothing
is trained, torch is not loaded, and no file is written. Any session lists the runs folder's
runs still being written as live in History; enter on one watches it (``watch.py``)."""

from __future__ import annotations

import asyncio
import signal
import time
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable

from textual import events, work
from textual.worker import get_current_worker
from textual.app import App, ComposeResult, SystemCommand
from textual.command import CommandPalette
from textual.containers import Horizontal, Vertical
from textual.dom import DOMNode
from textual.driver import Driver
from textual.lazy import Lazy
from textual.reactive import reactive
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import DataTable, TabbedContent, TabPane

from tui_trainer.app.charts import LiveCharts
from tui_trainer.app.compare import CompareDialog, Leaderboard
from tui_trainer.app.controls import CONTROLS, RUN_ACTIONS, ControlsFooter, bindings, palette_help
from tui_trainer.app.dialogs import ConfirmDialog, PathDialog
from tui_trainer.app.form import ConfigForm
from tui_trainer.app.history import HistoryPanel, RunEntry, RunList
from tui_trainer.app.instruments import LayerPanel, LrFindDialog
from tui_trainer.app.live import LiveRuns
from tui_trainer.app.messages import RunBegan, RunErrored
from tui_trainer.app.network import NetworkCanvas
from tui_trainer.app.readouts import IDLE, Readouts, pace_text
from tui_trainer.app.resulttabs import RESULT_TABS, result_of_tab
from tui_trainer.app.runlog import RunLog
from tui_trainer.app.runs import Job, LiveRun, Training
from tui_trainer.app.system import SystemPanel
from tui_trainer.app.viewtabs import VIEW_TABS, view_of_tab
from tui_trainer.app.watch import SCAN_INTERVAL, FoundRun, Following, Opened, RunsFolder, newest, open_runs
from tui_trainer.app.warmup import warm_engine
from tui_trainer.app.size import SizeNotice
from tui_trainer.catalog.tasks import TASKS
from tui_trainer.catalog.views import VIEWS
from tui_trainer.compare import PlannedRun
from tui_trainer.config import Config, default_config, load_config, save_config, user_classes
from tui_trainer.engine.follow import group_runs
from tui_trainer.engine.memory import resume_collections
from tui_trainer.engine.rundir import default_runs_dir, list_runs
from tui_trainer.errors import ConfigError, UserFacingError
from tui_trainer.fences.textual import (
    HookedScreen, breakpoint_classes, driver_of, is_mounted, keep_active_tab_centered,
)
from tui_trainer.formatting import number
from tui_trainer.interrupts import exit_code_for
from tui_trainer.outputs import fresh_path
from tui_trainer.pacing import Paces, group, shifted, unit
from tui_trainer.pipes import terminal_gone
from tui_trainer.trust import TRUST_FLAG, config_code, foreign_code

if TYPE_CHECKING:
    from tui_trainer.app.modelpanel import ModelPanel
    from tui_trainer.app.outcome import OutcomePanel
    from tui_trainer.app.picture import LivePicture
    from tui_trainer.engine.loop import Trainer

#: Controls that do nothing while a dialog or the command palette is open: its own keys go
#: first (ctrl+r in the compare dialog races), and no dialog opens over another.
MODAL_BLOCKED = ("run", "compare", "new_run", "stop_one", "lr_find", "step", "save_config", "load_config",
                 "export_script")
#: Where save and load start when the app was not opened with --config.
DEFAULT_CONFIG_FILE = Path("tui-trainer.toml")
#: Where an exported script goes unless the person types another path.
DEFAULT_SCRIPT_FILE = Path("train.py")
#: What writing each kind of file in the background is called (when it fails).
WRITING = {"script": "export script", "model": "save model", "picture": "save picture"}
#: What watch mode does not offer: it trains nothing and writes nothing (a run's picture is
#: drawn by ``tui-trainer export-plot RUN_DIR -o FILE``).
NOT_WATCHING = frozenset({"run", "compare", "lr_find", "new_run", "step", "pace", "save_config",
                          "load_config", "export_script", "save_model", "save_picture"})


class MainScreen(HookedScreen):
    """The app's one screen. Its widgets were styled as they mounted a moment before Textual
    resumes it for the first time, so that first resume skips restyling every widget again; it
    starts with the breakpoint classes (``-narrow``, ``-wide``) of the terminal's size, so the
    first resize does not restyle every widget either."""

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.add_class(*breakpoint_classes(self, *self.app.size))

    def resuming(self, event: events.ScreenResume) -> None:
        if not self.stack_updates:
            event.refresh_styles = False

    def on_resize(self, event: events.Resize) -> None:
        self.query_one(SizeNotice).fit(event.size)  # below 80x24, a notice in place of the app


class TrainerApp(App[int]):
    """tui-trainer's app. ``config`` (or the file at ``config_path``) fills the form; runs are
    written under ``runs_dir`` (default: the user data folder). With ``watch`` (run folders, or
    none: the runs folder's live runs) the app only watches runs other processes train. The
    layout, the controls and the routing live here; a job's life (one run, or a comparison's)
    lives in ``live.LiveRuns``."""

    TITLE = "tui-trainer"
    CSS = """
    #main { height: 1fr; }
    #form { width: 34; }
    .-wide #form { width: 48; }
    #live { width: 1fr; }
    #tabs { height: 1fr; }
    #tabs TabPane { padding: 0; }
    .-narrow #tabs Tab { padding: 0 0 0 1; }  /* every tab's title fits beside the form at 80 columns */
    """ + LiveCharts.WIDE_CSS
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]
    #: What is loading in the background after the first frame ("" once all is in).
    loading: reactive[str] = reactive("torch")
    BINDINGS = bindings()

    #: Whether runs with a picture start at their view's watchable pace (``pacing``); the tests
    #: train at max unless they test the pace.
    watchable = True

    def __init__(self, config_path: Path | None = None, runs_dir: Path | None = None, *,
                 config: Config | None = None, report_interval: float = 0.1,
                 watch: list[Path] | None = None, pace: str | float | None = None) -> None:
        super().__init__()
        self.paces = Paces(pace, self.watchable)
        self.config_path = config_path
        self.runs_dir = Path(runs_dir) if runs_dir else default_runs_dir()
        self.report_interval = report_interval
        self.watch_only = watch is not None
        self.watch_targets = list(watch or [])
        self.waiting_for_run = self.watch_only and not self.watch_targets  # opens the first live run
        self.runs_folder = RunsFolder(self.runs_dir)
        self.folder_numbers: dict[Path, int] = {}  # each run folder's number in this session
        self.listed: set[Path] = set()  # the run folders there were at the start...
        self.reserved = iter(())  # ...and the numbers kept for them
        self.own_folders: set[Path] = set()  # the folders of the runs this session trained
        self.looked = False  # the runs folder was read once
        if self.watch_only:
            self.set_reactive(TrainerApp.loading, "")  # nothing is trained: torch is not loaded
            self.AUTO_FOCUS = "Tabs"  # no form: the tabs take the keys (left and right: the next tab)
        self.start_problems: list[str] = []
        self.held_config: Config | None = None  # a --config whose loss file is not trusted yet
        self.initial_config = config or self._initial_config(config_path)
        self.live = LiveRuns(self)
        self.next_number = 1
        self.engine_ready = False
        self.starting = False  # ctrl+r is waiting for the form to settle
        self.offered_views: list[str] = []  # the pictures whose tabs are offered now
        self.offered_results: list[str] = []  # the result tabs offered now (RESULT_TABS)
        self.user_imports: set[tuple[str, str]] = set()  # (field, file:Class) a worker is importing
        self.quitting = False  # quit was asked for (it waits for a run to write its ending)

    def _initial_config(self, path: Path | None) -> Config:
        if path is None:
            return default_config()
        try:
            config = load_config(path)
        except ConfigError as exc:
            self.start_problems = [f"{path}: {p}" for p in exc.problems]
            return default_config()
        if foreign_code(config_code(config), path) is not None:
            self.held_config = config  # shown once the person trusts its loss file (on_mount asks)
            return default_config()
        return config

    @property
    def job(self) -> Job | None:
        """The job going: a run, or a comparison's runs (None between runs)."""
        return self.live.job

    @property
    def last_job(self) -> Job | None:
        """The last job that ended (f8 draws it)."""
        return self.live.last_job

    @property
    def last_trainer(self) -> Trainer | None:
        """The engine's Trainer of the last run that ended (f3 saves its model)."""
        return self.live.last_trainer

    @property
    def boundary(self) -> LivePicture:
        """The Boundary tab's panel."""
        return self.views["boundary"]

    @property
    def fit(self) -> LivePicture:
        """The Fit tab's panel."""
        return self.views["fit"]

    @property
    def arena(self) -> LivePicture:
        """The Arena tab's panel."""
        return self.views["arena"]

    @property
    def model_panel(self) -> ModelPanel:
        """The Model tab's panel."""
        return self.results["model"]

    @property
    def outcomes(self) -> dict[str, OutcomePanel]:
        """The panels of how a run ended (Confusion, Mistakes), by name."""
        return {name: panel for name, panel in self.results.items() if name != "model"}

    def get_default_screen(self) -> Screen:
        return MainScreen(id="_default")

    def get_driver_class(self) -> type[Driver]:
        """Textual's driver for this platform; on Linux and macOS one that stays safe when the
        terminal goes away."""
        driver = super().get_driver_class()
        if driver.__name__ != "LinuxDriver":
            return driver
        from tui_trainer.app.terminal import TerminalDriver

        return TerminalDriver

    def update_styles(self, node: DOMNode, animate: bool = True) -> None:
        """Restyle ``node`` after a class change, unless it is not mounted yet: mounting styles
        it with the classes it has then. (Textual restyles at each class change, even of a widget
        still being built; the form's widgets set about 90 classes as they are built.)"""
        if isinstance(node, Widget) and not is_mounted(self, node):
            return
        super().update_styles(node, animate)

    # -- layout -------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        # Widgets the jobs' redraws update are created here (inside the app) and kept.
        self.form = ConfigForm(self.initial_config, id="form")
        self.form.display = not self.watch_only  # watch mode trains nothing: no form, nor its focus
        self.readouts = Readouts(id="readouts")
        self.leaderboard = Leaderboard(id="leaderboard")
        self.leaderboard.display = False
        self.charts = LiveCharts(id="charts")
        self.run_log = RunLog(id="log")
        self.history = HistoryPanel(id="history")
        self.layers = LayerPanel(id="layers")
        self.system = SystemPanel(id="system")
        self.views = {name: view.panel(id=name) for name, view in VIEW_TABS.items()}
        self.results = {name: result.panel(id=name) for name, result in RESULT_TABS.items()}
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
                                              ("System", "tab-system", self.system),
                                              *((view.title, view.tab, self.views[name])
                                                for name, view in VIEW_TABS.items()),
                                              *((result.title, result.tab, self.results[name])
                                                for name, result in RESULT_TABS.items())):
                        with TabPane(title, id=tab):
                            yield Lazy(panel)
        yield ControlsFooter()
        yield SizeNotice(covers="#main, ControlsFooter")

    def on_mount(self) -> None:
        self.live.mount()
        folders = list_runs(self.runs_dir)  # listed now, so this session's runs come after them
        self.listed, self.reserved = set(folders), iter(range(1, len(folders) + 1))
        self.next_number = len(folders) + 1
        if self.watch_only:
            self.live.clear(None)
            self.readouts.clear(f"watching {self.runs_dir}\nfor runs of train, compare, lab or torchrun\n"
                                "History lists its runs (● live): enter opens one")
            self._show_view_tabs()  # no picture's tab until a run shows
            folders += [folder for folder in self.watch_targets if folder not in self.listed]
            self.call_after_refresh(self._after_first_frame, folders)
            return
        self.live.clear(self.form.config)
        for line in self.start_problems:
            self.run_log.add(f"config not loaded: {line}")
        if self.start_problems:
            self.notify("\n".join(self.start_problems), title="Config file refused; using defaults",
                        severity="error")
        self.form.validate()
        self.form.rows[0].editor.focus()
        self.call_after_refresh(self._after_first_frame, folders)

    def on_resize(self, event: events.Resize) -> None:
        self._fit_tab_titles(event.size.width)

    def _fit_tab_titles(self, width: int) -> None:
        """The pictures' short tab titles below 120 columns, so more tabs fit beside the form (the
        tab bar scrolls to its active tab, see ``keep_active_tab_centered``)."""
        if not self.tabs.children:
            return
        for view in VIEW_TABS.values():
            if view.short:
                self.tabs.get_tab(view.tab).label = view.short if width < 120 else view.title

    def _after_first_frame(self, folders: list[Path]) -> None:
        """Load torch (unless only watching) and follow the runs folder in threads, once the first
        frame is on screen; the runs to watch open; a --config with code from elsewhere asks
        first. Garbage collections, held by the command until now, resume."""
        resume_collections()
        keep_active_tab_centered(self.tabs)
        self._fit_tab_titles(self.size.width)
        if not self.watch_only:
            self._load_engine()
        self._follow_runs_folder(folders)
        if self.watch_targets:
            self.watch(group_runs(self.watch_targets)[0])
        if self.held_config is not None:  # --config with a loss file from elsewhere: ask first
            self._load_if_trusted(self.config_path, self.held_config)

    def offer_views(self, config: Config | None) -> None:
        """Offer the picture tabs that fit ``config`` (its task's Boundary, Fit or Arena, and an
        MLP's Network) and the result tabs its runs have (Model, Confusion, Mistakes), hide the
        others; nothing changes for an invalid form (None)."""
        if config is None:
            return
        self.offered_views = config.views
        self.offered_results = [name for name, result in RESULT_TABS.items() if result.offered(config)]
        self._show_view_tabs()

    def _show_view_tabs(self) -> None:
        """Show the offered tabs and hide the other pictures' and results' tabs (once the tabs are
        composed: on a busy machine the form can check itself before)."""
        if not self.tabs.children:
            self.tabs.call_after_refresh(self._show_view_tabs)
            return
        pictures = [view.tab for name, view in VIEW_TABS.items() if name in self.offered_views]
        offered = pictures + [RESULT_TABS[name].tab for name in self.offered_results]
        for tab in offered:
            self.tabs.show_tab(tab)
        hidden = [tab for tab in [view.tab for view in VIEW_TABS.values()]
                  + [result.tab for result in RESULT_TABS.values()] if tab not in offered]
        if self.tabs.active in hidden:  # on a tab no longer offered: the first picture offered, or Charts
            self.tabs.active = pictures[0] if pictures else "tab-charts"
        for tab in hidden:
            self.tabs.hide_tab(tab)

    # -- workers: each one's outcome is handled where it is started ----------------------------

    @work(thread=True, group="engine", exit_on_error=False)
    def _load_engine(self) -> None:
        """Warm what every run needs (torch, the engine, torch's optimizer machinery), saying
        what is loading; then offer the devices and let the form ask torch."""
        try:
            devices = warm_engine(partial(self.call_from_thread, setattr, self, "loading"))
        except Exception as error:  # noqa: BLE001 (said in the log and a notice)
            self.call_later(self._engine_failed, error)
        else:
            self.call_later(self._engine_loaded, devices)

    def _engine_loaded(self, devices: list[tuple[str, str]]) -> None:
        self.loading = ""
        self.engine_ready = True
        self.form.set_devices(devices)
        self.form.torch_check = self._torch_check
        self.form.validate()

    def _engine_failed(self, error: Exception) -> None:
        self.loading = ""
        self.run_log.add(f"torch could not be loaded: {error}")
        self.notify(str(error), title="torch could not be loaded", severity="error")

    @work(thread=True, group="history", exit_on_error=False)
    def _follow_runs_folder(self, folders: list[Path]) -> None:
        """Read earlier run folders (``folders``) into History, then look at the runs folder every
        SCAN_INTERVAL seconds for new runs and for the end of those still being written."""
        cancelled = get_current_worker().cancelled_event
        looked = time.monotonic()
        found = self.runs_folder.look(folders)
        self.call_later(self._runs_found, found, True, looked)
        while not cancelled.wait(SCAN_INTERVAL):
            looked = time.monotonic()
            found = self.runs_folder.look()
            if found:
                self.call_later(self._runs_found, found, False, looked)

    def _runs_found(self, found: list[FoundRun], first: bool, looked: float) -> None:
        """List the runs found (the log says why a folder was skipped); in watch mode without
        run folders to watch, open the newest live run, or else the first run that starts (even
        one that ended before the next look). A watched run that ended is shown anew when a look
        begun after its end (``looked``: time.monotonic()) finds it live again: resumed."""
        entries = [RunEntry.from_record(self.number_of(run.path), run.record, run.liveness, run.writer)
                   for run in found if run.record is not None and run.path not in self.own_folders]
        if entries:
            self.history.add(entries)
        self.run_log.add(*(f"skipped run folder {run.path}: {run.problem}" for run in found if run.record is None))
        last = self.last_job
        # (Only a look begun after the watched run's end can find it resumed: one begun before
        # found it live, as it was.)
        if (self.job is None and last is not None and last.watched and last.feed.started is not None
                and last.ended_at is not None and looked > last.ended_at):
            resumed = [run.path for run in found if run.live and run.path == last.feed.started.run_dir]
            if resumed:  # the run shown was resumed: shown anew
                self.watch(group_runs(resumed)[0])
        if not self.waiting_for_run:
            return
        shown = newest(found, live=first)
        if shown is not None:
            self.watch(shown)
        elif first:
            self.looked = True
            self.show_idle()
            self.action_show_tab("tab-history")

    def number_of(self, folder: Path) -> int:
        """The run folder's number in this session: those found at the start first (in the order
        the first look lists them: a comparison's in run order), then a new one for each folder."""
        if folder not in self.folder_numbers:
            reserved = next(self.reserved, None) if folder in self.listed else None
            if reserved is None:
                reserved, self.next_number = self.next_number, self.next_number + 1
            self.folder_numbers[folder] = reserved
        return self.folder_numbers[folder]

    # -- watching runs another process trains ----------------------------------------------------

    def watch(self, folders: list[Path]) -> None:
        """Show the run in ``folders`` (a comparison: its runs, in order), which another process
        trains, as the app shows its own runs, once each folder has its config."""
        if self.job is not None and not self.job.watched:
            self.notify(f"{self.job.name} is training here: watch another run once it ended (ctrl+t stops it).")
            return
        if self.waiting_for_run or self.tabs.active == "tab-history":
            self.action_show_tab("tab-charts")
        self.waiting_for_run = False
        self.readouts.status.show("starting", f"reading {folders[0]}" + (f" and {len(folders) - 1} more"
                                                                        if len(folders) > 1 else ""))
        self._open_watched(folders)

    @work(thread=True, group="watch", exclusive=True, exit_on_error=False)
    def _open_watched(self, folders: list[Path]) -> None:
        """Read the folders until each has its config (a run just started may not have it yet)."""
        try:
            opened = open_runs(folders, get_current_worker().cancelled_event)
        except UserFacingError as error:
            self.call_later(self._watch_failed, folders, error)
            return
        if opened is not None:
            self.call_later(self._watch_opened, opened)

    def _watch_opened(self, opened: Opened) -> None:
        if self.job is not None and not self.job.watched:
            return  # a run of this session started meanwhile
        runs = [LiveRun.of(self.number_of(folder), run) for folder, run in zip(opened.folders, opened.runs)]
        restart = partial(self.call_later, self.watch, opened.folders)  # a resumed run rewrote a folder
        self.live.start(Job(runs, Following(opened, restarted=restart)))

    def _watch_failed(self, folders: list[Path], error: UserFacingError) -> None:
        if self.job is not None:
            return
        self.readouts.status.show("failed", f"cannot watch {folders[0]}: {error}")
        self.readouts.show_message(f"cannot watch {folders[0]}: {error}")
        self.run_log.add(f"cannot watch {folders[0]}: {error}")

    def on_run_list_open(self, message: RunList.Open) -> None:
        """Enter on a History row: watch a run another process writes (in watch mode any run: an
        ended one shows whole, with its ending); tick any other."""
        entry = self.history.entries.get(message.number)
        if entry is None:
            return
        if entry.path is not None and (entry.live or self.watch_only):
            self.watch(group_runs([entry.path])[0])
        else:
            self.history.runs.toggle(message.number)

    def on_key(self, event: events.Key) -> None:
        """A key of a control that acts on a run (stop, pause...), pressed while the app watches a
        run another process trains: why it does nothing, and what would."""
        job = self.job
        if job is None or not job.watched:
            return
        control = next((c for c in CONTROLS if c.key == event.key and c.action in RUN_ACTIONS), None)
        if control is not None:
            event.stop()
            self.notify(self.live.watched_notice(), title=f"{control.title}: not from here", severity="warning")

    def _torch_check(self, config: Config) -> list:
        """What torch refuses in the form's config. A loss or model file of your own not imported
        yet (or changed since) is imported once, in a worker thread; the form is checked again
        when it is done, and shows what the import raised under the file's field."""
        from tui_trainer.engine.checks import torch_problems
        from tui_trainer.engine.components import user_class_imported

        for field, name in user_classes(config):
            if not user_class_imported(name) and (field, name) not in self.user_imports:
                self.user_imports.add((field, name))
                self._import_user_class(field, name)
        return torch_problems(config, import_user_loss=False)

    @work(thread=True, group="user imports", exit_on_error=False)
    def _import_user_class(self, field: str, name: str) -> None:
        """Import a loss or model file of your own (what it raises is kept for the form to show)."""
        from tui_trainer.engine.components import load_user_class

        try:
            load_user_class(field, name)
        finally:
            self.call_later(self._user_class_imported, field, name)

    def _user_class_imported(self, field: str, name: str) -> None:
        self.user_imports.discard((field, name))
        self.form.validate()  # the import's outcome is cached now: the form shows it

    @work(thread=True, group="files", exit_on_error=False)
    def _write_file(self, what: str, write: Callable[[], Path]) -> None:
        """Write a script, a model or a picture; the log and a notice say where, or why not."""
        try:
            path = write()
        except Exception as error:  # noqa: BLE001 (said in the log and a notice)
            self.call_later(self._file_failed, what, error)
        else:
            self.call_later(self._file_written, what, path)

    def _file_written(self, what: str, path: Path) -> None:
        hint = {"script": f"run it with: python {path}", "model": "load it with torch.load(weights_only=True)",
                "picture": "the charts, and the task's picture when it has one"}[what]
        self.run_log.add(f"{what} written to {path}")
        self.notify(f"{path}\n{hint}", title=f"{what.capitalize()} written")

    def _file_failed(self, what: str, error: Exception) -> None:
        text = "\n".join(map(str, error.problems)) if isinstance(error, ConfigError) else str(error)
        doing = WRITING[what]
        self.run_log.add(f"{doing} failed: {text}")
        self.notify(text, title=f"{doing.capitalize()} failed", severity="error")

    # -- the form and the status ----------------------------------------------------------------

    def on_config_form_validated(self, event: ConfigForm.Validated) -> None:
        """Keep the status true to the form while no run goes: invalid while a field is, ready
        once fixed; a finished run's status stays until the form differs from its config. While
        one run goes (or is paused), a changed learning rate, momentum, betas, weight decay or
        number of epochs goes to it, from its next step on (not to a run another process trains).
        Watch mode has no form."""
        if self.watch_only:
            return
        self.model_panel.follow(event.config, self.engine_ready)
        if self.job is not None and event.config is not None:
            self.live.change(event.config)
        if self.job is not None or self.starting:
            return
        last = self.last_job
        if event.config is not None and last is not None and event.config == last.config \
                and self.readouts.status.state not in IDLE:
            return
        self.show_idle()
        self.readouts.mark_stale(last.number if last is not None else None)
        self.offer_views(event.config)

    def watch_loading(self, loading: str) -> None:
        if self.is_mounted and self.readouts.status.state in IDLE:
            self.show_idle()

    def show_idle(self) -> None:
        """The status while no run goes: invalid, loading (what) or ready (in watch mode: ready,
        waiting for a run to watch)."""
        if self.watch_only:
            if self.looked:
                self.readouts.status.show("ready", "no run is being written: the first to start shows here")
            else:
                self.readouts.status.show("loading", f"looking for runs in {self.runs_dir}")
            return
        config, problems = self.form.config, self.form.problems
        if config is None:
            self.readouts.status.show("invalid", f"{len(problems)} problem(s): {problems[0]}" if problems else "")
        elif self.loading:
            self.readouts.status.show("loading", f"{self.loading}; ctrl+r trains {config.task.name} once it is in"
                                      f" · {pace_text(self.paces.of(config))}")
        else:
            pace, task = pace_text(self.paces.of(config)), config.task.name
            self.readouts.status.show("ready", f"ctrl+r trains {task} · {pace} (ctrl+b / ctrl+f)",
                                      f"^r trains {task} · {pace} (^b/^f)", f"^r: {task} · {pace} (^b/^f)",
                                      f"^r trains at {pace} (^b/^f)",
                                      f"{pace} (^b/^f)")

    # -- messages from the bridges of a job's runs ------------------------------------------------

    def on_run_began(self, message: RunBegan) -> None:
        self.live.began(message)

    def on_run_errored(self, message: RunErrored) -> None:
        self.live.errored(message)

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        """A picture's tab shown: its run's newest picture at once (a run that ended too); the
        Network tab takes the focus (its arrow keys select a neuron). In watch mode, History's
        list takes the keys (enter opens a run)."""
        self.live.tab_shown(event.pane.id)
        self.refresh_bindings()  # pgdn / pgup page the Mistakes tab only while it shows
        # Not once passed by (ctrl+l pressed on): focusing a widget of another tab shows that tab,
        # so the focus moves now (Widget.focus moves it later, when another tab may show).
        if event.pane.id == VIEW_TABS["network"].tab == self.tabs.active:
            self.screen.set_focus(self.views["network"].canvas)
        if self.watch_only and event.pane.id == "tab-history" == self.tabs.active:  # (not passed by since)
            self.screen.set_focus(self.history.runs)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """Another run highlighted in a comparison's leaderboard: its picture and outcome show."""
        if event.data_table is self.leaderboard:
            self.live.highlighted()

    # -- actions ------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Dim the controls that do nothing right now (for a run another process trains: those
        that act on a run, and writing into its folder); while a dialog (or the command palette)
        is open its own keys go first (ctrl+r there races, not runs), and no other dialog opens
        over it. Watch mode offers no training and no writing."""
        if isinstance(self.screen, ModalScreen) and action in MODAL_BLOCKED:
            return False
        if self.watch_only and action in NOT_WATCHING:
            return False
        running = self.job is not None
        watched = running and self.job.watched
        if action in RUN_ACTIONS and watched:
            return None  # pressed, it says why (on_key)
        shown = self.job or self.last_job
        if action in ("save_picture", "save_model") and shown is not None and shown.watched:
            return None  # the run shown is another process's: its folder is not the app's to write
        if action in ("stop", "pause"):
            return True if running else None
        if action == "new_run":
            return None if running and not watched else True
        if action in ("run", "compare", "lr_find"):
            return None if running else True
        if action == "stop_one":
            return True if running and self.job.compared else None
        if action == "save_model":
            return None if running or self.last_trainer is None else True
        if action == "page":  # dimmed: pgdn / pgup go on to the focused widget (scrolling the form)
            return True if self.tabs.active == RESULT_TABS["mistakes"].tab else None
        return True

    def action_command_palette(self) -> None:
        """Open the command palette, unless it is open already (under a dialog opened from it,
        where Textual would open a second one and fail on its fixed id)."""
        if not any(isinstance(screen, CommandPalette) for screen in self.screen_stack):
            super().action_command_palette()

    def action_run(self, step: str | None = None) -> None:
        """Start a run with exactly what the form shows, once every change still on its way
        (keys typed just before, a recipe being mounted) has been applied; not while a run is
        going or a field is invalid. ``step`` (``epoch`` or ``batch``): the run pauses after its
        first epoch or step."""
        if self.job is not None or self.starting:
            self.notify("A run is going: ctrl+t stops it, ctrl+g pauses it.")
            return
        self.starting = True
        self._start_when_settled(step)

    def action_step(self, unit: str) -> None:
        """Train one more epoch (``epoch``) or optimizer step (``batch``), then pause: every run
        of the job going; with none, a new run that pauses after its first."""
        if self.job is None:
            self.action_run(step=unit)
        else:
            self.live.step(unit)

    def action_pace(self, faster: bool) -> None:
        """Watch at the next faster or slower pace: the job going (every run) and the session's
        next runs like it (``pacing``); between runs, the next run."""
        job = self.job
        config = job.config if job is not None else self.form.config
        if config is None:
            self.notify("Fix the form first: the pace depends on the task.")
            return
        pace = shifted(job.control.pace if job is not None else self.paces.of(config), unit(config), faster)
        self.paces.choose(config, pace)
        if job is not None:
            self.live.set_pace(pace)
        elif self.readouts.status.state in IDLE:
            self.show_idle()
        self.notify(f"{pace_text(pace)} for runs of {config.task.name}" + ("" if group(config) is None else
                    f" and tasks like it ({group(config)} view)"), title="Pace", timeout=2)

    def action_smoothing(self) -> None:
        """Smooth the loss and score curves more (after the strongest: not at all)."""
        weight = self.charts.next_smoothing()
        self.notify(f"smoothing {weight:g}" if weight else "not smoothed", title="Curves", timeout=2)
        self.action_show_tab("tab-charts")

    @work(group="start", exit_on_error=False)
    async def _start_when_settled(self, step: str | None = None) -> None:
        try:
            config = await self.form.settle()
        finally:
            self.starting = False
        if config is None:  # point at the first invalid field
            problems = self.form.problems
            self.readouts.status.show("invalid", f"{len(problems)} problem(s): {problems[0]}")
            row = self.form.first_invalid()
            if row is not None:
                row.editor.focus()
            return
        job = Job.single(self.next_number, config, self._training())
        if step is not None:
            job.step(step)
        self.live.start(job)
        self.next_number += 1

    def _training(self) -> Training:
        """The feed source of a job trained here."""
        return Training(self.runs_dir, self.report_interval)

    def action_compare(self) -> None:
        """Ask what to vary, then race those runs of the form's config side by side."""
        if self.job is not None or self.starting:
            self.notify("A run is going: ctrl+t stops it, ctrl+g pauses it.")
            return
        config = self._valid_config("compare")
        if config is not None:
            self.push_screen(CompareDialog(config), self._start_race)

    def _start_race(self, runs: list[PlannedRun] | None) -> None:
        if runs:
            self.live.start(Job.comparison(self.next_number, runs, self._training()))
            self.next_number += len(runs)

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
        self._find_lr(config)

    @work(thread=True, group="lr-find", exit_on_error=False)
    def _find_lr(self, config: Config) -> None:
        from tui_trainer.engine.lrfind import find_lr

        try:
            result = find_lr(config)
        except Exception as error:  # noqa: BLE001 (said in the log and the status)
            self.call_later(self._lr_failed, error)
        else:
            self.call_later(self._lr_found, result)

    def _lr_failed(self, error: Exception) -> None:
        text = "\n".join(map(str, error.problems)) if isinstance(error, ConfigError) else str(error)
        self.run_log.add(f"learning-rate finder failed: {text}")
        self.readouts.status.show("failed", f"learning-rate finder: {text}")

    def _lr_found(self, result) -> None:
        self.show_idle()
        self.run_log.add(f"learning-rate finder: suggested {number(result.suggestion, 3)} ({result.rule})"
                         if result.suggestion else "learning-rate finder: no suggestion")

        def use(lr: float | None) -> None:
            if lr is not None:
                self.form.set_value("optimizer.lr", float(f"{lr:.3g}"))
                self.notify(f"learning rate set to {lr:.3g}", title="Learning rate")

        self.push_screen(LrFindDialog(result), use)

    def action_stop_one(self) -> None:
        """Stop the run highlighted in the leaderboard; the others go on."""
        if not self.live.stop_one():
            self.notify("ctrl+k stops one run of a comparison (highlight it in the leaderboard); "
                        "ctrl+t stops every run.")

    def action_stop(self) -> None:
        """Stop the run after its current step; its history stays on disk."""
        self.live.stop()

    def action_pause(self) -> None:
        """Pause the run before its next step, or let a paused run go on."""
        self.live.pause()

    def action_new_run(self) -> None:
        """Clear the live panels for the next run (stop watching a run another process trains);
        the history stays."""
        self.live.unwatch()
        if self.job is not None:
            self.notify("Stop the run first (ctrl+t).")
            return
        self.run_log.clear()
        self.live.show_leaderboard(False)
        self.live.clear(self.form.config)

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

        def load(path: Path | None) -> None:
            if path is None:
                return
            try:
                config = load_config(path)
            except ConfigError as exc:
                self.notify("\n".join(str(p) for p in exc.problems), title=f"{path} not loaded",
                            severity="error")
                return
            self._load_if_trusted(path, config)

        self.push_screen(PathDialog("Load config (TOML) from:", self.config_path or DEFAULT_CONFIG_FILE), load)

    def _load_if_trusted(self, path: Path, config: Config) -> None:
        """Fill the form from ``config`` (read from ``path``), after asking when it names a loss
        or model file from elsewhere: the form imports it (runs its code) as soon as it shows it."""

        async def fill(trusted: bool | None = True) -> None:
            if not trusted:
                self.notify(f"{path} not loaded: its code was not trusted", title="Config not loaded")
                return
            self.config_path = path
            await self.form.load(config)
            self.notify(str(path), title="Config loaded")

        problem = foreign_code(config_code(config), path)
        if problem is None:
            self.call_later(fill)
        else:
            self.push_screen(ConfirmDialog("Run code from this config?", problem.replace(
                f"give {TRUST_FLAG} to run it", "load it only if you trust it."), "Load and run it"), fill)

    def action_export_script(self) -> None:
        """Write a standalone PyTorch script of the form's (valid) config; the log says where."""
        config = self._valid_config("export")
        if config is None:
            return

        def export(path: Path | None) -> None:
            if path is not None:
                self._write_file("script", partial(_write_script, config, path))

        self.push_screen(PathDialog("Export a standalone PyTorch script to:", DEFAULT_SCRIPT_FILE), export)

    def action_save_model(self) -> None:
        """Save the last finished run's model, optimizer state and config as model.pt in its folder."""
        if self.job is not None:
            self.notify("A run is going: save its model once it ends (ctrl+t stops it).")
            return
        if self.last_trainer is None:
            self.notify("No run has ended yet: ctrl+r starts one.")
            return
        self._write_file("model", partial(_save_model, self.last_trainer))

    def action_save_picture(self) -> None:
        """Draw the run going (or the last one that ended) into a PNG: ``plot.png`` in its run
        folder (a comparison: ``compare.png`` beside its run folders), under a fresh name when
        that file exists; the log and a notice say where."""
        job = self.job or self.last_job
        if job is None:
            self.notify("No run yet: ctrl+r starts one.")
            return
        runs = [run for run in job.runs if run.feed.started and run.feed.started.run_dir]
        if not runs:
            self.notify("The run has no folder yet: save its picture once it started.")
            return
        # The newest live pictures: a run still going has none in its folder yet, and the
        # network's is never kept there.
        kept = job.config.view if self.job is None else None
        pictures = {run.feed.started.run_dir: [frame for view, request in run.requests.items()
                                               if view != kept and (frame := request.take()) is not None]
                    for run in runs}
        run_dirs = [run.feed.started.run_dir for run in runs]
        target = run_dirs[0] / "plot.png" if len(run_dirs) == 1 else run_dirs[0].parent / "compare.png"
        self._write_file("picture", partial(_save_picture, run_dirs, fresh_path(target), pictures))

    def action_quit(self) -> None:
        """Quit: a run going stops as interrupted and is kept (see ``quit_with``)."""
        self.quit_with(0)

    def quit_on_signal(self, signum: int) -> None:
        """SIGINT, SIGTERM or SIGHUP from outside: quit as ctrl+q does, exiting with 130 (129 for
        SIGHUP). When the terminal hung up (a dropped SSH session), the app no longer draws or
        reads: it stops the run, lets it write its ending and exits."""
        hang_up = getattr(driver_of(self), "hang_up", None)  # TerminalDriver's
        if signum == signal.SIGHUP and hang_up is not None and terminal_gone():
            hang_up()
        self.quit_with(exit_code_for(signum))

    def quit_with(self, code: int) -> None:
        """Quit with exit code ``code``. A job going stops as interrupted after its current step,
        without the final evaluation, and the app exits once it wrote its summary (and once a
        file being saved is written); asked again meanwhile, it quits at once."""
        busy = [worker for worker in self.workers
                if worker.group in ("runs", "files") and not worker.is_finished]
        if self.quitting or not busy:
            self.quitting = True
            self.live.interrupt()
            self.exit(return_code=code)
            return
        self.quitting = True
        self.live.quitting()
        self._quit_after(busy, code)

    @work(group="quit", exit_on_error=False)
    async def _quit_after(self, workers: list, code: int) -> None:
        while not all(worker.is_finished for worker in workers):
            await asyncio.sleep(0.01)
        self.exit(return_code=code)

    def on_unmount(self) -> None:
        self.live.interrupt()

    def action_next_tab(self) -> None:
        """Show the next tab: Charts, Log, History, Layers, System, the run's pictures (Boundary,
        Fit or Arena; Network), and the result tabs the task has (Model, Confusion, Mistakes)."""
        tabs = ["tab-charts", "tab-log", "tab-history", "tab-layers", "tab-system"]
        tabs += [VIEW_TABS[view].tab for view in VIEW_TABS if view in self.offered_views]
        tabs += [RESULT_TABS[name].tab for name in self.offered_results]
        at = tabs.index(self.tabs.active) if self.tabs.active in tabs else -1
        self.action_show_tab(tabs[(at + 1) % len(tabs)])

    def action_show_tab(self, tab: str) -> None:
        """Show one tab (``tab-charts``, ``tab-log``, ``tab-history``, ``tab-layers``,
        ``tab-system``, ``tab-boundary``, ``tab-fit``, ``tab-arena`` or ``tab-network`` when the
        run has that picture, and ``tab-model``, ``tab-confusion`` and ``tab-mistakes`` when its
        runs have them)."""
        view, result = view_of_tab(tab), result_of_tab(tab)
        if view is not None and view not in self.offered_views:
            tasks = ", ".join(name for name, spec in TASKS.items() if spec.view == view)
            shows = f"the tasks {tasks} (choose one as the task)" if tasks else VIEWS[view].shows
            self.notify(f"The {view} view shows {shows}.", title=f"No {view} view for this run")
            return
        if result is not None and result not in self.offered_results:
            title = RESULT_TABS[result].title
            self.notify(f"The {title} tab shows {RESULT_TABS[result].shows} (choose one as the task).",
                        title=f"No {title} tab for this task")
            return
        self.tabs.active = tab

    def on_network_canvas_chosen(self, event: NetworkCanvas.Chosen) -> None:
        """Enter (or a double click) on a neuron of the Network tab: its picture large."""
        self.action_show_neuron(event.neuron)

    def action_show_neuron(self, neuron: tuple[int, int] | None = None) -> None:
        """Show neuron ``neuron`` (column, neuron) of the Network tab large: in the Boundary tab
        when the task has one, else in place of the network; None: the network again."""
        network = self.views["network"]
        if neuron is not None and not network.has_pictures:
            self.notify("Neurons have pictures on tasks of 2-D points (the playground's tasks, the "
                        "spiral); here each shows its mean value on the training data.", title="No picture")
            return
        host = next((name for name in self.offered_views if VIEW_TABS[name].hosts_neurons), None)
        if host is not None and (neuron is not None or self.views[host].neuron is not None):
            panel = self.views[host]
            network.large = panel.canvas.grid if neuron is not None else None
            panel.show_neuron(neuron, network.neuron_name(), network.canvas.frame)
            self.action_show_tab(VIEW_TABS[host if neuron is not None else "network"].tab)
            (panel.canvas if neuron is not None else network.canvas).focus()
        else:
            network.show_large(neuron is not None)

    def action_page(self, step: int) -> None:
        """Mistakes tab: the next (1) or previous (-1) page of misclassified samples."""
        self.results["mistakes"].page(step)

    def action_toggle_validation(self) -> None:
        """Boundary view: draw the validation samples too, or only the training samples; the
        Confusion and Mistakes tabs: show the test set's, or the validation set's."""
        outcome = result_of_tab(self.tabs.active)
        if outcome in self.outcomes:  # its caption says which set shows
            self.outcomes[outcome].switch_split()
            return
        if "boundary" not in self.offered_views:
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

    def action_show_help_panel(self) -> None:
        """Show the keys panel: the focused field's help, then every key (the app's first)."""
        if not self.screen.query("HelpPanel"):
            from tui_trainer.app.keyshelp import KeysHelpPanel  # (its Markdown parser: not before the first frame)

            self.screen.mount(KeysHelpPanel())

    def action_explain_field(self) -> None:
        """Show the focused field's whole help in a dialog (f9 again closes it)."""
        self.form.explain_whole()

    def action_focus_section(self, section: str) -> None:
        """Move the focus to the first field of the form's section ``section`` (``optimizer``)."""
        self.form.focus_section(section)

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


def _write_script(config: Config, path: Path) -> Path:
    from tui_trainer.engine.checks import check
    from tui_trainer.export.script import write_script

    check(config, import_user_loss=False)  # the script imports a loss or model file; exporting runs none
    return write_script(config, path)


def _save_model(trainer: Trainer) -> Path:
    from tui_trainer.engine.checkpoint import save_checkpoint

    return save_checkpoint(trainer)


def _save_picture(run_dirs: list[Path], path: Path, pictures: dict) -> Path:
    from tui_trainer.export.plot import plot_runs

    return plot_runs(run_dirs, path, pictures=pictures)
