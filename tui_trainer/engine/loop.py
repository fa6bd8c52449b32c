"""The training loop of the tutorials, done right, reporting through Callback hooks only."""

from __future__ import annotations

import math
import os
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

import torch

from tui_trainer.config import Config
from tui_trainer.engine.components import build_loss, build_optimizer, head_of
from tui_trainer.engine.control import RunControl
from tui_trainer.engine.data import Dataset, build_dataset
from tui_trainer.engine.devices import describe, resolve_device
from tui_trainer.engine.events import (
    Callback, EpochEnded, EpochMetrics, FinalMetrics, Progress, RunEnded, RunFailed, RunResult,
    RunStarted,
)
from tui_trainer.engine.models import build_model, param_count
from tui_trainer.engine.preflight import checked_scheduler, prepare, weights_diverged
from tui_trainer.engine.rundir import RunDirectoryWriter, default_runs_dir, new_run_dir

if TYPE_CHECKING:
    from tui_trainer.engine.checkpoint import Checkpoint

#: Evaluation passes run in chunks of this many samples to bound memory.
EVAL_CHUNK = 8192
#: Training sets up to this many input values are shuffled by one copy per epoch and batched as
#: slices; larger ones gather each batch by index (a whole-set copy then costs more than it saves).
CACHE_SIZED = 1 << 20
#: Below this many parameter x sample products per step, a CPU run uses one thread.
SMALL_STEP_WORK = 20_000_000


def choose_threads(setting: int | str, device: torch.device, params: int, batch: int) -> int:
    """The CPU thread count for a run, set on the training thread itself.

    torch's default is one thread per core. For small models each step is too short to split:
    the extra OpenMP workers spin-wait, and on a 2-core machine a small model trained on a
    non-main thread (as in the app, beside the UI's event loop) ran 5x slower with the default
    than with 1 thread. Large steps (big batches of a big model) do gain from every core.
    """
    if setting != "auto":
        return int(setting)
    if device.type != "cpu":
        return torch.get_num_threads()
    return 1 if params * batch < SMALL_STEP_WORK else (os.cpu_count() or 1)


@dataclass(slots=True)
class EpochPart:
    """The steps of an epoch done so far: its shuffle order (on the CPU; None when unshuffled),
    the first step not taken, and the sums its metrics need. A run stopped inside an epoch
    keeps one, so that a checkpoint can continue the epoch exactly."""

    epoch: int
    order: torch.Tensor | None
    next_step: int = 1
    loss_total: float = 0.0
    loss_count: float = 0.0
    metric_total: float = 0.0
    seen: int = 0
    seconds: float = 0.0


def _sum_of_squares(y: torch.Tensor) -> float:
    """Total sum of squares of regression targets about their mean (0 for class indices or none)."""
    return float(((y - y.mean()) ** 2).sum()) if y.is_floating_point() and len(y) else 0.0


class _LossTracker:
    """Sums batch losses. The loss tensors are kept and read together at each report and at the
    epoch's end, so steps never wait for a device sync; the first non-finite loss is found
    there with its exact step."""

    def __init__(self, total: float, count: float) -> None:
        self.pending: list[tuple[int, torch.Tensor, int]] = []
        self.total, self.count = total, count
        self.interval_total = self.interval_count = 0.0
        self.bad: tuple[int, float] | None = None

    def add(self, step: int, loss: torch.Tensor, count: int) -> None:
        self.pending.append((step, loss.detach(), count))

    def flush(self) -> None:
        if self.pending:
            values = torch.stack([loss for _, loss, _ in self.pending]).tolist()
            for (step, _, count), value in zip(self.pending, values):
                self._record(step, value, count)
            self.pending.clear()

    def _record(self, step: int, value: float, count: int) -> None:
        if self.bad is not None:
            return
        if not math.isfinite(value):
            self.bad = (step, value)
            return
        self.total += value * count
        self.count += count
        self.interval_total += value * count
        self.interval_count += count

    def take_interval_mean(self) -> float:
        mean = self.interval_total / self.interval_count if self.interval_count else float("nan")
        self.interval_total = self.interval_count = 0.0
        return mean


