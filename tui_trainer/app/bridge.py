"""The one place where the engine's callbacks become Textual messages."""

from __future__ import annotations

import threading

from textual.message_pump import MessagePump

from tui_trainer.app.feed import RunFeed
from tui_trainer.app.messages import RunBegan, RunErrored
from tui_trainer.engine.control import RunControl
from tui_trainer.engine.events import Callback, ChangeMade, EpochEnded, Progress, RunEnded, RunFailed, RunStarted


class MessageBridge(Callback):
    """Fills a RunFeed from the training thread, which the app reads on its redraw timer, and
    posts ``target`` the run's beginning and its failure (messages only for what happens once:
    a message per report woke the app's event loop, and took the GIL from training, for nothing).

    It also ties the engine's stop handle to the worker: once ``cancelled`` (the Textual worker's
    cancellation event) is set, the next event asks the loop to stop as ``interrupted``.
    """

    def __init__(self, target: MessagePump, feed: RunFeed, cancelled: threading.Event,
                 control: RunControl) -> None:
        self.target = target
        self.feed = feed
        self.cancelled = cancelled
        self.control = control
        self._steps_per_epoch = 1

    def on_run_start(self, event: RunStarted) -> None:
        self.feed.started = event
        self._steps_per_epoch = event.steps_per_epoch
        self.target.post_message(RunBegan(self.feed, event))

    def on_progress(self, event: Progress) -> None:
        self.feed.progress = event
        self._add_points(event.points)
        self._check_cancelled()

    def on_epoch_end(self, event: EpochEnded) -> None:
        self._add_points(event.points)
        self.feed.epochs.append(event.metrics)
        self._check_cancelled()

    def on_run_end(self, event: RunEnded) -> None:
        self.feed.result = event.result  # shown at the next redraw, while a race's other runs go on

    def on_change(self, event: ChangeMade) -> None:
        change = event.change
        self.feed.changes.append(((change.at_step - 1) / self._steps_per_epoch,
                                  f"{change.field} = {change.value}"))

    def _add_points(self, points: list[tuple[int, float]]) -> None:
        """The step curve's new points, at their place in epochs (step 8 of 8 per epoch: 1.0)."""
        per_epoch = self._steps_per_epoch
        self.feed.train_points.extend((step / per_epoch, loss) for step, loss in points)

    def on_error(self, event: RunFailed) -> None:
        self.target.post_message(RunErrored(self.feed, event))

    def _check_cancelled(self) -> None:
        if self.cancelled.is_set() and not self.control.stop_requested:
            self.control.stop("interrupted")
