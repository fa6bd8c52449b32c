"""The training kernel: an epoch's batches, one optimizer step, and evaluation.

Torch and the standard library only. The engine's Trainer calls these functions, and the script
exporter copies this file whole into every exported script, so a script trains with exactly the
engine's operations.
"""

import contextlib

import torch

#: Evaluation passes run in chunks of this many samples to bound memory.
EVAL_CHUNK = 8192
#: Training sets up to this many input values are shuffled by one copy per epoch and batched as
#: slices; larger ones gather each batch by index (a whole-set copy then costs more than it saves).
CACHE_SIZED = 1 << 20


def epoch_order(n_train, batch_size, generator, shuffle=True):
    """This epoch's order of the training samples (on the CPU), or None for full batch (one step
    on the whole set in its own order, no shuffle). ``shuffle=False`` (a mistake on purpose)
    keeps the samples in the same order every epoch."""
    if batch_size >= n_train:
        return None
    return torch.randperm(n_train, generator=generator) if shuffle else torch.arange(n_train)


def arrange(x, y, order):
    """What an epoch's batches are taken from: ``(x, y, index)``. A small set is shuffled by one
    copy and batched as slices (index None); a large one is batched by gathering ``index``."""
    if order is None:
        return x, y, None
    order = order.to(x.device)
    if x.numel() <= CACHE_SIZED:
        return x[order], y[order], None
    return x, y, order


def take_batch(x, y, index, start, batch_size):
    """The batch that begins at sample ``start`` of an arranged epoch."""
    if index is None:
        return x[start:start + batch_size], y[start:start + batch_size]
    batch = index[start:start + batch_size]
    return x[batch], y[batch]


def share_of(count, rank, world):
    """(start, stop) of process ``rank``'s share of ``count`` samples among ``world`` processes
    under torchrun, as torch.tensor_split splits them (the whole batch when alone)."""
    base, extra = divmod(count, world)
    start = rank * base + min(rank, extra)
    return start, start + base + (1 if rank < extra else 0)


def train_step(model, loss_fn, optimizer, xb, yb, max_grad_norm=None, set_to_none=True,
               after_backward=None, autocast_dtype=None, scaler=None, zero_grad=True, penalty=None):
    """One optimizer step: zero_grad, forward, loss, backward, optional gradient clipping, step.

    Returns the loss, the model's output and the total gradient norm before clipping (None
    without clipping) as tensors, so the step never waits for the device. ``after_backward``,
    when given, is called with the output and the loss once the gradients exist.
    ``autocast_dtype`` (torch.bfloat16 or torch.float16) runs the forward pass and the loss
    under torch.autocast; ``scaler`` (a torch.amp.GradScaler, for float16) scales the loss
    and steps the optimizer only when the gradients are finite. ``zero_grad=False`` (a mistake
    on purpose) lets the gradients of every step pile up. ``penalty``, when given, is called
    for a regularization term that is added to the loss for the backward pass; the loss returned
    is the data's alone (as the validation loss measures it).
    """
    if zero_grad:
        optimizer.zero_grad(set_to_none=set_to_none)
    mixed = (torch.autocast(xb.device.type, dtype=autocast_dtype) if autocast_dtype is not None
             else contextlib.nullcontext())
    with mixed:
        out = model(xb)
        loss = loss_fn(out, yb)
    total = loss if penalty is None else loss + penalty()
    (scaler.scale(total) if scaler is not None else total).backward()
    if after_backward is not None:
        after_backward(out, loss)
    norm = None
    if max_grad_norm is not None:
        if scaler is not None:
            scaler.unscale_(optimizer)  # clip the true gradients, not the scaled ones
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
    if scaler is not None:
        scaler.step(optimizer)
        scaler.update()
    else:
        optimizer.step()
    return loss, out, norm


def predictions(out, head):
    """The predicted classes of a classification head's output (class indices, or 0/1 in the
    targets' (N, 1) shape for one-output heads)."""
    if head in ("logits", "log-probs"):
        return out.argmax(dim=1)
    return out > (0.5 if head == "probability" else 0.0)


def batch_score(out, y, head):
    """Correct predictions (classification) or the squared-error sum (regression, head
    ``value``) of a batch, as a tensor (0 for a point on a function, head ``surface``: no targets)."""
    if head == "surface":
        return out.new_zeros(())
    if head == "value":
        return ((out - y) ** 2).sum()
    return (predictions(out, head).to(y.dtype) == y).sum()


@torch.no_grad()
def evaluate(model, loss_fn, x, y, head, eval_mode=True):
    """(mean loss, score total) of the model on a set, under model.eval() and torch.no_grad(),
    in chunks; the score is as ``batch_score`` counts it. ``eval_mode=False`` (a mistake on
    purpose) leaves dropout on."""
    model.train(not eval_mode)
    loss_total, score_total = 0.0, 0.0
    for start in range(0, len(x), EVAL_CHUNK):
        xb, yb = x[start:start + EVAL_CHUNK], y[start:start + EVAL_CHUNK]
        out = model(xb)
        loss_total += float(loss_fn(out, yb)) * len(yb)
        score_total += float(batch_score(out, yb, head))
    model.train()
    return loss_total / len(x), score_total


def sum_of_squares(y):
    """Total sum of squares of regression targets about their mean, the denominator of R^2
    (0 for class indices or an empty set)."""
    return float(((y - y.mean()) ** 2).sum()) if y.is_floating_point() and len(y) else 0.0


def split_score(score_total, count, sst, head):
    """(accuracy, R^2) from a score total over ``count`` samples whose targets have total sum of
    squares ``sst``; the one that does not apply is None (both, for head ``surface``)."""
    if head == "surface":
        return None, None
    if head == "value":
        return None, (1 - score_total / sst if sst > 0 else None)
    return score_total / count, None