class _BatchOutputs:
    """Collects what the epoch's training metric needs with as little work per step as possible:
    predicted classes (one op per step), squared errors, or nothing when the loss is the
    mean squared error itself (its running sum already is the squared-error sum). ``carried``
    is the total of the epoch's earlier steps (a resumed epoch)."""

    def __init__(self, mode: str, carried: float) -> None:
        self.mode = mode
        self.carried = carried
        self.preds: list[torch.Tensor] = []
        self.sse: torch.Tensor | float = carried

    def add(self, out: torch.Tensor, y: torch.Tensor) -> None:
        mode = self.mode
        if mode == "argmax":
            self.preds.append(out.detach().argmax(dim=1))
        elif mode == "probability":
            self.preds.append(out.detach() > 0.5)
        elif mode == "logit":
            self.preds.append(out.detach() > 0)
        elif mode == "sse":
            self.sse = self.sse + ((out.detach() - y) ** 2).sum()

    def total(self, targets: torch.Tensor, loss_total: float) -> float:
        """Correct predictions, or the squared-error sum, over the epoch (``targets`` in batch order)."""
        if self.mode == "mse":
            return loss_total
        if self.mode == "sse":
            return float(self.sse)
        if not self.preds:
            return self.carried
        return self.carried + float((torch.cat(self.preds).to(targets.dtype) == targets).sum())


def metric_mode(head: str, loss_fn: torch.nn.Module) -> str:
    """How _BatchOutputs measures a head: argmax, probability, logit, mse or sse."""
    if head in ("logits", "log-probs"):
        return "argmax"
    if head in ("probability", "logit"):
        return head
    exact_mse = type(loss_fn) is torch.nn.MSELoss and loss_fn.reduction == "mean"
    return "mse" if exact_mse else "sse"


