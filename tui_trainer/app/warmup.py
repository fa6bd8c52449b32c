"""What the app loads in the background after its first frame, so the first run starts warm."""

from __future__ import annotations

from typing import Callable


def warm_engine(say: Callable[[str], None]) -> list[tuple[str, str]]:
    """Import torch and the engine, then build and step one optimizer (the first optimizer of a
    process imports torch._dynamo, which takes longer than the linear task's whole run), calling
    ``say`` with what is loading; return the devices as (label, name) choices. Task data is left
    alone: each task loads only what it needs (scikit-learn for its datasets, torchvision for
    MNIST) when it runs. What is loaded by then is left out of garbage collections."""
    say("torch")
    import torch

    import tui_trainer.engine.loop  # noqa: F401  (the engine a run needs)
    from tui_trainer.engine.devices import available_devices
    from tui_trainer.engine.memory import keep_loaded_out_of_collections

    say("torch's optimizer machinery")
    weight = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([weight], lr=0.1)
    weight.sum().backward()
    optimizer.step()
    say("the list of devices")
    devices = available_devices()
    keep_loaded_out_of_collections()
    return [("auto (best available)", "auto")] + [
        (f"{d.name} — {d.description}" if d.description.lower() != d.name else d.name, d.name)
        for d in devices]
