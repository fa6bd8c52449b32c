"""The one place where the engine's callbacks become Textual messages."""

from __future__ import annotations

import threading
import time

from textual.message_pump import MessagePump

from tui_trainer.app.feed import RunFeed
from tui_trainer.app.messages import MetricsReport, RunBegan, RunErrored
from tui_trainer.engine.control import RunControl
from tui_trainer.engine.events import Callback, EpochEnded, Progress, RunEnded, RunFailed, RunStarted


#: The least time between two reports: the app redraws at most ~10 times a second, so more
#: frequent wake-ups of its event loop would only take the GIL from training.
REPORT_GAP = 0.1


class MessageBridge(Callback):
    """Fills a RunFeed and posts messages to ``target`` from the training thread.

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
        self._last_report = 0.0

    def on_run_start(self, event: RunStarted) -> None:
        self.feed.started = event
        self._steps_per_epoch = event.steps_per_epoch
        self.target.post_message(RunBegan(self.feed, event))

    def on_progress(self, event: Progress) -> None:
        self.feed.progress = event
        self._add_points(event.points)
        self._report()

    def on_epoch_end(self, event: EpochEnded) -> None:
        self._add_points(event.points)
        self.feed.epochs.append(event.metrics)
        self._report()

    def _add_points(self, points: list[tuple[int, float]]) -> None:
        """The step curve's new points, at their place in epochs (step 8 of 8 per epoch: 1.0)."""
        per_epoch = self._steps_per_epoch
        self.feed.train_points.extend((step / per_epoch, loss) for step, loss in points)

    def on_error(self, event: RunFailed) -> None:
        self.target.post_message(RunErrored(self.feed, event))

    def on_run_end(self, event: RunEnded) -> None:
        self._report(final=True)

    def _report(self, final: bool = False) -> None:
        if self.cancelled.is_set() and not self.control.stop_requested:
            self.control.stop("interrupted")
        now = time.monotonic()
        if final or (not self.feed.unread and now - self._last_report >= REPORT_GAP):
            self._last_report = now
            self.feed.unread = True
            self.target.post_message(MetricsReport(self.feed))
