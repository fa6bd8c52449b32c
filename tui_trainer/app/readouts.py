"""The status line and the live and final numbers of a run."""

from __future__ import annotations

import textwrap

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Static

from tui_trainer.app.feed import RunFeed
from tui_trainer.app.fields import fitting
from tui_trainer.formatting import duration, epoch_of, number, percent, point_text, rate
from tui_trainer.engine.control import MAX_PACE, Pace
from tui_trainer.engine.events import RunResult

#: Lines a message (a failure, a divergence) may take in the readouts before the rest is left to
#: the Log tab, which shows it whole.
MESSAGE_LINES = 6

#: What the status line can say, with its mark and its color (a theme variable).
STATES = {
    "loading": ("…", "$text-accent"), "ready": ("●", "$text-primary"), "starting": ("…", "$text-accent"),
    "running": ("▶", "$text-accent"), "paused": ("⏸", "$text-warning"),
    "stopping": ("…", "$text-accent"), "finished": ("✔", "$text-success"),
    "stopped": ("■", "$text-warning"), "diverged": ("✖", "$text-error"),
    "failed": ("✖", "$text-error"), "invalid": ("✖", "$text-error"), "lost": ("✖", "$text-error"),
}
#: What the status says while no run goes (it follows the form).
IDLE = ("loading", "ready", "invalid")
#: The status a run's end reason shows as.
REASON_STATES = {
    "completed": "finished", "early-stopped": "finished", "target-reached": "finished",
    "stopped": "stopped", "interrupted": "stopped", "diverged": "diverged", "failed": "failed",
    "lost": "lost",  # a run another process trained, whose writer died (``app.watch``)
}
#: The states of a run that ended well (its numbers in the success color).
GOOD_ENDINGS = ("finished", "stopped")


class Status(Static):
    """One line saying plainly what is happening, colored by state (by the text's style, not by
    CSS classes: a class change restyles and lays out the screen while a run is starting).
    Setting ``line`` (state, detail) redraws it. While a run goes or once it ended (not while the
    status follows the form), ``note`` (the lab mistakes it makes on purpose) shows on a second
    line, in the warning color."""

    DEFAULT_CSS = """
    Status {
        height: 1; padding: 0 1; background: $boost;
        text-wrap: nowrap; text-overflow: ellipsis;
    }
    """

    line: reactive[tuple[str, str]] = reactive(("ready", ""), layout=False)
    note: reactive[str] = reactive("", layout=False)
    shorter: tuple[str, ...] = ()  # the detail in fewer words (``show``)

    @property
    def state(self) -> str:
        """One of STATES."""
        return self.line[0]

    def show(self, state: str, detail: str = "", *shorter: str) -> None:
        """Say ``state`` (one of STATES) and what it is about; ``shorter``: the same in fewer
        words, shortest last, the first that fits the line shown where ``detail`` would be cut."""
        self.shorter = shorter
        self.line = (state, detail)

    def on_resize(self) -> None:
        if self.shorter:
            self.watch_line(self.line)

    def watch_line(self, line: tuple[str, str]) -> None:
        state, detail = line
        mark, color = STATES[state]
        width = self.content_size.width
        words = [detail, *self.shorter]
        detail = words[fitting(width, [f"{mark} {state} — {w}" for w in words])]
        note = self.note if state not in IDLE else ""
        self.styles.height = 2 if note else 1  # a layout only when it changes (a run's start and end)
        self.update(Content.from_markup(f"[{color} bold]$mark $state[/]$detail" + ("\n[$text-warning]$note[/]" if note else ""),
                                        mark=mark, state=state, detail=f" — {detail}" if detail else "",
                                        note=note), layout=False)

    def watch_note(self) -> None:
        self.watch_line(self.line)


