"""The machine beside a run: while it trains, one line every SAMPLE_INTERVAL seconds in its
folder's ``system.jsonl`` with the process's CPU and memory, each GPU's utilization, memory and
temperature (CUDA), and where the run stood at its last report. The lines also tell a watcher
that the writer is alive between epochs (``engine.follow``).

One background thread per process samples for every run it trains (a comparison's runs share
it); it wakes every SAMPLE_INTERVAL seconds, so a run does not train measurably slower. The line
format and its reader are torch-free; the sampling itself uses ``engine.resources``.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tui_trainer.engine.events import Callback, EpochEnded, Progress, RunEnded, RunStarted, finite_or_none

SYSTEM_FILE = "system.jsonl"
#: Seconds between two lines of ``system.jsonl``.
SAMPLE_INTERVAL = 2.0
#: What a line's ``run`` holds: where the run stood at its last report.
RUN_FIGURES = ("epoch", "global_step", "elapsed", "samples_per_second", "lr", "grad_norm", "train_loss")


@dataclass(frozen=True)
class GpuReading:
    """One GPU: ``utilization`` (%), ``memory_used`` of ``memory_total`` (the whole device, bytes)
    and ``temperature`` (°C) from NVML where nvidia-ml-py is installed; ``allocated`` and
    ``reserved`` (torch.cuda, bytes) on a GPU the run trains on. None where unknown."""

    index: int
    name: str
    utilization: int | None = None
    memory_used: int | None = None
    memory_total: int | None = None
    temperature: int | None = None
    allocated: int | None = None
    reserved: int | None = None


@dataclass(frozen=True)
class SystemSample:
    """One line of ``system.jsonl``: Unix ``time``; the process's ``cpu_percent`` since the line
    before (100: one core busy; None where unknown), resident ``memory`` (bytes) and the
    run's CPU ``threads``; its ``gpus``; ``run``: where the run stood (RUN_FIGURES)."""

    time: float
    cpu_percent: float | None
    memory: int | None
    threads: int | None
    gpus: list[GpuReading] = field(default_factory=list)
    run: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """Plain JSON data; non-finite numbers become null."""
        data = asdict(self)
        data["run"] = {k: finite_or_none(v) for k, v in self.run.items()}
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SystemSample:
        """A line read back (ValueError when it is not one); keys a newer writer added are left out."""
        try:
            gpu_keys = GpuReading.__dataclass_fields__
            gpus = [GpuReading(**{k: v for k, v in gpu.items() if k in gpu_keys}) for gpu in data.get("gpus") or []]
            run = data.get("run") or {}
            return cls(float(data["time"]), data.get("cpu_percent"), data.get("memory"), data.get("threads"),
                       gpus, {k: run[k] for k in RUN_FIGURES if k in run})
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"not a system line: {exc}") from None


class SystemRecorder(Callback):
    """Records the machine beside one run into ``path`` (its folder's SYSTEM_FILE) while it
    trains. The training thread only notes where the run stands; the sampler thread writes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.device = "cpu"
        self.threads: int | None = None
        self.run: dict[str, Any] = {}
        self._file = None
        self._lock = threading.Lock()

    def on_run_start(self, event: RunStarted) -> None:
        self.device, self.threads = event.device, event.threads
        self.run = {"epoch": event.start_epoch, "global_step": event.start_step}
        try:
            self._file = self.path.open("a", encoding="utf-8")
        except OSError:  # the run folder's other files report what is wrong with it
            return
        SAMPLER.add(self)

    def on_progress(self, event: Progress) -> None:
        self.run = {"epoch": event.epoch, "global_step": event.global_step, "elapsed": event.elapsed,
                    "samples_per_second": event.samples_per_second, "lr": event.lr,
                    "grad_norm": event.grad_norm, "train_loss": event.train_loss}

    def on_epoch_end(self, event: EpochEnded) -> None:
        metrics = event.metrics
        self.run = {**self.run, "epoch": metrics.epoch, "global_step": metrics.global_step,
                    "elapsed": metrics.elapsed, "samples_per_second": metrics.samples_per_second,
                    "lr": metrics.lr}

    def on_run_end(self, event: RunEnded) -> None:
        SAMPLER.remove(self)
        with self._lock:
            if self._file is not None:
                try:
                    self._file.close()
                except OSError:  # its last line could not be written (a full disk)
                    pass
                self._file = None

    def write(self, sample: SystemSample) -> None:
        """Append one line (the sampler thread calls it); a failed write ends the recording."""
        with self._lock:
            if self._file is None:
                return
            try:
                self._file.write(json.dumps(sample.as_json()) + "\n")
                self._file.flush()
            except OSError:
                try:
                    self._file.close()
                except OSError:
                    pass
                self._file = None


class Sampler:
    """The process's sampling thread: every SAMPLE_INTERVAL seconds, one reading of the process
    and the GPUs, written for each recording run. It runs while any run records."""

    def __init__(self, interval: float = SAMPLE_INTERVAL) -> None:
        self.interval = interval
        self.recorders: list[SystemRecorder] = []
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.last_cpu: tuple[float, float] | None = None  # (process CPU seconds, monotonic time)

    def add(self, recorder: SystemRecorder) -> None:
        """Record for ``recorder`` from now on (starting the thread when none runs)."""
        with self.lock:
            self.recorders.append(recorder)
            if self.thread is None:
                self.last_cpu = (time.process_time(), time.monotonic())
                self.thread = threading.Thread(target=self._loop, name="tui-trainer system", daemon=True)
                self.thread.start()

    def remove(self, recorder: SystemRecorder) -> None:
        """Stop recording for ``recorder`` (the thread ends once no run records)."""
        with self.lock:
            if recorder in self.recorders:
                self.recorders.remove(recorder)

    def _loop(self) -> None:
        while True:
            time.sleep(self.interval)
            with self.lock:
                recorders = list(self.recorders)
                if not recorders:
                    self.thread, self.last_cpu = None, None
                    return
            try:
                process, gpus = self._read({r.device for r in recorders})
            except Exception:  # a reading that fails this time (a driver hiccup) is skipped
                continue
            for recorder in recorders:
                recorder.write(SystemSample(time.time(), *process, recorder.threads, gpus, recorder.run))

    def _read(self, devices: set[str]) -> tuple[tuple[float | None, int | None], list[GpuReading]]:
        """The process's CPU share since the last reading and its memory; the GPUs."""
        from tui_trainer.engine.resources import gpu_readings, process_memory

        cpu, now = time.process_time(), time.monotonic()
        percent = None
        if self.last_cpu is not None and now > self.last_cpu[1]:
            percent = round(100 * (cpu - self.last_cpu[0]) / (now - self.last_cpu[1]), 1)
        self.last_cpu = (cpu, now)
        return (percent, process_memory()), gpu_readings(devices)


#: The one sampler of this process.
SAMPLER = Sampler()
