"""A pace a person can follow and training step by step: the run waits between epochs (or
steps), one epoch or one batch at a time, alone or in a race, and computes exactly the numbers it
computes at full speed."""

from __future__ import annotations

import json
import threading
import time

import pytest

from helpers import config
from tui_trainer.cli import main
from tui_trainer.engine.control import MAX_PACE, Pace, RunControl, ViewRequest
from tui_trainer.engine.events import Callback
from tui_trainer.engine.loop import Trainer
from tui_trainer.engine.race import race
from tui_trainer.engine.rundir import CONFIG_FILE


def losses(result) -> list[float]:
    return [m.train_loss for m in result.history]


class Watch(Callback):
    """Records what a person watching would see: each epoch's end and each report, with its global
    step and the time; ``changed`` is set at each."""

    def __init__(self) -> None:
        self.epochs: list[tuple[int, int, float]] = []  # (epoch, global step, time)
        self.reports: list[int] = []
        self.changed = threading.Event()

    def on_epoch_end(self, event) -> None:
        self.epochs.append((event.epoch, event.metrics.global_step, time.perf_counter()))
        self.changed.set()

    def on_progress(self, event) -> None:
        self.reports.append(event.global_step)
        self.changed.set()

    def settled(self, until=lambda watch: True, quiet: float = 0.3, limit: float = 30.0) -> None:
        """Wait until ``until(self)`` holds (the run may still be loading its data), then until
        nothing new came for ``quiet`` seconds (the run holds)."""
        end = time.monotonic() + limit
        self.changed.clear()
        while not until(self):
            if not self.changed.wait(max(0.0, end - time.monotonic())):
                raise AssertionError("the run never got there")
            self.changed.clear()
        while time.monotonic() < end:
            self.changed.clear()
            if not self.changed.wait(quiet):
                return
        raise AssertionError("the run did not hold")


def started(trainer_or_race) -> tuple[threading.Thread, list]:
    out: list = []
    thread = threading.Thread(target=lambda: out.append(trainer_or_race()), daemon=True)
    thread.start()
    return thread, out


def test_a_paced_run_computes_exactly_what_max_and_the_cli_compute(runs_dir, capsys):
    # dropout draws from the global generator and both live views draw pictures between the
    # waits: the numbers stay bit for bit those of the same config at max and of `train`
    cfg = config("spiral", model__hidden=[16, 16], model__dropout=0.2, training__epochs=6)
    control = RunControl()
    control.set_pace(Pace(40))
    view, network = ViewRequest(), ViewRequest()
    view.ask(20, 10)
    network.ask(6, 6)
    paced = Trainer(cfg, control=control, runs_dir=runs_dir / "paced", view=view, network=network).run()
    at_max = Trainer(cfg, runs_dir=runs_dir / "max").run()
    assert main(["train", "--task", "spiral", "--hidden", "16,16", "--dropout", "0.2", "--epochs", "6",
                 "--device", "cpu", "--json", "--runs-dir", str(runs_dir / "cli")]) == 0
    cli = json.loads(capsys.readouterr().out)
    assert losses(paced) == losses(at_max) == [m["train_loss"] for m in cli["history"]]
    assert [m.val_loss for m in paced.history] == [m.val_loss for m in at_max.history]
    assert paced.steps == at_max.steps
    assert (paced.run_dir / CONFIG_FILE).read_text() == (at_max.run_dir / CONFIG_FILE).read_text()
    assert network.take() is not None and view.take() is not None


def test_the_pace_spaces_epochs_out_and_the_waiting_is_not_training_time():
    control = RunControl()
    control.set_pace(Pace(20))  # 0.05 s from one epoch's start to the next
    watch = Watch()
    cfg = config("iris", training__epochs=6)
    started_at = time.perf_counter()
    result = Trainer(cfg, [watch], control=control, runs_dir=False).run()
    wall = time.perf_counter() - started_at
    assert result.epochs_run == 6 and wall >= 5 * 0.05  # six starts, each 0.05 s after the last
    assert result.seconds < wall - 0.2  # the 0.25 s of waiting is not in the run's time
    assert sum(m.seconds for m in result.history) == pytest.approx(result.seconds)


def test_a_pace_in_steps_spaces_every_step():
    control = RunControl()
    control.set_pace(Pace(100, "step"))
    started_at = time.perf_counter()
    result = Trainer(config("rosenbrock", task__steps_per_epoch=10, training__epochs=3), control=control,
                     runs_dir=False).run()
    assert result.reason == "completed" and time.perf_counter() - started_at >= 29 * 0.01
    assert [step for step, _ in result.steps] == list(range(1, 31))


