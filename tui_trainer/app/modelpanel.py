"""The Model tab: the summary of the model the form's config trains (as Keras' ``model.summary()``:
each layer with its type, its output shape on a batch of the task and its parameter count, then
the totals), computed in a thread once torch has loaded, while the tab shows, again only when
what makes the model changes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import ComposeResult
from textual.containers import ScrollableContainer, Vertical
from textual.content import Content
from textual.widgets import Static

from tui_trainer.app.fields import set_text
from tui_trainer.config import to_dict, user_code_files

if TYPE_CHECKING:
    from tui_trainer.config import Config

#: The config's sections that make the model (the task its inputs and classes, the loss its
#: output layer, the lab a softmax or sigmoid after it).
MODEL_SECTIONS = ("task", "model", "loss", "lab")


class ModelPanel(Vertical):
    """The form's model, layer by layer: a caption (the model, its input and parameters) over the
    table, which scrolls when it is larger than the panel."""

    DEFAULT_CSS = """
    ModelPanel > .caption { height: auto; padding: 0 1; }
    ModelPanel > ScrollableContainer { height: 1fr; padding: 0 1; }
    ModelPanel .table { width: auto; }
    """

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.caption = Static("the model's layers show once torch has loaded", classes="caption")
        self.table = Static("", classes="table")
        self.config: Config | None = None
        self.ready = False  # torch has loaded
        self.in_view = False  # summarized only while on screen
        self.shown: Any = None  # the model sections of the config summarized
        self.summary: Any = None  # the ModelSummary shown (None: none)

    def compose(self) -> ComposeResult:
        yield self.caption
        with ScrollableContainer():
            yield self.table

    def follow(self, config: Config | None, ready: bool) -> None:
        """Summarize ``config``'s model (the form's; None while it is invalid) once torch has
        loaded (``ready``) and while the tab shows."""
        self.config, self.ready = config, ready
        if self.in_view:
            self._update()

    def on_show(self) -> None:
        self.in_view = True
        self._update()

    def on_hide(self) -> None:
        self.in_view = False

    def _update(self) -> None:
        config = self.config
        if config is None:
            set_text(self.caption, "the model's layers show once the form is valid")
            return
        if not self.ready:
            set_text(self.caption, "the model's layers show once torch has loaded")
            return
        key = _model_key(config)
        if key != self.shown:
            self.shown = key
            set_text(self.caption, f"building the model of {config.task.name} …")
            self._summarize(config, key)

    @work(thread=True, exclusive=True, group="model summary", exit_on_error=False)
    def _summarize(self, config: Config, key: Any) -> None:
        """Build the model (reading your data when the task has its own) and summarize it."""
        from tui_trainer.engine.summary import planned_summary

        try:
            summary: Any = planned_summary(config)
        except BaseException as error:  # noqa: BLE001 (a model of your own may raise anything; shown)
            summary = error
        self.app.call_from_thread(self._summarized, key, summary)

    def _summarized(self, key: Any, summary: Any) -> None:
        if key != self.shown:  # the form moved on meanwhile: its own summary is coming
            return
        if isinstance(summary, BaseException):
            self.summary = None
            text = str(summary) if str(summary) else type(summary).__name__
            self.caption.update(Content.from_markup("[$text-error]the model cannot be built: $text[/]", text=text))
            self.table.update("")
            return
        self.summary = summary
        trainable = ("all trainable" if summary.trainable == summary.total
                     else f"{summary.trainable:,} trainable, {summary.total - summary.trainable:,} not")
        self.caption.update(Content.from_markup(
            "[b]$model[/] · input $input · $total parameters ($trainable)", model=summary.model,
            input=summary.input, total=f"{summary.total:,}", trainable=trainable))
        self.show_table()

    def on_resize(self) -> None:
        if self.summary is not None:
            self.show_table()

    def show_table(self) -> None:
        """The summary's table, its layers named by their whole path when that fits the width."""
        lines = self.summary.table()
        if len(lines[0]) > self.size.width - 2:
            lines = self.summary.table(short=True)
        self.table.update(Content("\n".join(lines)))


def _model_key(config: Config) -> tuple:
    """What makes ``config``'s model, as comparable data (a model file of your own: its version
    too)."""
    values = to_dict(config)
    files = [(str(file), file.stat().st_mtime_ns if file.is_file() else None)
             for field, file, _ in user_code_files(config) if field == "model.path"]
    return (*(repr(values[section]) for section in MODEL_SECTIONS), *files)
