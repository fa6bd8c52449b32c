"""Engine vs bare PyTorch loops, alternating in one run; prints samples/s and engine/bare ratios.

Two workloads:
  * tutorial 004's configuration: 10-50-1 MLP, MSE, SGD lr 0.01, batch 10, 100 samples;
  * an MNIST-shaped MLP: 784-128-64-10, cross-entropy, Adam, batch 64, random images
    (written as IDX files and read through the engine's real torchvision path).

Two bare loops: as the tutorials write it (a DataLoader over ``list(zip(data, targets))``,
shuffle=True) and a tight hand-written loop (shuffled index slices of tensors, the same
technique the engine uses). Both run with torch's default settings (its own thread count), the
honest baseline; the engine chooses its threads itself. Samples/s counts the training loop only
(no set-up, data loading or evaluation), the same for all three.

Then compare mode: four runs of each workload (four optimizers) raced in one thread against the
same four trained one after another, alternating; total samples over wall-clock seconds.

Last, torchrun: the MNIST-shaped run with 2 ranks (gloo, CPU) against one process, each through
the real command (``train --json``), alternating; samples/s as the run reports it.

Run: ``make bench`` or ``.venv/bin/python benchmarks/bench_engine.py [--rounds N]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn as nn

from tui_trainer.config import resolve
from tui_trainer.engine.events import Callback
from tui_trainer.engine.loop import DEFAULT_THREADS, Trainer
from tui_trainer.engine.race import race

RACED_OPTIMIZERS = ("sgd", "adam", "rmsprop", "adagrad")


class WallClock(Callback):
    """Wall-clock time from the first step to the end of the last epoch, bookkeeping included."""

    def on_run_start(self, event) -> None:
        self.start = time.perf_counter()

    def on_epoch_end(self, event) -> None:
        self.end = time.perf_counter()


def write_random_mnist(root: Path, count: int) -> None:
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    g = torch.Generator().manual_seed(0)
    for prefix, n in (("train", count), ("t10k", 10)):
        pixels = torch.randint(0, 256, (n, 28, 28), generator=g, dtype=torch.uint8)
        labels = torch.randint(0, 10, (n,), generator=g, dtype=torch.uint8)
        (raw / f"{prefix}-images-idx3-ubyte").write_bytes(struct.pack(">IIII", 2051, n, 28, 28)
                                                           + pixels.numpy().tobytes())
        (raw / f"{prefix}-labels-idx1-ubyte").write_bytes(struct.pack(">II", 2049, n)
                                                           + labels.numpy().tobytes())


def workloads(data_dir: Path, images: int) -> dict[str, dict]:
    return {
        "tutorial 004 (10-50-1, SGD, batch 10)": {
            "config": {"task": {"name": "regression", "samples": 100}, "model": {"hidden": [50]},
                       "loss": "mse", "optimizer": {"name": "sgd", "lr": 0.01},
                       "training": {"batch_size": 10, "val_split": 0.0, "epochs": 300, "device": "cpu"}},
            "sizes": [10, 50, 1], "loss": nn.MSELoss, "optimizer": lambda p: torch.optim.SGD(p, lr=0.01),
        },
        "MNIST-shaped (784-128-64-10, Adam, batch 64)": {
            "config": {"task": {"name": "mnist", "data_dir": str(data_dir), "download": False},
                       "optimizer": {"name": "adam", "lr": 0.001},
                       "training": {"batch_size": 64, "val_split": 0.0, "epochs": 2, "device": "cpu"}},
            "sizes": [784, 128, 64, 10], "loss": nn.CrossEntropyLoss,
            "optimizer": lambda p: torch.optim.Adam(p, lr=0.001), "images": images,
        },
    }


def mlp(sizes: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for a, b in zip(sizes, sizes[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


def bare_tutorial(x, y, work, epochs, batch) -> float:
    """Tutorial 004's loop: DataLoader over a list of pairs, shuffle=True."""
    model, criterion = mlp(work["sizes"]), work["loss"]()
    optimizer = work["optimizer"](model.parameters())
    loader = torch.utils.data.DataLoader(dataset=list(zip(x, y)), batch_size=batch, shuffle=True)
    start = time.perf_counter()
    for _ in range(epochs):
        for batch_data, batch_targets in loader:
            optimizer.zero_grad()
            loss = criterion(model(batch_data), batch_targets)
            loss.backward()
            optimizer.step()
    return len(x) * epochs / (time.perf_counter() - start)


