"""Small helpers shared by tests."""

from __future__ import annotations

import contextlib
import functools
from typing import Any, Iterator

from tui_trainer.config import Config, resolve_flags


def config(task: str = "linear", **dotted: Any) -> Config:
    """A resolved config for ``task`` on the CPU, with dotted overrides (``optimizer__lr=0.1``)."""
    overrides = {"task.name": task, "training.device": "cpu"}
    overrides.update({key.replace("__", "."): value for key, value in dotted.items()})
    return resolve_flags(None, overrides)


#: A small residual MLP, as a person would write it in a file of their own: imports, a constant,
#: a helper block class and the model class (keyword arguments: inputs, classes, width, depth).
RESMLP_SOURCE = '''"""A small residual MLP."""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

WIDTH = 32


class Block(nn.Module):
    """x + relu(fc(norm(x)))."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(width)
        self.fc = nn.Linear(width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + F.relu(self.fc(self.norm(x)))


class ResMLP(nn.Module):
    def __init__(self, inputs: int = 4, classes: int = 3, width: int = WIDTH, depth: int = 2) -> None:
        super().__init__()
        self.stem = nn.Linear(inputs, width)
        self.blocks = nn.Sequential(*[Block(width) for _ in range(depth)])
        self.head = nn.Linear(width, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks(torch.relu(self.stem(x))))


if __name__ == "__main__":
    x = torch.randn(2, 4)
    print(ResMLP()(x).shape)
'''


def write_resmlp(folder) -> str:
    """Write the residual MLP's file into ``folder``; returns ``path/to/resmlp.py:ResMLP``."""
    from pathlib import Path

    path = Path(folder) / "resmlp.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(RESMLP_SOURCE, encoding="utf-8")
    return f"{path}:ResMLP"


#: How long the Pilot waits for the app to go idle after a key or a pause, at most, under
#: ``brisk_pilot``: a person types about ten keys a second.
BRISK_IDLE_WAIT = 0.05


@contextlib.contextmanager
def brisk_pilot() -> Iterator[None]:
    """Textual's Pilot waits after every key until the process is idle, up to a second, twice;
    while a run trains the process is never idle, so each key took 2 s. Within this, it waits
    at most BRISK_IDLE_WAIT (it still waits for every widget to handle what the key caused)."""
    from textual._wait import wait_for_idle

    with _pilot_waits(functools.partial(wait_for_idle, max_sleep=BRISK_IDLE_WAIT)):
        yield


@contextlib.contextmanager
def idle_but_for_runs() -> Iterator[None]:
    """Textual's Pilot waits after every key and pause until the process is idle (its CPU time
    stands still for 20 ms), up to a second, twice a key; a run training at max never lets it
    be, so each key took 2 s. Within this, the CPU time of the threads training the app's runs
    does not count: the Pilot waits for the app (its UI, loading torch, building a form) as
    before, and no longer for a training loop that never ends on its own."""
    import time

    if not hasattr(time, "pthread_getcpuclockid"):  # no per-thread CPU clocks (macOS): Textual's own
        yield
        return
    with _pilot_waits(_wait_for_idle_but_for_runs):
        yield


@contextlib.contextmanager
def _pilot_waits(wait: Any) -> Iterator[None]:
    """Textual's Pilot (its keys and pauses) waits for idle with ``wait``."""
    from unittest.mock import patch

    with patch("textual.app.wait_for_idle", wait), patch("textual.pilot.wait_for_idle", wait):
        yield


def _run_threads() -> dict[int, float]:
    """The CPU seconds of each thread that trains an app's runs (its job's worker), by ident."""
    import sys
    import time

    from tui_trainer.app.live import LiveRuns

    training = LiveRuns._fill.__code__
    clocks = {}
    for ident, frame in sys._current_frames().items():
        while frame is not None and frame.f_code is not training:
            frame = frame.f_back
        if frame is not None:
            try:
                clocks[ident] = time.clock_gettime(time.pthread_getcpuclockid(ident))
            except OSError:  # the thread ended meanwhile
                pass
    return clocks


