"""What a process keeps for its whole life (torch, the engine, loaded once) is left out of Python's
garbage collections."""

from __future__ import annotations

import gc


def keep_loaded_out_of_collections() -> None:
    """Move every object alive now into the collector's permanent generation, once per process.

    A full collection scans every tracked object; with torch loaded that is ~0.3 s holding the GIL,
    in the middle of a training step or a key press in the app. Objects made later are collected
    as usual, and frozen ones are still freed when their last reference goes."""
    if gc.get_freeze_count() == 0:
        gc.freeze()


def hold_collections() -> None:
    """No garbage collections while the app starts up (until ``resume_collections``): it makes
    a few hundred thousand objects that live as long as the process, and the collections they
    set off were about a tenth of its time to the first frame."""
    gc.disable()


def resume_collections() -> None:
    """Collections as usual again (after ``hold_collections``; nothing if none was held)."""
    gc.enable()
