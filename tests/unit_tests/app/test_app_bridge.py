"""Engine events fill the run's feed (read by the app's redraw timer) in one place; only a run's
start and failure become Textual messages."""

from __future__ import annotations

import threading

from tui_trainer.app.bridge import MessageBridge
from tui_trainer.app.feed import RunFeed
from tui_trainer.app.messages import RunBegan
from tui_trainer.config import default_config
from tui_trainer.engine.control import RunControl
from tui_trainer.engine.events import EpochEnded, EpochMetrics, Progress, RunStarted


class Inbox:
    """Stands in for the app: keeps what is posted."""

    def __init__(self) -> None:
        self.messages = []

    def post_message(self, message) -> bool:
        self.messages.append(message)
        return True


def progress(step: int, loss: float, points: list[tuple[int, float]] | None = None) -> Progress:
    return Progress(epoch=1, epochs=2, step=step, steps_per_epoch=10, global_step=step, total_steps=20,
                    train_loss=loss, lr=0.1, grad_norm=1.0, samples_per_second=100.0, elapsed=0.1 * step,
                    points=[(step, loss)] if points is None else points)


def epoch_end(epoch: int, points: list[tuple[int, float]] = ()) -> EpochEnded:
    metrics = EpochMetrics(epoch=epoch, train_loss=0.5, val_loss=0.6, train_accuracy=None, val_accuracy=None,
                           train_r2=0.9, val_r2=0.8, lr=0.1, grad_norm=1.0, seconds=1.0, elapsed=epoch,
                           samples_per_second=100.0, global_step=10 * epoch)
    return EpochEnded(epoch, 2, metrics, list(points))


def started(steps_per_epoch: int = 10) -> RunStarted:
    return RunStarted(config=default_config(), run_dir=None, device="cpu", device_name="CPU", threads=1,
                      param_count=2, train_size=80, val_size=20, epochs=2, steps_per_epoch=steps_per_epoch,
                      total_steps=2 * steps_per_epoch)


def make_bridge():
    inbox, feed, cancelled, control = Inbox(), RunFeed(1), threading.Event(), RunControl()
    return MessageBridge(inbox, feed, cancelled, control), inbox, feed, cancelled, control


def test_reports_fill_the_feed_and_wake_the_app_only_for_a_start_or_a_failure():
    b, inbox, feed, _, _ = make_bridge()
    b.on_run_start(started())
    for step in range(1, 6):
        b.on_progress(progress(step, 1.0 / step))
    b.on_epoch_end(epoch_end(1))
    # the app reads the feed on its redraw timer: no message per report
    assert [type(m) for m in inbox.messages] == [RunBegan]
    assert feed.progress.global_step == 5 and len(feed.train_points) == 5 and len(feed.epochs) == 1


def test_every_point_of_the_step_curve_lands_at_its_place_in_epochs():
    b, _, feed, _, _ = make_bridge()
    b.on_run_start(started(steps_per_epoch=4))
    b.on_progress(progress(2, 0.6, points=[(1, 0.7), (2, 0.6)]))
    b.on_epoch_end(epoch_end(1, points=[(3, 0.55), (4, 0.5)]))
    b.on_epoch_end(epoch_end(2, points=[(5, 0.45), (6, 0.4), (7, 0.35), (8, 0.3)]))
    assert feed.train_points == [(0.25, 0.7), (0.5, 0.6), (0.75, 0.55), (1.0, 0.5), (1.25, 0.45),
                                 (1.5, 0.4), (1.75, 0.35), (2.0, 0.3)]
    assert [m.epoch for m in feed.epochs] == [1, 2]


def test_worker_cancellation_stops_the_loop_as_interrupted():
    b, _, _, cancelled, control = make_bridge()
    b.on_progress(progress(1, 1.0))
    assert not control.stop_requested
    cancelled.set()
    b.on_progress(progress(2, 1.0))
    assert control.stop_requested and control.stop_reason == "interrupted"


def test_run_start_is_posted_and_recorded():
    b, inbox, feed, _, _ = make_bridge()
    event = started()
    b.on_run_start(event)
    assert feed.started is event and isinstance(inbox.messages[0], RunBegan)
