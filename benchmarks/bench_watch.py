"""The watcher's benchmark: how soon an epoch a ``tui-trainer train`` in another process writes is
on the screen of ``tui-trainer watch``, and whether a watched run trains slower.

    .venv/bin/python benchmarks/bench_watch.py [--pairs N]

Both measured with the real programs: the watcher in a pseudo-terminal (its output read and
timestamped as it comes), the writer as a person starts it.

- Delay: for each epoch ended once the watcher shows the run (it looks for new runs every 2 s),
  from the moment its line is in ``history.jsonl`` (a thread looks at the file every
  millisecond) to the first frame whose readouts show that epoch's figures, or a later epoch's
  (target: under one second).
- Speed: the same run through ``tui-trainer train`` with no watcher and with one (started before,
  waiting; it opens the run as it starts), alternating, samples/s from each run's own summary;
  the ratio of each pair, their median, and the watcher's CPU while the run trains.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench_app import Terminal

from tui_trainer.config import resolve, save_config
from tui_trainer.formatting import number

#: A run of a few seconds whose epochs end a few times a second: the regression task's MLP on
#: 5000 samples, batch 32.
LAYER = {"task": {"name": "regression", "samples": 5000}, "training": {"epochs": 40, "device": "cpu"}}
#: Target: an epoch on the watcher's screen within this many seconds of its line.
TARGET = 1.0


class HistoryTail(threading.Thread):
    """Timestamps each line of a run folder's history.jsonl as it appears (perf_counter)."""

    def __init__(self, runs_dir: Path) -> None:
        super().__init__(daemon=True)
        self.runs_dir = runs_dir
        self.lines: list[tuple[float, dict]] = []
        self.done = threading.Event()

    def run(self) -> None:
        path, offset, rest = None, 0, b""
        while not self.done.is_set():
            if path is None:
                found = [p / "history.jsonl" for p in self.runs_dir.iterdir() if (p / "history.jsonl").exists()] \
                    if self.runs_dir.is_dir() else []
                path = found[0] if found else None
            if path is not None:
                with path.open("rb") as handle:
                    handle.seek(offset)
                    data = handle.read()
                if data:
                    stamp = time.perf_counter()
                    offset += len(data)
                    *lines, rest = (rest + data).split(b"\n")
                    self.lines += [(stamp, json.loads(line)) for line in lines if line.strip()]
            time.sleep(0.001)


