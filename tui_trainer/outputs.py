"""Files a command writes on request (``--save-config``, ``export-script -o``, ``export-history
-o``): never over an existing file unless ``--force``, never over a run's own files, never into
a folder, a device or an empty name; written aside and moved into place, so a full disk leaves
no torn file."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from tui_trainer.errors import UserFacingError
from tui_trainer.paths import checked_path


def output_path(path: str | Path, force: bool, what: str) -> Path:
    """The path to write ``what`` (e.g. ``--save-config``) to, or UserFacingError saying why not."""
    from tui_trainer.engine.rundir import CONFIG_FILE, RUN_FILES  # rundir writes with write_text

    if not str(path).strip() or str(path) == ".":
        raise UserFacingError(f"{what}: no file name given")
    if str(path) == "-":
        raise UserFacingError(f"{what}: '-' (standard output) is not taken here; give a file name")
    checked_path(path, what)
    path = Path(path).expanduser()
    if path.is_dir():
        raise UserFacingError(f"{what}: {path} is a folder; give a file name inside it")
    if path.name in RUN_FILES and (path.parent / CONFIG_FILE).is_file():
        raise UserFacingError(f"{what}: {path} is one of the run's own files; it is never "
                              "overwritten (choose another name)")
    if path.exists() or path.is_symlink():
        if not path.is_file():
            raise UserFacingError(f"{what}: {path} exists and is not a regular file")
        if not force:
            raise UserFacingError(f"{path} exists; choose another file ({what}) or overwrite it (--force)")
    return path


def fresh_path(path: Path) -> Path:
    """``path`` when nothing is there, else the first free ``stem-1.suffix``, ``stem-2.suffix``..."""
    candidate, number = path, 0
    while candidate.exists() or candidate.is_symlink():
        number += 1
        candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
    return candidate


def write_text(path: Path, text: str, what: str) -> Path:
    """Write ``text`` to ``path`` (through ``path.part``); OSError becomes UserFacingError naming
    the path and the reason (no space left, read-only, ...)."""
    partial = path.with_name(path.name + ".part")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with partial.open("w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        partial.replace(path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        raise UserFacingError(f"{what}: cannot write {path}: {exc.strerror or exc}") from None
    return path
