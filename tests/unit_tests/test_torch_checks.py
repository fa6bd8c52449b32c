"""What torch itself refuses becomes a field error, never a traceback."""

import pytest
import torch

from helpers import config
from tui_trainer.engine.checks import torch_problems
from tui_trainer.engine.devices import available_devices, resolve_device
from tui_trainer.errors import UserFacingError


def test_nesterov_without_momentum_is_a_field_error():
    found = torch_problems(config("linear", optimizer="sgd", optimizer__nesterov=True))
    assert len(found) == 1
    assert found[0].field == "optimizer.nesterov"
    assert "Nesterov momentum requires a momentum and zero dampening" in found[0].message


def test_one_cycle_cycling_momentum_needs_an_optimizer_with_momentum():
    found = torch_problems(config("linear", optimizer="adagrad", scheduler="one-cycle"))
    assert [p.field for p in found] == ["scheduler.cycle_momentum"]
    assert torch_problems(config("linear", optimizer="adagrad", scheduler="one-cycle",
                                 scheduler__cycle_momentum=False)) == []


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without CUDA")
def test_unavailable_device_lists_what_is_available():
    with pytest.raises(UserFacingError) as info:
        resolve_device("cuda")
    assert "'cuda' is not available" in str(info.value)
    assert "available: auto, cpu" in str(info.value)
    found = torch_problems(config("linear", training__device="cuda:3"))
    assert [p.field for p in found] == ["training.device"]


def test_cpu_is_always_listed():
    assert available_devices()[0].name == "cpu"
    assert resolve_device("cpu").type == "cpu"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_devices_are_named_with_memory():
    cuda = [d for d in available_devices() if d.name.startswith("cuda:")]
    assert cuda and "GiB" in cuda[0].description
