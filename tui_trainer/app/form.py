"""The config form: one section per part of a run, built from the same schema the CLI uses."""

from __future__ import annotations

import asyncio
import textwrap
from typing import Any, Callable

from textual.app import ComposeResult
from textual.color import Color
from textual.containers import Vertical, VerticalScroll
from textual.lazy import Lazy
from textual.message import Message
from textual.message_pump import MessagePump
from textual.widgets import Static

from tui_trainer.app.dialogs import TextDialog
from tui_trainer.app.fields import FieldRow, set_text
from tui_trainer.catalog.lab import MISTAKES
from tui_trainer.app.labels import help_line, label
from tui_trainer.catalog.losses import LOSSES
from tui_trainer.catalog.optimizers import OPTIMIZERS
from tui_trainer.catalog.schedulers import SCHEDULERS
from tui_trainer.catalog.tasks import TASKS, TaskSpec
from tui_trainer.config import (
    Choice, Config, LabConfig, LoggingConfig, ModelConfig, TrainingConfig, choice_names,
    draft, model_fields, model_kinds, params_of, resolve, section_params, task_sets,
)
from tui_trainer.errors import ConfigError, FieldError
from tui_trainer.schema import Param

#: Training fields shown in the Device section instead of the Training section.
DEVICE_FIELDS = ("device", "threads")
#: The opacity of a form section's border while the focus is elsewhere (its CSS says the same).
DIM_BORDER = 0.4
#: The key that shows the focused field's whole help (the app's bindings hold it too).
HELP_KEY = "f9"
#: Device choices before torch has loaded and listed the real ones.
FALLBACK_DEVICES = [("auto", "auto"), ("cpu", "cpu")]
#: A change travels through a few widgets (list, select, field, form); settling waits at most
#: this many rounds of every widget handling what it was sent.
SETTLE_ROUNDS = 20


async def _drain(pumps: list[MessagePump]) -> None:
    """Wait until each running app or widget has handled every message it was sent before this
    call (not to be awaited from one of their own handlers)."""
    waiting = []
    for pump in pumps:
        done = asyncio.Event()
        if pump.call_later(done.set):
            waiting.append(done.wait())
    await asyncio.gather(*waiting)


def _help(section: str, name: str) -> str:
    """The one-line description of a catalog choice."""
    catalog = {"task": TASKS, "loss": LOSSES, "optimizer": OPTIMIZERS, "scheduler": SCHEDULERS}[section]
    spec = catalog.get(name)
    if spec is None:
        return "your own loss class" if section == "loss" else ""
    return spec.description if section == "task" else spec.help


class Section(Vertical):
    """A titled group of fields."""

    DEFAULT_CSS = """
    Section {
        height: auto;
        border: round $primary 40%;  /* DIM_BORDER */
        border-title-color: $primary;
        padding: 0 0 0 1;
    }
    Section .choice-help { color: $text-muted; text-style: italic; }
    Section > .params { height: auto; }
    """

    def __init__(self, title: str) -> None:
        super().__init__()
        self.border_title = title

    # The section holding the focus has a bright border. Not `:focus-within` in CSS: Textual then
    # restyles every widget of the section at each move of the focus; a border's color alone
    # only repaints the section.
    def on_descendant_focus(self) -> None:
        self._light(True)

    def on_descendant_blur(self) -> None:
        self._light(False)

    def _light(self, focused: bool) -> None:
        primary = Color.parse(self.app.current_theme.primary)
        self.styles.border = ("round", primary if focused else primary.with_alpha(DIM_BORDER))


