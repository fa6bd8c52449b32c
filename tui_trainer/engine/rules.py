"""The training loop's rules, one function each: where the scheduler steps, a process's share of a
batch under torchrun, L1 regularization, the losses that end a run and what it says then, the
loss the stopping rules watch, the target loss, early stopping, mid-run changes, the run's length
and the scores of the model a run ends with.

Torch and the standard library only. The engine's Trainer and its hooks call these functions,
and the script exporter copies this file whole into every exported script (after the kernel, whose
functions it uses), so a script follows each rule by the engine's own code.
"""

import math

import torch

from tui_trainer.engine.kernel import evaluate, share_of, split_score


def scheduler_steps(scheduler, steps):
    """Where ``scheduler`` steps, as its catalog entry's ``steps`` says: ``(after_batch,
    after_epoch)``, each a function or None. ``after_batch()`` is called after every optimizer
    step ("batch": one-cycle), ``after_epoch(monitored)`` at each epoch's end, after validation,
    with the loss the stopping rules watch ("epoch": once per epoch; "plateau": given that loss)."""
    if scheduler is None:
        return None, None
    if steps == "batch":
        return scheduler.step, None
    if steps == "plateau":
        return None, scheduler.step
    return None, lambda monitored: scheduler.step()


def batch_share(xb, yb, loss_fn, rank, world):
    """What process ``rank`` of ``world`` steps on under torchrun: ``(xb, yb, loss_fn)``, its share
    of the batch and the loss to step with. DistributedDataParallel averages the processes'
    gradients, so a share's loss is weighted by its size times ``world`` over the batch's: the
    average is then the gradient of the whole batch's mean loss. Alone, the batch as it is."""
    if world == 1:
        return xb, yb, loss_fn
    count = len(yb)
    start, stop = share_of(count, rank, world)
    weight = (stop - start) * world / count
    if weight == 1:
        return xb[start:stop], yb[start:stop], loss_fn
    return xb[start:stop], yb[start:stop], lambda out, target: loss_fn(out, target) * weight


def regularized_weights(model):
    """The parameters L1 regularization penalizes: the weights of every Linear and Conv2d layer,
    not their biases (as TensorFlow Playground regularizes the links, not the neurons' biases)."""
    return [m.weight for m in model.modules() if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d))]


def l1_penalty(weights, strength):
    """L1 regularization: ``strength`` times the sum of the absolute values of ``weights``."""
    return strength * sum(w.abs().sum() for w in weights)


def l1_regularization(model, strength):
    """The ``penalty`` that ``train_step`` adds to each step's loss for L1 regularization of
    ``strength`` over the model's ``regularized_weights`` (None for 0: no regularization). The
    loss a step returns stays the data's alone, as the validation loss measures it."""
    if not strength:
        return None
    weights = regularized_weights(model)
    return lambda: l1_penalty(weights, strength)


def read_losses(losses, add_up, world):
    """The values of steps' losses kept as tensors, read in one go (the steps never wait for the
    device). Under torchrun each process holds its share's weighted loss (``batch_share``), and a
    step's loss is their sum (``add_up``, over the processes) over ``world``."""
    stacked = torch.stack(losses)
    if world > 1:
        stacked = add_up(stacked) / world
    return stacked.tolist()


def first_bad_loss(values, first_loss, explode_factor):
    """The index of the first of the steps' losses ``values`` that ends the run, or None: a loss
    that is not finite, or more than ``explode_factor`` times ``first_loss``, the loss of the run's
    first step, taken before any update (None: no such check; nor for a first loss at or below 0,
    which nothing is a multiple of)."""
    limit = math.inf
    if explode_factor is not None and first_loss is not None and first_loss > 0:
        limit = explode_factor * first_loss
    for index, value in enumerate(values):
        if not math.isfinite(value) or value > limit:
            return index
    return None


