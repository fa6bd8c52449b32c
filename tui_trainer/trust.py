"""Code a config file brings: a loss file (``path/to/file.py:ClassName``) is Python that runs
when the loss is built. Named on the command line or typed into the app's form, it runs: the
person named it. Named by a config file, it runs without asking only when it lies in that file's
folder (or below) and belongs to the person; otherwise the command line refuses it unless
``--trust-code`` and the app asks first. Commands that train nothing never run it."""

from __future__ import annotations

import os
from pathlib import Path

from tui_trainer.catalog.losses import user_loss_parts

#: The command-line flag that lets a config file's foreign loss file run.
TRUST_FLAG = "--trust-code"


def foreign_code(loss_name: object, config_file: Path) -> str | None:
    """Why the loss file ``config_file`` names may not run without asking (it lies outside that
    file's folder, or belongs to another user), naming both files and what to do; None when it
    may run (or names no loss file)."""
    parts = user_loss_parts(loss_name) if isinstance(loss_name, str) else None
    if parts is None:
        return None
    file = Path(parts[0]).expanduser()
    folder = Path(config_file).expanduser().resolve().parent
    try:
        inside = file.resolve().is_relative_to(folder)
        owner = file.stat().st_uid if hasattr(os, "getuid") else None
    except (OSError, RuntimeError):  # no such file (refused later, naming it), a link loop
        return None
    if inside and owner in (None, os.getuid()):
        return None
    where = f"belongs to another user (uid {owner})" if inside else f"lies outside {folder}"
    return (f"{config_file} names the loss file {file}, which {where}; a loss file is Python code "
            f"that runs when the loss is built. Read it first, then give {TRUST_FLAG} to run it")
