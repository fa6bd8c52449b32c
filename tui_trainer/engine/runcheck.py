"""Checks that a run folder can be continued from its ``model.pt`` before anything in it is
written: the checkpoint belongs to the folder (same config, a history that reaches it), and
every file holds what tui-trainer wrote there. A damaged or foreign folder is refused with the
path and the problem, and left as it is."""

from __future__ import annotations

import dataclasses
import json
import tomllib
import warnings
from typing import TYPE_CHECKING, Any

import torch

from tui_trainer.config import resolve, to_dict
from tui_trainer.engine.components import build_optimizer
from tui_trainer.engine.events import EpochMetrics
from tui_trainer.engine.models import saved_model
from tui_trainer.engine.rundir import CONFIG_FILE, HISTORY_FILE, STEPS_FILE
from tui_trainer.engine.state import EpochPart
from tui_trainer.errors import ConfigError, UserFacingError, first_line

if TYPE_CHECKING:
    from pathlib import Path

    from tui_trainer.engine.checkpoint import Checkpoint

#: What each entry of a checkpoint holds (a dict entry: what each of its entries holds).
STATE_TYPES: dict[str, Any] = {
    "config": (dict,), "model": (dict,), "optimizer": (dict,), "scheduler": (dict, type(None)),
    "run": {"epochs_run": (int,), "global_step": (int,), "unfinished": (dict, type(None)),
            "train_seconds": (float, int), "samples_seen": (int,),
            "first_loss": (float, type(None))},  # None in checkpoints older than it
    "rules": (dict,),
    "rng": {"torch": (torch.Tensor,), "cuda": (torch.Tensor, type(None)), "shuffle": (torch.Tensor,)},
}
EPOCH_KEYS = frozenset(f.name for f in dataclasses.fields(EpochMetrics))
#: Keys every epoch row has (later versions added optional ones, absent from older folders).
EPOCH_REQUIRED = frozenset(f.name for f in dataclasses.fields(EpochMetrics)
                           if f.default is dataclasses.MISSING)
STEP_KEYS = frozenset(("step", "epoch", "train_loss"))


def check_run_folder(checkpoint: Checkpoint, changeable: tuple[str, ...]) -> None:
    """Raise UserFacingError unless ``checkpoint`` can continue the run in its folder (fields in
    ``changeable`` may differ between the folder's config and the checkpoint's)."""
    from tui_trainer.engine.checkpoint import check_code_unchanged, config_differences

    path, state = checkpoint.path, checkpoint.state
    _check_types(path, state, STATE_TYPES)
    part_keys = {f.name for f in dataclasses.fields(EpochPart)}
    run = state["run"]
    if run["unfinished"] is not None and set(run["unfinished"]) != part_keys:
        raise UserFacingError(f"{path} is damaged: where the run stopped mid-epoch is not recorded "
                              "as tui-trainer writes it")
    try:
        config = resolve(state["config"])
    except ConfigError as exc:
        raise UserFacingError(f"{path} holds a config tui-trainer refuses: {exc.problems[0]}") from None
    check_code_unchanged(path, state, config)  # before the model's file is imported
    _check_weights(path, state, config)
    folder = path.parent
    config_file = folder / CONFIG_FILE
    try:
        folder_config = tomllib.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        raise UserFacingError(f"{config_file} is missing or damaged ({first_line(exc)}); the run "
                              "cannot be continued") from None
    try:  # both resolved: a field added since the run was saved holds its default in each
        folder_config = to_dict(resolve(folder_config))
    except ConfigError as exc:
        raise UserFacingError(f"{config_file} holds a config tui-trainer refuses: {exc.problems[0]}") from None
    differences = config_differences(to_dict(config), folder_config, changeable)
    if differences:
        raise UserFacingError(f"{path} does not belong to the run in {folder} (it was saved by "
                              f"another run): {'; '.join(differences[:3])}")
    history = _rows(folder / HISTORY_FILE, EPOCH_KEYS, EPOCH_REQUIRED)
    epochs = [row["epoch"] for row in history]
    if epochs[:run["epochs_run"]] != list(range(1, run["epochs_run"] + 1)):
        raise UserFacingError(f"{path} does not belong to the run in {folder}: it was saved after "
                              f"epoch {run['epochs_run']}, but {folder / HISTORY_FILE} has the epochs "
                              f"{_span(epochs)}")
    _rows(folder / STEPS_FILE, STEP_KEYS, STEP_KEYS)


def _check_types(path: Path, state: dict[str, Any], types: dict[str, Any], where: str = "") -> None:
    for key, expected in types.items():
        value = state.get(key)
        if isinstance(expected, dict):
            if not isinstance(value, dict):
                raise UserFacingError(f"{path} is damaged: its {where + key!r} entry is missing or not "
                                      "what tui-trainer writes")
            _check_types(path, value, expected, f"{where}{key}.")
        elif not isinstance(value, expected) or isinstance(value, bool):
            raise UserFacingError(f"{path} is damaged: its {where + key!r} entry is missing or not what "
                                  "tui-trainer writes")


def _check_weights(path: Path, state: dict[str, Any], config) -> None:
    """The weights and optimizer state fit the model the config builds (``quiet_model``: for the
    catalog's models on the meta device, no memory, no random numbers)."""
    try:
        model = saved_model(config, state)
        with warnings.catch_warnings():  # "copying into a meta parameter is a no-op": the point
            warnings.simplefilter("ignore", UserWarning)
            model.load_state_dict(state["model"])  # checks keys and shapes, copies nothing
        build_optimizer(config.optimizer, list(model.parameters())).load_state_dict(state["optimizer"])
    except Exception as exc:  # missing keys, wrong shapes, a foreign optimizer state
        detail = " ".join(str(exc).split())  # torch lists the keys and shapes over several lines
        raise UserFacingError(f"{path} does not fit the model of its config: {detail[:300]}") from None


def _rows(path: Path, keys: frozenset[str], required: frozenset[str]) -> list[dict[str, Any]]:
    """Every line of a run's JSON-lines file, each an object with the ``required`` keys and no
    others than ``keys``; only the last line may be torn (a killed run). Raises
    UserFacingError naming the file and line."""
    try:
        lines = path.read_bytes().splitlines() if path.exists() else []
    except OSError as exc:
        raise UserFacingError(f"{path} cannot be read: {exc.strerror or exc}") from None
    rows = []
    for number, line in enumerate(lines, 1):
        try:
            row = json.loads(line.decode("utf-8", errors="replace"))  # as the run's reader does
        except ValueError:
            if number == len(lines):
                break  # a torn last line of a killed run
            raise UserFacingError(f"{path}, line {number}: not a JSON line tui-trainer wrote; the run "
                                  "cannot be continued") from None
        if not isinstance(row, dict) or not required <= set(row) <= keys or not all(
                isinstance(row.get(k), int) for k in ("epoch", "step") if k in keys):
            raise UserFacingError(f"{path}, line {number}: not a row tui-trainer wrote (expected the "
                                  f"keys {', '.join(sorted(keys))}); the run cannot be continued")
        rows.append(row)
    return rows


def _span(epochs: list[int]) -> str:
    if not epochs:
        return "none"
    return f"{epochs[0]} to {epochs[-1]}" if epochs == list(range(epochs[0], epochs[-1] + 1)) else str(epochs)
