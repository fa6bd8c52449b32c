"""The app's benchmark: training speed inside the app against headless, time to the first frame,
time from 'ready' to a finished linear run, key-press-to-screen latency while training, and time
to quit mid-run.

    .venv/bin/python benchmarks/bench_app.py
    .venv/bin/python benchmarks/bench_app.py --first-frame    # only the first frame, against a bare app
    .venv/bin/python benchmarks/bench_app.py --tmux [PAIRS]   # only the app in tmux at 120x36
    .venv/bin/python benchmarks/bench_app.py --watch [RUNS]   # only the watched spiral in tmux

Prints the figures side by side with their targets (ratio >= 0.95 under run_test, also with the
Boundary or the Layers tab live, >= 0.97 in a terminal, first frame < 0.5 s, ready to finished
linear run < 3 s, latency p95 < 50 ms, also with four runs racing in compare mode). The
terminal figures come from the real app in a pseudo-terminal (100x30), and in tmux at 120x36,
where the three charts show side by side (issue 22's case: regression, 5,000 samples, batch 32,
Adam, against ``tui-trainer train``, >= 0.97). Every app runs at max pace (``--pace max``).
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import os
import pty
import select
import shlex
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from pathlib import Path

from tui_trainer.config import resolve, save_config

#: A run of a few seconds: the regression task's MLP on 5000 samples (50 epochs, batch 32).
BENCH_LAYER = {"task": {"name": "regression", "samples": 5000}, "training": {"device": "cpu"}}
#: A 2-D classification run of a few seconds with its decision boundary live: the spiral's MLP on
#: 5000 samples (30 epochs, batch 32; about 8 epochs a second here, so a picture every other epoch).
BOUNDARY_LAYER = {"task": {"name": "multiclass", "samples": 5000}, "training": {"epochs": 30, "device": "cpu"}}
#: Tutorial-style playground run watched at its own pace (issue 22): the spiral as it opens.
SPIRAL_LAYER = {"task": "spiral", "training": {"device": "cpu"}}
#: The same, far longer, to press keys and quit while it trains.
LONG_LAYER = {"task": {"name": "regression", "samples": 20000}, "training": {"epochs": 1000, "device": "cpu"}}
#: What each live tab must have drawn during a measured run: the figures are of real drawing.
DREW = {
    "tab-charts": lambda app: app.charts.pace.spent > 0,
    "tab-boundary": lambda app: app.boundary.pace.spent > 0 and app.boundary.canvas.frame.epoch > 1,
    "tab-layers": lambda app: app.layers.pace.spent > 0 and app.layers.shown is not None,
}
SIZE = (100, 30)
#: The terminal of the tmux measurement (issue 22's): wide, the three charts side by side.
TMUX_SIZE = (120, 36)
REPEATS = 5
TERMINAL_REPEATS = 9
SPEED_REPEATS = 5
KEY_PROBES = 40
PROBE = b"~"


def speed_ratio(runs_dir: Path, layer: dict = BENCH_LAYER,
                tab: str = "tab-charts") -> tuple[list[float], list[float], list[float]]:
    """Samples/s of the same config headless (on the main thread, writing its run folder, as
    ``tui-trainer train`` runs it) and in the app (headless via run_test, ``tab`` live: the
    Charts, the Boundary with its pictures, or the Layers table), alternating; and the share of
    the wall clock the UI thread used the CPU during each app run (the time the training thread
    waits for the GIL: a steadier figure than the ratio on a noisy machine)."""
    from tui_trainer.app import make_app
    from tui_trainer.engine.loop import train

    config = resolve(layer)
    headless, in_app, ui_share = [], [], []

    async def main() -> None:
        app = make_app(runs_dir=runs_dir, config=config, pace="max")
        async with app.run_test(size=SIZE) as pilot:
            while not app.engine_ready:
                await asyncio.sleep(0.05)
            app.action_show_tab(tab)
            for repeat in range(SPEED_REPEATS + 1):  # the first pair warms up and is not counted
                headless.append(train(config, runs_dir=runs_dir / "headless").samples_per_second)
                await pilot.press("ctrl+r")
                while app.starting:  # ctrl+r lets the form settle, then starts the run
                    await asyncio.sleep(0.01)
                wall, cpu = time.perf_counter(), time.thread_time()  # this is the UI thread
                if app.job is not None:
                    await app.job.worker.wait()
                ui_share.append((time.thread_time() - cpu) / (time.perf_counter() - wall))
                await asyncio.sleep(0.1)
                assert DREW[tab](app), f"{tab} drew nothing of the run"
                in_app.append(app.history.selected[-1].summary["samples_per_second"])
                if repeat == 0:
                    headless.clear()
                    in_app.clear()
                    ui_share.clear()

    asyncio.run(main())
    return headless, in_app, ui_share


class Terminal:
    """The app running in a pseudo-terminal, its output read (and timestamped) by a thread."""

    def __init__(self, config_path: Path | None, runs_dir: Path, program: list[str] | None = None) -> None:
        argv = [sys.executable, *(program or ["-m", "tui_trainer", "--runs-dir", str(runs_dir), "--pace", "max"])]
        argv += ["--config", str(config_path)] if config_path else []
        self.started = time.perf_counter()
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.environ["TERM"] = "xterm-256color"
            # Launched as from a person's shell: Python keeps its bytecode cache (this sandbox
            # turns it off with PYTHONDONTWRITEBYTECODE, which would compile every module of
            # tui-trainer at every launch).
            os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
            os.execv(sys.executable, argv)
        cols, rows = SIZE
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.chunks: list[tuple[float, bytes]] = []
        self.lock = threading.Lock()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        while True:
            try:
                ready, _, _ = select.select([self.fd], [], [], 0.5)
                if ready:
                    data = os.read(self.fd, 65536)
                    if not data:
                        return
                    with self.lock:
                        self.chunks.append((time.perf_counter(), data))
            except OSError:
                return

    def output_since(self, since: float) -> list[tuple[float, bytes]]:
        with self.lock:
            return [(t, d) for t, d in self.chunks if t >= since]

    def wait_for(self, text: bytes, since: float, limit: float = 30.0) -> float:
        """When ``text`` first appeared in the output after ``since`` (seconds since epoch of perf)."""
        deadline = time.perf_counter() + limit
        while time.perf_counter() < deadline:
            for stamp, data in self.output_since(since):
                if text in data:
                    return stamp
            time.sleep(0.001)
        raise TimeoutError(f"{text!r} never appeared")

    def send(self, keys: bytes) -> float:
        stamp = time.perf_counter()
        os.write(self.fd, keys)
        return stamp

    def wait_exit(self, limit: float = 20.0) -> float:
        deadline = time.perf_counter() + limit
        while time.perf_counter() < deadline:
            pid, _ = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                return time.perf_counter()
            time.sleep(0.002)
        os.kill(self.pid, 9)
        raise TimeoutError("the app did not exit")


def first_frames(runs_dir: Path, repeats: int = REPEATS) -> tuple[list[float], list[float]]:
    """Seconds from starting the process to the first frame (``Task`` on screen) of the app and
    of a bare Textual app (bare_app.py, the floor Textual sets on this machine), alternating; a
    first launch of each, not counted, writes Python's bytecode cache as a person's does."""
    app, bare = [], []
    for _ in range(repeats + 1):
        for times, program in ((app, None), (bare, [str(Path(__file__).with_name("bare_app.py"))])):
            term = Terminal(None, runs_dir, program)
            shown = term.wait_for(b"Task", term.started)
            times.append(shown - term.started)
            time.sleep(2.0 if program is None else 0.2)  # let torch finish loading before quitting
            term.send(b"\x11")
            term.wait_exit()
    return app[1:], bare[1:]


def ready_to_finished(runs_dir: Path) -> list[float]:
    """Seconds from the status first saying ``ready`` (torch and the optimizer machinery warm)
    to the finished linear run (tutorial 003, 1000 epochs) on screen, ctrl+r pressed at once."""
    times = []
    for _ in range(REPEATS):
        term = Terminal(None, runs_dir)
        ready = term.wait_for(b"ready", term.started)
        term.send(b"\x12")  # ctrl+r
        times.append(term.wait_for(b"finished", ready) - ready)
        term.send(b"\x11")
        term.wait_exit()
    return times


def key_latency_and_quit(runs_dir: Path, config_path: Path) -> tuple[list[float], float]:
    """Key-press-to-screen latencies while training (typing into a form field), then the time
    from ctrl+q to the process's exit mid-run."""
    term = Terminal(config_path, runs_dir)
    term.wait_for(b"Quit", term.started)
    time.sleep(2.5)  # torch loads
    term.send(b"\x12")  # ctrl+r
    time.sleep(2.0)  # training is under way
    term.send(b"\t")  # from the task select to its first option field (samples)
    time.sleep(0.5)
    quiet_since = time.perf_counter()
    time.sleep(1.0)
    if any(PROBE in d for _, d in term.output_since(quiet_since)):
        raise RuntimeError("the probe character shows up without being typed")
    latencies = []
    for _ in range(KEY_PROBES):
        sent = term.send(PROBE)
        latencies.append(term.wait_for(PROBE, sent) - sent)
        time.sleep(0.1)
        term.send(b"\x7f")  # backspace
        time.sleep(0.15)
    quit_sent = term.send(b"\x11")
    return latencies, term.wait_exit() - quit_sent


