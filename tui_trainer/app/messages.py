"""Messages the training worker posts to the app."""

from __future__ import annotations

from textual.message import Message

from tui_trainer.app.feed import RunFeed
from tui_trainer.engine.events import RunFailed, RunStarted


class RunBegan(Message):
    """The engine built everything and is about to take its first step."""

    def __init__(self, feed: RunFeed, started: RunStarted) -> None:
        super().__init__()
        self.feed = feed
        self.started = started


class RunErrored(Message):
    """An exception stopped the run (its RunEnded follows with reason ``failed``)."""

    def __init__(self, feed: RunFeed, failure: RunFailed) -> None:
        super().__init__()
        self.feed = feed
        self.failure = failure