def diverged_message(epoch, step, value, first_loss, explode_factor):
    """What a run says when the loss of step ``step`` of epoch ``epoch`` ended it (``first_bad_loss``)."""
    if math.isfinite(value):
        return (f"loss exploded: {value:.2g} in epoch {epoch} (step {step}), from {first_loss:.2g} at "
                f"the first step: more than training.explode_factor = {explode_factor:g} times; try a "
                "lower learning rate")
    return f"diverged at epoch {epoch}, step {step}: loss = {value}; try a lower learning rate"


def monitored_loss(train_loss, val_loss):
    """The loss the scheduler on plateau and the stopping rules watch, with its name: the
    validation loss, or the train loss without a validation split (``val_loss`` None)."""
    return ("train_loss", train_loss) if val_loss is None else ("val_loss", val_loss)


def diverged_at_epoch_end(epoch, name, monitored):
    """What a run says when the watched loss at an epoch's end is not finite (None while it is)."""
    if math.isfinite(monitored):
        return None
    return f"diverged at epoch {epoch}: {name} = {monitored}; try a lower learning rate"


def target_reached(epoch, name, monitored, target):
    """What a run says when the watched loss is at or below ``target`` (None while above)."""
    if monitored <= target:
        return f"{name} {monitored:.6g} reached the target {target} at epoch {epoch}"
    return None


class EarlyStop:
    """Early stopping: the run ends once the watched loss has not improved by more than
    ``min_delta`` for ``patience`` epochs in a row."""

    def __init__(self, patience, min_delta):
        self.patience, self.min_delta = patience, min_delta
        self.best = None  # (loss, epoch)
        self.stale_epochs = 0

    def check(self, epoch, name, monitored):
        """Note an epoch's watched loss; what the run says when it ends here (else None)."""
        best = self.best
        if best is None or monitored < best[0] - self.min_delta:
            self.best, self.stale_epochs = (monitored, epoch), 0
            return None
        self.stale_epochs += 1
        if self.stale_epochs < self.patience:
            return None
        return (f"early stop at epoch {epoch}: {name} has not improved by more than {self.min_delta} "
                f"for {self.stale_epochs} epochs (best {best[0]:.6g} at epoch {best[1]})")


def change_setting(optimizer, name, value, epochs):
    """Make a mid-run change at its step; returns the run's length (``epochs``, changed or not).
    ``epochs`` sets the run's length (None or math.inf: until stopped); any other name is an
    optimizer setting, set in every param group (a list as a tuple: betas)."""
    if name == "epochs":
        return value
    for group in optimizer.param_groups:
        group[name] = tuple(value) if isinstance(value, list) else value
    return epochs


def trains_epoch(epoch, epochs):
    """Whether a run of ``epochs`` epochs (None or math.inf: until stopped) trains epoch ``epoch``."""
    return epochs is None or epoch <= epochs


def score_set(model, loss_fn, x, y, head, sst, rank=0, world=1, add_up=None, eval_mode=True):
    """(loss, accuracy, R^2) of the model on a set (``sst``: its targets' total sum of squares;
    the kernel's ``evaluate``). Under torchrun each process scores its share, and ``add_up``
    adds a tensor of the processes' sums."""
    if world == 1:
        loss, score = evaluate(model, loss_fn, x, y, head, eval_mode)
    else:
        start, stop = share_of(len(x), rank, world)
        loss, score = (evaluate(model, loss_fn, x[start:stop], y[start:stop], head, eval_mode)
                       if stop > start else (0.0, 0.0))
        sums = add_up(torch.tensor([loss * (stop - start), score], dtype=torch.float64))
        loss, score = float(sums[0]) / len(x), float(sums[1])
    return (loss, *split_score(score, len(x), sst, head))


def final_scores(score, sets):
    """The scores of the model a run ends with: ``score(x, y)`` on each of ``sets`` (a name: ``(x,
    y)``, or None) that has samples, in order: training, validation, then the test set, held out
    from all training and validation, in its one use."""
    return {name: score(*xy) for name, xy in sets.items() if xy is not None and len(xy[0])}
