"""What a GPU user checks first, sampled on demand: the GPU's memory (torch.cuda) with its
utilization and temperature where nvidia-ml-py is installed (``pip install 'tui-trainer[gpu]'``);
on the CPU, the threads and the process's memory."""

from __future__ import annotations

import os
import resource
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Resources:
    """One sample. Memory in bytes; None where this machine cannot say."""

    device: str
    threads: int
    process_memory: int | None
    allocated: int | None = None
    reserved: int | None = None
    total: int | None = None
    utilization: int | None = None
    temperature: int | None = None

    def describe(self) -> str:
        """A short line: ``GPU 1.2/3.4 of 80 GiB · 45% · 61°C`` (allocated/reserved of total,
        utilization, temperature) or ``CPU ×2 · 412 MiB`` (threads, the process's memory)."""
        if self.total is not None:
            parts = [f"GPU {_gib(self.allocated)}/{_gib(self.reserved)} of {_gib(self.total)} GiB"]
            if self.utilization is not None:
                parts.append(f"{self.utilization}%")
            if self.temperature is not None:
                parts.append(f"{self.temperature}°C")
            return " · ".join(parts)
        memory = "" if self.process_memory is None else f" · {self.process_memory / 2**20:,.0f} MiB"
        return f"CPU ×{self.threads}{memory}"


def sample(device: str | torch.device, threads: int | None = None) -> Resources:
    """The resources of ``device`` (``cuda:0``, ``cpu``...) now; ``threads`` is the run's thread
    count when another thread asks (torch's count belongs to the calling thread)."""
    device = torch.device(device)
    threads, memory = threads or torch.get_num_threads(), process_memory()
    if device.type != "cuda" or not torch.cuda.is_available():
        return Resources(str(device), threads, memory)
    index = device.index if device.index is not None else torch.cuda.current_device()
    utilization, temperature = _nvml(index)
    return Resources(str(device), threads, memory, torch.cuda.memory_allocated(index),
                     torch.cuda.memory_reserved(index), torch.cuda.get_device_properties(index).total_memory,
                     utilization, temperature)


def process_memory() -> int | None:
    """This process's resident memory in bytes (its peak where the current one is unknown)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak * 1024 if peak else None


def _nvml(index: int) -> tuple[int | None, int | None]:
    """GPU utilization (%) and temperature (°C) from NVML, or (None, None) without nvidia-ml-py."""
    try:
        import pynvml
    except ImportError:
        return None, None
    try:
        pynvml.nvmlInit()
        handle = pynvml.nvmlDeviceGetHandleByIndex(index)
        return (pynvml.nvmlDeviceGetUtilizationRates(handle).gpu,
                pynvml.nvmlDeviceGetTemperature(handle, pynvml.NVML_TEMPERATURE_GPU))
    except pynvml.NVMLError:
        return None, None


def _gib(value: int | None) -> str:
    return "?" if value is None else f"{value / 2**30:.1f}"
