"""Follow a run folder that another process writes (``train``, ``compare``, ``lab``, a torchrun
job's rank 0, the app), as ``tail -f`` does: each poll reads only what was appended to
``history.jsonl``, ``steps.jsonl`` and ``system.jsonl`` since the last one (a torn last line
waits for its end), and reads ``run.json``, ``config.toml`` and ``view.json`` again only when
they were replaced. Nothing is ever written into the folder. Torch-free: ``watch`` starts fast.

``RunFollower.poll()`` gives what happened since the last poll as the engine's own events
(``RunStarted``, ``Progress``, ``EpochEnded``, ``ChangeMade``, ``RunEnded``: ``replay`` hands
them to any ``Callback``, such as the app's bridge), plus ``SystemSample`` (the machine beside
the run), ``ViewChanged`` (the run's latest picture) and ``Liveness`` (when the run's state
changes: live, ended, lost).

Liveness: a run with its summary (of the writer's own turn: a resumed run writes a new one) has
ended. Otherwise, on the machine that writes it, the writer's process decides: running (or
stopped with ctrl+z) is live; gone, its number reused, or the machine restarted since, is lost
once the folder has been quiet for a few of the writer's heartbeats. A folder another machine
writes (NFS, sshfs), or one without ``run.json`` (an older tui-trainer), is lost after
``quiet_limit`` with no update: QUIET_LIMIT for a writer with a heartbeat (it appends to
``system.jsonl`` every few seconds, and a shared folder may show a file's growth a minute late),
else a few of its longest epochs. Quiet is measured from the files' modification times until the
follower sees them change, then on this machine's clock (so another machine's clock does not
matter once followed).
"""

from __future__ import annotations

import json
import math
import os
import time
import tomllib
from dataclasses import MISSING, dataclass, fields
from pathlib import Path
from typing import Any, Iterable

from tui_trainer.changes import EPOCHS_FIELD
from tui_trainer.config import Config, draft, epoch_limit
from tui_trainer.engine.events import (
    Callback, ChangeMade, EpochEnded, EpochMetrics, FinalMetrics, Progress, RunEnded, RunResult,
    RunStarted,
)
from tui_trainer.engine.rundir import (
    CONFIG_FILE, HISTORY_FILE, STEPS_FILE, SUMMARY_FILE, VIEW_FILE, list_runs, read_jsonl,
)
from tui_trainer.engine.runinfo import (
    RUN_INFO_FILE, STARTED_FIELDS, RunFolderRefused, RunInfo, read_run_info,
)
from tui_trainer.engine.system import SYSTEM_FILE, SystemSample
from tui_trainer.errors import UserFacingError, first_line
from tui_trainer.formatting import age

LIVE, ENDED, LOST, WAITING = "live", "ended", "lost", "waiting"
#: A writer on another machine (or of unknown process) with a heartbeat: this long without an
#: update and its run is lost (NFS may show a file's growth up to a minute late).
QUIET_LIMIT = 120.0
#: A writer without a heartbeat (an older tui-trainer writes at epoch ends only): this many of
#: its longest epochs without an update (at least QUIET_LIMIT) ...
QUIET_EPOCHS = 3
#: ... or, before its first epoch, this long.
QUIET_BEFORE_AN_EPOCH = 600.0
#: On the writer's machine, a gone process's run is lost once the folder was quiet this many
#: heartbeats (files still growing mean a writer this machine cannot see: another container).
GONE_AFTER_HEARTBEATS = 2.5
#: A config.toml that cannot be read this many polls in a row refuses the folder.
CONFIG_TRIES = 3
APPENDED = (HISTORY_FILE, STEPS_FILE, SYSTEM_FILE)
REPLACED = (RUN_INFO_FILE, CONFIG_FILE, VIEW_FILE, SUMMARY_FILE)
EPOCH_FIELDS = {f.name for f in fields(EpochMetrics)}
STARTED_REQUIRED = [f.name for f in fields(RunStarted)
                    if f.name in STARTED_FIELDS and f.default is MISSING and f.default_factory is MISSING]
FINAL_FIELDS = {f.name for f in fields(FinalMetrics)}


