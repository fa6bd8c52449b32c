"""The training loop of the tutorials, done right, reporting through Callback hooks only.

A ``Trainer`` is one run. Its ``turns()`` generator trains and gives way at every report and
epoch end, so several runs can share one thread and take turns (``engine.race``) while each
trains exactly as it would alone; ``run()`` simply takes every turn.
"""

from __future__ import annotations

import importlib
import math
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator

import torch

from tui_trainer.catalog.losses import user_loss_parts
from tui_trainer.catalog.schedulers import SCHEDULERS
from tui_trainer.catalog.views import VIEWS
from tui_trainer.changes import EPOCHS_FIELD, Change
from tui_trainer.config import Config, epoch_limit
from tui_trainer.engine import kernel, rules
from tui_trainer.engine.components import autocast_dtype, build_loss, build_optimizer, head_of
from tui_trainer.engine.control import RunControl, ViewRequest, wait_for_change
from tui_trainer.engine.data import Dataset, build_dataset
from tui_trainer.engine.devices import describe, resolve_device
from tui_trainer.engine.evaluation import (
    Confusion, Mistakes, class_names, confusion_of, mistakes_of, predict, predicts_classes,
)
from tui_trainer.engine.distributed import Ranks
from tui_trainer.engine.events import (
    Callback, ChangeMade, EpochEnded, EpochMetrics, FinalMetrics, Progress, RunEnded, RunFailed,
    RunResult, RunStarted, StopRun,
)
from tui_trainer.engine.hooks import (
    EarlyStopping, EpochContext, GradientNorm, LayerStats, StepContext, TargetLoss,
)
from tui_trainer.engine.memory import keep_loaded_out_of_collections
from tui_trainer.engine.models import model_for, param_count
from tui_trainer.engine.preflight import check_model, checked_scheduler, prepare, weights_diverged
from tui_trainer.engine.rundir import RunDirectoryWriter, default_runs_dir, new_run_dir
from tui_trainer.engine.runinfo import RaceSeat
from tui_trainer.engine.state import EpochPart, RunState
from tui_trainer.errors import UserFacingError

if TYPE_CHECKING:
    from tui_trainer.engine.checkpoint import Checkpoint

#: Below this many parameter x sample products per step, a headless CPU run uses one thread.
SMALL_STEP_WORK = 1_000_000
#: The same bound for a run beside the app's UI, where idle workers also spin against its event loop.
SMALL_STEP_WORK_BESIDE_UI = 20_000_000
#: A run records its train loss at every step up to this many steps; longer runs record the mean
#: of every k steps, so a run keeps at most about this many points (a run until stopped: this
#: many more each time its steps double).
MAX_STEP_POINTS = 4000


#: torch's own thread count for this process (one per core), read before any run changes it.
DEFAULT_THREADS = torch.get_num_threads()


def choose_threads(setting: int | str, device: torch.device, params: int, batch: int,
                   beside_ui: bool = False) -> int:
    """The CPU thread count for a run, set on the training thread itself.

    torch's default is one thread per core. For small steps the extra OpenMP workers only
    spin-wait at every op: measured on 2 busy cores, iris trained 4-8x slower with 2 threads
    than with 1, and beside the app's UI a small model ran 5x slower with the default. Large
    steps (big batches of a big model) do gain from every core. The bound is higher beside the
    UI, whose event loop competes for the same cores.
    """
    if setting != "auto":
        return int(setting)
    if device.type != "cpu":
        return DEFAULT_THREADS
    small = SMALL_STEP_WORK_BESIDE_UI if beside_ui else SMALL_STEP_WORK
    return 1 if params * batch < small else DEFAULT_THREADS


class _StepCurve:
    """The run's curve of train loss by step: every step's loss, or the mean of every
    ``stride`` steps, so a run keeps at most about MAX_STEP_POINTS points. A run until stopped
    (``total_steps`` None) keeps every step up to MAX_STEP_POINTS, then its stride doubles each
    time its steps do."""

    def __init__(self, total_steps: int | None) -> None:
        self.stride = None if total_steps is None else max(1, math.ceil(total_steps / MAX_STEP_POINTS))
        self.total = self.count = 0.0
        self.points: list[tuple[int, float]] = []

    def stride_at(self, global_step: int) -> int:
        """The stride of the point that step ``global_step`` belongs to."""
        if self.stride is not None:
            return self.stride
        return 1 << max(0, math.ceil(math.log2(global_step / MAX_STEP_POINTS))) if global_step > 0 else 1

    def add(self, global_step: int, value: float, count: int) -> None:
        self.total += value * count
        self.count += count
        if global_step % self.stride_at(global_step) == 0:
            self.close(global_step)

    def close(self, global_step: int) -> None:
        """End the current point at ``global_step`` (at the run's end: a last, shorter one)."""
        if self.count:
            self.points.append((global_step, self.total / self.count))
            self.total = self.count = 0.0

    def take(self) -> list[tuple[int, float]]:
        """The points made since the last call."""
        points, self.points = self.points, []
        return points


