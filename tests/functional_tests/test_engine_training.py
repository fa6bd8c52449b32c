"""Training runs end to end: what the tutorials promise, every catalog choice, and the stops."""

import dataclasses
import json
import math
import re
import threading

import pytest
import torch

from conftest import make_shapes_dir, write_table_csv
from helpers import config

from tui_trainer.catalog.optimizers import OPTIMIZERS
from tui_trainer.catalog.schedulers import SCHEDULERS
from tui_trainer.catalog.tasks import TASKS
from tui_trainer.engine.control import RunControl
from tui_trainer.engine.events import Callback
from tui_trainer.cli import main
from tui_trainer.engine.loop import Trainer, train

#: Small sizes so that every combination runs in well under a second.
SMALL = {"linear": {}, "regression": {"task__samples": 200}, "binary": {"task__samples": 200},
         "multiclass": {"task__samples": 150}}


def small(task, data_dir=None, **dotted):
    extra = dict(SMALL.get(task, {}))
    if TASKS[task].source == "torchvision":
        extra.update(task__data_dir=str(data_dir), task__download=False)
    elif task == "csv":
        extra.update(task__path=str(write_table_csv(data_dir / "table.csv")), task__target="species")
    elif task == "images":
        extra.update(task__path=str(make_shapes_dir(data_dir / "shapes", per_class=5)), task__size=12)
    extra.update(dotted)
    return config(task, **extra)


def test_linear_learns_w_2_and_b_3_like_tutorial_003(runs_dir):
    result = train(config("linear", optimizer="adam", optimizer__lr=0.01, training__epochs=1000,
                          training__batch_size="full"), runs_dir=runs_dir)
    assert result.reason == "completed" and result.epochs_run == 1000
    assert result.parameters["weight"] == pytest.approx(2.0, abs=0.05)
    assert result.parameters["bias"] == pytest.approx(3.0, abs=0.05)
    assert (result.parameters["true_weight"], result.parameters["true_bias"]) == (2.0, 3.0)
    assert result.param_count == 2


def test_iris_classifier_reaches_90_percent_validation_accuracy(runs_dir):
    result = train(config("iris"), runs_dir=runs_dir)
    assert result.final.val_accuracy >= 0.9
    assert result.final.train_accuracy >= 0.9
    assert result.history[-1].val_accuracy is not None and result.history[-1].train_r2 is None


def test_regression_reports_r2(runs_dir):
    result = train(config("regression", training__epochs=20), runs_dir=runs_dir)
    assert result.final.val_r2 > 0.8
    assert result.final.val_accuracy is None


def loss_task_pairs():
    for task, spec in TASKS.items():
        for loss in spec.losses:
            yield task, loss


@pytest.mark.parametrize("task,loss", list(loss_task_pairs()))
def test_every_loss_runs_with_every_task_it_fits(task, loss, runs_dir, mnist_dir, tmp_path):
    from conftest import make_vision_dir

    data_dir = make_vision_dir(tmp_path / "fdata", "FashionMNIST") if task == "fashion-mnist" else mnist_dir
    data_dir = tmp_path if task in ("csv", "images") else data_dir
    cfg = small(task, data_dir, loss=loss, training__epochs=1)
    result = train(cfg, runs_dir=runs_dir)
    assert result.reason == "completed", result.message
    assert math.isfinite(result.history[0].train_loss)


def test_bce_and_nll_heads_end_in_sigmoid_and_log_softmax(runs_dir):
    from tui_trainer.engine.loop import Trainer

    for loss, last in (("bce", torch.nn.Sigmoid), ("nll", torch.nn.LogSoftmax)):
        trainer = Trainer(small("binary", loss=loss, training__epochs=1), runs_dir=runs_dir)
        trainer.run()
        assert isinstance(list(trainer.model)[-1], last)


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("scheduler", sorted(SCHEDULERS))
def test_every_optimizer_and_scheduler_runs(optimizer, scheduler, runs_dir):
    extra = {"optimizer__momentum": 0.9} if optimizer in ("sgd", "rmsprop") else {}
    if scheduler == "one-cycle" and optimizer in ("adagrad", "adadelta"):
        extra["scheduler__cycle_momentum"] = False
    cfg = small("binary", optimizer=optimizer, scheduler=scheduler, training__epochs=3, **extra)
    result = train(cfg, runs_dir=runs_dir)
    assert result.reason == "completed", result.message
    lrs = [m.lr for m in result.history]
    if scheduler in ("step", "none", "plateau"):
        assert lrs[0] == cfg.optimizer.params["lr"]
    if scheduler in ("exponential", "cosine"):
        assert lrs[2] < lrs[1] < lrs[0]