def main_thread_cpu(pid: int) -> float:
    """CPU seconds the process's main thread (the app's UI thread) has used, from /proc."""
    fields = Path(f"/proc/{pid}/task/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def terminal_speed(runs_dir: Path, config_path: Path) -> tuple[list[float], list[float], list[float]]:
    """Samples/s of the same config through ``tui-trainer train`` and in the real app in a
    pseudo-terminal (ctrl+r, charts live, drawn to the terminal), alternating, each figure from
    the run's own summary; and the share of the wall clock, from ``running`` to ``finished`` on
    screen, that the app's UI thread used the CPU (read from /proc, to 10 ms)."""
    import json

    headless, in_app, ui_share = [], [], []
    for repeat in range(TERMINAL_REPEATS + 1):  # the first pair warms up and is not counted
        out = subprocess.run([sys.executable, "-m", "tui_trainer", "train", "--config", str(config_path),
                              "--json", "--runs-dir", str(runs_dir / "headless")],
                             capture_output=True, text=True, check=True).stdout
        headless.append(json.loads(out)["samples_per_second"])
        term = Terminal(config_path, runs_dir / "app")
        term.wait_for(b"ready", term.started)
        sent = term.send(b"\x12")  # ctrl+r
        running = term.wait_for(b"running", sent)
        cpu = main_thread_cpu(term.pid)
        finished = term.wait_for(b"finished", running, limit=120)
        ui_share.append((main_thread_cpu(term.pid) - cpu) / (finished - running))
        time.sleep(0.3)
        term.send(b"\x11")
        term.wait_exit()
        newest = max((runs_dir / "app").iterdir(), key=lambda p: p.stat().st_mtime)
        in_app.append(json.loads((newest / "summary.json").read_text())["samples_per_second"])
        if repeat == 0:
            headless.clear()
            in_app.clear()
            ui_share.clear()
    return headless, in_app, ui_share


class Tmux:
    """The app in a tmux session of TMUX_SIZE (a real terminal, as a person runs it), its screen
    read with capture-pane."""

    def __init__(self, argv: list[str], name: str) -> None:
        self.name = name
        cols, rows = TMUX_SIZE
        command = shlex.join([sys.executable, *argv])
        env = {**os.environ, "TERM": "tmux-256color"}
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # as from a person's shell (see Terminal)
        subprocess.run(["tmux", "new-session", "-d", "-s", name, "-x", str(cols), "-y", str(rows),
                        f"exec {command}"], check=True, env=env)
        self.pid = int(subprocess.run(["tmux", "display", "-p", "-t", name, "#{pane_pid}"], check=True,
                                      capture_output=True, text=True).stdout)

    def screen(self) -> str:
        return subprocess.run(["tmux", "capture-pane", "-p", "-t", self.name], capture_output=True,
                              text=True).stdout

    def wait_for(self, text: str, limit: float = 120.0, every: float = 0.2) -> float:
        """When ``text`` was first seen on screen (polled every ``every`` s: a poll costs a process)."""
        deadline = time.perf_counter() + limit
        while time.perf_counter() < deadline:
            if text in self.screen():
                return time.perf_counter()
            time.sleep(every)
        raise TimeoutError(f"{text!r} never showed in tmux")

    def keys(self, *keys: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, *keys], check=True)

    def close(self) -> None:
        self.keys("C-q")
        deadline = time.perf_counter() + 20
        while time.perf_counter() < deadline and Path(f"/proc/{self.pid}").exists():
            time.sleep(0.05)
        subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True)