class ChoiceSection(Section):
    """A catalog choice (task, loss, optimizer, scheduler) and the chosen entry's parameters."""

    def __init__(self, section: str, title: str, choice: Choice) -> None:
        super().__init__(title)
        self.section = section
        self.current = choice.name
        names = list(choice_names(section))
        self.choice_row = FieldRow(f"{section}.name", Param("name", "choice", choice.name, f"the {section}",
                                                            choices=tuple(names)), choice.name)
        self.help = Static(_help(section, choice.name), classes="choice-help")
        self.param_rows = self._rows(choice.params)
        self.params = Vertical(*self.param_rows, classes="params")

    @property
    def rows(self) -> list[FieldRow]:
        """The choice's field, then its parameters' fields."""
        return [self.choice_row, *self.param_rows]

    def compose(self) -> ComposeResult:
        yield self.choice_row
        yield self.help
        yield self.params

    def _rows(self, values: dict[str, Any]) -> list[FieldRow]:
        return [FieldRow(f"{self.section}.{p.name}", p, values.get(p.name, p.default))
                for p in params_of(self.section, self.current)]

    async def show(self, name: str, values: dict[str, Any]) -> None:
        """Show choice ``name`` with these parameter values (missing ones take their defaults)."""
        self.current = name
        self.choice_row.set_value(name)
        self.help.update(_help(self.section, name))
        self.param_rows = self._rows(values)
        await self.params.remove_children()
        await self.params.mount_all(self.param_rows)

    async def switch(self, name: str) -> None:
        """The person chose ``name``: values they changed carry over where the new choice takes
        the same parameter; the rest take the new choice's defaults."""
        carried = {row.param.name: row.raw for row in self.param_rows if row.changed_from_default}
        await self.show(name, carried)


class FixedSection(Section):
    """The fields of a fixed config section (model, training), or some of them."""

    def __init__(self, section: str, title: str, values: Any, params: tuple[Param, ...],
                 options: dict[str, list[tuple[str, str]]]) -> None:
        super().__init__(title)
        self.rows = [FieldRow(f"{section}.{p.name}", p, getattr(values, p.name), options.get(p.name))
                     for p in params]

    def compose(self) -> ComposeResult:
        yield from self.rows

    def show_only(self, names: tuple[str, ...]) -> None:
        """Show the fields named, hide the others (their values stay in the config)."""
        for row in self.rows:
            row.display = row.param.name in names


class FieldHelp(Static):
    """The help line under the form: the focused field explained, in at most LINES lines; a
    longer text ends with where to read it whole (HELP_KEY)."""

    LINES = 6

    def __init__(self, text: str) -> None:
        super().__init__(id="field-help", markup=False)
        self.text = text
        self.shown_for: tuple[str, int] | None = None

    def show(self, text: str) -> None:
        """Explain with ``text`` (what fits; all of it once HELP_KEY is pressed)."""
        self.text = text
        self._fit()

    def on_mount(self) -> None:
        self._fit()

    def on_resize(self) -> None:
        self._fit()

    def _fit(self) -> None:
        width = self.content_size.width or 32
        if self.shown_for == (self.text, width):
            return
        self.shown_for = (self.text, width)
        lines = textwrap.wrap(self.text, width, break_on_hyphens=False) or [""]
        if len(lines) > self.LINES:
            more = f"… {HELP_KEY}: read it all"
            lines = lines[:self.LINES - 1] + [textwrap.shorten(lines[self.LINES - 1], width - len(more) - 1,
                                                                  placeholder="") + " " + more]
        self.update("\n".join(lines))


