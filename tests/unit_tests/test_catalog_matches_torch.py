"""The catalogs expose torch's own classes with torch's own defaults, and nothing else."""

import inspect

import pytest
import torch

from tui_trainer.catalog.losses import LOSSES, OWN_LOSSES
from tui_trainer.catalog.optimizers import OPTIMIZERS
from tui_trainer.catalog.schedulers import SCHEDULERS

#: Constructor arguments that choose an implementation, not a hyperparameter.
IMPLEMENTATION_KNOBS = {"params", "foreach", "capturable", "differentiable", "fused"}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_every_optimizer_hyperparameter_is_exposed_with_torchs_default(name):
    spec = OPTIMIZERS[name]
    signature = inspect.signature(getattr(torch.optim, spec.torch_class))
    torch_defaults = {k: p.default for k, p in signature.parameters.items() if k not in IMPLEMENTATION_KNOBS}
    ours = {p.name: p.default for p in spec.params}
    assert set(ours) == set(torch_defaults)
    for key, default in torch_defaults.items():
        expected = list(default) if isinstance(default, tuple) else default
        assert ours[key] == expected, key


@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_scheduler_parameters_are_constructor_arguments_with_torchs_defaults(name):
    spec = SCHEDULERS[name]
    if spec.torch_class is None:
        return
    signature = inspect.signature(getattr(torch.optim.lr_scheduler, spec.torch_class)).parameters
    for param in spec.params:
        assert param.name in signature
        default = signature[param.name].default
        if default is not inspect.Parameter.empty:
            assert param.default == default, param.name


@pytest.mark.parametrize("name", sorted(set(LOSSES) - set(OWN_LOSSES)))
def test_losses_are_torch_nn_classes_and_their_params_are_arguments(name):
    spec = LOSSES[name]
    cls = getattr(torch.nn, spec.torch_class)
    signature = inspect.signature(cls).parameters
    for param in spec.params:
        assert signature[param.name].default == param.default