def tmux_speed(runs_dir: Path, config_path: Path,
               repeats: int = TERMINAL_REPEATS) -> tuple[list[float], list[float], list[float]]:
    """Samples/s of the same config through ``tui-trainer train`` and in the app in tmux at
    TMUX_SIZE (ctrl+r, max pace, the charts side by side and live), alternating, each from the
    run's own summary; and the share of the wall clock, from ``running`` to ``finished`` on
    screen, that the app's UI thread used the CPU (read from /proc)."""
    import json

    headless, in_app, ui_share = [], [], []
    for repeat in range(repeats + 1):  # the first pair warms up and is not counted
        out = subprocess.run([sys.executable, "-m", "tui_trainer", "train", "--config", str(config_path),
                              "--json", "--runs-dir", str(runs_dir / "headless")],
                             capture_output=True, text=True, check=True).stdout
        headless.append(json.loads(out)["samples_per_second"])
        term = Tmux(["-m", "tui_trainer", "--config", str(config_path), "--runs-dir", str(runs_dir / "app"),
                     "--pace", "max"], f"bench-app-{os.getpid()}")
        try:
            term.wait_for("ready")
            term.keys("C-r")
            term.wait_for("running", every=0.05)
            cpu, running = main_thread_cpu(term.pid), time.perf_counter()
            finished = term.wait_for("finished")
            ui_share.append((main_thread_cpu(term.pid) - cpu) / (finished - running))
        finally:
            term.close()
        newest = max((runs_dir / "app").iterdir(), key=lambda p: p.stat().st_mtime)
        in_app.append(json.loads((newest / "summary.json").read_text())["samples_per_second"])
        print(f"  tmux pair {repeat}: train {headless[-1]:,.0f}, app {in_app[-1]:,.0f} samples/s, "
              f"ratio {in_app[-1] / headless[-1]:.3f}, UI thread {ui_share[-1]:.2%}", flush=True)
        if repeat == 0:
            headless.clear()
            in_app.clear()
            ui_share.clear()
    return headless, in_app, ui_share


