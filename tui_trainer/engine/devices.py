"""Device resolution: auto, cpu, cuda, cuda:N and mps, with clear errors for unavailable ones."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from tui_trainer.errors import UserFacingError


@dataclass(frozen=True)
class DeviceInfo:
    """A device a run can use: its config name and a description (GPU name and memory)."""

    name: str
    description: str


def available_devices() -> list[DeviceInfo]:
    """The devices on this machine, CPU first, each CUDA GPU by index, then MPS."""
    devices = [DeviceInfo("cpu", "CPU")]
    if torch.cuda.is_available():
        for index in range(torch.cuda.device_count()):
            devices.append(DeviceInfo(f"cuda:{index}", describe(torch.device("cuda", index))))
    if _mps_available():
        devices.append(DeviceInfo("mps", "Apple GPU (MPS)"))
    return devices


def resolve_device(name: str) -> torch.device:
    """Turn a config device name into a torch.device, or raise UserFacingError naming what exists."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", torch.cuda.current_device())
        return torch.device("mps") if _mps_available() else torch.device("cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "mps":
        if _mps_available():
            return torch.device("mps")
        raise _unavailable(name, "MPS (Apple GPU) is not available on this machine")
    if name == "cuda" or name.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise _unavailable(name, "CUDA is not available (no NVIDIA GPU, or torch built without CUDA)")
        index = int(name.partition(":")[2] or torch.cuda.current_device())
        if index >= torch.cuda.device_count():
            raise _unavailable(name, f"there are {torch.cuda.device_count()} CUDA device(s)")
        return torch.device("cuda", index)
    raise _unavailable(name, "not a device name")


def describe(device: torch.device) -> str:
    """Human description of a device: the GPU's name and memory on CUDA."""
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        return f"{props.name}, {props.total_memory / 2**30:.1f} GiB"
    if device.type == "mps":
        return "Apple GPU (MPS)"
    return "CPU"


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend and backend.is_available())


def _unavailable(name: str, why: str) -> UserFacingError:
    names = ", ".join(["auto"] + [d.name for d in available_devices()])
    return UserFacingError(f"training.device: {name!r} is not available: {why}; available: {names}")
