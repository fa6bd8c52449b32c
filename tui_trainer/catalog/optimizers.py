"""The optimizers a run can use: torch.optim classes with every hyperparameter and torch's default."""

from __future__ import annotations

from dataclasses import dataclass

from tui_trainer.schema import Param


@dataclass(frozen=True)
class OptimizerSpec:
    """An optimizer choice: the torch.optim class it builds and its hyperparameters."""

    name: str
    torch_class: str
    help: str
    params: tuple[Param, ...]


def _lr(default: float) -> Param:
    return Param("lr", "float", default, "learning rate", minimum=0.0, min_exclusive=True)


def _weight_decay(default: float = 0.0) -> Param:
    return Param("weight_decay", "float", default, "L2 penalty (weight decay)", minimum=0.0)


def _eps(default: float) -> Param:
    return Param("eps", "float", default, "term added to the denominator for stability", minimum=0.0)


_BETAS = Param(
    "betas", "floats", [0.9, 0.999], "coefficients for the running averages of the gradient "
    "and its square", length=2, minimum=0.0, maximum=1.0, max_exclusive=True,
)
_AMSGRAD = Param("amsgrad", "bool", False, "use the AMSGrad variant")
_MAXIMIZE = Param("maximize", "bool", False, "maximize the objective instead of minimizing it")
_MOMENTUM = Param("momentum", "float", 0.0, "momentum factor", minimum=0.0)

OPTIMIZERS: dict[str, OptimizerSpec] = {
    spec.name: spec
    for spec in (
        OptimizerSpec("sgd", "SGD", "stochastic gradient descent, optionally with momentum", (
            _lr(0.001),
            _MOMENTUM,
            Param("dampening", "float", 0.0, "dampening for momentum", minimum=0.0),
            _weight_decay(),
            Param("nesterov", "bool", False, "use Nesterov momentum (needs momentum > 0, dampening 0)"),
            _MAXIMIZE,
        )),
        OptimizerSpec("adam", "Adam", "adaptive moment estimation", (
            _lr(0.001), _BETAS, _eps(1e-08), _weight_decay(), _AMSGRAD, _MAXIMIZE,
            Param("decoupled_weight_decay", "bool", False, "decouple weight decay as in AdamW"),
        )),
        OptimizerSpec("adamw", "AdamW", "Adam with decoupled weight decay", (
            _lr(0.001), _BETAS, _eps(1e-08), _weight_decay(0.01), _AMSGRAD, _MAXIMIZE,
        )),
        OptimizerSpec("rmsprop", "RMSprop", "divides the gradient by a running average of its size", (
            _lr(0.01),
            Param("alpha", "float", 0.99, "smoothing constant", minimum=0.0),
            _eps(1e-08),
            _weight_decay(),
            _MOMENTUM,
            Param("centered", "bool", False, "normalize by an estimate of the gradient's variance"),
            _MAXIMIZE,
        )),
        OptimizerSpec("adagrad", "Adagrad", "per-parameter rates that shrink with accumulated gradients", (
            _lr(0.01),
            Param("lr_decay", "float", 0.0, "learning rate decay", minimum=0.0),
            _weight_decay(),
            Param("initial_accumulator_value", "float", 0.0, "starting value of the sum of squares",
                  minimum=0.0),
            _eps(1e-10),
            _MAXIMIZE,
        )),
        OptimizerSpec("adadelta", "Adadelta", "adaptive rates from running averages of updates", (
            _lr(1.0),
            Param("rho", "float", 0.9, "coefficient of the running average of squared gradients",
                  minimum=0.0, maximum=1.0),
            _eps(1e-06),
            _weight_decay(),
            _MAXIMIZE,
        )),
    )
}