#: The app in tmux, run by the watched-run measurement: at its end it writes how many pictures the
#: Boundary tab drew (its canvas's own count) and the tab shown to the file named last.
COUNTING_APP = """
import sys
from pathlib import Path
from tui_trainer.app import make_app
app = make_app(Path(sys.argv[1]), Path(sys.argv[2]))
try:
    app.run()
finally:
    Path(sys.argv[3]).write_text(f"{app.boundary.canvas.drawn} {app.tabs.active}")
"""
#: ctrl+l presses from the Charts tab to the Boundary tab of a spiral run: Log, History, Layers,
#: System, Boundary.
TO_BOUNDARY = 5


def watched_spiral(runs_dir: Path, config_path: Path, repeats: int = 3) -> list[tuple[float, int]]:
    """Issue 22's watched run: the default ``spiral`` run in tmux at TMUX_SIZE at its own pace
    (the Boundary's: 5 epochs a second), the Boundary tab shown; for each run the seconds from
    ``running`` to ``finished`` on screen and the pictures the Boundary drew (read from the app
    at its end)."""
    measured = []
    for repeat in range(repeats):
        count = runs_dir / f"drawn-{repeat}.txt"
        term = Tmux(["-c", COUNTING_APP, str(config_path), str(runs_dir), str(count)], f"bench-watch-{os.getpid()}")
        try:
            term.wait_for("ready")
            term.keys(*["C-l"] * TO_BOUNDARY)
            time.sleep(0.5)
            term.keys("C-r")
            running = term.wait_for("running", every=0.05)
            finished = term.wait_for("finished", every=0.05)
        finally:
            term.close()
        drawn, tab = count.read_text().split()
        if tab != "tab-boundary":
            raise SystemExit(f"the watched run was shown on {tab}, not the Boundary tab: the tabs changed, "
                             "update TO_BOUNDARY")
        measured.append((finished - running, int(drawn)))
        print(f"  watched spiral {repeat + 1}: {measured[-1][0]:.1f} s, Boundary drawn {measured[-1][1]} times; "
              f"load {os.getloadavg()[0]:.1f}", flush=True)
    return measured