async def _wait_for_idle_but_for_runs(min_sleep: float = 1 / 50, max_sleep: float = 1) -> None:
    """Textual's ``wait_for_idle`` (same signature, steps and thresholds), less the CPU time of
    the threads that train runs; a round in which one of them ended counts as busy."""
    import asyncio
    import time

    from textual._wait import SLEEP_GRANULARITY, SLEEP_IDLE

    start = time.monotonic()
    while True:
        cpu, runs = time.process_time(), _run_threads()
        await asyncio.sleep(SLEEP_GRANULARITY)
        cpu_elapsed, runs_after = time.process_time() - cpu, _run_threads()
        ended = bool(set(runs) - set(runs_after))  # a run's ending is work the app has to do
        if not ended:
            cpu_elapsed -= sum(runs_after[ident] - runs[ident] for ident in runs)
        elapsed = time.monotonic() - start
        if elapsed >= max_sleep:
            break
        if elapsed > min_sleep and not ended and cpu_elapsed < SLEEP_IDLE:
            break


async def settle_until(pilot: Any, condition: Any, limit: float) -> Any:
    """Let a Pilot's app run until ``condition()`` gives something true, and return it; the
    value returned was read right after every widget handled what it was sent (a Pilot pause),
    or at once if it held from the start. Meanwhile the condition is looked at every 20 ms with
    the app left to run; fails after ``limit`` seconds."""
    import asyncio

    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    value = condition()
    while not value:
        assert loop.time() < deadline, "the app never reached the expected state"
        await asyncio.sleep(0.02)
        if condition():
            await pilot.pause(0)
            value = condition()
    return value


def screen_text(app: Any) -> str:
    """The app's screen as plain text, rendered as Textual renders it for the terminal (through
    the app's filters: NO_COLOR's Monochrome among them)."""
    import io

    from rich.console import Console

    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), record=True, force_terminal=True,
                      color_system="truecolor", legacy_windows=False, safe_box=False)
    console.print(app.screen._compositor.render_update(full=True))
    return console.export_text()


def start_command(args: list[str], runs_dir, tmp_path):
    """Start ``tui-trainer ARGS --device cpu --runs-dir RUNS_DIR`` in another process (a writer
    of run folders), its user data under ``tmp_path``; stdout is dropped, stderr kept."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, XDG_DATA_HOME=str(tmp_path / "xdg"))
    return subprocess.Popen([sys.executable, "-m", "tui_trainer", *args, "--device", "cpu", "--runs-dir",
                             str(runs_dir)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)


def fingerprint(folder) -> dict[str, tuple[int, str, int]]:
    """Every file of a folder: size, SHA-256 and modification time."""
    import hashlib
    from pathlib import Path

    return {p.name: (p.stat().st_size, hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(Path(folder).iterdir())}


def once_per_session(name: str, make, base_temp) -> Any:
    """What ``make(folder)`` returns (JSON data), made once per test session however many
    pytest-xdist workers ask for it: the first holds a lock while it makes it, the others wait
    and read it. ``folder`` (empty, kept for the session) holds the files ``make`` writes;
    ``base_temp`` is ``tmp_path_factory.getbasetemp()``."""
    import json
    import os
    from pathlib import Path

    from filelock import FileLock  # torch's own dependency

    root = Path(base_temp).parent if os.environ.get("PYTEST_XDIST_WORKER") else Path(base_temp)
    folder, result = root / f"once-{name}", root / f"once-{name}.json"
    with FileLock(str(root / f"once-{name}.lock")):
        if not result.exists():
            folder.mkdir()
            result.write_text(json.dumps(make(folder)))
    return json.loads(result.read_text())


def signals_of(pid: int, field: str) -> set[int]:
    """The signals in a field of ``/proc/PID/status``: ``SigCgt`` (caught: the process installed
    a handler), ``SigPnd`` and ``ShdPnd`` (sent, not yet delivered). Empty once the process is gone."""
    from pathlib import Path

    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return set()
    mask = int(next(line.split()[1] for line in status.splitlines() if line.startswith(f"{field}:")), 16)
    return {bit + 1 for bit in range(64) if mask >> bit & 1}


def wait_until(what: str, condition, timeout: float = 120.0, every: float = 0.01) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``timeout`` seconds (a busy
    machine, never a fixed wait)."""
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"waited {timeout:.0f} s for {what}"
        time.sleep(every)