def test_step_scheduler_decays_per_epoch(runs_dir):
    cfg = small("binary", scheduler="step", scheduler__step_size=2, scheduler__gamma=0.5,
                training__epochs=5, optimizer__lr=0.01)
    lrs = [m.lr for m in train(cfg, runs_dir=runs_dir).history]
    assert lrs == pytest.approx([0.01, 0.01, 0.005, 0.005, 0.0025])


def timeless(history):
    return [{k: v for k, v in dataclasses.asdict(m).items()
             if k not in ("seconds", "elapsed", "samples_per_second")} for m in history]


def test_same_seed_same_config_same_history(runs_dir):
    cfg = small("multiclass", training__epochs=4, model__dropout=0.2)
    first, second = train(cfg, runs_dir=runs_dir), train(cfg, runs_dir=runs_dir)
    assert timeless(first.history) == timeless(second.history)
    other = train(small("multiclass", training__epochs=4, model__dropout=0.2, training__seed=7),
                  runs_dir=runs_dir)
    assert timeless(other.history) != timeless(first.history)


class StopAt(Callback):
    """Asks for a stop when a given global step is reported."""

    def __init__(self, control, step):
        self.control, self.step = control, step

    def on_progress(self, event):
        if event.global_step == self.step:
            self.control.stop()


def test_stop_takes_effect_within_one_step(runs_dir):
    control = RunControl()
    cfg = small("binary", training__epochs=50, training__batch_size=8)
    result = train(cfg, [StopAt(control, 7)], control, runs_dir=runs_dir, report_interval=0)
    assert result.reason == "stopped"
    assert result.steps[-1][0] == 7
    assert "before step 8" in result.message
    assert result.epochs_run == 0 and result.history == []


def test_pause_holds_the_loop_and_resume_finishes(runs_dir):
    control = RunControl()
    seen, paused_at = [], threading.Event()

    class PauseOnce(Callback):
        def on_progress(self, event):
            seen.append(event.global_step)
            if len(seen) == 3:
                control.pause()
                paused_at.set()

    cfg = small("binary", training__epochs=3, training__batch_size=16)
    results = []
    worker = threading.Thread(target=lambda: results.append(
        train(cfg, [PauseOnce()], control, runs_dir=runs_dir, report_interval=0)))
    worker.start()
    assert paused_at.wait(30)
    worker.join(0.3)
    assert worker.is_alive(), "the loop should wait while paused"
    assert len(seen) == 3
    control.resume()
    worker.join(30)
    assert results[0].reason == "completed"
    assert results[0].epochs_run == 3


def test_stop_while_paused_ends_the_run(runs_dir):
    control = RunControl()
    control.pause()
    worker_result = []
    worker = threading.Thread(target=lambda: worker_result.append(
        train(small("binary", training__epochs=3), control=control, runs_dir=runs_dir)))
    worker.start()
    worker.join(0.3)
    assert worker.is_alive()
    control.stop()
    worker.join(30)
    assert worker_result[0].reason == "stopped"


def test_divergence_stops_at_once_with_the_reason_and_keeps_history(runs_dir):
    from tui_trainer.engine.rundir import read_run

    cfg = config("linear", optimizer="sgd", optimizer__lr=3.0, training__epochs=200,
                 training__batch_size=10, training__explode_factor="off")  # until the loss is inf
    result = train(cfg, runs_dir=runs_dir)
    assert result.reason == "diverged"
    assert result.message.startswith(f"diverged at epoch {result.epochs_run + 1}, step ")
    assert "loss = " in result.message and result.message.endswith("try a lower learning rate")
    assert 0 < result.epochs_run < 200
    record = read_run(result.run_dir)
    assert len(record.history) == result.epochs_run
    assert record.summary["stopped_reason"] == "diverged"


def test_a_loss_that_explodes_ends_the_run_as_diverged_and_says_so(runs_dir, capsys):
    # Adam at lr 1e9 on iris: the loss leaps from about 1.1 to about 1e18 within the first epoch
    # and stays finite, so only its growth past 1e4 times the first step's loss shows it
    code = main(["train", "--task", "iris", "--lr", "1e9", "--device", "cpu", "--json",
                 "--runs-dir", str(runs_dir)])
    out = json.loads(capsys.readouterr().out)
    assert code == 1 and out["stopped_reason"] == "diverged" and out["epochs_run"] == 0
    said = re.fullmatch(r"loss exploded: (\S+) in epoch 1 \(step \d+\), from (\S+) at the first step: more "
                        r"than training.explode_factor = 10000 times; try a lower learning rate", out["message"])
    assert said and float(said[1]) > 1e4 * float(said[2]) and float(said[2]) == pytest.approx(1.1, abs=0.1)
    assert main(["train", "--task", "iris", "--lr", "1e9", "--device", "cpu", "--runs-dir", str(runs_dir)]) == 1
    assert "Run ended: diverged: loss exploded: " in capsys.readouterr().out
    # the first step's loss is taken before any update: the model's first batch loss at its start
    result = train(config("iris", optimizer__lr=1e9, training__explode_factor="off", training__epochs=3),
                   runs_dir=False)
    assert result.reason == "completed"  # off: only a NaN or infinite loss would end it
    assert max(loss for _, loss in result.steps) > 1e4 * result.steps[0][1]