def race_latency(runs_dir: Path, config_path: Path) -> list[float]:
    """Key-press-to-screen latencies with four runs racing live (f5: sgd, adam, adamw, rmsprop)."""
    term = Terminal(config_path, runs_dir)
    term.wait_for(b"ready", term.started)
    term.send(b"\x1b[15~")  # f5: the compare dialog, on the optimizer (adam ticked)
    term.wait_for(b"Compare", term.started)
    time.sleep(0.5)
    for key in (b"\x1b[A", b" ", b"\x1b[B", b"\x1b[B", b" ", b"\x1b[B", b" "):  # up, space, ...
        term.send(key)
        time.sleep(0.15)
    term.send(b"\x12")  # ctrl+r: race
    term.wait_for(b"race of runs", term.started)
    time.sleep(3.0)  # all four under way
    term.send(b"\t")
    time.sleep(0.5)
    latencies = []
    for _ in range(KEY_PROBES):
        sent = term.send(PROBE)
        latencies.append(term.wait_for(PROBE, sent) - sent)
        time.sleep(0.1)
        term.send(b"\x7f")
        time.sleep(0.15)
    term.send(b"\x11")
    term.wait_exit()
    return latencies


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def first_frame_only(repeats: int) -> None:
    """Time only the first frame, the app's and a bare Textual app's, alternating."""
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["XDG_DATA_HOME"] = str(Path(tmp) / "xdg")
        frames, bare_frames = first_frames(Path(tmp) / "runs-frame", repeats)
    print(f"{'first frame from process start (median)':<44}{statistics.median(frames):>18.3f} s{'< 0.5 s':>12}")
    print(f"  each launch: {' '.join(f'{t:.2f}' for t in frames)}")
    print(f"{'  a bare Textual app, same terminal (median)':<44}{statistics.median(bare_frames):>18.3f} s")
    print(f"  each launch: {' '.join(f'{t:.2f}' for t in bare_frames)}")


def tmux_only(pairs: int) -> None:
    """Only issue 22's case: the app in tmux at TMUX_SIZE against ``train``, ``pairs`` pairs."""
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        os.environ["XDG_DATA_HOME"] = str(tmp_path / "xdg")
        bench_path = save_config(resolve(BENCH_LAYER), tmp_path / "bench.toml")
        headless, in_app, ui_share = tmux_speed(tmp_path / "runs-tmux", bench_path, pairs)
    print_tmux(headless, in_app, ui_share)


