"""What a GPU user checks first, sampled on demand: the GPU's memory (torch.cuda) with its
utilization and temperature where nvidia-ml-py is installed (``pip install 'tui-trainer[gpu]'``);
on the CPU, the threads and the process's memory. ``gpu_readings`` reads every GPU the process
sees, for the run folder's ``system.jsonl`` (``engine.system``)."""

from __future__ import annotations

import os
import resource
from dataclasses import dataclass

import torch

from tui_trainer.engine.system import GpuReading


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
    index = _cuda_index(device)
    reading = _nvml_reading(index)
    utilization, temperature = (reading[0], reading[3]) if reading else (None, None)
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


def gpu_readings(devices: set[str] | frozenset[str] = frozenset()) -> list[GpuReading]:
    """Every CUDA GPU this process sees: with nvidia-ml-py each one's utilization, memory and
    temperature; torch's allocated and reserved memory on those of ``devices`` (the runs'
    devices: ``cuda:0``...; asking torch about another GPU would make a CUDA context on it).
    Without nvidia-ml-py only the runs' GPUs, from torch. Empty without CUDA."""
    if not torch.cuda.is_available():
        return []
    used = {_cuda_index(torch.device(d)) for d in devices if torch.device(d).type == "cuda"}
    readings = []
    for index in range(torch.cuda.device_count()):
        nvml = _nvml_reading(index)
        if nvml is None and index not in used:
            continue
        properties = torch.cuda.get_device_properties(index)
        utilization, memory_used, memory_total, temperature = nvml or (None, None, properties.total_memory, None)
        mine = index in used
        readings.append(GpuReading(index, properties.name, utilization, memory_used, memory_total, temperature,
                                   torch.cuda.memory_allocated(index) if mine else None,
                                   torch.cuda.memory_reserved(index) if mine else None))
    return readings


def _cuda_index(device: torch.device) -> int:
    return device.index if device.index is not None else torch.cuda.current_device()


def _nvml_reading(index: int) -> tuple[int, int, int, int] | None:
    """NVML's utilization (%), memory used and total (bytes) and temperature (°C) of torch's GPU
    ``index``, or None without nvidia-ml-py. NVML counts every GPU of the machine, torch only the
    visible ones (CUDA_VISIBLE_DEVICES): the GPU is found by its UUID."""
    try:
        import pynvml
    except ImportError:
        return None
    try:
        pynvml.nvmlInit()
        try:
            handle = pynvml.nvmlDeviceGetHandleByUUID(f"GPU-{torch.cuda.get_device_properties(index).uuid}")
        except (AttributeError, pynvml.NVMLError):  # a torch without the UUID, an unexpected form
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
        memory = pynvml.nvmlDeviceGetMemoryInfo(handle)
        return (pynvml.nvmlDeviceGetUtilizationRates(handle).gpu, memory.used, memory.total,
                pynvml.nvmlDeviceGetTemperature(handle, pynvml.NVML_TEMPERATURE_GPU))
    except pynvml.NVMLError:
        return None


def _gib(value: int | None) -> str:
    return "?" if value is None else f"{value / 2**30:.1f}"
