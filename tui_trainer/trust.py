"""Code a config file brings: a loss file or a model file (``path/to/file.py:ClassName``) is
Python that runs when the loss or the model is built. Named on the command line or typed into
the app's form, it runs: the person named it. Named by a config file, it runs without asking only
when it lies in that file's folder (or below) and belongs to the person; otherwise the command
line refuses it unless ``--trust-code`` and the app asks first. Commands that train nothing never
run a loss file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from tui_trainer.catalog.losses import user_class_parts

if TYPE_CHECKING:
    from tui_trainer.config import Config

#: The command-line flag that lets a config file's foreign loss file run.
TRUST_FLAG = "--trust-code"


def config_code(config: Config) -> list[str]:
    """The files of code a config names: its loss file, its model file (``model.kind = "file"``)."""
    names = [config.loss.name] if user_class_parts(config.loss.name) else []
    return names + ([config.model.path] if config.model.kind == "file" else [])


def foreign_code(names: Iterable[object], config_file: Path, run_folder: bool = False) -> str | None:
    """Why a file of code ``config_file`` names (``path/to/file.py:ClassName``) may not run
    without asking (it lies outside that file's folder, or belongs to another user), naming both
    files and what to do; None when each may run (names that are no such file are left out).
    A ``run_folder``'s config (``--resume``) names the code its run trained with, outside the
    folder by nature (and checked unchanged since): only another user's file is refused."""
    folder = Path(config_file).expanduser().resolve().parent
    for name in names:
        parts = user_class_parts(name) if isinstance(name, str) else None
        if parts is None:
            continue
        file = Path(parts[0]).expanduser()
        try:
            inside = file.resolve().is_relative_to(folder)
            owner = file.stat().st_uid if hasattr(os, "getuid") else None
        except (OSError, RuntimeError):  # no such file (refused later, naming it), a link loop
            continue
        mine = owner in (None, os.getuid())
        if (inside or run_folder) and mine:
            continue
        where = f"lies outside {folder}" if mine else f"belongs to another user (uid {owner})"
        return (f"{config_file} names the file {file}, which {where}; it is Python code that runs "
                f"when the run is built. Read it first, then give {TRUST_FLAG} to run it")
    return None
