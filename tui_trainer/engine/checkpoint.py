"""Checkpoints (``model.pt`` in a run folder): the model's weights with the config, the optimizer,
scheduler and random-number state, and where the run stood, so that a run can be loaded for
predictions or continued exactly where it stopped.

A checkpoint holds plain data and tensors only; it is read with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
import torch.nn as nn

from tui_trainer.catalog.schedulers import SCHEDULERS
from tui_trainer.config import Config, epoch_limit, resolve, to_dict, user_code_files
from tui_trainer.engine.components import file_digest
from tui_trainer.engine.events import EpochMetrics
from tui_trainer.engine.models import saved_model
from tui_trainer.engine.rundir import (
    CHECKPOINT_FILE, CONFIG_FILE, HISTORY_FILE, STEPS_FILE, read_jsonl, write_jsonl,
)
from tui_trainer.errors import UserFacingError, first_line
from tui_trainer.launch import is_rank_zero
from tui_trainer.schema import show_value

if TYPE_CHECKING:
    from tui_trainer.engine.loop import Trainer

FORMAT = "tui-trainer checkpoint 2"
#: The format before run state had its own state_dict (read and upgraded).
FORMAT_1 = "tui-trainer checkpoint 1"
#: Fields a resumed run may change: how long it goes on, when it stops, and where it runs.
RESUMABLE_FIELDS = ("training.epochs", "training.early_stopping_patience",
                    "training.early_stopping_min_delta", "training.target_loss", "training.device",
                    "training.threads", "training.backend", "logging.tensorboard")


def save_checkpoint(trainer: Trainer, path: str | Path | None = None) -> Path:
    """Write a finished run's checkpoint (default: ``model.pt`` in its run folder): its config and
    ``trainer.state_dict()``. Returns the path.

    Call it after ``trainer.run()`` returned. A run that diverged or failed is refused: its
    weights are not worth keeping (not finite, or half-updated).
    """
    if trainer.reason in ("diverged", "failed"):
        raise UserFacingError(f"model not saved: the run {trainer.reason} ({trainer.message})")
    if trainer.result is None:
        raise UserFacingError("model not saved: the run has not trained yet")
    if path is None and trainer.run_dir is None:
        raise UserFacingError("model not saved: the run has no run folder; give a path")
    path = Path(path).expanduser() if path is not None else trainer.run_dir / CHECKPOINT_FILE
    state = {"format": FORMAT, "config": to_dict(trainer.config), **trainer.state_dict(),
             "data": {"features": trainer.data.features, "classes": trainer.data.classes},
             "code": code_digests(trainer.config)}
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    torch.save(state, partial)
    partial.replace(path)  # a crash while writing never leaves a torn model.pt
    return path


def code_digests(config: Config) -> dict[str, dict[str, str]]:
    """The files of your own code a run uses (``config.user_code_files``), each as its field:
    ``{"file": absolute path, "sha256": digest of its bytes}``."""
    return {field: {"file": str(file.resolve()), "sha256": file_digest(file)}
            for field, file, _ in user_code_files(config)}


def check_code_unchanged(path: Path, state: dict[str, Any], config: Config) -> None:
    """Raise UserFacingError, naming the file, when a file of your own code the checkpoint's run
    used (its model or loss class) is missing or is not what it was when the checkpoint was
    saved: its weights belong to that code. Checked before the file is imported."""
    if "code" not in state:  # saved before checkpoints recorded code (which had no model files)
        return
    recorded = state["code"] if isinstance(state["code"], dict) else {}
    for field, file, _ in user_code_files(config):
        entry = recorded.get(field)
        if not isinstance(entry, dict) or not isinstance(entry.get("sha256"), str):
            raise UserFacingError(f"{path} is damaged: it records no digest of {field} {file}, so its "
                                  "weights cannot be matched to that file")
        try:
            digest = file_digest(file)
        except OSError as exc:
            raise UserFacingError(f"{field}: {file} cannot be read ({exc.strerror or exc}); the run in "
                                  f"{path.parent} was trained with it") from None
        if digest != entry["sha256"]:
            raise UserFacingError(f"{field}: {file} has changed since {path} was saved (sha256 "
                                  f"{entry['sha256'][:12]}... then, {digest[:12]}... now); its weights belong "
                                  "to the code the run trained with: put that file back, or train a new run")


def _upgrade(state: dict[str, Any]) -> dict[str, Any]:
    """A format-1 checkpoint in today's layout (a missing entry stays missing, for the run
    folder check to name)."""
    get = state.get
    return {
        "format": FORMAT, "config": get("config"), "model": get("model"),
        "optimizer": get("optimizer"), "scheduler": get("scheduler"),
        "run": {"epochs_run": get("epoch"), "global_step": get("global_step"),
                "unfinished": get("unfinished"), "train_seconds": get("train_seconds"),
                "samples_seen": get("samples_seen")},
        "rules": {"early_stopping": {"best": get("best"), "stale_epochs": get("stale_epochs")}},
        "rng": {"torch": get("torch_rng"), "cuda": get("cuda_rng"), "shuffle": get("shuffle_rng")},
    }


@dataclass
class Checkpoint:
    """A checkpoint read back: its file, the config it was saved with (as a dict), and its state."""

    path: Path
    state: dict[str, Any]

    @property
    def config_dict(self) -> dict[str, Any]:
        """The saved config, as ``to_dict`` gives it."""
        return self.state["config"]

    @property
    def config(self) -> Config:
        """The saved config, resolved."""
        return resolve(self.config_dict)

    @property
    def epoch(self) -> int:
        """Epochs the run had completed."""
        return self.state["run"]["epochs_run"]

    @property
    def where(self) -> str:
        """Where the run stood, in words (``after epoch 3``, ``in epoch 4, before step 7``)."""
        part = self.state["run"]["unfinished"]
        if part is None:
            return f"after epoch {self.epoch}"
        return f"in epoch {part['epoch']}, before step {part['next_step']}"

    def check_matches(self, config: Config, changeable: tuple[str, ...] = ()) -> None:
        """Raise UserFacingError naming each field where ``config`` differs from the saved
        config (fields in ``changeable`` may differ)."""
        # The saved config resolved: a field added since it was saved holds its default.
        differences = config_differences(to_dict(self.config), to_dict(config), changeable)
        if differences:
            allowed = f" (only {', '.join(changeable)} may change)" if changeable else ""
            raise UserFacingError(f"{self.path} was saved with another config{allowed}: "
                                  + "; ".join(differences))

    def check_resumable(self, config: Config) -> None:
        """Raise UserFacingError when ``config`` cannot continue this checkpoint's run."""
        if not (self.path.parent / CONFIG_FILE).is_file():
            raise UserFacingError(f"{self.path} is not in a run folder (no {CONFIG_FILE} beside it); "
                                  "a run is continued in the folder it was saved in")
        self.check_matches(config, RESUMABLE_FIELDS)
        epochs = config.training.epochs
        limit = epoch_limit(epochs)  # None: the resumed run goes on until stopped
        part = self.state["run"]["unfinished"]
        if limit is None:
            pass
        elif part is None and limit <= self.epoch:
            raise UserFacingError(f"the run in {self.path.parent} has already trained {self.epoch} "
                                  f"epochs; give --epochs N with N > {self.epoch} to train it further")
        elif part is not None and limit < part["epoch"]:
            raise UserFacingError(f"the run in {self.path.parent} stopped in epoch {part['epoch']}; "
                                  f"training.epochs must be at least {part['epoch']}")
        saved_epochs = self.config_dict["training"]["epochs"]
        scheduler = config.scheduler
        spec = SCHEDULERS[scheduler.name]
        if spec.spans_run(scheduler.params) and epochs != saved_epochs:
            raise UserFacingError(
                f"scheduler {scheduler.name} spans the run's {saved_epochs} epochs; a resumed run "
                f"cannot change training.epochs to {epochs}"
                + (f" (set scheduler.{spec.run_length} to a number to decouple them)"
                   if spec.run_length in scheduler.params else ""))

    def restore(self, trainer: Trainer) -> Path:
        """Put a set-up trainer where the run stood (``trainer.load_state_dict``) and its history.
        The run folder's history keeps only what the checkpoint covers (a run killed after its
        last save trained epochs no weights were kept of). Returns the run folder."""
        trainer.load_state_dict(self.state)
        epochs_run, global_step = trainer.state.epochs_run, trainer.state.global_step
        run_dir = self.path.parent
        history = [row for row in read_jsonl(run_dir / HISTORY_FILE) if row["epoch"] <= epochs_run]
        steps = [row for row in read_jsonl(run_dir / STEPS_FILE) if row["step"] <= global_step]
        if is_rank_zero():  # under torchrun, rank 0 alone writes the run folder
            write_jsonl(run_dir / HISTORY_FILE, history)
            write_jsonl(run_dir / STEPS_FILE, steps)
        trainer.history = [EpochMetrics(**row) for row in history]
        trainer.steps = [(row["step"], row["train_loss"]) for row in steps]
        return run_dir


