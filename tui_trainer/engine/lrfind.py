"""The learning-rate range test (fastai's ``lr_find``): the learning rate grows exponentially
from ``start`` to ``end`` over ``steps`` optimizer steps on real batches while the smoothed loss
is recorded; the test stops early once that loss passes 4x its best, and the model and optimizer
are put back as they were. Two rules suggest a rate, as fastai's: ``valley`` (the middle of the
longest stretch where the loss keeps falling) and ``steep`` (the steepest descent)."""

from __future__ import annotations

import copy
import itertools
import math
from dataclasses import asdict, dataclass

import torch

from tui_trainer.config import Config
from tui_trainer.engine import kernel
from tui_trainer.engine.events import finite_or_none
from tui_trainer.engine.loop import Trainer

#: fastai's smoothing of the recorded loss (an exponential moving average, bias-corrected).
SMOOTHING = 0.98
#: The test stops once the smoothed loss passes this many times its best.
DIVERGED = 4.0
RULES = ("valley", "steep")
#: fastai leaves the test's last this many points out of the suggestion.
SKIP_END = 5


@dataclass
class LrFindResult:
    """The tested rates, their smoothed losses, the suggestion and the rule that made it."""

    lrs: list[float]
    losses: list[float]
    suggestion: float | None
    rule: str
    stopped_early: bool

    def as_json(self) -> dict:
        """The ``lr-find --json`` object (non-finite numbers are null: always valid JSON)."""
        return {**asdict(self), "lrs": [finite_or_none(lr) for lr in self.lrs],
                "suggestion": finite_or_none(self.suggestion)}


def find_lr(config: Config, start: float = 1e-7, end: float = 10.0, steps: int = 100,
            rule: str = "valley") -> LrFindResult:
    """Run the range test on ``config``'s data, model and optimizer (its scheduler is not used);
    the model and optimizer end as they began."""
    trainer = Trainer(config, runs_dir=False)
    trainer.get_ready()
    model, optimizer = trainer.net, trainer.optimizer
    saved = copy.deepcopy(trainer.model.state_dict()), copy.deepcopy(optimizer.state_dict())
    x, y, index = kernel.arrange(trainer.data.x_train, trainer.data.y_train,
                                 kernel.epoch_order(trainer.n_train, trainer.batch_size, trainer.shuffle))
    batch, start_at = trainer.batch_size, 0
    lrs, losses, average, best = [], [], 0.0, math.inf
    stopped_early = False
    model.train()
    low, high = math.log(start), math.log(end)  # in logs: end / start overflows for a huge end
    for i in range(steps):
        lr = start if i == 0 else min(end, math.exp(low + (high - low) * i / max(1, steps - 1)))
        for group in optimizer.param_groups:
            group["lr"] = lr
        if start_at >= trainer.n_train:  # a new epoch: a new order, as training would
            x, y, index = kernel.arrange(trainer.data.x_train, trainer.data.y_train,
                                         kernel.epoch_order(trainer.n_train, batch, trainer.shuffle))
            start_at = 0
        xb, yb = kernel.take_batch(x, y, index, start_at, batch)
        start_at += batch
        loss, _, _ = kernel.train_step(model, trainer.loss_fn, optimizer, xb, yb,
                                       autocast_dtype=trainer.autocast_dtype, scaler=trainer.scaler,
                                       zero_grad=not config.lab.skip_zero_grad, penalty=trainer.penalty)
        value = float(loss.detach())
        average = SMOOTHING * average + (1 - SMOOTHING) * value
        smoothed = average / (1 - SMOOTHING ** (i + 1))
        lrs.append(lr)
        losses.append(smoothed)
        if not math.isfinite(smoothed) or smoothed > DIVERGED * best:
            stopped_early = i < steps - 1
            break
        best = min(best, smoothed)
    trainer.model.load_state_dict(saved[0])
    optimizer.load_state_dict(saved[1])
    # fastai suggests from the points past the first tenth of the test and before its last five
    # (the start is noise, the end the blow-up), up to the first non-finite loss.
    kept = [(lr, loss) for lr, loss in zip(lrs, losses)][steps // 10:-SKIP_END]
    finite = list(itertools.takewhile(lambda point: math.isfinite(point[1]), kept))
    suggestion = suggest([lr for lr, _ in finite], [loss for _, loss in finite], rule)
    return LrFindResult(lrs, [loss if math.isfinite(loss) else None for loss in losses], suggestion,
                        rule, stopped_early)


def suggest(lrs: list[float], losses: list[float], rule: str) -> float | None:
    """The suggested rate by ``rule`` (None with fewer than 3 points)."""
    if len(lrs) < 3:
        return None
    if rule == "steep":
        # fastai's steep: the forward difference of the loss over log(lr), its most negative
        loss, log_lr = torch.tensor(losses), torch.tensor(lrs).log()
        slopes = (loss[1:] - loss[:-1]) / (log_lr[1:] - log_lr[:-1])
        return lrs[int(slopes.argmin())]
    # fastai's valley: the longest run of decreasing losses; a point two thirds of the way down it.
    n = len(losses)
    runs = [1] * n
    longest_start = longest_end = 0
    for i in range(1, n):
        for j in range(i):
            if losses[i] < losses[j] and runs[i] < runs[j] + 1:
                runs[i] = runs[j] + 1
            if runs[longest_end] < runs[i]:
                longest_end, longest_start = i, i - runs[i]
    third = (longest_end - longest_start) / 3
    return lrs[max(0, min(n - 1, longest_start + int(third) + int(third / 2)))]