def process_cpu(pid: int) -> float:
    """CPU seconds a process (all its threads) has used, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def train(config_path: Path, runs_dir: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tui_trainer", "train", "--config", str(config_path), "--json",
                             "--runs-dir", str(runs_dir)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)


def watcher(runs_dir: Path) -> Terminal:
    """``tui-trainer watch`` on an empty runs folder, waiting for a run."""
    term = Terminal(None, runs_dir, ["-m", "tui_trainer", "watch", "--runs-dir", str(runs_dir)])
    term.wait_for(b"no run is being written", term.started, limit=60)
    return term


def delays(config_path: Path, runs_dir: Path) -> tuple[list[float], int, int]:
    """Seconds from each epoch's line to the screen showing it (or a later epoch), for the epochs
    that ended once the watcher showed the run; the number of those the screen never showed
    (the run ended first), and of the epochs that ended before the watcher showed the run."""
    term = watcher(runs_dir)
    tail = HistoryTail(runs_dir)
    tail.start()
    started = time.perf_counter()
    writer = train(config_path, runs_dir)
    if writer.wait() != 0:
        raise RuntimeError("the run failed")
    term.wait_for(b"finished", started, limit=60)
    tail.done.set()
    tail.join()
    output = term.output_since(started)
    term.send(b"\x11")
    term.wait_exit()
    following = next(t for t, data in output if b"running" in data)
    before = sum(1 for stamp, _ in tail.lines if stamp < following)
    tail.lines = [(stamp, row) for stamp, row in tail.lines if stamp >= following]
    shown_at: dict[int, float] = {}  # when each epoch's validation loss was first on screen
    for stamp, row in tail.lines:
        text = f"val {number(row['val_loss'])}".encode()
        shown = next((t for t, data in output if t >= stamp and text in data), None)
        if shown is not None:
            shown_at[row["epoch"]] = shown
    result, missed = [], 0
    for stamp, row in tail.lines:
        later = [t for epoch, t in shown_at.items() if epoch >= row["epoch"] and t >= stamp]
        if later:
            result.append(min(later) - stamp)
        else:
            missed += 1
    return result, missed, before


def speeds(config_path: Path, runs_dir: Path, pairs: int) -> tuple[list[float], list[float], list[float], list[float]]:
    """Samples/s of the run alone and watched, alternating (a first pair warms up, not counted),
    the watcher's CPU share of the watched run's wall clock, and the share of the run's wall clock
    the watcher showed it training."""
    alone, watched, cpu_share, followed = [], [], [], []
    for pair in range(pairs + 1):
        writer = train(config_path, runs_dir / f"alone-{pair}")
        out, _ = writer.communicate()
        alone.append(json.loads(out)["samples_per_second"])
        term = watcher(runs_dir / f"watched-{pair}")
        cpu, wall = process_cpu(term.pid), time.perf_counter()
        writer = train(config_path, runs_dir / f"watched-{pair}")
        out, _ = writer.communicate()
        ended = time.perf_counter()
        cpu_share.append((process_cpu(term.pid) - cpu) / (ended - wall))
        watched.append(json.loads(out)["samples_per_second"])
        term.wait_for(b"finished", wall, limit=60)
        running = next((t for t, data in term.output_since(wall) if b"running" in data), ended)
        followed.append(max(0.0, ended - running) / (ended - wall))
        term.send(b"\x11")
        term.wait_exit()
        if pair == 0:
            alone.clear()
            watched.clear()
            cpu_share.clear()
            followed.clear()
    return alone, watched, cpu_share, followed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=5, help="runs alone and watched, alternating (default 5)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        os.environ["XDG_DATA_HOME"] = str(tmp_path / "xdg")
        config_path = save_config(resolve(LAYER), tmp_path / "bench.toml")
        seconds, missed, before = delays(config_path, tmp_path / "runs-delay")
        alone, watched, cpu_share, followed = speeds(config_path, tmp_path / "runs-speed", args.pairs)
    ratios = [w / a for w, a in zip(watched, alone)]
    print(f"config: {resolve(LAYER).summary()} (CPU, {os.cpu_count()} cores); load average "
          + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    print(f"{'figure':<52}{'measured':>22}{'target':>10}")
    print(f"{'epoch line to the watcher screen, median':<52}{statistics.median(seconds):>20.3f} s")
    print(f"{'epoch line to the watcher screen, max':<52}{max(seconds):>20.3f} s{'< 1 s':>10}")
    print(f"{'  epochs measured / not shown before the end':<52}{f'{len(seconds)} / {missed}':>22}")
    print(f"{'  epochs ended before the watcher showed the run':<52}{before:>22}")
    print(f"{'samples/s, run alone (median)':<52}{statistics.median(alone):>22,.0f}")
    print(f"{'samples/s, run watched (median)':<52}{statistics.median(watched):>22,.0f}")
    print(f"{'ratio watched / alone (median of ' + str(len(ratios)) + ')':<52}{statistics.median(ratios):>22.3f}"
          f"{'~ 1':>10}")
    print(f"{'  each pair':<52}{' '.join(f'{r:.2f}' for r in ratios):>22}")
    print(f"{'  the watcher process CPU, share of the run (median)':<52}{statistics.median(cpu_share):>22.1%}")
    print(f"{'  share of the run the watcher showed it (median)':<52}{statistics.median(followed):>22.0%}")


if __name__ == "__main__":
    main()