class Trainer:
    """Runs one training run of a config; ``run()`` returns its RunResult.

    ``control`` stops or pauses it from another thread; ``callbacks`` receive its events;
    ``runs_dir`` is where its run folder goes (None: the user data folder; False: no folder).
    ``resume`` continues the run a checkpoint holds, in that run's folder.
    """

    def __init__(self, config: Config, callbacks: Iterable[Callback] = (),
                 control: RunControl | None = None, runs_dir: Path | None | bool = None,
                 report_interval: float = 0.1, resume: Checkpoint | None = None) -> None:
        self.config = config
        self.control = control or RunControl()
        self.callbacks = list(callbacks)
        self.runs_dir = runs_dir
        self.report_interval = report_interval
        self.resume = resume
        self.history: list[EpochMetrics] = []
        self.steps: list[tuple[int, float]] = []
        self.reason, self.message = "completed", ""
        self.global_step = 0
        self.start_epoch = 1
        self.epochs_run = 0
        self.train_seconds = 0.0
        self.samples_seen = 0
        self.last_grad_norm: float | None = None
        self.next_report = 0.0
        self.unfinished: EpochPart | None = None
        self.best: tuple[float, int] | None = None
        self.stale_epochs = 0
        self.rng_states: tuple[torch.Tensor, torch.Tensor | None] | None = None

    # -- setup ---------------------------------------------------------------------------------

    def setup(self) -> None:
        """Build device, data, model, loss, optimizer and scheduler (raises UserFacingError)."""
        cfg, training = self.config, self.config.training
        self.device = resolve_device(training.device)
        data = build_dataset(cfg)
        self.head = head_of(cfg)
        torch.manual_seed(training.seed)
        self.model = build_model(cfg.model, data.features, self.head.output_size(data.classes),
                                 self.head.head).to(self.device)
        self.params = [p for p in self.model.parameters() if p.requires_grad]
        self.data = self._shape_targets(data).to(self.device)
        self.n_train, self.n_val = len(self.data.x_train), len(self.data.x_val)
        self.batch_size = self.n_train if training.batch_size == "full" else min(training.batch_size,
                                                                                  self.n_train)
        self.steps_per_epoch = math.ceil(self.n_train / self.batch_size)
        self.threads = choose_threads(training.threads, self.device, param_count(self.model),
                                      self.batch_size)
        torch.set_num_threads(self.threads)
        self.loss_fn = build_loss(cfg.loss)
        self.metric_mode = metric_mode(self.head.head, self.loss_fn)
        self.optimizer = build_optimizer(cfg.optimizer, self.params)
        self.scheduler = checked_scheduler(cfg, self.optimizer, self.steps_per_epoch)
        self.shuffle = torch.Generator().manual_seed(training.seed)
        # Total sums of squares, the denominators of R^2 (constant for the run).
        self.train_sst, self.val_sst = (_sum_of_squares(self.data.y_train), _sum_of_squares(self.data.y_val))

    def _shape_targets(self, data: Dataset) -> Dataset:
        """BCE-style losses take float (N, 1) targets; class-index losses take int64 (N,)."""
        if self.head.head in ("probability", "logit"):
            data.y_train = data.y_train.float().unsqueeze(1)
            data.y_val = data.y_val.float().unsqueeze(1)
        return data

    # -- the run -------------------------------------------------------------------------------

    def run(self) -> RunResult:
        """Set up, train, evaluate, and report; failures during training end the run, not the caller."""
        prepare(self)  # set-up and pre-flight: refusals come before any folder or step
        if self.resume is not None:
            self.run_dir: Path | None = self.resume.restore(self)
        elif self.runs_dir is not False:
            self.run_dir = new_run_dir(Path(self.runs_dir or default_runs_dir()), self.config)
        else:
            self.run_dir = None
        if self.run_dir is not None:
            self.callbacks.insert(0, RunDirectoryWriter(self.run_dir))
        epochs = self.config.training.epochs
        self._emit("on_run_start", RunStarted(
            config=self.config, run_dir=self.run_dir, device=str(self.device),
            device_name=describe(self.device), threads=self.threads,
            param_count=param_count(self.model), train_size=self.n_train, val_size=self.n_val,
            epochs=epochs, steps_per_epoch=self.steps_per_epoch,
            total_steps=epochs * self.steps_per_epoch, start_epoch=self.start_epoch))
        try:
            for epoch in range(self.start_epoch, epochs + 1):
                if not self._train_epoch(epoch):
                    break
        except Exception as exc:  # any failure ends the run with its history kept
            self.reason = "failed"
            self.message = f"training failed: {type(exc).__name__}: {exc}"
            if weights_diverged(self.model, self.data.x_train):  # e.g. BCE refusing NaN outputs
                self.reason, self.message = "diverged", (f"diverged: the model's outputs are not finite "
                                                         f"({exc}); try a lower learning rate")
            self._emit("on_error", RunFailed(self.message, traceback.format_exc()))
        cuda = self.device.type == "cuda"
        self.rng_states = torch.get_rng_state(), torch.cuda.get_rng_state(self.device) if cuda else None
        result = self._result()
        self._emit("on_run_end", RunEnded(result))
        return result

    def _train_epoch(self, epoch: int) -> bool:
        """One epoch (or the rest of the one a resumed run stopped in); returns False when the
        run must end."""
        model, x, y, bs, n = self.model, self.data.x_train, self.data.y_train, self.batch_size, self.n_train
        control, loss_fn, optimizer, params = self.control, self.loss_fn, self.optimizer, self.params
        clip = self.config.training.grad_clip
        set_to_none = self.config.training.zero_grad_set_to_none
        batch_scheduler = self.scheduler if self.config.scheduler.name == "one-cycle" else None
        part, self.unfinished = self.unfinished or EpochPart(
            epoch, torch.randperm(n, generator=self.shuffle) if bs < n else None), None
        tracker = _LossTracker(part.loss_total, part.loss_count)
        outputs = _BatchOutputs(self.metric_mode, part.metric_total)
        collect = None if self.metric_mode == "mse" else outputs.add
        epoch_start = time.perf_counter()
        order = None
        if part.order is not None:
            order = part.order.to(self.device)
            if x.numel() <= CACHE_SIZED:  # shuffle once; each batch is then a slice (a view, no copy)
                x, y, order = x[order], y[order], None
        model.train()
        waited = 0.0
        next_report = self.next_report  # kept across epochs: short epochs still get reports
        last = self.steps_per_epoch
        seen = 0
        first = part.next_step
        for step in range(first, last + 1):
            if control.requested:
                waited += control.wait_while_paused()
                if control.stop_requested:
                    self._stop(control.stop_reason, epoch, step)
                    break
            start = (step - 1) * bs
            if order is None:
                xb, yb = x[start:start + bs], y[start:start + bs]
            else:
                idx = order[start:start + bs]
                xb, yb = x[idx], y[idx]
            count = len(yb)
            optimizer.zero_grad(set_to_none=set_to_none)
            out = model(xb)
            loss = loss_fn(out, yb)
            loss.backward()
            norm = torch.nn.utils.clip_grad_norm_(params, clip) if clip != "off" else None
            optimizer.step()
            if batch_scheduler is not None:
                batch_scheduler.step()
            self.global_step += 1
            seen += count
            tracker.add(step, loss, count)
            if collect is not None:
                collect(out, yb)
            now = time.perf_counter()
            if now >= next_report or step == last:
                tracker.flush()
                if tracker.bad:
                    break
                self.last_grad_norm = float(norm) if norm is not None else self._grad_norm()
                if now >= next_report:
                    self._report(epoch, step, tracker, now - epoch_start - waited, seen)
                    next_report = self.next_report = now + self.report_interval
        seconds = time.perf_counter() - epoch_start - waited
        self.train_seconds += seconds
        self.samples_seen += seen
        tracker.flush()
        if tracker.bad:
            bad_step, value = tracker.bad
            self.reason = "diverged"
            self.message = (f"diverged at epoch {epoch}, step {bad_step}: loss = {value}; "
                            "try a lower learning rate")
            return False
        offset = (first - 1) * bs
        targets = (y if order is None else y[order])[offset:offset + seen]
        part.metric_total = outputs.total(targets, tracker.total)
        part.loss_total, part.loss_count = tracker.total, tracker.count
        part.seen += seen
        part.seconds += seconds
        if self.reason != "completed":
            part.next_step = step
            self.unfinished = part
            return False
        return self._end_epoch(epoch, part)

    def _end_epoch(self, epoch: int, part: EpochPart) -> bool:
        train_loss = part.loss_total / part.loss_count
        seconds, seen = part.seconds, part.seen
        train_acc, train_r2 = self._split_metric(part.metric_total, seen, self.train_sst)
        val_loss = val_acc = val_r2 = None
        if self.n_val:
            val_loss, val_acc, val_r2 = self.evaluate(self.data.x_val, self.data.y_val, self.val_sst)
        lr = self.optimizer.param_groups[0]["lr"]
        monitored = val_loss if val_loss is not None else train_loss
        if self.scheduler is not None and self.config.scheduler.name != "one-cycle":
            if self.config.scheduler.name == "plateau":
                self.scheduler.step(monitored)
            else:
                self.scheduler.step()
        self.epochs_run = epoch
        metrics = EpochMetrics(
            epoch=epoch, train_loss=train_loss, val_loss=val_loss, train_accuracy=train_acc,
            val_accuracy=val_acc, train_r2=train_r2, val_r2=val_r2, lr=lr,
            grad_norm=self.last_grad_norm, seconds=seconds, elapsed=self.train_seconds,
            samples_per_second=seen / seconds if seconds > 0 else 0.0, global_step=self.global_step)
        self.history.append(metrics)
        self._emit("on_epoch_end", EpochEnded(epoch, self.config.training.epochs, metrics))
        if not math.isfinite(monitored):
            self.reason = "diverged"
            self.message = (f"diverged at epoch {epoch}: validation loss = {monitored}; "
                            "try a lower learning rate")
            return False
        return self._keep_going(epoch, monitored)

    def _keep_going(self, epoch: int, monitored: float) -> bool:
        """Apply the target-loss and early-stopping rules to the monitored loss."""
        training = self.config.training
        name = "val_loss" if self.n_val else "train_loss"
        if training.target_loss != "off" and monitored <= training.target_loss:
            self.reason = "target-reached"
            self.message = f"{name} {monitored:.6g} reached the target {training.target_loss} at epoch {epoch}"
            return False
        if training.early_stopping_patience == "off":
            return True
        best = self.best
        if best is None or monitored < best[0] - training.early_stopping_min_delta:
            self.best, self.stale_epochs = (monitored, epoch), 0
            return True
        self.stale_epochs += 1
        if self.stale_epochs >= training.early_stopping_patience:
            self.reason = "early-stopped"
            self.message = (f"early stop at epoch {epoch}: {name} has not improved by more than "
                            f"{training.early_stopping_min_delta} for {self.stale_epochs} epochs "
                            f"(best {best[0]:.6g} at epoch {best[1]})")
            return False
        return True

    def _stop(self, reason: str, epoch: int, step: int) -> None:
        self.reason = reason
        self.message = f"{reason} by request at epoch {epoch}, before step {step}"

    # -- metrics -------------------------------------------------------------------------------

    def _batch_metric(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Correct predictions (classification) or squared error sum (regression) of a batch."""
        head = self.head.head
        if head in ("logits", "log-probs"):
            return (out.argmax(dim=1) == y).sum()
        if head in ("probability", "logit"):
            return ((out > (0.5 if head == "probability" else 0)).to(y.dtype) == y).sum()
        return ((out - y) ** 2).sum()

    def _split_metric(self, total: float, count: int, sst: float) -> tuple[float | None, float | None]:
        """(accuracy, R^2) from a metric total (correct predictions, or squared-error sum) over
        ``count`` samples whose targets have total sum of squares ``sst``."""
        if self.config.task_spec.kind == "regression":
            return None, (1 - total / sst) if sst > 0 else None
        return total / count, None

    @torch.no_grad()
    def evaluate(self, x: torch.Tensor, y: torch.Tensor, sst: float) -> tuple[float, float | None, float | None]:
        """(loss, accuracy, R^2) of the model on a set (``sst``: its targets' total sum of squares),
        under model.eval() and torch.no_grad()."""
        self.model.eval()
        loss_total, metric_total = 0.0, 0.0
        for start in range(0, len(x), EVAL_CHUNK):
            xb, yb = x[start:start + EVAL_CHUNK], y[start:start + EVAL_CHUNK]
            out = self.model(xb)
            loss_total += float(self.loss_fn(out, yb)) * len(yb)
            metric_total += float(self._batch_metric(out, yb))
        self.model.train()
        return (loss_total / len(x), *self._split_metric(metric_total, len(x), sst))

    def _grad_norm(self) -> float:
        grads = [p.grad for p in self.params if p.grad is not None]
        return float(torch.nn.utils.get_total_norm(grads)) if grads else 0.0

    # -- reporting -----------------------------------------------------------------------------

    def _report(self, epoch: int, step: int, tracker: _LossTracker, epoch_seconds: float, seen: int) -> None:
        loss = tracker.take_interval_mean()
        self.steps.append((self.global_step, loss))
        elapsed = self.train_seconds + epoch_seconds
        done = self.samples_seen + seen
        self._emit("on_progress", Progress(
            epoch=epoch, epochs=self.config.training.epochs, step=step,
            steps_per_epoch=self.steps_per_epoch, global_step=self.global_step,
            total_steps=self.config.training.epochs * self.steps_per_epoch, train_loss=loss,
            lr=self.optimizer.param_groups[0]["lr"], grad_norm=self.last_grad_norm,
            samples_per_second=done / elapsed if elapsed > 0 else 0.0, elapsed=elapsed))

    def _emit(self, hook: str, event) -> None:
        for callback in self.callbacks:
            getattr(callback, hook)(event)

    def _result(self) -> RunResult:
        final = FinalMetrics()
        if self.reason != "failed":
            try:
                final.train_loss, final.train_accuracy, final.train_r2 = self.evaluate(
                    self.data.x_train, self.data.y_train, self.train_sst)
                if self.n_val:
                    final.val_loss, final.val_accuracy, final.val_r2 = self.evaluate(
                        self.data.x_val, self.data.y_val, self.val_sst)
            except Exception as exc:  # a broken user loss fails here too; keep what we have
                if self.reason != "diverged":  # BCE refuses the NaN outputs of a diverged model
                    self.reason, self.message = "failed", f"evaluation failed: {type(exc).__name__}: {exc}"
        if self.reason == "completed":
            self.message = f"completed {self.epochs_run} epochs"
        return RunResult(
            config=self.config, reason=self.reason, message=self.message, epochs_run=self.epochs_run,
            history=list(self.history), final=final, parameters=self.learned_line(),
            param_count=param_count(self.model), device=str(self.device),
            device_name=describe(self.device), seconds=self.train_seconds,
            samples_per_second=self.samples_seen / self.train_seconds if self.train_seconds else 0.0,
            run_dir=self.run_dir, steps=list(self.steps))

    def learned_line(self) -> dict[str, float] | None:
        """For the linear task with one nn.Linear(1, 1): learned weight and bias next to the truth."""
        layers = list(self.model)
        if self.config.task.name != "linear" or len(layers) != 1:
            return None
        options = self.config.task.params
        return {"weight": layers[0].weight.item(), "bias": layers[0].bias.item(),
                "true_weight": options["slope"], "true_bias": options["intercept"]}


def train(config: Config, callbacks: Iterable[Callback] = (), control: RunControl | None = None,
          runs_dir: Path | None | bool = None, report_interval: float = 0.1) -> RunResult:
    """Train ``config`` and return its result (see Trainer)."""
    return Trainer(config, callbacks, control, runs_dir, report_interval).run()