@dataclass(frozen=True)
class Liveness:
    """Whether a run is ``live``, ``ended``, ``lost`` (its writer died: killed, its machine
    restarted, its SSH session closed) or ``waiting`` (its folder holds no config yet), why in
    words (``reason``: empty for a live run that is fine; ``no update for 2 min; process 1234 is
    gone``), and how long the folder has been ``quiet`` (seconds)."""

    state: str
    reason: str
    quiet: float


@dataclass(frozen=True)
class ViewChanged:
    """The run's latest picture (its ``view.json``, as ``engine.views.frame_from_json`` reads it)."""

    data: dict[str, Any]


class Tail:
    """The lines appended to one file since the last read, as JSON objects. A torn last line waits
    for its end; a damaged line is left out (as ``rundir.read_jsonl`` does)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.rest = b""
        self.identity: tuple[int, int] | None = None

    def read(self) -> list[dict[str, Any]] | None:
        """The new rows; None when the file was replaced or shortened (read it all again)."""
        try:
            with self.path.open("rb") as handle:
                stat = os.fstat(handle.fileno())
                identity = (stat.st_dev, stat.st_ino)
                if self.identity not in (None, identity) or stat.st_size < self.offset:
                    return None
                self.identity = identity
                if stat.st_size == self.offset:
                    return []
                handle.seek(self.offset)
                data = handle.read(stat.st_size - self.offset)
        except FileNotFoundError:
            return None if self.identity is not None else []
        self.offset += len(data)
        *lines, self.rest = (self.rest + data).split(b"\n")
        rows = []
        for line in lines:
            try:
                row = json.loads(line.decode("utf-8", errors="replace"))
            except ValueError:
                continue
            if isinstance(row, dict):
                rows.append(row)
        return rows


class _Whole:
    """A file written whole (replaced, never appended): read again only when it changed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.signature: tuple[int, int, int] | None = None

    def changed(self) -> bytes | None:
        """Its bytes when it changed since the last call (None: unchanged or absent)."""
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            self.signature = None
            return None
        signature = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
        if signature == self.signature:
            return None
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:  # replaced between the two looks: the next poll reads it
            return None
        self.signature = signature
        return data