class _LossTracker:
    """Sums batch losses. The loss tensors are kept and read together at each report and at the
    epoch's end (``rules.read_losses``), so steps never wait for a device sync; the first loss
    that ends the run (``rules.first_bad_loss``: not finite, or more than ``explode_factor``
    times the run's first, kept in ``state.first_loss``) is found there with its exact step. Each
    loss before it also goes to the run's step curve."""

    def __init__(self, total: float, count: float, curve: _StepCurve, ranks: Ranks | None,
                 state: RunState, explode_factor: float | None) -> None:
        self.pending: list[tuple[int, torch.Tensor, int]] = []
        self.ranks = ranks
        self.total, self.count = total, count
        self.interval_total = self.interval_count = 0.0
        self.curve = curve
        self.state = state
        self.explode_factor = explode_factor
        self.bad: tuple[int, float] | None = None  # (step in the epoch, loss) that ends the run

    def add(self, step: int, loss: torch.Tensor, count: int) -> None:
        self.pending.append((step, loss.detach(), count))

    def flush(self, global_step: int) -> None:
        """Read the pending losses; ``global_step`` is the run's step count at the last of them."""
        if not self.pending or self.bad is not None:
            self.pending.clear()
            return
        ranks = self.ranks
        values = rules.read_losses([loss for _, loss, _ in self.pending], ranks.sum if ranks else None,
                                   ranks.world if ranks else 1)
        first = global_step - len(values) + 1
        if first == 1:
            self.state.first_loss = values[0]
        bad = rules.first_bad_loss(values, self.state.first_loss, self.explode_factor)
        if bad is not None:
            self.bad = (self.pending[bad][0], values[bad])
            del values[bad:]
        for offset, ((_, _, count), value) in enumerate(zip(self.pending, values)):
            self.total += value * count
            self.count += count
            self.interval_total += value * count
            self.interval_count += count
            self.curve.add(first + offset, value, count)
        self.pending.clear()

    def take_interval_mean(self) -> float:
        mean = self.interval_total / self.interval_count if self.interval_count else float("nan")
        self.interval_total = self.interval_count = 0.0
        return mean


class _BatchOutputs:
    """Collects what the epoch's training metric needs with as little work per step as possible:
    predicted classes (one op per step), squared errors, or nothing when the loss is the
    mean squared error itself (its running sum already is the squared-error sum). Under
    torchrun each rank sums its shares' scores, added up over the ranks at the epoch's end.
    ``carried`` is the total of the epoch's earlier steps (a resumed epoch)."""

    def __init__(self, head: str, loss_fn: torch.nn.Module, carried: float, ranks: Ranks | None) -> None:
        self.head = head
        self.loss_is_sse = head == "value" and type(loss_fn) is torch.nn.MSELoss and loss_fn.reduction == "mean"
        self.carried = carried
        self.ranks = ranks
        self.preds: list[torch.Tensor] = []
        self.score: torch.Tensor | float = 0.0

    def add(self, out: torch.Tensor, y: torch.Tensor) -> None:
        if self.head == "value" or self.ranks is not None:
            self.score = self.score + kernel.batch_score(out.detach(), y, self.head)
        else:
            self.preds.append(kernel.predictions(out.detach(), self.head))

    def total(self, targets: torch.Tensor, loss_total: float) -> float:
        """Correct predictions, or the squared-error sum, over the epoch (``targets`` in batch order)."""
        if self.loss_is_sse:
            return loss_total
        if self.preds:
            return self.carried + float((torch.cat(self.preds).to(targets.dtype) == targets).sum())
        if isinstance(self.score, torch.Tensor) and self.ranks is not None:
            return self.carried + float(self.ranks.sum(self.score.double()))
        return self.carried + float(self.score)


def _overrides(callback: Callback, hook: str) -> bool:
    return getattr(type(callback), hook) is not getattr(Callback, hook)