def bare_tight(x, y, work, epochs, batch) -> float:
    """A tight hand-written loop: shuffled index slices of tensors."""
    model, criterion = mlp(work["sizes"]), work["loss"]()
    optimizer = work["optimizer"](model.parameters())
    n = len(x)
    start = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(n)
        for i in range(0, n, batch):
            idx = order[i:i + batch]
            optimizer.zero_grad()
            loss = criterion(model(x[idx]), y[idx])
            loss.backward()
            optimizer.step()
    return n * epochs / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--images", type=int, default=6400, help="random MNIST-shaped training images")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        write_random_mnist(tmp_path / "data", args.images)
        print(f"torch {torch.__version__}, {args.rounds} rounds alternating engine / tutorial loop / "
              "tight loop; median samples/s\n")
        for name, work in workloads(tmp_path / "data", args.images).items():
            config = resolve(work["config"])
            rates: dict[str, list[float]] = {"engine": [], "wall": [], "tutorial": [], "tight": []}
            for _ in range(args.rounds):
                clock = WallClock()
                trainer = Trainer(config, [clock], runs_dir=tmp_path / "runs")
                result = trainer.run()
                rates["engine"].append(result.samples_per_second)
                rates["wall"].append(trainer.n_train * result.epochs_run / (clock.end - clock.start))
                x, y = trainer.data.x_train, trainer.data.y_train
                epochs, batch = config.training.epochs, config.training.batch_size
                torch.manual_seed(0)
                torch.set_num_threads(DEFAULT_THREADS)  # the bare loops get torch's default
                rates["tutorial"].append(bare_tutorial(x, y, work, epochs, batch))
                rates["tight"].append(bare_tight(x, y, work, epochs, batch))
            med = {k: statistics.median(v) for k, v in rates.items()}
            print(f"{name}  [engine threads={trainer.threads}, torch default={DEFAULT_THREADS}]")
            print(f"  engine (reported)   {med['engine']:>10,.0f} samples/s   (training steps only)")
            print(f"  engine (wall)       {med['wall']:>10,.0f} samples/s   (with per-epoch history, "
                  "run folder, callbacks)")
            for bare, label in (("tutorial", "tutorial loop"), ("tight", "tight loop")):
                print(f"  {label:<19} {med[bare]:>10,.0f} samples/s   engine/bare = "
                      f"{med['engine'] / med[bare]:.2f} reported, {med['wall'] / med[bare]:.2f} wall")
            print()
        print(f"compare mode: {len(RACED_OPTIMIZERS)} runs ({', '.join(RACED_OPTIMIZERS)}) raced in one "
              "thread vs one after another; total samples / wall-clock s")
        for name, work in workloads(tmp_path / "data", args.images).items():
            configs = [resolve(work["config"], {"optimizer": {"name": opt, "lr": 0.01}})
                       for opt in RACED_OPTIMIZERS]
            together, alone = [], []
            for _ in range(args.rounds):
                alone.append(_total_rate(lambda: [Trainer(c, runs_dir=tmp_path / "runs").run()
                                                  for c in configs]))
                together.append(_total_rate(lambda: race([Trainer(c, runs_dir=tmp_path / "runs")
                                                          for c in configs])))
            a, t = statistics.median(alone), statistics.median(together)
            print(f"  {name}: one after another {a:,.0f}, raced {t:,.0f} samples/s; "
                  f"raced/sequential = {t / a:.2f}")
        _torchrun_figure(tmp_path, args.rounds)
    sys.stdout.flush()


def _torchrun_figure(tmp_path: Path, rounds: int) -> None:
    args = ["train", "--task", "mnist", "--data-dir", str(tmp_path / "data"), "--set", "task.download=false",
            "--epochs", "2", "--batch-size", "64", "--device", "cpu", "--json",
            "--runs-dir", str(tmp_path / "runs")]
    launches = {
        "one process": [sys.executable, "-m", "tui_trainer", *args],
        "torchrun, 2 ranks": [sys.executable, "-m", "torch.distributed.run", "--standalone",
                              "--nproc-per-node=2", "-m", "tui_trainer", *args],
    }
    rates: dict[str, list[float]] = {name: [] for name in launches}
    for _ in range(rounds):
        for name, command in launches.items():
            out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
            rates[name].append(json.loads(out)["samples_per_second"])
    med = {name: statistics.median(values) for name, values in rates.items()}
    print("\ntorchrun (MNIST-shaped, batch 64 global, gloo on the CPU):")
    for name, rate in med.items():
        print(f"  {name:<18} {rate:>10,.0f} samples/s")
    print(f"  2 ranks / one process = {med['torchrun, 2 ranks'] / med['one process']:.2f}")


def _total_rate(train) -> float:
    """Samples trained per wall-clock second (set-up included) by ``train()``'s runs."""
    start = time.perf_counter()
    results = train()
    seconds = time.perf_counter() - start
    return sum(r.samples_per_second * r.seconds for r in results) / seconds


if __name__ == "__main__":
    main()