class ConfigForm(VerticalScroll):
    """Every setting of a run. It validates as it is edited (``resolve``, then ``torch_check``
    once the engine has loaded) and shows each problem next to its field; ``config`` is the
    valid Config, or None while anything is invalid."""

    can_focus = False  # focus goes to the fields; the form scrolls to the focused one

    DEFAULT_CSS = """
    ConfigForm { scrollbar-size-vertical: 1; }
    ConfigForm > #form-problems { color: $text-error; height: auto; display: none; }
    ConfigForm > #form-problems.-shown { display: block; }
    ConfigForm > #field-help {
        dock: bottom; height: auto; padding: 0 1; background: $boost; color: $text-muted;
    }
    /* The help line is docked over the form's bottom: the last section scrolls up past it. */
    ConfigForm > .last { margin-bottom: 5; }
    """

    class Validated(Message):
        """The form was checked: ``config`` is None when ``problems`` is not empty."""

        def __init__(self, config: Config | None, problems: list[FieldError]) -> None:
            super().__init__()
            self.config = config
            self.problems = problems

    def __init__(self, config: Config, devices: list[tuple[str, str]] | None = None,
                 id: str | None = None) -> None:
        super().__init__(id=id)
        self.config: Config | None = config
        self.problems: list[FieldError] = []
        self.torch_check: Callable[[Config], list[FieldError]] | None = None
        self.loading = False
        self.last_row: FieldRow | None = None  # the field that had the focus last
        self.changing = asyncio.Lock()  # one change (a recipe, a new optimizer's fields) at a time
        options = {"device": devices or FALLBACK_DEVICES}
        training = section_params(TrainingConfig)
        self.choices = {name: ChoiceSection(name, title, getattr(config, name)) for name, title in (
            ("task", "Task"), ("loss", "Loss"), ("optimizer", "Optimizer"), ("scheduler", "Scheduler"))}
        self.model = FixedSection("model", "Model", config.model, section_params(ModelConfig), options)
        self.training = FixedSection("training", "Training", config.training,
                                     tuple(p for p in training if p.name not in DEVICE_FIELDS), options)
        self.device = FixedSection("training", "Device", config.training,
                                   tuple(p for p in training if p.name in DEVICE_FIELDS), options)
        self.lab = FixedSection("lab", "Lab: mistakes on purpose", config.lab, section_params(LabConfig),
                                options)
        self.logging = FixedSection("logging", "Logging", config.logging, section_params(LoggingConfig), options)
        self.logging.add_class("last")
        self.general = Static(id="form-problems")
        self.help = FieldHelp("tab / shift+tab move between fields; the focused field is explained here")

    def compose(self) -> ComposeResult:
        yield self.help
        yield self.general
        yield self.choices["task"]
        yield self.model
        yield self.choices["loss"]
        # Below the fold at 80x24: mounted just after the first frame, which then comes sooner.
        yield Lazy(self.choices["optimizer"])
        yield Lazy(self.choices["scheduler"])
        yield Lazy(self.training)
        yield Lazy(self.device)
        yield Lazy(self.lab)
        yield Lazy(self.logging)

    @property
    def sections(self) -> dict[str, Section]:
        """The sections by name (``task`` ... ``lab``), in screen order."""
        return {"task": self.choices["task"], "model": self.model, "loss": self.choices["loss"],
                "optimizer": self.choices["optimizer"], "scheduler": self.choices["scheduler"],
                "training": self.training, "device": self.device, "lab": self.lab, "logging": self.logging}

    @property
    def rows(self) -> list[FieldRow]:
        """Every field, in screen order (held by the sections, so fields of sections still
        waiting to be mounted count too)."""
        return [row for section in self.sections.values() for row in section.rows]

    def values(self, rows: list[FieldRow] | None = None) -> dict[str, dict[str, Any]]:
        """What the fields hold, as one config layer (typed text stays ``Text`` to be parsed),
        less the fields the task sets itself (hidden: a 2-D task's validation split)."""
        layer: dict[str, dict[str, Any]] = {}
        task = TASKS.get(self.choices["task"].current)
        set_by_task = task_sets(task) if task is not None else ()
        for row in self.rows if rows is None else rows:
            if row.key in set_by_task:
                continue
            section, _, name = row.key.partition(".")
            layer.setdefault(section, {})[name] = row.raw
        return layer

    def validate(self) -> Config | None:
        """Check every field, show the problems, and return the valid Config (or None)."""
        rows = self.rows
        task = TASKS.get(self.choices["task"].current)
        kind_row = next(row for row in self.model.rows if row.param.name == "kind")
        if task is not None:
            kind_row.set_options([(kind, kind) for kind in model_kinds(task)])
            self.model.show_only(model_fields(kind_row.raw, task))
            self._show_task_fields(task)
        try:
            config: Config | None = resolve(self.values(rows))
            problems: list[FieldError] = []
        except ConfigError as exc:
            config, problems = None, exc.problems
        if config is not None and self.torch_check is not None:
            problems = self.torch_check(config)
            config = None if problems else config
        self.config, self.problems = config, problems
        spec = config.task_spec if config is not None else task
        if spec is not None:  # with what the user's data decided, and its columns (csv)
            set_text(self.choices["task"].help, "\n".join(filter(None, [spec.description, spec.note,
                                                                        spec.details])))
        self.show_problems(problems, rows)
        self.post_message(self.Validated(config, problems))
        return config

    def _show_task_fields(self, task: TaskSpec) -> None:
        """Hide the training fields the task sets itself (a 2-D task's validation split) and,
        for an arena task (a point on a function), what it does not take: the loss, the model,
        the batch size, the validation split and most of the lab (its help says so)."""
        takes = task.traits.takes
        self.model.display, self.choices["loss"].display = takes("model.hidden"), takes("loss.name")
        for section in (self.training, self.lab):
            section.show_only(tuple(row.param.name for row in section.rows
                                    if row.key not in task_sets(task) and takes(row.key)))

    def show_problems(self, problems: list[FieldError], rows: list[FieldRow] | None = None) -> None:
        """Show each problem next to its field (problems of no field go above the form)."""
        by_key = {row.key: row for row in (self.rows if rows is None else rows)}
        messages: dict[str, list[str]] = {}
        loose = []
        for problem in problems:
            key = problem.field if problem.field in by_key else f"{problem.field}.name"
            if key in by_key:
                messages.setdefault(key, []).append(problem.message)
            else:
                loose.append(str(problem))
        for key, row in by_key.items():
            row.show_error("\n".join(messages.get(key, [])) or None)
        set_text(self.general, "\n".join(loose))
        self.general.set_class(bool(loose), "-shown")

    def on_mount(self) -> None:
        self.watch(self.screen, "focused", self._focus_moved, init=False)

    def on_descendant_focus(self) -> None:
        """Explain the focused field in the help line: the one focused now (tab pressed quickly
        across sections can bring the events of fields passed by after the last one's)."""
        focused = self.screen.focused
        row = next((node for node in focused.ancestors_with_self if isinstance(node, FieldRow)),
                   None) if focused is not None else None
        if row is not None:
            self.last_row = row
            self._explain(row)

    def _focus_moved(self, focused: Any) -> None:
        if focused is None:  # the focused field was removed (a choice's fields remounted): not lost
            self.call_after_refresh(self._refocus)

    def _refocus(self) -> None:
        """Give the focus back to the field that had it (the field of the same setting once its
        section was rebuilt, else its section's first) when nothing has it, so a focus is always
        seen and the help line names the field the keys go to."""
        if self.screen.focused is not None or not self.screen.is_current:
            return
        last = self.last_row
        rows = [row for row in self.rows if row.is_attached and row.display and row.parent.display]
        section = last.key.partition(".")[0] if last is not None else "task"
        row = (next((r for r in rows if last is not None and r.key == last.key), None)
               or next((r for r in rows if r.key.startswith(f"{section}.")), None)
               or next(iter(rows), None))
        if row is not None:
            row.editor.focus()

    def focus_section(self, name: str) -> None:
        """Move the focus to the first field of the section ``name`` (``task``, ``model``,
        ``loss``, ``optimizer``, ``scheduler``, ``training``, ``device``, ``lab``, ``logging``)."""
        section = self.sections[name]
        if not section.display:
            self.app.notify(f"The {section.border_title} section does not apply to the task "
                            f"{self.choices['task'].current}.", title="Section hidden")
            return
        row = next((row for row in section.rows if row.display), None)
        if row is not None:
            row.editor.focus()

    def _explain(self, row: FieldRow) -> None:
        """The help line for ``row``: its words, torch keyword and allowed values; for a mistake
        of the lab switched on, what goes wrong, what to watch and the fix."""
        if row is not None:
            section = row.key.partition(".")[0]
            choice = self.choices[section].current if section in self.choices else None
            text = help_line(row.key, row.param, choice)
            mistake = MISTAKES.get(row.param.name) if section == "lab" else None
            if mistake is not None and row.raw is True:  # a mistake switched on: say it all
                text = (f"{mistake.name}: {mistake.wrong}. Watch: {mistake.watch}. "
                        f"Fix: {mistake.fix}. f5 races it against the run without it.")
            self.help.show(text)

    def explain_whole(self) -> None:
        """Show the focused field's whole help in a dialog (the help line may show it in part);
        close that dialog when it is open."""
        if isinstance(self.app.screen, TextDialog):
            self.app.screen.dismiss(None)
            return
        row = self.last_row
        title = f"{label(row.key, row.param)} ({row.key})" if row is not None else "the form"
        self.app.push_screen(TextDialog(title, self.help.text, HELP_KEY))

    def set_value(self, key: str, value: Any) -> None:
        """Show ``value`` in the field ``key`` (``optimizer.lr``), as if typed, and check the form."""
        row = next(row for row in self.rows if row.key == key)
        row.set_value(value)
        self.validate()

    def first_invalid(self) -> FieldRow | None:
        """The first field showing a problem."""
        return next((row for row in self.rows if row.has_class("-invalid")), None)

    async def load(self, config: Config, validate: bool = True) -> None:
        """Show every value of ``config`` (and check it unless told not to)."""
        self.loading = True
        try:
            for name, section in self.choices.items():
                choice = getattr(config, name)
                await section.show(choice.name, choice.params)
            for section, values in ((self.model, config.model), (self.training, config.training),
                                    (self.device, config.training), (self.lab, config.lab),
                                    (self.logging, config.logging)):
                for row in section.rows:
                    row.set_value(getattr(values, row.param.name))
        finally:
            self.loading = False
        if validate:
            self.validate()

    def set_devices(self, devices: list[tuple[str, str]]) -> None:
        """Offer these (label, name) devices; a device named by a config stays selected."""
        for row in self.device.rows:
            if row.param.name == "device":
                row.set_options(devices)

    async def on_field_row_changed(self, event: FieldRow.Changed) -> None:
        if self.loading:
            return
        if event.row.key.startswith("lab."):
            self._explain(event.row)
        async with self.changing:
            await self._follow_choices()
            self.validate()

    async def _follow_choices(self) -> None:
        """Show the fields of every choice whose field moved on: a task's recipe, an optimizer's
        (loss's, scheduler's) own parameters."""
        for section, choice in self.choices.items():
            chosen = choice.choice_row.raw
            if chosen == choice.current:
                continue
            if section == "task":
                await self.load(self._task_config(chosen), validate=False)
            else:
                await choice.switch(chosen)

    async def settle(self) -> Config | None:
        """The config the form shows, built in one step once every change on its way from the
        fields (a choice just made, its recipe being mounted) has been applied; None when invalid.
        Await it from a worker or task, not from a message handler (it waits for the app)."""
        for _ in range(SETTLE_ROUNDS):
            # Keys reach a field through the app and the screen (which run its bindings).
            pumps = [self.app, *self.screen.walk_children(with_self=True)]
            await _drain(pumps)
            if not self.changing.locked() and not any(pump.message_queue_size for pump in pumps):
                break
        async with self.changing:
            await self._follow_choices()
            return self.validate()

    def _task_config(self, task: str) -> Config:
        """The config for a newly chosen task: its recipe (model, loss, optimizer, epochs, batch
        size) under the settings the form holds for everything else."""
        layer = self.values()
        recipe = dict(TASKS[task].recipe)
        leaving = TASKS.get(self.choices["task"].current)
        if leaving is not None and leaving.traits.point:  # what the arena's recipe set goes too
            recipe.update(leaving.recipe)
        kept: dict[str, dict[str, Any]] = {"task": {"name": task}}
        for section in ("model", "scheduler", "training", "lab", "logging"):
            kept[section] = {k: v for k, v in layer.get(section, {}).items()
                             if f"{section}.{k}" not in recipe and f"{section}.{k}" not in task_sets(TASKS[task])}
        try:
            return resolve(kept)
        except ConfigError:
            return draft({"task": task})[0]  # the task's recipe (a task reading your data: unchecked)
