"""A run folder's ``run.json``: the run-folder format, who writes the folder (process, machine,
start), what the run is (its size and device, as ``RunStarted`` says, and the comparison it
races in), and whether that writer is still there.

Torch-free: ``watch`` and the History tab read it without torch. A folder without ``run.json``
was written before it existed (format 1) and is still read.
"""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui_trainer import __version__
from tui_trainer.engine.events import RunStarted
from tui_trainer.errors import UserFacingError

RUN_INFO_FILE = "run.json"
#: The run-folder format this tui-trainer writes. 1: config.toml, history.jsonl, steps.jsonl,
#: summary.json, view.json (no run.json); 2: adds run.json and system.jsonl.
FORMAT = 2
#: The formats this tui-trainer reads.
READS = range(1, FORMAT + 1)
#: The RunStarted fields run.json keeps (its config is config.toml; its folder is where it lies).
STARTED_FIELDS = tuple(f.name for f in dataclasses.fields(RunStarted) if f.name not in ("config", "run_dir"))


class RunFolderRefused(UserFacingError):
    """A run folder this tui-trainer cannot read: another format, or a damaged run.json."""


@dataclass(frozen=True)
class RaceSeat:
    """A run's place in a comparison (``compare``, ``lab``, the app's f5): the race's ``id`` (the
    same in each of its folders), this run's number ``run`` and the number of ``runs``."""

    id: str
    run: int
    runs: int


@dataclass(frozen=True)
class Writer:
    """The process writing a run folder: ``pid`` on machine ``host`` (its ``boot_id``, and the
    process's start in clock ticks after boot, tell a restarted machine or a reused process id
    apart), since ``started`` (Unix time); ``session`` names this writer's turn at the folder (a
    resumed run has a new one; its ``summary.json`` carries it)."""

    pid: int
    host: str
    started: float
    session: str
    boot_id: str | None = None
    process_start: int | None = None

    @classmethod
    def this_process(cls) -> Writer:
        """The process calling it."""
        pid = os.getpid()
        return cls(pid, socket.gethostname(), time.time(), uuid.uuid4().hex, _boot_id(), _process_start(pid))

    def on_this_machine(self) -> bool:
        """Whether the writer ran on the machine reading it (the same host name), so its process
        id means something here."""
        return self.host == socket.gethostname()

    def process_state(self) -> str:
        """On this machine (``on_this_machine``): ``running``, ``stopped`` (suspended: ctrl+z,
        SIGSTOP), ``gone``, ``reused`` (the id now belongs to another process) or ``rebooted``
        (the machine restarted since)."""
        boot = _boot_id()
        if self.boot_id and boot and boot != self.boot_id:
            return "rebooted"
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return "gone"
        except PermissionError:
            pass  # another user's process: it exists
        except OSError:
            return "gone"
        state = _process_state(self.pid)
        if state in ("Z", "X"):  # dead, its parent has not collected it yet
            return "gone"
        start = _process_start(self.pid)
        if self.process_start is not None and start is not None and start != self.process_start:
            return "reused"
        return "stopped" if state in ("T", "t") else "running"


@dataclass(frozen=True)
class RunInfo:
    """What ``run.json`` holds: the ``format``, the ``version`` of tui-trainer that wrote it,
    the ``writer``, the run as it started (``started``: RunStarted's fields but its config),
    ``heartbeat`` (the writer touches the folder at least this often, in seconds: its
    ``system.jsonl``), ``world`` (torchrun's processes; rank 0 writes) and ``race``."""

    format: int
    version: str
    writer: Writer
    started: dict[str, Any]
    heartbeat: float
    world: int = 1
    race: RaceSeat | None = None

    def as_json(self) -> dict[str, Any]:
        """Plain JSON data."""
        return dataclasses.asdict(self)


def run_info(event: RunStarted, heartbeat: float, world: int = 1, race: RaceSeat | None = None) -> RunInfo:
    """The run.json of a run starting now in this process."""
    started = {name: getattr(event, name) for name in STARTED_FIELDS}
    return RunInfo(FORMAT, __version__, Writer.this_process(), started, heartbeat, world, race)


def read_run_info(folder: Path) -> RunInfo | None:
    """The run.json of ``folder``; None for a folder written before run.json existed (format 1).
    RunFolderRefused names the file when it is damaged or of a format this tui-trainer does not
    read (and says which tui-trainer wrote it)."""
    path = Path(folder) / RUN_INFO_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, RecursionError) as exc:
        raise RunFolderRefused(f"{path}: not a run.json tui-trainer wrote ({exc})") from None
    fmt = data.get("format") if isinstance(data, dict) else None
    if not isinstance(fmt, int) or isinstance(fmt, bool):
        raise RunFolderRefused(f"{path}: not a run.json tui-trainer wrote (it names no format)")
    if fmt not in READS:
        newer = "a newer" if fmt > FORMAT else "an older"
        raise RunFolderRefused(
            f"{path.parent}: written by {newer} tui-trainer ({data.get('version', 'version unknown')}) "
            f"in run-folder format {fmt}; this tui-trainer ({__version__}) reads formats "
            f"{READS.start} to {READS.stop - 1}" + ("; upgrade tui-trainer to follow it" if fmt > FORMAT else ""))
    try:
        writer = data["writer"]
        race = data.get("race")
        return RunInfo(fmt, str(data["version"]),
                       Writer(int(writer["pid"]), str(writer["host"]), float(writer["started"]),
                              str(writer["session"]), writer.get("boot_id"), writer.get("process_start")),
                       dict(data["started"]), float(data["heartbeat"]), int(data.get("world", 1)),
                       RaceSeat(str(race["id"]), int(race["run"]), int(race["runs"])) if race else None)
    except (KeyError, TypeError, ValueError) as exc:
        raise RunFolderRefused(f"{path}: not a run.json tui-trainer wrote (missing or wrong: {exc})") from None


def new_race_id() -> str:
    """An id shared by the folders of one comparison."""
    return uuid.uuid4().hex[:12]


def _boot_id() -> str | None:
    """This boot of the machine (Linux), or None where the system does not say."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip() or None
    except OSError:
        return None


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of ``/proc/PID/stat`` after the command name (Linux), or None."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    return text.rpartition(")")[2].split()


def _process_state(pid: int) -> str | None:
    fields = _stat_fields(pid)
    return fields[0] if fields else None


def _process_start(pid: int) -> int | None:
    """When the process started, in clock ticks after boot (Linux), or None."""
    fields = _stat_fields(pid)
    try:
        return int(fields[19]) if fields else None  # field 22 of stat; the list starts at field 3
    except (IndexError, ValueError):
        return None