class Trainer:
    """Runs one training run of a config; ``run()`` returns its RunResult.

    ``control`` stops or pauses it from another thread; ``callbacks`` receive its events and
    look at the model at the named points; ``runs_dir`` is where its run folder goes (None: the
    user data folder; False: no folder). ``resume`` continues the run a checkpoint holds, in that
    run's folder. ``beside_ui``: the run shares the process with the app's event loop (it then
    trains small models on one CPU thread). ``view``: a live view's request for pictures of the
    run (``engine.views``; a task with a picture leaves its last one in the run folder anyway);
    ``network``: a live view's request for pictures of the network (``views.NetworkFrame``, for
    an MLP). ``control`` also paces the run and steps it epoch by epoch or batch by batch; the
    waiting is not training time, and changes no number the run computes. Without
    ``run_user_code`` a loss file of the person's is not imported (``--dry-run``: set-up and
    pre-flight without the loss; such a trainer cannot train).
    """

    def __init__(self, config: Config, callbacks: Iterable[Callback] = (),
                 control: RunControl | None = None, runs_dir: Path | None | bool = None,
                 report_interval: float = 0.1, resume: Checkpoint | None = None,
                 beside_ui: bool = False, view: ViewRequest | None = None,
                 network: ViewRequest | None = None, run_user_code: bool = True) -> None:
        self.config = config
        self.run_user_code = run_user_code
        self.control = control or RunControl()
        self.user_callbacks = list(callbacks)
        self.runs_dir = runs_dir
        self.report_interval = report_interval
        self.resume = resume
        self.beside_ui = beside_ui
        self.view = view
        self.network = network
        self.state = RunState()
        self.history: list[EpochMetrics] = []
        self.steps: list[tuple[int, float]] = []
        self.reason, self.message = "completed", ""
        self.last_figures: dict[str, float] = {}
        self.next_report = 0.0
        self.run_dir: Path | None = None
        self.result: RunResult | None = None
        self.ready = False
        self.compile_seconds: float | None = None  # the first step's time under torch.compile
        self.agreed_stop = False  # under torchrun: every rank stops before its next step
        self.next_report_step = 1
        self.last_agreement = (time.perf_counter(), 0)
        #: The run's global random-number state while it waits for its turn, and once it ended.
        self.rng: dict[str, torch.Tensor | None] | None = None
        # Waiting (``_wait_until``): the control's step request taken last, the unit of the one
        # being trained and where it began, the start of the last paced epoch or step, and the
        # control's version when the run decided to wait.
        self.step_taken = 0
        self.stepping: str | None = None
        self.step_mark = 0
        self.paced_at = -math.inf
        self.waits_on = 0
        #: The run's place in a comparison (``engine.race`` sets it), recorded in its folder.
        self.race: RaceSeat | None = None

    # -- setup ---------------------------------------------------------------------------------

    def setup(self) -> None:
        """Build device, data, model, loss, optimizer, scheduler and the rules' hooks (raises
        UserFacingError)."""
        cfg, training = self.config, self.config.training
        self.device = resolve_device(training.device)
        self.ranks = Ranks.start(training.backend, self.device.type)
        if self.ranks is not None:
            self.device = self.ranks.device(self.device)
            if self.ranks.rank != 0:  # rank 0 alone writes the run folder and reports
                self.runs_dir, self.user_callbacks = False, []
        data = build_dataset(cfg)
        self.head = head_of(cfg).head
        torch.manual_seed(training.seed)
        self.model = model_for(cfg, data.features, data.classes, data.image_size)
        check_model(cfg, self.model)
        self.model = self.model.to(self.device)
        self.params = [p for p in self.model.parameters() if p.requires_grad]
        self.data = shape_targets(data, self.head).to(self.device)
        self.n_train, self.n_val = len(self.data.x_train), len(self.data.x_val)
        self.n_test = 0 if self.data.x_test is None else len(self.data.x_test)
        self.batch_size = self.n_train if training.batch_size == "full" else min(training.batch_size,
                                                                                  self.n_train)
        self.steps_per_epoch = math.ceil(self.n_train / self.batch_size)
        self.net = self.model
        if self.ranks is not None:
            self._check_shares()
            self.net = torch.nn.parallel.DistributedDataParallel(self.model)
        if training.compile:
            self.net = torch.compile(self.net)
        self.autocast_dtype = autocast_dtype(training.precision)
        self.scaler = torch.amp.GradScaler(self.device.type) if training.precision == "fp16" else None
        self.threads = choose_threads(training.threads, self.device, param_count(self.model),
                                      self.batch_size, self.beside_ui)
        torch.set_num_threads(self.threads)
        self.loss_fn = (build_loss(cfg.loss) if self.run_user_code or not user_loss_parts(cfg.loss.name)
                        else None)
        self.penalty = rules.l1_regularization(self.model, training.l1)
        self.optimizer = build_optimizer(cfg.optimizer, self.params)
        self.scheduler = checked_scheduler(cfg, self.optimizer, self.steps_per_epoch)
        self.step_after_batch, self.step_after_epoch = rules.scheduler_steps(
            self.scheduler, SCHEDULERS[cfg.scheduler.name].steps)
        self.eval_mode = not cfg.lab.no_eval_mode
        self.shuffle = torch.Generator().manual_seed(training.seed)
        # Total sums of squares, the denominators of R^2 (constant for the run).
        self.train_sst = kernel.sum_of_squares(self.data.y_train)
        self.val_sst = kernel.sum_of_squares(self.data.y_val)
        self.epochs = epoch_limit(training.epochs)  # the run's length (None: until stopped; a
        # mid-run change may set another)
        self.curve = _StepCurve(self._total_steps)
        self.explode_factor = None if training.explode_factor == "off" else training.explode_factor
        self.rules = self._rules()
        self.callbacks = [*self.rules.values(), *self.user_callbacks]
        keep_loaded_out_of_collections()
        self.ready = True

    def get_ready(self) -> None:
        """Set up and pre-flight now, keeping the run's random state aside until its first turn,
        so several runs can all be set up (and refused) before any of them trains."""
        prepare(self)
        self.rng = self._global_rng()

    def _check_shares(self) -> None:
        """Under torchrun every rank needs a share of every batch: the batch size must split
        evenly over the ranks, and the last, shorter batch must hold one sample per rank."""
        world, batch = self.ranks.world, self.batch_size
        last = self.n_train - (self.steps_per_epoch - 1) * batch
        if self.config.training.batch_size != "full" and batch % world:
            raise UserFacingError(f"training.batch_size: {batch} is the global batch; with {world} ranks "
                                  f"it must be a multiple of {world} (each rank takes batch/{world})")
        if last < world:
            raise UserFacingError(f"training.batch_size: the last batch of an epoch holds {last} "
                                  f"sample(s), fewer than the {world} ranks; choose a batch size that "
                                  f"leaves at least {world} (the training set has {self.n_train})")

    def _rules(self) -> dict[str, Callback]:
        """The loop's own hooks, by name (their state goes into checkpoints under that name)."""
        training = self.config.training
        rules: dict[str, Callback] = {"gradient_norm": GradientNorm()}
        if self.config.task_spec.traits.layers:
            rules["layer_stats"] = LayerStats(self.model, self.optimizer, self.data.x_train)
        if training.target_loss != "off":
            rules["target_loss"] = TargetLoss(training.target_loss)
        if training.early_stopping_patience != "off":
            rules["early_stopping"] = EarlyStopping(training.early_stopping_patience,
                                                    training.early_stopping_min_delta)
        for name in self.config.views:  # the task's picture (the arena's: the point's path), the network
            view = VIEWS[name]
            module, _, function = view.hook.partition(":")
            rule = getattr(importlib.import_module(module), function)(self)
            if rule is not None:
                rules[view.rule] = rule
        return rules

    def watched(self) -> bool:
        """Whether a person follows the run step by step (paced, paused or stepping), so that live
        views draw at every epoch end and report, as often as an eye can take them."""
        return self.control.paused or not self.control.pace.is_max

    @property
    def _total_steps(self) -> int | None:
        return None if self.epochs is None else self.epochs * self.steps_per_epoch

    # -- state ----------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """Everything a resumed run needs: model, optimizer, scheduler, the loop's counters, the
        rules' state and the random-number generators (plain data and tensors)."""
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            "run": self.state.state_dict(),
            "rules": {name: rule.state_dict() for name, rule in self.rules.items()},
            "rng": {**(self.rng or self._global_rng()), "shuffle": self.shuffle.get_state()},
            "scaler": self.scaler.state_dict() if self.scaler is not None else None,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Put a set-up trainer where ``state_dict()`` left its run."""
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        self.state.load_state_dict(state["run"])
        for name, rule in self.rules.items():
            rule.load_state_dict(state["rules"].get(name) or rule.state_dict())
        self.shuffle.set_state(state["rng"]["shuffle"])
        self._set_global_rng(state["rng"])
        if self.scaler is not None and state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])

    def _global_rng(self) -> dict[str, torch.Tensor | None]:
        cuda = self.device.type == "cuda"
        return {"torch": torch.get_rng_state(),
                "cuda": torch.cuda.get_rng_state(self.device) if cuda else None}

    def _set_global_rng(self, rng: dict[str, torch.Tensor | None]) -> None:
        torch.set_rng_state(rng["torch"])
        if rng["cuda"] is not None and self.device.type == "cuda":
            torch.cuda.set_rng_state(rng["cuda"], self.device)

    # -- the run -------------------------------------------------------------------------------

    def run(self) -> RunResult:
        """Set up, train, evaluate, and report; failures during training end the run, not the caller."""
        for until in self.turns():
            if until is not None:
                wait_for_change([(self.control, self.waits_on)], until)
        return self.result

    def turns(self) -> Iterator[float | None]:
        """Train, giving way at every report and whenever the run must wait: each turn gives
        None (go on at once) or the ``time.perf_counter()`` time before which the run has nothing
        to do (inf: not before its control changes from ``self.waits_on``; see
        ``control.wait_for_change``). ``self.result`` is set at the end.

        While it waits, the run's global random-number state (dropout draws) and thread count are
        kept aside, so runs taking turns in one thread each train as they would alone.
        """
        if not self.ready:
            prepare(self)  # set-up and pre-flight: refusals come before any folder or step
        if self.rng is not None:
            self._set_global_rng(self.rng)
            self.rng = None
        self._start()
        try:
            epoch = self.state.next_epoch
            while rules.trains_epoch(epoch, self.epochs):  # a mid-run change may move the end
                for until in self._train_epoch(epoch):
                    self.rng = self._global_rng()
                    yield until
                    self._set_global_rng(self.rng)
                    self.rng = None
                    if torch.get_num_threads() != self.threads:
                        torch.set_num_threads(self.threads)
                if self.reason != "completed" or not self._end_epoch(epoch):
                    break
                epoch += 1
        except Exception as exc:  # any failure ends the run with its history kept
            self.reason = "failed"
            self.message = f"training failed: {type(exc).__name__}: {exc}"
            if weights_diverged(self.model, self.data.x_train):  # e.g. BCE refusing NaN outputs
                self.reason, self.message = "diverged", (f"diverged: the model's outputs are not finite "
                                                         f"({exc}); try a lower learning rate")
            self._emit("on_error", RunFailed(self.message, traceback.format_exc()))
        self.curve.close(self.state.global_step)
        self.steps += self.curve.take()
        self.rng = self._global_rng()  # where the run's random numbers stand, for its checkpoint
        self.result = self._result()
        self._emit("on_run_end", RunEnded(self.result))

    def _start(self) -> None:
        if self.resume is not None:
            self.run_dir = self.resume.restore(self)
        elif self.runs_dir is not False:
            self.run_dir = new_run_dir(Path(self.runs_dir or default_runs_dir()), self.config)
        # After the rules: a picture's file comes before the summary; under torchrun rank 0 writes
        # (a resumed run's folder too).
        if self.run_dir is not None and (self.ranks is None or self.ranks.rank == 0):
            self.callbacks[len(self.rules):len(self.rules)] = self._folder_callbacks()
        self._after_backward = [c.after_backward for c in self.callbacks if _overrides(c, "after_backward")]
        self._after_step = [c.after_step for c in self.callbacks if _overrides(c, "after_step")]
        # Changes before where the run starts (a resumed run) are made: the optimizer's are in its
        # restored state; the run's length is set here.
        for change in self.config.changes:
            if change.at_step <= self.state.global_step and change.field == EPOCHS_FIELD:
                self.epochs = epoch_limit(change.value)
        self.pending_changes = [c for c in self.config.changes if c.at_step > self.state.global_step]
        epochs = self.epochs
        self._emit("on_run_start", RunStarted(
            config=self.config, run_dir=self.run_dir, device=str(self.device),
            device_name=describe(self.device), threads=self.threads,
            param_count=param_count(self.model), train_size=self.n_train, val_size=self.n_val,
            test_size=self.n_test,
            epochs=epochs, steps_per_epoch=self.steps_per_epoch,
            total_steps=self._total_steps, start_epoch=self.state.next_epoch,
            start_step=self.state.global_step, class_names=self.data.class_names))

    def _folder_callbacks(self) -> list[Callback]:
        """What writes the run folder: TensorBoard's event files when asked, and its own files
        (last: the summary is the folder's last word, and says what went wrong before it)."""
        callbacks: list[Callback] = []
        if self.config.logging.tensorboard:
            from tui_trainer.engine.tensorboard import TensorBoardLog

            callbacks.append(TensorBoardLog(self.run_dir))
        world = self.ranks.world if self.ranks is not None else 1
        return [*callbacks, RunDirectoryWriter(self.run_dir, world, self.race)]

    def _train_epoch(self, epoch: int) -> Iterator[float | None]:
        """One epoch (or the rest of the one a resumed run stopped in), giving way at each report
        and while it must wait (``turns``); sets ``reason`` when the run must end inside it, else
        leaves ``state.unfinished`` holding the finished epoch's sums. Under torchrun each rank
        steps on its share of every batch, and the ranks agree at each report (by step count) on
        whether to stop (a run under torchrun is neither paused, paced nor stepped)."""
        net, bs, state, ranks = self.net, self.batch_size, self.state, self.ranks
        control, loss_fn, optimizer = self.control, self.loss_fn, self.optimizer
        clip = None if self.config.training.grad_clip == "off" else self.config.training.grad_clip
        set_to_none = self.config.training.zero_grad_set_to_none
        step_after_batch = self.step_after_batch
        after_backward = self._hook_after_backward if self._after_backward else None
        after_step = self._after_step
        lab = self.config.lab
        part = state.unfinished or EpochPart(epoch, kernel.epoch_order(self.n_train, bs, self.shuffle,
                                                                       not lab.no_shuffle))
        state.unfinished = None
        tracker = _LossTracker(part.loss_total, part.loss_count, self.curve, ranks, state, self.explode_factor)
        outputs = _BatchOutputs(self.head, self.loss_fn, part.metric_total, ranks)
        collect = None if outputs.loss_is_sse or self.head == "surface" else outputs.add  # a point: no score
        x, y, index = kernel.arrange(self.data.x_train, self.data.y_train, part.order)
        net.train()
        epoch_start = time.perf_counter()
        last = self.steps_per_epoch
        seen = 0
        first = part.next_step
        step = first
        for step in range(first, last + 1):
            if self.agreed_stop or (control.requested and ranks is None):
                while ranks is None and (until := self._wait_until(step == 1)) is not None:
                    now = time.perf_counter()
                    if tracker.pending:  # show where the run stands before it waits (after its last step)
                        tracker.flush(state.global_step)
                        if tracker.bad:
                            break
                        self._collect_figures(self._step_context(epoch, step - 1, xb, yb, out, loss, norm))
                        self._report(epoch, step - 1, tracker, now - epoch_start, seen)
                    yield until
                    epoch_start += time.perf_counter() - now  # waiting is not training
                if tracker.bad:
                    break
                if control.stop_requested or self.agreed_stop:
                    # Under torchrun another rank's stop is a signal's (Ctrl+C, torchrun gone).
                    self._stop(control.stop_reason if control.stop_requested else "interrupted", epoch, step)
                    break
                self._take_live_changes()
            if self.pending_changes and self.pending_changes[0].at_step == state.global_step + 1:
                self._make_changes(epoch)
            xb, yb = kernel.take_batch(x, y, index, (step - 1) * bs, bs)
            count = len(yb)
            step_loss = loss_fn
            if ranks is not None:
                xb, yb, step_loss = rules.batch_share(xb, yb, loss_fn, ranks.rank, ranks.world)
            if after_backward is not None:
                self._batch = (epoch, step, xb, yb)
            if self.compile_seconds is None and self.config.training.compile:
                started = time.perf_counter()  # the first call compiles: timed apart from training
                loss, out, norm = kernel.train_step(net, step_loss, optimizer, xb, yb, clip, set_to_none,
                                                    after_backward, self.autocast_dtype, self.scaler,
                                                    not lab.skip_zero_grad, self.penalty)
                self.compile_seconds = time.perf_counter() - started
                epoch_start += self.compile_seconds
            else:
                loss, out, norm = kernel.train_step(net, step_loss, optimizer, xb, yb, clip, set_to_none,
                                                    after_backward, self.autocast_dtype, self.scaler,
                                                    not lab.skip_zero_grad, self.penalty)
            if step_after_batch is not None:
                step_after_batch()
            state.global_step += 1
            seen += count
            tracker.add(step, loss, count)
            if collect is not None:
                collect(out, yb)
            if after_step:
                context = self._step_context(epoch, step, xb, yb, out, loss, norm)
                for hook in after_step:
                    hook(context)
            now = time.perf_counter()
            due = state.global_step >= self.next_report_step if ranks else now >= self.next_report
            if due or step == last:
                tracker.flush(state.global_step)
                if tracker.bad:
                    break
                context = self._step_context(epoch, step, xb, yb, out, loss, norm)
                self._collect_figures(context)
                if due:
                    if ranks is not None:
                        self._agree_on_next_report(now)
                    self._report(epoch, step, tracker, now - epoch_start, seen)
                    self.next_report = now + self.report_interval
                    yield
                    resumed = time.perf_counter()
                    epoch_start += resumed - now  # the turns of other runs are not this run's time
                    self.next_report = resumed + self.report_interval
        seconds = time.perf_counter() - epoch_start
        state.train_seconds += seconds
        state.samples_seen += seen
        tracker.flush(state.global_step)
        self.epoch_points = self.curve.take()
        self.steps += self.epoch_points
        if tracker.bad:
            self.reason = "diverged"
            self.message = rules.diverged_message(epoch, *tracker.bad, state.first_loss, self.explode_factor)
            return
        targets = y if index is None else y[index]
        offset = (first - 1) * bs
        part.metric_total = outputs.total(targets[offset:offset + seen], tracker.total)
        part.loss_total, part.loss_count = tracker.total, tracker.count
        part.seen += seen
        part.seconds += seconds
        part.next_step = step
        state.unfinished = part

    def _wait_until(self, epoch_start: bool) -> float | None:
        """Whether the run must wait before its next step (``epoch_start``: the epoch's first):
        None to go on now, else the ``time.perf_counter()`` time it may go on at (inf: not before
        its control changes). A paused run waits; a step request lets it train up to the next
        epoch end, or one batch, then it waits again; a pace spaces the starts of its epochs (or
        steps) out, without catching up on time it lost. Notes the control's version first, so
        that a change made while the run decides wakes it (``waits_on``)."""
        control = self.control
        self.waits_on = control.version
        if control.stop_requested:
            return None
        number, unit = control.step_request
        if number != self.step_taken:
            self.step_taken, self.stepping = number, unit
            self.step_mark = self.state.epochs_run if unit == "epoch" else self.state.global_step
        if self.stepping is not None:
            done = self.state.epochs_run if self.stepping == "epoch" else self.state.global_step
            if done > self.step_mark:
                self.stepping = None
        if control.paused and self.stepping is None:
            return math.inf
        pace = control.pace
        if pace.is_max or (pace.unit == "epoch" and not epoch_start):
            return None
        now = time.perf_counter()
        due = self.paced_at + pace.gap
        if now < due:
            return due
        self.paced_at = due if now - due < pace.gap else now
        return None

    def _take_live_changes(self) -> None:
        """Changes asked for while the run goes (the app) become changes of the run at its next
        step, recorded in its config like those given before it started."""
        step = self.state.global_step + 1
        epoch = -(-step // self.steps_per_epoch)  # a run cannot end before the epoch it is in
        live = [Change(step, field, max(value, epoch) if field == EPOCHS_FIELD and epoch_limit(value) else value)
                for field, value in self.control.take_changes()]
        if live:
            self.config.changes = sorted([*self.config.changes, *live], key=lambda c: c.at_step)
            self.pending_changes = [*live, *self.pending_changes]

    def _make_changes(self, epoch: int) -> None:
        """Make the changes due at the next step: set the optimizer's param groups (or the run's
        length) and tell the callbacks."""
        step = self.state.global_step + 1
        while self.pending_changes and self.pending_changes[0].at_step == step:
            change = self.pending_changes.pop(0)
            name = change.field.partition(".")[2]
            value = epoch_limit(change.value) if change.field == EPOCHS_FIELD else change.value
            self.epochs = rules.change_setting(self.optimizer, name, value, self.epochs)
            self._emit("on_change", ChangeMade(change, epoch, self.config))

    def _agree_on_next_report(self, now: float) -> None:
        """Under torchrun: the ranks agree on stopping and on the step of the next report (about
        ``report_interval`` from now at this rank's pace), so they all stop at the same step."""
        since = now - self.last_agreement[0]
        steps = self.state.global_step - self.last_agreement[1]
        pace = max(1, int(steps * self.report_interval / since)) if since > 0 else 1
        self.agreed_stop, self.next_report_step = self.ranks.agree(
            self.control.stop_requested, self.state.global_step + pace)
        self.last_agreement = (now, self.state.global_step)

    def _hook_after_backward(self, out: torch.Tensor, loss: torch.Tensor) -> None:
        epoch, step, xb, yb = self._batch
        context = self._step_context(epoch, step, xb, yb, out, loss, None)
        for hook in self._after_backward:
            hook(context)

    def _step_context(self, epoch: int, step: int, xb: torch.Tensor, yb: torch.Tensor,
                      out: torch.Tensor, loss: torch.Tensor, norm: torch.Tensor | None) -> StepContext:
        return StepContext(self.model, self.optimizer, xb, yb, out, loss, norm, epoch, step, self.state)

    def _collect_figures(self, context: StepContext) -> None:
        figures: dict[str, float] = {}
        for callback in self.callbacks:
            figures.update(callback.at_report(context) or {})
        self.last_figures = figures

    def _end_epoch(self, epoch: int) -> bool:
        """Validate, step an epoch scheduler, record and announce the epoch, and apply the
        rules; returns False when the run must end."""
        part, self.state.unfinished = self.state.unfinished, None
        train_loss = part.loss_total / part.loss_count
        seconds, seen = part.seconds, part.seen
        train_acc, train_r2 = kernel.split_score(part.metric_total, seen, self.train_sst, self.head)
        val_loss = val_acc = val_r2 = None
        if self.n_val:
            val_loss, val_acc, val_r2 = self.evaluate(self.data.x_val, self.data.y_val, self.val_sst)
        lr = self.optimizer.param_groups[0]["lr"]
        watched, monitored = rules.monitored_loss(train_loss, val_loss)
        if self.step_after_epoch is not None:
            self.step_after_epoch(monitored)
        self.state.epochs_run = epoch
        metrics = EpochMetrics(
            epoch=epoch, train_loss=train_loss, val_loss=val_loss, train_accuracy=train_acc,
            val_accuracy=val_acc, train_r2=train_r2, val_r2=val_r2, lr=lr,
            grad_norm=self.last_figures.get("grad_norm"), seconds=seconds,
            elapsed=self.state.train_seconds,
            samples_per_second=seen / seconds if seconds > 0 else 0.0, global_step=self.state.global_step)
        self.history.append(metrics)
        stop = None
        if math.isfinite(monitored):  # the hooks look first (their figures go into the epoch's metrics)
            context = EpochContext(self.model, self.optimizer, metrics, monitored, watched, self.state)
            for callback in self.callbacks:
                said = callback.at_epoch_end(context)
                stop = stop or (said if isinstance(said, StopRun) else None)
            last = not rules.trains_epoch(epoch + 1, self.epochs)
            if stop is not None or last or self.control.stop_requested:
                for callback in self.callbacks:
                    callback.at_last_epoch_end(context)
        self._emit("on_epoch_end", EpochEnded(epoch, self.epochs, metrics,
                                              self.epoch_points))
        diverged = rules.diverged_at_epoch_end(epoch, watched, monitored)
        if diverged is not None:
            self.reason, self.message = "diverged", diverged
            return False
        if stop is not None:
            self.reason, self.message = stop.reason, stop.message
            return False
        return True

    def _stop(self, reason: str, epoch: int, step: int) -> None:
        self.reason = reason
        self.message = f"{reason} by request at epoch {epoch}, before step {step}"

    # -- metrics -------------------------------------------------------------------------------

    def evaluate(self, x: torch.Tensor, y: torch.Tensor, sst: float) -> tuple[float, float | None, float | None]:
        """(loss, accuracy, R^2) of the model on a set (``sst``: its targets' total sum of squares),
        under model.eval() and torch.no_grad(); under torchrun each rank evaluates its share."""
        ranks = self.ranks
        if ranks is None:
            return rules.score_set(self.model, self.loss_fn, x, y, self.head, sst, eval_mode=self.eval_mode)
        return rules.score_set(self.model, self.loss_fn, x, y, self.head, sst, ranks.rank, ranks.world,
                               ranks.sum, self.eval_mode)

    # -- reporting -----------------------------------------------------------------------------

    def _report(self, epoch: int, step: int, tracker: _LossTracker, epoch_seconds: float, seen: int) -> None:
        loss = tracker.take_interval_mean()
        points = self.curve.take()
        self.steps += points
        elapsed = self.state.train_seconds + epoch_seconds
        done = self.state.samples_seen + seen
        self._emit("on_progress", Progress(
            epoch=epoch, epochs=self.epochs, step=step, steps_per_epoch=self.steps_per_epoch,
            global_step=self.state.global_step, total_steps=self._total_steps,
            train_loss=loss, lr=self.optimizer.param_groups[0]["lr"],
            grad_norm=self.last_figures.get("grad_norm"),
            samples_per_second=done / elapsed if elapsed > 0 else 0.0, elapsed=elapsed,
            points=points, figures=dict(self.last_figures)))

    def _emit(self, hook: str, event) -> None:
        for callback in self.callbacks:
            getattr(callback, hook)(event)

    def _result(self) -> RunResult:
        final = FinalMetrics()
        confusion: dict[str, Confusion] = {}
        mistakes: dict[str, Mistakes] = {}
        if self.control.stop_requested and not self.control.final_pass:
            self.message += "; final metrics not measured (the process was quitting)"
        elif self.reason != "failed":
            try:
                data = self.data
                scores = rules.final_scores(lambda x, y: self.evaluate(x, y, kernel.sum_of_squares(y)), {
                    "train": (data.x_train, data.y_train), "val": (data.x_val, data.y_val),
                    "test": None if data.x_test is None else (data.x_test, data.y_test)})
                for name, (loss, accuracy, r2) in scores.items():
                    setattr(final, f"{name}_loss", loss)
                    setattr(final, f"{name}_accuracy", accuracy)
                    setattr(final, f"{name}_r2", r2)
                confusion, mistakes = self._mistakes()
            except Exception as exc:  # a broken user loss fails here too; keep what we have
                if self.reason != "diverged":  # BCE refuses the NaN outputs of a diverged model
                    self.reason, self.message = "failed", f"evaluation failed: {type(exc).__name__}: {exc}"
        if self.reason == "completed":
            self.message = f"completed {self.state.epochs_run} epochs"
        state = self.state
        arena = self.rules.get("path")
        path = arena.finish(state.global_step) if arena is not None else None
        return RunResult(
            config=self.config, reason=self.reason, message=self.message, epochs_run=state.epochs_run,
            history=list(self.history), final=final, parameters=self.learned_line(),
            param_count=param_count(self.model), device=str(self.device),
            device_name=describe(self.device), seconds=state.train_seconds,
            samples_per_second=state.samples_seen / state.train_seconds if state.train_seconds else 0.0,
            run_dir=self.run_dir, steps=list(self.steps), compile_seconds=self.compile_seconds,
            class_names=self.data.class_names, path=path,
            point=arena.summary(final.train_loss) if arena is not None else None,
            confusion=confusion, mistakes=mistakes)

    def _mistakes(self) -> tuple[dict[str, Confusion], dict[str, Mistakes]]:
        """A classifier's confusion matrix and misclassified samples on the validation and test
        sets, by split (empty for regression; on rank 0 alone under torchrun: it reports)."""
        if (not predicts_classes(self.config, self.data, self.head) or self.reason == "diverged"
                or (self.ranks is not None and self.ranks.rank != 0)):
            return {}, {}
        names = class_names(self.data, self.config)
        confusion, mistakes = {}, {}
        for split in ("val", "test"):
            held = self.data.split_of(split)
            if held is not None:
                predictions = predict(self.model, *held, self.head, split, self.eval_mode)
                confusion[split] = confusion_of(predictions, names)
                mistakes[split] = mistakes_of(predictions, names)
        return confusion, mistakes

    def learned_line(self) -> dict[str, float] | None:
        """For a task whose spec names a true line, with a model of one nn.Linear: the learned
        weight and bias next to the truth."""
        truth = self.config.task_spec.line_truth
        if (truth is None or not isinstance(self.model, torch.nn.Sequential)
                or len(layers := list(self.model)) != 1 or not isinstance(layers[0], torch.nn.Linear)):
            return None
        options = self.config.task.params
        return {"weight": layers[0].weight.item(), "bias": layers[0].bias.item(),
                "true_weight": options[truth[0]], "true_bias": options[truth[1]]}


def shape_targets(data: Dataset, head: str) -> Dataset:
    """The data with targets as the loss takes them: BCE-style losses (heads ``probability``
    and ``logit``) float (N, 1), class-index losses int64 (N,) as the data holds them."""
    if head in ("probability", "logit"):
        for split in ("train", "val", "test"):
            y = getattr(data, f"y_{split}")
            if y is not None:
                setattr(data, f"y_{split}", y.float().unsqueeze(1))
    return data


def train(config: Config, callbacks: Iterable[Callback] = (), control: RunControl | None = None,
          runs_dir: Path | None | bool = None, report_interval: float = 0.1) -> RunResult:
    """Train ``config`` and return its result (see Trainer)."""
    return Trainer(config, callbacks, control, runs_dir, report_interval).run()