class RunFollower:
    """Follows one run folder as its writer appends to it; ``poll()`` returns what happened since
    the last poll (see the module's docstring). Raises RunFolderRefused (a UserFacingError
    naming the folder) for a folder this tui-trainer cannot read: another run-folder format, a
    damaged run.json or config.toml, a task it does not know.

    What it has read so far: ``info`` (run.json; None for an older folder), ``config``,
    ``started``, ``history``, ``steps`` (the step curve's points), ``system`` (the latest
    sample), ``result`` (once ended; its confusion matrices and mistakes, which need torch to be
    read back, are left empty: ``summary`` holds the ending as written, its ``confusion`` included)
    and ``liveness`` (as of the last poll)."""

    def __init__(self, folder: str | Path, clock=time.time, monotonic=time.monotonic) -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise UserFacingError(f"{self.folder}: no such run folder")
        self._clock, self._monotonic = clock, monotonic
        self.liveness = Liveness(WAITING, f"waiting for {CONFIG_FILE} in {self.folder}", 0.0)
        self._signature: tuple | None = None
        self._changed_at: float | None = None
        self._start_over()

    def _start_over(self) -> None:
        """Forget what was read (a resumed run rewrote the folder): the next poll starts again."""
        self.info: RunInfo | None = None
        self.config: Config | None = None
        self.config_problems: list[str] = []
        self.started: RunStarted | None = None
        self.history: list[EpochMetrics] = []
        self.steps: list[tuple[int, float]] = []
        self.system: SystemSample | None = None
        self.result: RunResult | None = None
        self.summary: dict[str, Any] | None = None
        self.epochs: int | None = 0  # the run's length now (None: until stopped)
        self._tails = {name: Tail(self.folder / name) for name in APPENDED}
        self._wholes = {name: _Whole(self.folder / name) for name in REPLACED}
        self._pending: dict[str, list[dict[str, Any]]] = {name: [] for name in APPENDED}
        self._made: set[tuple[int, str, str]] = set()
        self._bad_config = 0
        self._last_step = 0

    # -- polling ---------------------------------------------------------------------------------

    def poll(self) -> list[Any]:
        """What happened since the last poll, in order: RunStarted (again after a resumed run
        rewrote the folder: start over), EpochEnded (each after the ChangeMade made in its epoch),
        Progress (where the run stands, with the step curve's new points), SystemSample,
        ViewChanged, RunEnded, and Liveness when the run's state changed."""
        events: list[Any] = []
        summary_there = (self.folder / SUMMARY_FILE).is_file()  # before the tails: they are complete then
        info_bytes = self._wholes[RUN_INFO_FILE].changed()
        if info_bytes is not None:
            info = read_run_info(self.folder)
            if self.info is not None and info is not None and info.writer.session != self.info.writer.session:
                self._start_over()  # a new writer took the folder over (a resumed run)
                self._wholes[RUN_INFO_FILE].changed()
            self.info = info
        config_bytes = self._wholes[CONFIG_FILE].changed()
        if config_bytes is not None or (self.config is None and self._bad_config):
            self._read_config(config_bytes if config_bytes is not None else self._config_bytes())
        rows = {}
        for name, tail in self._tails.items():
            new = tail.read()
            if new is None:  # rewritten (a resumed run cut its history back): read it all again
                self._start_over()
                return [*events, *self.poll()]
            rows[name] = new
        if self.started is None:
            for name in APPENDED:
                self._pending[name] += rows[name]
            if self.config is not None:
                self.started = self._started()
            if self.started is None:
                return self._judge(events)
            events.append(self.started)
            rows, self._pending = self._pending, {name: [] for name in APPENDED}
        points = self._points(rows[STEPS_FILE])
        events += self._epochs(rows[HISTORY_FILE])
        events += self._changes(max(self._last_step, self.history[-1].global_step if self.history else 0))
        events += self._progress(points, rows[SYSTEM_FILE])
        view = self._wholes[VIEW_FILE].changed()
        if view is not None:
            try:
                data = json.loads(view)
            except ValueError:
                data = None
            if isinstance(data, dict):
                events.append(ViewChanged(data))
        if summary_there and self.result is None:
            events += self._end()
        return self._judge(events)

    def _config_bytes(self) -> bytes:
        try:
            return (self.folder / CONFIG_FILE).read_bytes()
        except OSError:
            return b""

    def _read_config(self, data: bytes) -> None:
        path = self.folder / CONFIG_FILE
        try:
            raw = tomllib.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError) as exc:
            self._bad_config += 1
            if self._bad_config >= CONFIG_TRIES and self.config is None:
                raise RunFolderRefused(f"{path} is damaged: {first_line(exc)}") from None
            return  # a config being written in place (an older tui-trainer): the next poll
        self._bad_config = 0
        config, problems = draft(raw)
        if config is None:
            raise RunFolderRefused(f"{path}: {problems[0]} (written by another version of tui-trainer?)")
        self.config, self.config_problems = config, [str(p) for p in problems]

    def _started(self) -> RunStarted | None:
        """The run as it started: from run.json, or for an older folder from its files (None until
        they say how many steps an epoch has)."""
        if self.info is not None:
            known = self.info.started
            missing = [name for name in STARTED_REQUIRED if name not in known]
            if missing:
                raise RunFolderRefused(f"{self.folder / RUN_INFO_FILE}: not a run.json tui-trainer wrote "
                                       f"(no {', '.join(missing)})")
            started = RunStarted(config=self.config, run_dir=self.folder,
                                 **{name: known[name] for name in STARTED_FIELDS if name in known})
        else:
            steps_per_epoch = self._steps_per_epoch()
            if steps_per_epoch is None:
                return None
            summary = _read_json(self.folder / SUMMARY_FILE) or {}
            epochs = epoch_limit(self.config.training.epochs)
            started = RunStarted(config=self.config, run_dir=self.folder,
                                 device=summary.get("device") or "not recorded (an older run folder)",
                                 device_name=summary.get("device_name") or "", threads=0,
                                 param_count=summary.get("param_count") or 0, train_size=0, val_size=0,
                                 epochs=epochs, steps_per_epoch=steps_per_epoch,
                                 total_steps=_steps(epochs, steps_per_epoch), class_names=summary.get("classes"))
        self.epochs = started.epochs
        return started

    def _steps_per_epoch(self) -> int | None:
        """An older folder's steps per epoch, from its first epoch line (or its step lines)."""
        for row in self._pending[HISTORY_FILE]:
            if isinstance(row.get("epoch"), int) and isinstance(row.get("global_step"), int) and row["epoch"] > 0:
                return max(1, row["global_step"] // row["epoch"])
        first = [row["step"] for row in self._pending[STEPS_FILE] if row.get("epoch") == 1 and isinstance(row.get("step"), int)]
        later = any(row.get("epoch", 0) > 1 for row in self._pending[STEPS_FILE])
        return max(first) if first and later else None

    def _points(self, step_rows: list[dict[str, Any]]) -> list[tuple[int, float]]:
        """The step curve's new points (a step the run no longer has is left out)."""
        points = []
        for row in step_rows:
            step, loss = row.get("step"), row.get("train_loss")
            if isinstance(step, int) and isinstance(loss, (int, float)) and step > self._last_step:
                points.append((step, float(loss)))
                self._last_step = step
        return points

    def _progress(self, points: list[tuple[int, float]], system_rows: list[dict[str, Any]]) -> list[Any]:
        """Where the run stands now (when anything moved), then the machine's new samples."""
        events: list[Any] = []
        samples = []
        for row in system_rows:
            try:
                samples.append(SystemSample.from_json(row))
            except ValueError:
                continue
        if samples:
            self.system = samples[-1]
        self.steps += points
        if points or samples:
            events.append(self._progress_event(points))
        return [*events, *samples]

    def _progress_event(self, points: list[tuple[int, float]]) -> Progress:
        """Where the run stands: its step from the step curve, its speed, rate and time from the
        latest system line (else the last epoch); time goes on at that speed past the line."""
        per_epoch = self.started.steps_per_epoch
        run = self.system.run if self.system else {}
        last = self.history[-1] if self.history else None
        global_step = max(self._last_step, run.get("global_step") or 0, last.global_step if last else 0)
        epoch = max(1, -(-global_step // per_epoch))
        speed = _first(run.get("samples_per_second"), last and last.samples_per_second, 0.0)
        elapsed = _first(run.get("elapsed"), last and last.elapsed, 0.0)
        behind = global_step - (run.get("global_step") or 0)
        if run.get("elapsed") is not None and behind > 0 and speed:
            elapsed += behind * self._batch() / speed
        loss = _first(points[-1][1] if points else None, run.get("train_loss"), math.nan)
        lr = _first(run.get("lr"), last and last.lr, self.config.optimizer.params.get("lr"), math.nan)
        return Progress(epoch=epoch, epochs=self.epochs, step=global_step - (epoch - 1) * per_epoch,
                        steps_per_epoch=per_epoch, global_step=global_step,
                        total_steps=_steps(self.epochs, per_epoch), train_loss=loss, lr=lr,
                        grad_norm=run.get("grad_norm"), samples_per_second=speed, elapsed=elapsed,
                        points=points)

    def _batch(self) -> int:
        batch = self.config.training.batch_size
        return self.started.train_size if batch == "full" else min(batch, self.started.train_size or batch)

    def _epochs(self, rows: list[dict[str, Any]]) -> list[Any]:
        """Each epoch's end, after the changes made in it (as the run sent them)."""
        events: list[Any] = []
        for row in rows:
            try:
                metrics = EpochMetrics(**{k: v for k, v in row.items() if k in EPOCH_FIELDS})
            except TypeError:  # a line without the figures every epoch has: not one tui-trainer wrote
                continue
            events += self._changes(metrics.global_step)
            self.history.append(metrics)
            events.append(EpochEnded(metrics.epoch, self.epochs, metrics))
        return events

    def _changes(self, reached: int) -> list[ChangeMade]:
        """The config's changes made up to step ``reached`` (a change is made before its step)."""
        events = []
        for change in self.config.changes:
            key = (change.at_step, change.field, repr(change.value))
            if key in self._made or change.at_step > reached:
                continue
            self._made.add(key)
            if change.field == EPOCHS_FIELD:
                self.epochs = epoch_limit(change.value)
            events.append(ChangeMade(change, max(1, -(-change.at_step // self.started.steps_per_epoch)), self.config))
        return events

    def _end(self) -> list[Any]:
        summary = _own_summary(self.folder, self.info)
        if summary is None:
            return []
        final = summary.get("final") or {}
        try:
            self.result = RunResult(
                config=self.config, reason=summary["stopped_reason"], message=summary.get("message", ""),
                epochs_run=summary["epochs_run"], history=list(self.history),
                final=FinalMetrics(**{k: v for k, v in final.items() if k in FINAL_FIELDS}),
                parameters=summary.get("parameters"), param_count=summary.get("param_count") or 0,
                device=summary.get("device", ""), device_name=summary.get("device_name", ""),
                seconds=summary.get("seconds") or 0.0,
                samples_per_second=_number(summary.get("samples_per_second")), run_dir=self.folder,
                steps=list(self.steps), class_names=summary.get("classes"),
                compile_seconds=summary.get("compile_seconds"), path=summary.get("path"),
                point=summary.get("point"))
        except (KeyError, TypeError):  # not a summary tui-trainer wrote: the run shows as unfinished
            return []
        self.summary = summary
        return [RunEnded(self.result)]


    # -- liveness --------------------------------------------------------------------------------

    def _judge(self, events: list[Any]) -> list[Any]:
        liveness = self._liveness()
        if liveness.state != self.liveness.state:
            events.append(liveness)
        self.liveness = liveness
        return events

    def _quiet(self) -> float:
        """Seconds since the folder last changed: from the files' times until a change is seen
        here, then on this machine's clock."""
        signature, newest = [], None
        for name in (*APPENDED, *REPLACED):
            try:
                stat = (self.folder / name).stat()
            except OSError:
                signature.append(None)
                continue
            signature.append((stat.st_ino, stat.st_size, stat.st_mtime_ns))
            newest = stat.st_mtime if newest is None else max(newest, stat.st_mtime)
        now = self._monotonic()
        if self._signature is not None and tuple(signature) != self._signature:
            self._changed_at = now
        self._signature = tuple(signature)
        if self._changed_at is not None:
            return now - self._changed_at
        if newest is None:  # nothing written yet: since the folder was made
            newest = self.folder.stat().st_mtime
        return max(0.0, self._clock() - newest)

    def _liveness(self) -> Liveness:
        quiet = self._quiet()
        if self.result is not None:
            return Liveness(ENDED, _why_ended(self.result.reason, self.result.message), quiet)
        if self.started is None and self.config is None:
            return _waiting(self.folder, quiet)
        limit = quiet_limit(self.info, [m.seconds for m in self.history])
        return judge(self.info, quiet, limit, lambda: _own_summary(self.folder, self.info) is not None)


def liveness_of(folder: str | Path, clock=time.time) -> Liveness:
    """A run folder's state now, without following it (for a list of runs: reads run.json and
    summary.json, and the history only of an older folder). RunFolderRefused as RunFollower."""
    folder = Path(folder)
    info = read_run_info(folder)
    times = [(folder / name).stat().st_mtime for name in (*APPENDED, *REPLACED) if (folder / name).is_file()]
    quiet = max(0.0, clock() - max(times or [folder.stat().st_mtime]))
    summary = _own_summary(folder, info)
    if summary is not None:
        return Liveness(ENDED, _why_ended(summary.get("stopped_reason", "ended"), summary.get("message", "")), quiet)
    if not (folder / CONFIG_FILE).is_file():
        return _waiting(folder, quiet)
    seconds = [] if info is not None else [row["seconds"] for row in read_jsonl(folder / HISTORY_FILE)
                                           if isinstance(row.get("seconds"), (int, float))]
    return judge(info, quiet, quiet_limit(info, seconds), lambda: _own_summary(folder, info) is not None)


def quiet_limit(info: RunInfo | None, epoch_seconds: list[float]) -> float:
    """How long a run whose writer this machine cannot see may be quiet before it is lost: a
    writer with a heartbeat, QUIET_LIMIT; an older one, a few of its longest epochs."""
    if info is not None:
        return max(QUIET_LIMIT, 10 * info.heartbeat)
    if not epoch_seconds:
        return QUIET_BEFORE_AN_EPOCH
    return max(QUIET_LIMIT, QUIET_EPOCHS * max(epoch_seconds))


def judge(info: RunInfo | None, quiet: float, quiet_limit: float, ended=lambda: False) -> Liveness:
    """A run without a summary of its own: live or lost (see the module's docstring). ``ended``
    looks once more for its summary before the run is called lost (it may have ended just now)."""
    writer = info.writer if info is not None else None
    if writer is not None and writer.on_this_machine():
        state = writer.process_state()
        if state == "running":
            still = f"no update for {age(quiet)}; process {writer.pid} is still running"
            return Liveness(LIVE, still if quiet >= quiet_limit else "", quiet)
        if state == "stopped":
            return Liveness(LIVE, f"process {writer.pid} is stopped (suspended: ctrl+z or SIGSTOP); "
                                  f"no update for {age(quiet)}", quiet)
        if quiet < GONE_AFTER_HEARTBEATS * info.heartbeat or ended():
            return Liveness(LIVE, "", quiet)
        what = {"gone": f"process {writer.pid} is gone",
                "reused": f"process {writer.pid} is gone (its number belongs to another process now)",
                "rebooted": f"process {writer.pid} is gone: the machine restarted since"}[state]
        return Liveness(LOST, f"no update for {age(quiet)}; {what}", quiet)
    if quiet < quiet_limit or ended():
        return Liveness(LIVE, "", quiet)
    where = (f"written on {writer.host}, whose processes this machine cannot see" if writer is not None
             else "written by an older tui-trainer, which does not record its process")
    return Liveness(LOST, f"no update for {age(quiet)}; {where}", quiet)


def replay(events: Iterable[Any], callback: Callback) -> None:
    """Hand the engine's events among ``events`` to ``callback`` as a run would (the others,
    SystemSample, ViewChanged and Liveness, are the caller's)."""
    hooks = {RunStarted: callback.on_run_start, Progress: callback.on_progress,
             EpochEnded: callback.on_epoch_end, ChangeMade: callback.on_change, RunEnded: callback.on_run_end}
    for event in events:
        hook = hooks.get(type(event))
        if hook is not None:
            hook(event)


# -- runs together -----------------------------------------------------------------------------


def race_of(folder: Path) -> tuple[str, int, int] | None:
    """(race id, run number, runs) of a run folder that raced in a comparison, else None (an
    unreadable run.json too: following the folder says why)."""
    try:
        info = read_run_info(folder)
    except RunFolderRefused:
        return None
    return (info.race.id, info.race.run, info.race.runs) if info is not None and info.race else None


def group_runs(folders: Iterable[Path]) -> list[list[Path]]:
    """The folders in their order, a comparison's runs as one group in run order (with those of
    its runs found beside the given ones, in the same parent folder); other runs alone."""
    groups: list[list[Path]] = []
    seen: set[Path] = set()
    for folder in map(Path, folders):
        if folder in seen:
            continue
        race = race_of(folder)
        if race is None:
            groups.append([folder])
            seen.add(folder)
            continue
        beside = {other: race_of(other) for other in list_runs(folder.parent)}
        members = sorted((seat[1], other) for other, seat in beside.items() if seat and seat[0] == race[0])
        group = [path for _, path in members] or [folder]
        groups.append(group)
        seen.update(group)
    return groups


def _own_summary(folder: Path, info: RunInfo | None) -> dict[str, Any] | None:
    """The folder's summary when it ends the writer's own turn (an older folder's always does; a
    resumed run's folder holds the summary of its earlier turn until it ends again)."""
    summary = _read_json(folder / SUMMARY_FILE)
    if summary is None or (info is not None and summary.get("session") != info.writer.session):
        return None
    return summary


def _waiting(folder: Path, quiet: float) -> Liveness:
    """A folder without a config yet: waiting for it, or lost when its writer died first."""
    if quiet >= QUIET_LIMIT:
        return Liveness(LOST, f"no update for {age(quiet)}; no run was written into the folder", quiet)
    return Liveness(WAITING, f"waiting for {CONFIG_FILE} in {folder}", quiet)


def _why_ended(reason: str, message: str) -> str:
    return reason + (f": {message}" if message else "")


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def _steps(epochs: int | None, per_epoch: int) -> int | None:
    """A run's total steps (None for a run until stopped)."""
    return None if epochs is None else epochs * per_epoch


def _first(*values: Any) -> Any:
    """The first value that is not None (nor False: ``last and last.lr`` without a last epoch)."""
    return next((v for v in values if v is not None and v is not False), None)


def _number(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) else math.nan