def print_tmux(headless: list[float], in_app: list[float], ui_share: list[float]) -> None:
    ratios = [a / h for a, h in zip(in_app, headless)]
    print(f"tmux {TMUX_SIZE[0]}x{TMUX_SIZE[1]}: {resolve(BENCH_LAYER).summary()}; load {os.getloadavg()[0]:.1f}")
    print(f"{'in tmux: tui-trainer train (median)':<44}{statistics.median(headless):>20,.0f}")
    print(f"{'in tmux: the app, ctrl+r (median)':<44}{statistics.median(in_app):>20,.0f}")
    print(f"{'ratio app in tmux / train (median of ' + str(len(ratios)) + ')':<44}"
          f"{statistics.median(ratios):>20.3f}{'>= 0.97':>12}")
    print(f"{'  each pair':<44}{' '.join(f'{r:.2f}' for r in ratios):>20}")
    print(f"{'  UI thread CPU, share of the run (median)':<44}{statistics.median(ui_share):>20.2%}")


def watch_only(repeats: int) -> None:
    """Only issue 22's watched run: the default spiral at its own pace, in tmux."""
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        os.environ["XDG_DATA_HOME"] = str(tmp_path / "xdg")
        spiral = save_config(resolve(SPIRAL_LAYER), tmp_path / "spiral.toml")
        print_watched(watched_spiral(tmp_path, spiral, repeats))


