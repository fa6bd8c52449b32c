"""Runs another process trains, shown as the app shows its own: ``tui-trainer watch`` and the
History tab's live rows (``train``, ``compare``, ``lab``, a torchrun job's rank 0, another app).

``Following`` is the feed source of a watched job: on the job's worker thread it polls each run
folder's ``engine.follow.RunFollower`` every POLL_INTERVAL seconds and gives the run's bridge the
engine's events read back from the files, so the app shows the run as one it trains itself;
the machine's samples go to the feed, the picture a run leaves at its end to its view. A run
whose writer died ends as ``lost`` with the follower's reason. Nothing is written into a folder.

``open_runs`` reads the folders a job will show until each has its config (on a thread), and
``RunsFolder`` lists what a runs folder holds and which of its runs are still being written.
"""

from __future__ import annotations

import math
import os
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from tui_trainer.compare import PlannedRun, differing_assignments
from tui_trainer.config import to_dict
from tui_trainer.engine.events import FinalMetrics, RunResult, RunStarted
from tui_trainer.engine.follow import (
    ENDED, LIVE, LOST, WAITING, Liveness, RunFollower, ViewChanged, group_runs, liveness_of, replay,
)
from tui_trainer.engine.rundir import RunRecord, list_runs, read_run
from tui_trainer.engine.runinfo import RUN_INFO_FILE, RaceSeat, RunFolderRefused, RunInfo, read_run_info
from tui_trainer.engine.system import SystemSample
from tui_trainer.errors import UserFacingError

if TYPE_CHECKING:
    from tui_trainer.app.bridge import MessageBridge
    from tui_trainer.app.runs import Job, LiveRun

#: Seconds between two looks at a watched folder: a new epoch is on screen within this and the
#: app's redraw tick (0.5 s), well under a second. A look reads only what was appended.
POLL_INTERVAL = 0.2
#: Seconds between two looks at the runs folder for new runs and runs that ended (History).
SCAN_INTERVAL = 2.0
#: What a lost run's result says it ended as (the status shows it as such).
LOST_REASON = "lost"


def writer_text(info: RunInfo | None) -> str:
    """Who writes a run folder: ``process 1234 on gpu-box`` (``torchrun's rank 0 of 4, ...``)."""
    if info is None:
        return "an older tui-trainer (its process is not recorded)"
    writer = info.writer
    ranks = f"torchrun's rank 0 of {info.world}, " if info.world > 1 else ""
    return f"{ranks}process {writer.pid} on {writer.host}"


def stop_hint(info: RunInfo | None) -> str:
    """How to stop the run where it runs."""
    if info is None:
        return "Stop it where it runs (ctrl+c in its terminal)."
    where = "" if info.writer.on_this_machine() else f" on {info.writer.host}"
    return f"Stop it where it runs: ctrl+c in its terminal, or kill -INT {info.writer.pid}{where}."


def own_folder(info: RunInfo | None) -> bool:
    """Whether this process writes the folder (a run the app trains itself)."""
    return info is not None and info.writer.pid == os.getpid() and info.writer.host == socket.gethostname()


# -- a watched job's feeds --------------------------------------------------------------------------


@dataclass
class Opened:
    """Run folders ready to be shown as one job: their followers (each has read the folder's
    config), the events their first looks gave, and the runs as a comparison plans them (what
    each varies, when several raced)."""

    followers: list[RunFollower]
    first: list[list[Any]]
    runs: list[PlannedRun]

    @property
    def folders(self) -> list[Path]:
        """The job's run folders, in run order."""
        return [follower.folder for follower in self.followers]


def open_runs(folders: list[Path], cancelled: threading.Event, interval: float = POLL_INTERVAL) -> Opened | None:
    """Follow ``folders`` (a run, or a comparison's runs in order) until each has its config
    (a run just started may not have written it yet); None when ``cancelled`` first. Raises
    RunFolderRefused (a folder of another format, damaged) or UserFacingError (no such folder, or
    a folder whose writer died before it wrote a run)."""
    followers = [RunFollower(folder) for folder in folders]
    first: list[list[Any]] = [[] for _ in followers]
    while True:
        for follower, events in zip(followers, first):
            if follower.config is None:
                events += follower.poll()
                if follower.config is None and follower.liveness.state == LOST:
                    raise UserFacingError(f"{follower.folder}: {follower.liveness.reason}")
        if all(follower.config is not None for follower in followers):
            break
        if cancelled.wait(interval):
            return None
    configs = [follower.config for follower in followers]
    varied = differing_assignments([to_dict(config) for config in configs]) if len(configs) > 1 else [()]
    runs = [PlannedRun(i + 1, assignments, config) for i, (assignments, config) in enumerate(zip(varied, configs))]
    return Opened(followers, first, runs)


@dataclass
class Following:
    """Fills a job's feeds from run folders another process writes (see the module's docstring).
    ``restarted`` is called (on the worker's thread) when a resumed run rewrote a folder: the
    job is shown anew from the start, and this one waits to be cancelled."""

    opened: Opened
    restarted: Callable[[], None] = lambda: None
    interval: float = POLL_INTERVAL
    trainer = None
    watched = True

    def fill(self, job: Job, bridges: list[MessageBridge]) -> list[RunResult]:
        cancelled = bridges[0].cancelled
        followers = self.opened.followers
        for follower, run in zip(followers, job.runs):
            run.feed.writer = follower.info
        pending: list[list[Any] | None] = list(self.opened.first)
        results: list[RunResult | None] = [None] * len(followers)
        while True:
            for i, (follower, run, bridge) in enumerate(zip(followers, job.runs, bridges)):
                if results[i] is not None:
                    continue
                events, pending[i] = (pending[i] if pending[i] is not None else follower.poll()), None
                if run.feed.started is not None and any(isinstance(e, RunStarted) for e in events):
                    self.restarted()
                    cancelled.wait()
                    return []
                _hand(events, run, bridge)
                run.feed.liveness = follower.liveness
                if follower.result is not None:
                    results[i] = follower.result
                elif follower.liveness.state == LOST:
                    results[i] = lost_result(follower, run)
            if all(result is not None for result in results):
                return results
            if cancelled.wait(self.interval):
                return []


