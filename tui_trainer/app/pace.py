"""How often the live views may draw while a run trains.

The UI's drawing is pure Python on the UI thread: while it draws it holds the GIL the training
thread needs, so every millisecond spent drawing is a millisecond the run waits. At max pace each
live view (the charts, the boundary, the fit, the network, the layers table) therefore draws
against a budget of UI-thread CPU time: a share of the wall clock, measured on what its drawing
really took (building the figure and turning it into the screen's lines), not on a guess.

While a person watches a run (paced, paused or stepping: the run waits between its epochs
anyway) the app redraws WATCHED_TICKS times a second and each view draws every new picture, as
long as a larger share (WATCHED_SHARE) allows, so the screen stays responsive to keys."""

from __future__ import annotations

import time
from contextlib import contextmanager
from collections.abc import Iterator

#: How often the app shows what the runs gained (the readouts at every tick; the views when
#: their pace allows). Twice a second: readouts a person can follow, at ~1 % of a core here.
TICKS_PER_SECOND = 2
#: The share of the wall clock the live charts may spend drawing: taking the runs' points,
#: setting the figures up and turning them into the screen's lines (three charts side by side,
#: about 40 ms here, every 8 s)...
CHART_SHARE = 0.005
#: ...the boundary or fit picture (a 12 ms boundary about once a second)...
PICTURE_SHARE = 0.01
#: ...and the layers table.
TABLE_SHARE = 0.01
#: Drawing time a view may spend at once before its share paces it: enough for the first curve,
#: picture or table to appear at the first tick of a run, not a burst that would slow the run.
BURST = 0.03
#: While a run is watched: redraws a second (the pictures the run makes come up to 30 a
#: second, ``engine.views.WATCHED_VIEW_GAP``)...
WATCHED_TICKS = 30
#: ...the readouts (numbers, progress line, leaderboard) at most this often...
READOUTS_PER_SECOND = 10
#: ...and the share of the wall clock a picture may spend drawing (one shows at a time)...
WATCHED_SHARE = 0.1
#: ...and the charts (three plotext figures: about 10-30 ms each here). A paced run loses the
#: time the UI holds the GIL (its pace does not catch up): with 0.25 and 0.4 tutorial 003's
#: 1000 epochs at 60 a second took 21-25 s here instead of 18, and with 0.2 rosenbrock's 1500
#: steps at 100 a second 22 s instead of 18.
WATCHED_CHART_SHARE = 0.1


class Pace:
    """A bucket of drawing time: it fills at ``share`` seconds a second (``watched_share`` while
    a person watches the run: ``watched``) up to BURST seconds; a view draws while the bucket
    holds some, and what its drawing took is taken out."""

    def __init__(self, share: float, watched_share: float = WATCHED_SHARE) -> None:
        self.share = share
        self.watched_share = watched_share
        self.watched = False
        self.spent = 0.0  # all the drawing time taken out (the benchmark checks views drew)
        self.reset()

    def reset(self) -> None:
        """A new run: a full bucket, so its first drawing shows at once."""
        self.held, self.at = BURST, time.monotonic()

    def due(self, final: bool = False) -> bool:
        """Whether the view may draw now (``final``, the run's last picture: always)."""
        now = time.monotonic()
        self.held = min(BURST, self.held + (now - self.at) * (self.watched_share if self.watched else self.share))
        self.at = now
        return final or self.held > 0

    def spend(self, seconds: float) -> None:
        """Take out what a drawing took."""
        self.held -= seconds
        self.spent += seconds

    @contextmanager
    def timed(self) -> Iterator[None]:
        """Take out the UI thread's CPU time of the block (a render)."""
        started = time.thread_time()
        try:
            yield
        finally:
            self.spend(time.thread_time() - started)


class Paced:
    """A widget (mixed in before it) whose drawing is taken out of ``pace`` when one is set."""

    pace: Pace | None = None

    def render_lines(self, crop):  # noqa: ANN001, ANN201 (Widget.render_lines)
        if self.pace is None:
            return super().render_lines(crop)
        with self.pace.timed():
            return super().render_lines(crop)