class ProgressLine(Widget):
    """A run's progress on one line: a bar (in the primary color, green once complete), the
    percentage (``fraction`` None: a run until stopped, which has none), and the clock (elapsed
    and ETA, or how long the run took once it ended, and the pace). One widget redrawn at each
    tick, so a tick costs the UI thread as little as it can."""

    DEFAULT_CSS = """
    ProgressLine { height: 1; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    #: The bar's cells: the width the figures leave, within these bounds (at 80 columns a paced
    #: run's clock, ``0.45 s · ETA 7.20 s · 5 epochs/s``, leaves the bar 4).
    BAR_CELLS = (4, 32)

    fraction: reactive[float | None] = reactive(0.0, layout=False)
    clock: reactive[str] = reactive("", layout=False)

    def render(self) -> Content:
        low, high = self.BAR_CELLS
        cells = max(low, min(high, self.size.width - len(self.clock) - 7))  # the figures first
        if self.fraction is None:  # no end to measure against: an empty bar, no percentage
            return Content.assemble(("╌" * cells, "$primary"), "   ∞  ", (self.clock, "$text-muted"))
        fraction = max(0.0, min(1.0, self.fraction))
        full, half = divmod(round(fraction * cells * 2), 2)
        return Content.assemble(("━" * full + "╸" * half, "$success" if fraction >= 1 else "$primary"),
                                ("━" * (cells - full - half), "$surface"), f" {fraction:4.0%} ",
                                (self.clock, "$text-muted"))


class Readouts(Vertical):
    """Epoch and step, a progress bar with ETA and samples/s, losses, accuracy or R^2, learning
    rate, gradient norm and device while a run goes; final metrics, parameter count and (for the
    linear task) the learned weight and bias next to the true ones, and the test set's score when
    the run has one, when it ends."""

    DEFAULT_CSS = """
    Readouts { height: auto; padding: 0 1; }
    Readouts #numbers { height: 4; text-wrap: nowrap; text-overflow: ellipsis; overflow: hidden; }
    """

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.status = Status()
        self.progress = ProgressLine()
        # One fixed-size Static for live and final numbers: updating it never needs a layout.
        self.numbers = Static("press ctrl+r to train", id="numbers", markup=False)
        self.result: tuple[str, str] | None = None  # what the last ended run's numbers said
        self.wrapped_at = 0  # the width the ended run's message was wrapped for

    def compose(self) -> ComposeResult:
        yield self.status
        yield self.progress
        yield self.numbers

    def clear(self, hint: str = "press ctrl+r to train") -> None:
        """Blank numbers for a new run."""
        self.result = None
        self.progress.fraction, self.progress.clock = 0.0, ""
        self.numbers.styles.height = 4
        self.numbers.update(hint, layout=False)

    def show_feed(self, feed: RunFeed, resources: str = "", pace: Pace = MAX_PACE) -> None:
        """Show the run's latest numbers, ``resources`` (the device's memory and load) and the
        ``pace`` it goes at."""
        started = feed.started
        if started is None:
            return
        step, total = feed.global_step, started.total_steps
        elapsed = feed.elapsed
        self.progress.fraction = step / total if total else None  # no total: a run until stopped
        progress, last = feed.progress, feed.epochs[-1] if feed.epochs else None
        fresh = progress if progress and (not last or progress.global_step > last.global_step) else None
        speed = fresh.samples_per_second if fresh else last.samples_per_second if last else None
        self.progress.clock = clock(elapsed, step, total, started.steps_per_epoch, pace)
        epoch = fresh.epoch if fresh else (last.epoch if last else started.start_epoch)
        in_epoch = fresh.step if fresh else started.steps_per_epoch if last else 0
        at, step_of = f"epoch {epoch_of(epoch, started.epochs)}", f"step {in_epoch}/{started.steps_per_epoch}"
        width = self.numbers.content_size.width
        positions = [f"{at} · {step_of} · {rate(speed)} samples/s", f"{at} · {step_of} · {rate(speed)}/s",
                     f"{at} · {rate(speed)} samples/s"]  # the step shows in the progress bar too
        position = positions[fitting(width, positions)]
        train = fresh.train_loss if fresh else last.train_loss if last else None
        if started.config.task_spec.traits.point:  # a point on a function: where it is
            position = position.replace("samples/s", "steps/s")
            figures = feed.progress.figures if feed.progress else {}
            lines = [position, f"f(x, y) {number(train)} · point ({number(figures.get('x'))}, "
                     f"{number(figures.get('y'))})", f"to the nearest minimum {number(figures.get('distance'))}"]
        else:
            lines = [position, f"loss train {number(train)} · val {number(last.val_loss if last else None)}",
                     _metric_line("", *((last.train_accuracy, last.val_accuracy, last.train_r2, last.val_r2)
                                        if last else (None,) * 4))]
        lr = fresh.lr if fresh else last.lr if last else None
        grad = fresh.grad_norm if fresh else last.grad_norm if last else None
        device = resources or (f"{started.device_name} ×{started.threads} thread"
                               + ("s" if started.threads != 1 else ""))
        # The words shortened (then the device's last figures dropped) to fit the line, not cut.
        head, short = f"lr {number(lr)} · grad norm {number(grad)}", f"lr {number(lr)} · grad {number(grad)}"
        parts = device.split(" · ")
        words = [f"{head} · {device}", *(f"{short} · {' · '.join(parts[:n])}" for n in range(len(parts), 0, -1))]
        lines.append(words[fitting(width, words)])
        self.numbers.update("\n".join(lines), layout=False)

    def show_result(self, result: RunResult) -> None:
        """Show how the run ended and what it learned, in place of the live numbers; the
        clock stops (no ETA once a run has ended)."""
        final = result.final
        self.progress.clock = f"{duration(result.seconds)} · ended"
        # A run whose writer died has no final figures: those of its last epoch.
        which = "last epoch's " if REASON_STATES[result.reason] == "lost" else "final "
        lines = [f"{result.epochs_run} epoch(s) · {result.param_count:,} params · "
                 f"{rate(result.samples_per_second)} samples/s",
                 _metric_line(which, final.train_accuracy, final.val_accuracy, final.train_r2, final.val_r2),
                 f"{which}loss train {number(final.train_loss)} · val {number(final.val_loss)}"]
        if final.test_loss is not None:  # scored once, at the end: its own line, named
            score = (f"accuracy {percent(final.test_accuracy)}" if final.test_accuracy is not None
                     else f"R² {number(final.test_r2)}")
            lines.append(f"test set: {score} · loss {number(final.test_loss)}")
        if result.point:
            lines = [lines[0].replace("samples/s", "steps/s"), *point_text(result.point).split(" · ", 1)]
        p = result.parameters
        if p:
            lines.append(f"learned w = {number(p['weight'], 5)}, b = {number(p['bias'], 5)}  "
                         f"(true {number(p['true_weight'])}, {number(p['true_bias'])})")
        good = REASON_STATES[result.reason] in GOOD_ENDINGS
        if not p and not good:
            lines.append(result.message)
        self._show_ended("\n".join(lines), "$text-success" if good else "$text-error")

    def show_message(self, text: str) -> None:
        """Show why a run could not train (wrapped; the Log tab holds it whole)."""
        self.progress.clock = "ended"
        self._show_ended(text, "$text-error")

    def on_resize(self) -> None:
        """An ended run's message is wrapped anew for the new width."""
        if self.result is not None and self.numbers.size.width != self.wrapped_at:
            self._show_ended(*self.result)

    def _show_ended(self, text: str, color: str) -> None:
        self.result = (text, color)
        self.wrapped_at = self.numbers.size.width
        width = max(20, self.numbers.size.width or 40)
        wrapped = [line for paragraph in text.splitlines()
                   for line in textwrap.wrap(paragraph, width, break_on_hyphens=False) or [""]]
        if len(wrapped) > MESSAGE_LINES:
            wrapped = wrapped[:MESSAGE_LINES - 1] + ["… the whole message is in the Log (ctrl+l)"]
        self.numbers.styles.height = max(4, len(wrapped))
        self.numbers.update(Content.from_markup(f"[{color} bold]$text[/]", text="\n".join(wrapped)))

    def mark_stale(self, run: int | None) -> None:
        """The form changed since run ``run`` ended: its numbers stay, dimmed and named as the
        last run's, so they never read as the new settings' results."""
        if self.result is None or run is None:
            return
        text, _ = self.result
        self.result = None
        self.progress.clock = ""
        self.numbers.update(Content.from_markup(
            "[$text-muted]$text[/]", text=f"last run #{run} (before the form changed):\n" + text))