def _hand(events: list[Any], run: LiveRun, bridge: MessageBridge) -> None:
    """Give the run's bridge the engine's events; the machine's samples to its feed; the picture
    the run left to its view."""
    replay(events, bridge)
    for event in events:
        if isinstance(event, SystemSample):
            run.feed.system.append(event)
        elif isinstance(event, ViewChanged) and (request := run.request(run.run.config.view)) is not None:
            frame = _picture(event.data)
            if frame is not None:
                request.post(frame)


def _picture(data: dict[str, Any]) -> Any:
    """A run folder's picture (view.json) as the app's panels draw it (None when it is not one).
    The frames' reader lives with the torch code that makes them: imported on the worker's
    thread, at the end of a run with a picture."""
    from tui_trainer.engine.views import frame_from_json

    try:
        return frame_from_json(data)
    except ValueError:
        return None


def lost_result(follower: RunFollower, run: LiveRun) -> RunResult:
    """How a run whose writer died ends here: ``lost``, the follower's reason as its message, the
    figures of its last finished epoch as its last ones."""
    history = list(follower.history)
    last = history[-1] if history else None
    final = FinalMetrics(**{name: getattr(last, name) for name in ("train_loss", "val_loss", "train_accuracy",
                                                                    "val_accuracy", "train_r2", "val_r2")}
                         ) if last else FinalMetrics()
    started = follower.started
    return RunResult(config=follower.config, reason=LOST_REASON, message=follower.liveness.reason,
                     epochs_run=last.epoch if last else 0, history=history, final=final, parameters=None,
                     param_count=started.param_count if started else 0,
                     device=started.device if started else "", device_name=started.device_name if started else "",
                     seconds=run.feed.elapsed, samples_per_second=last.samples_per_second if last else math.nan,
                     run_dir=follower.folder, steps=list(follower.steps), class_names=started.class_names if started else None)


# -- a runs folder ----------------------------------------------------------------------------------


@dataclass
class FoundRun:
    """A run folder of the runs folder: what it holds (None when it cannot be read: ``problem``
    says why), whether its writer is still there, and its writer's description."""

    path: Path
    record: RunRecord | None
    liveness: Liveness | None
    writer: str = ""
    problem: str = ""
    race: RaceSeat | None = None

    @property
    def live(self) -> bool:
        """Whether another process is still writing the run."""
        return self.liveness is not None and self.liveness.state in (LIVE, WAITING)


@dataclass
class RunsFolder:
    """What a runs folder holds, looked at again and again (on a thread): ``look`` gives the run
    folders not seen before (a run this process is training is left out until it ended: the app
    lists its own runs as they end) and, again, those that were live at the last look (to show
    their progress and their end). Reads the folders' files; writes nothing."""

    path: Path
    seen: dict[Path, int | None] = field(default_factory=dict)  # each folder's run.json as read (mtime)
    live: set[Path] = field(default_factory=set)

    def look(self, folders: list[Path] | None = None) -> list[FoundRun]:
        """The runs new since the last look (``folders``: these, in order, instead of the folder's
        listing), those whose run.json was written again (a resumed run) and the live ones again."""
        found = []
        for folder in (folders if folders is not None else list_runs(self.path)):
            if folder in self.seen and self.seen[folder] == _stamp(folder):
                continue
            run = self._read(folder)
            if run is not None:
                found.append(run)
        for folder in sorted(self.live - {run.path for run in found}):
            run = self._read(folder)
            if run is not None:
                found.append(run)
        return _in_run_order(found)

    def _read(self, folder: Path) -> FoundRun | None:
        try:
            info = read_run_info(folder)
            liveness = liveness_of(folder)
            if own_folder(info) and liveness.state != ENDED:
                return None  # a run the app trains: it lists it when it ends
            record = read_run(folder)
        except (RunFolderRefused, OSError, ValueError) as exc:
            self.seen[folder] = _stamp(folder)
            self.live.discard(folder)
            return FoundRun(folder, None, None, problem=str(exc))
        self.seen[folder] = _stamp(folder)
        run = FoundRun(folder, record, liveness, writer_text(info), race=info.race if info else None)
        (self.live.add if run.live else self.live.discard)(folder)
        return run


def _in_run_order(found: list[FoundRun]) -> list[FoundRun]:
    """The runs by folder name, a comparison's together in run order (where its first is)."""
    first: dict[str, str] = {}
    for run in sorted(found, key=lambda run: run.path.name):
        if run.race is not None:
            first.setdefault(run.race.id, run.path.name)
    return sorted(found, key=lambda run: (first[run.race.id], run.race.run) if run.race else (run.path.name, 0))


def _stamp(folder: Path) -> int | None:
    """When the folder's run.json was last written (None: it has none)."""
    try:
        return (folder / RUN_INFO_FILE).stat().st_mtime_ns
    except OSError:
        return None


def newest(found: list[FoundRun], live: bool = True) -> list[Path] | None:
    """The folders of the newest run among ``found`` (``live``: of those still being written; a
    comparison's: all its runs, in run order), or None when there is none."""
    paths = sorted(run.path for run in found if run.record is not None and (run.live or not live))
    return group_runs(paths[-1:])[0] if paths else None