def test_the_pace_changes_from_another_thread_at_any_moment():
    control = RunControl()
    control.set_pace(Pace(0.5))  # two seconds an epoch: 100 epochs would take minutes
    watch = Watch()
    trainer = Trainer(config("iris", training__epochs=100), [watch], control=control, runs_dir=False)
    thread, out = started(trainer.run)
    while not watch.epochs:
        assert watch.changed.wait(30)
    control.set_pace(MAX_PACE)  # the run waiting for its next epoch goes on at once
    thread.join(60)
    assert out[0].reason == "completed" and out[0].epochs_run == 100
    assert str(Pace(0.5)) == "0.5 epochs/s" and str(Pace(1, "step")) == "1 step/s" and str(MAX_PACE) == "max"
    with pytest.raises(ValueError, match="must be a finite number > 0"):
        Pace(0)


def test_step_trains_one_epoch_or_one_batch_then_holds():
    cfg = config("iris", training__epochs=4)  # 120 samples, batch 16: 8 steps an epoch
    at_max = Trainer(cfg, runs_dir=False).run()
    control, watch = RunControl(), Watch()
    control.pause()
    thread, out = started(Trainer(cfg, [watch], control=control, runs_dir=False).run)
    watch.settled()
    assert watch.epochs == [] and watch.reports == []
    control.step("epoch")
    watch.settled(until=lambda w: w.epochs)
    assert [(e, s) for e, s, _ in watch.epochs] == [(1, 8)]
    control.step("batch")
    watch.settled(until=lambda w: w.reports)
    assert watch.reports[-1] == 9 and len(watch.epochs) == 1  # one step, reported before it holds
    control.step("batch")
    watch.settled(until=lambda w: w.reports[-1] > 9)
    assert watch.reports[-1] == 10
    control.step("epoch")  # from inside an epoch: up to its end
    watch.settled(until=lambda w: len(w.epochs) > 1)
    assert [(e, s) for e, s, _ in watch.epochs] == [(1, 8), (2, 16)]
    control.resume()
    thread.join(30)
    assert out[0].reason == "completed" and losses(out[0]) == losses(at_max)
    with pytest.raises(ValueError, match="epoch, batch"):
        control.step("lap")


def test_a_stop_while_held_ends_the_run_keeping_its_epochs():
    control, watch = RunControl(), Watch()
    control.step("epoch")  # asked before the run starts: it trains one epoch and holds
    thread, out = started(Trainer(config("iris", training__epochs=5), [watch], control=control,
                                  runs_dir=False).run)
    watch.settled(until=lambda w: w.epochs)
    control.stop()
    thread.join(30)
    assert out[0].reason == "stopped" and out[0].epochs_run == 1


@pytest.mark.parametrize("shared", [True, False], ids=["one control (compare)", "a control each (the app)"])
def test_in_a_race_every_run_takes_the_step(shared):
    configs = [config("iris", optimizer=name, training__epochs=3) for name in ("sgd", "adam")]
    alone = [Trainer(c, runs_dir=False).run() for c in configs]
    controls = [RunControl()] * 2 if shared else [RunControl(), RunControl()]
    watches = [Watch(), Watch()]
    for control in set(controls):
        control.pause()
    trainers = [Trainer(c, [w], control=k, runs_dir=False) for c, w, k in zip(configs, watches, controls)]
    thread, out = started(lambda: race(trainers))
    for control in set(controls):
        control.step("epoch")
    for watch in watches:
        watch.settled(until=lambda w: w.epochs)
    assert [[(e, s) for e, s, _ in w.epochs] for w in watches] == [[(1, 8)], [(1, 8)]]
    for control in set(controls):
        control.step("batch")
    for watch in watches:
        watch.settled(until=lambda w: w.reports and w.reports[-1] > 8)
    assert [w.reports[-1] for w in watches] == [9, 9]
    for control in set(controls):
        control.resume()
    thread.join(60)
    assert [losses(r) for r in out[0]] == [losses(r) for r in alone]


def test_a_paced_race_keeps_each_runs_pace():
    # at 10 epochs a second each run waits at every epoch's start and gives way while it waits,
    # so the runs go side by side, each at the pace (not one after the other, nor at half of it)
    control = RunControl()
    control.set_pace(Pace(10))
    watches = [Watch(), Watch()]
    configs = [config("iris", optimizer=name, training__epochs=4) for name in ("sgd", "adam")]
    started_at = time.perf_counter()
    results = race([Trainer(c, [w], control=control, runs_dir=False) for c, w in zip(configs, watches)])
    assert [r.epochs_run for r in results] == [4, 4] and time.perf_counter() - started_at >= 3 * 0.1
    first, second = ([t for _, _, t in w.epochs] for w in watches)
    assert second[0] < first[2] and first[0] < second[2]  # side by side


def test_while_watched_the_boundary_is_drawn_at_every_epoch():
    class Looks(Callback):  # takes each picture at once, as a panel on screen does
        def __init__(self, request):
            self.request, self.epochs = request, []

        def on_epoch_end(self, event):
            frame = self.request.take()
            self.epochs.append(frame.epoch if frame else None)

    request = ViewRequest()
    request.ask(8, 8)
    control = RunControl()
    control.set_pace(Pace(20))
    looks = Looks(request)
    Trainer(config("gauss", training__epochs=5), [looks], control=control, runs_dir=False, view=request).run()
    assert looks.epochs == [1, 2, 3, 4, 5]