def print_watched(measured: list[tuple[float, int]]) -> None:
    seconds = statistics.median(s for s, _ in measured)
    drawn = statistics.median(d for _, d in measured)
    print(f"{'watched spiral run, seconds (median)':<44}{seconds:>18.1f} s{'>= 10 s':>12}")
    print(f"{'  Boundary pictures drawn (median)':<44}{drawn:>20.0f}{'>= 50':>12}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--first-frame", action="store_true",
                        help="time only the first frame (the app's and a bare Textual app's, alternating)")
    parser.add_argument("--repeats", type=int, default=REPEATS, metavar="N",
                        help=f"launches of each for --first-frame (default {REPEATS})")
    parser.add_argument("--tmux", type=int, nargs="?", const=TERMINAL_REPEATS, metavar="PAIRS",
                        help=f"only the app in tmux at 120x36 against train (default {TERMINAL_REPEATS} pairs)")
    parser.add_argument("--watch", type=int, nargs="?", const=3, metavar="RUNS",
                        help="only the default spiral watched in tmux at its own pace (default 3 runs)")
    args = parser.parse_args()
    if args.first_frame:
        first_frame_only(args.repeats)
        return
    if args.watch is not None:
        watch_only(args.watch)
        return
    if args.tmux is not None:
        tmux_only(args.tmux)
        return
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        os.environ["XDG_DATA_HOME"] = str(tmp_path / "xdg")
        config_path = save_config(resolve(LONG_LAYER), tmp_path / "long.toml")
        frames, bare_frames = first_frames(tmp_path / "runs-frame")
        first_runs = ready_to_finished(tmp_path / "runs-first")
        latencies, quit_seconds = key_latency_and_quit(tmp_path / "runs-keys", config_path)
        headless, in_app, ui_share = speed_ratio(tmp_path / "runs-speed")
        boundary_headless, boundary_app, boundary_ui = speed_ratio(tmp_path / "runs-boundary", BOUNDARY_LAYER,
                                                                   "tab-boundary")
        layers_headless, layers_app, layers_ui = speed_ratio(tmp_path / "runs-layers", BENCH_LAYER, "tab-layers")
        bench_path = save_config(resolve(BENCH_LAYER), tmp_path / "bench.toml")
        term_headless, term_app, term_ui = terminal_speed(tmp_path / "runs-term", bench_path)
        tmux_headless, tmux_app, tmux_ui = tmux_speed(tmp_path / "runs-tmux", bench_path)
        watched = watched_spiral(tmp_path / "runs-watched", save_config(resolve(SPIRAL_LAYER), tmp_path / "spiral.toml"))
        race_latencies = race_latency(tmp_path / "runs-race", config_path)
    ratios = [a / h for a, h in zip(in_app, headless)]
    term_ratios = [a / h for a, h in zip(term_app, term_headless)]
    print(f"config: {resolve(BENCH_LAYER).summary()} (CPU, {os.cpu_count()} cores)")
    print(f"{'figure':<44}{'measured':>20}{'target':>12}")
    print(f"{'samples/s headless (median)':<44}{statistics.median(headless):>20,.0f}")
    print(f"{'samples/s in the app, charts live (median)':<44}{statistics.median(in_app):>20,.0f}")
    print(f"{'ratio app / headless (median of ' + str(SPEED_REPEATS) + ')':<44}"
          f"{statistics.median(ratios):>20.3f}{'>= 0.95':>12}")
    print(f"{'  each pair':<44}{' '.join(f'{r:.2f}' for r in ratios):>20}")
    print(f"{'  UI thread CPU, share of the run (median)':<44}{statistics.median(ui_share):>20.2%}")
    boundary_ratios = [a / h for a, h in zip(boundary_app, boundary_headless)]
    print(f"{'boundary: ' + resolve(BOUNDARY_LAYER).summary()}")
    print(f"{'samples/s headless (median)':<44}{statistics.median(boundary_headless):>20,.0f}")
    print(f"{'samples/s in the app, boundary live (median)':<44}{statistics.median(boundary_app):>20,.0f}")
    print(f"{'ratio app / headless, boundary live':<44}{statistics.median(boundary_ratios):>20.3f}{'>= 0.95':>12}")
    print(f"{'  each pair':<44}{' '.join(f'{r:.2f}' for r in boundary_ratios):>20}")
    print(f"{'  UI thread CPU, share of the run (median)':<44}{statistics.median(boundary_ui):>20.2%}")
    layers_ratios = [a / h for a, h in zip(layers_app, layers_headless)]
    print(f"{'ratio app / headless, Layers table live':<44}{statistics.median(layers_ratios):>20.3f}{'>= 0.95':>12}")
    print(f"{'  each pair':<44}{' '.join(f'{r:.2f}' for r in layers_ratios):>20}")
    print(f"{'  UI thread CPU, share of the run (median)':<44}{statistics.median(layers_ui):>20.2%}")
    print(f"{'in a terminal: tui-trainer train (median)':<44}{statistics.median(term_headless):>20,.0f}")
    print(f"{'in a terminal: the app, ctrl+r (median)':<44}{statistics.median(term_app):>20,.0f}")
    print(f"{'ratio app in a terminal / train (median of ' + str(TERMINAL_REPEATS) + ')':<44}"
          f"{statistics.median(term_ratios):>20.3f}{'>= 0.97':>12}")
    print(f"{'  each pair':<44}{' '.join(f'{r:.2f}' for r in term_ratios):>20}")
    print(f"{'  UI thread CPU, share of the run (median)':<44}{statistics.median(term_ui):>20.2%}")
    print_tmux(tmux_headless, tmux_app, tmux_ui)
    print_watched(watched)
    print(f"{'first frame from process start (median)':<44}{statistics.median(frames):>18.3f} s{'< 0.5 s':>12}")
    print(f"{'  a bare Textual app, same terminal (median)':<44}{statistics.median(bare_frames):>18.3f} s")
    print(f"{'ready to finished linear run (median)':<44}{statistics.median(first_runs):>18.3f} s{'< 3 s':>12}")
    print(f"{'key press to screen while training, p50':<44}{statistics.median(latencies) * 1000:>17.1f} ms")
    print(f"{'key press to screen while training, p95':<44}{p95(latencies) * 1000:>17.1f} ms{'< 50 ms':>12}")
    print(f"{'ctrl+q mid-run to process exit':<44}{quit_seconds:>18.3f} s{'< 1 s':>12}")
    print(f"{'key to screen, 4 runs racing, p50':<44}{statistics.median(race_latencies) * 1000:>17.1f} ms")
    print(f"{'key to screen, 4 runs racing, p95':<44}{p95(race_latencies) * 1000:>17.1f} ms{'< 50 ms':>12}")


if __name__ == "__main__":
    main()