def read_checkpoint(path: str | Path) -> Checkpoint:
    """Read a checkpoint file (or a run folder's ``model.pt``) with ``weights_only=True``;
    raises UserFacingError when it is missing or not a tui-trainer checkpoint."""
    path = Path(path).expanduser()
    if path.is_dir():
        path = path / CHECKPOINT_FILE
        if not path.is_file():
            raise UserFacingError(f"{path.parent} has no {CHECKPOINT_FILE}; save one with "
                                  "`tui-trainer train --save-model` (or the app's save-model action)")
    try:
        with warnings.catch_warnings():  # torch warns of a plain pickle before refusing it: one message
            warnings.simplefilter("ignore", UserWarning)
            state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise UserFacingError(f"checkpoint {str(path)!r} does not exist") from None
    except Exception as exc:  # a torn or foreign file fails in many ways (pickle, zip, key errors)
        raise UserFacingError(f"{path} is not a readable checkpoint (torch.load: "
                              f"{type(exc).__name__}: {first_line(exc)})") from None
    if isinstance(state, dict) and state.get("format") == FORMAT_1:
        state = _upgrade(state)
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise UserFacingError(f"{path} is not a tui-trainer checkpoint ({FORMAT})")
    return Checkpoint(path, state)


def load_model(path: str | Path, config: Config | None = None) -> tuple[nn.Module, Config]:
    """The trained model of a checkpoint, in eval mode on the CPU, with its config. With
    ``config``, a checkpoint saved with another config is refused (UserFacingError); so is one
    whose model or loss file of your own has changed since."""
    checkpoint = read_checkpoint(path)
    if config is not None:
        checkpoint.check_matches(config)
    saved = checkpoint.config
    check_code_unchanged(checkpoint.path, checkpoint.state, saved)
    model = saved_model(saved, checkpoint.state)  # no throwaway initialisation or random numbers
    model.load_state_dict(checkpoint.state["model"], assign=True)
    return model.eval(), saved


def config_differences(saved: dict[str, Any], current: dict[str, Any],
                       changeable: tuple[str, ...] = ()) -> list[str]:
    """``field is X in the checkpoint, Y here`` for each dotted field that differs."""
    old, new = _flatten(saved), _flatten(current)
    return [f"{key} is {_show(old.get(key))} in the checkpoint, {_show(new.get(key))} here"
            for key in sorted(old.keys() | new.keys())
            if key not in changeable and old.get(key) != new.get(key)]


def _flatten(config: dict[str, Any]) -> dict[str, Any]:
    """Dotted fields of a config dict; the list of mid-run changes is one field, ``changes``."""
    flat: dict[str, Any] = {}
    for section, values in config.items():
        if isinstance(values, dict):
            flat.update((f"{section}.{key}", value) for key, value in values.items())
        else:
            flat[section] = values
    return flat


def _show(value: Any) -> str:
    return "unset" if value is None else show_value(value)