def test_the_first_loss_is_kept_for_a_resumed_run_and_older_checkpoints_lack_it():
    from tui_trainer.engine.state import RunState

    state = RunState(epochs_run=2, global_step=16, first_loss=1.25)
    copy = RunState()
    copy.load_state_dict(state.state_dict())
    assert copy.first_loss == 1.25
    older = {k: v for k, v in state.state_dict().items() if k != "first_loss"}
    copy.load_state_dict(older)
    assert copy.first_loss is None  # the check is off for such a run: nothing to compare with


def test_l1_regularization_adds_l1_times_the_weights_absolute_sum_to_the_loss_it_minimizes():
    # one full-batch SGD step of nn.Linear(1, 1) on tutorial 003's line, by hand: the weight's
    # gradient gains l1 * sign(w), the bias's none (biases are not regularized)
    cfg = config("linear", optimizer="sgd", optimizer__lr=0.1, training__l1=0.5, training__epochs=1,
                 training__val_split=0.0)
    trainer = Trainer(cfg, runs_dir=False)
    trainer.get_ready()
    w = trainer.model[0].weight.detach().clone().requires_grad_()
    b = trainer.model[0].bias.detach().clone().requires_grad_()
    x, y = trainer.data.x_train, trainer.data.y_train
    data_loss = torch.nn.functional.mse_loss(x @ w.T + b, y)
    (data_loss + 0.5 * w.abs().sum()).backward()
    result = trainer.run()
    assert torch.allclose(trainer.model[0].weight, w - 0.1 * w.grad)
    assert torch.allclose(trainer.model[0].bias, b - 0.1 * b.grad)
    assert result.history[0].train_loss == pytest.approx(data_loss.item())  # the loss shown is the data's
    plain, sparse = (Trainer(config("iris", training__l1=l1, training__epochs=15), runs_dir=False) for l1 in (0, 0.01))
    plain.run(), sparse.run()
    size = [sum(layer.weight.abs().sum().item() for layer in t.model if isinstance(layer, torch.nn.Linear))
            for t in (plain, sparse)]
    assert sparse.result.reason == "completed" and size[1] < 0.8 * size[0]


def test_early_stopping_and_target_loss(runs_dir):
    early = train(small("binary", training__epochs=200, training__early_stopping_patience=3,
                        training__early_stopping_min_delta=0.5), runs_dir=runs_dir)
    assert early.reason == "early-stopped" and early.epochs_run < 200
    assert "has not improved by more than 0.5 for 3 epochs" in early.message
    target = train(config("linear", training__target_loss=0.5), runs_dir=runs_dir)
    assert target.reason == "target-reached"
    assert target.history[-1].val_loss <= 0.5 < target.history[-2].val_loss


def test_gradient_clipping_and_zero_grad_modes_train(runs_dir):
    clipped = train(small("binary", training__grad_clip=0.01, training__epochs=2), runs_dir=runs_dir)
    assert clipped.reason == "completed" and clipped.history[-1].grad_norm > 0
    zeroed = train(small("binary", training__zero_grad_set_to_none=False, training__epochs=2),
                   runs_dir=runs_dir)
    freed = train(small("binary", training__epochs=2), runs_dir=runs_dir)
    assert timeless(zeroed.history) == timeless(freed.history)


def test_user_loss_class_from_a_file(tmp_path, runs_dir):
    loss_file = tmp_path / "my_loss.py"
    loss_file.write_text(
        "import torch.nn as nn\n"
        "class Quartic(nn.Module):\n"
        "    def forward(self, predicted, actual):\n"
        "        return ((predicted - actual) ** 4).mean()\n")
    result = train(config("linear", loss=f"{loss_file}:Quartic", training__epochs=50), runs_dir=runs_dir)
    assert result.reason == "completed"
    assert result.history[-1].train_loss < result.history[0].train_loss


def test_run_folder_holds_config_history_steps_and_summary(runs_dir):
    from tui_trainer.config import load_config
    from tui_trainer.engine.rundir import read_run

    cfg = small("binary", training__epochs=3)
    result = train(cfg, runs_dir=runs_dir)
    record = read_run(result.run_dir)
    assert load_config(result.run_dir / "config.toml") == cfg
    assert [row["epoch"] for row in record.history] == [1, 2, 3]
    assert record.summary["final"]["val_accuracy"] == result.final.val_accuracy
    assert record.summary["epochs_run"] == 3