def clock(elapsed: float, step: int, total: int | None, steps_per_epoch: int, pace: Pace) -> str:
    """Training time so far (waiting for the pace is not training), the time left (at the pace,
    when the pace is slower than training) and the pace: ``1.20 s · ETA 0:11 · 5 epochs/s``; a
    run until stopped has no ETA."""
    if total is None:
        return f"{duration(elapsed)} · until stopped · {pace_text(pace)}"
    remaining = elapsed * (total - step) / step if step else None
    if not pace.is_max:
        left = (total - step) / (steps_per_epoch if pace.unit == "epoch" else 1)
        remaining = max(remaining or 0.0, left / pace.per_second)
    return f"{duration(elapsed)} · ETA {duration(remaining)} · {pace_text(pace)}"


def pace_text(pace: Pace) -> str:
    """``5 epochs/s``, or ``max pace``."""
    return "max pace" if pace.is_max else str(pace)


def _metric_line(prefix: str, train_acc: float | None, val_acc: float | None,
                 train_r2: float | None, val_r2: float | None) -> str:
    if train_acc is not None or val_acc is not None:
        return f"{prefix}accuracy train {percent(train_acc)} · val {percent(val_acc)}"
    return f"{prefix}R² train {number(train_r2)} · val {number(val_r2)}"
