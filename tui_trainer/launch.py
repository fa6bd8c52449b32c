"""What torchrun's environment says about this process (torch-free, for the CLI and the app)."""

from __future__ import annotations

import os


def world_size() -> int:
    """The number of processes torchrun started (1 without torchrun)."""
    return int(os.environ.get("WORLD_SIZE", "1") or 1)


def is_rank_zero() -> bool:
    """Whether this process is rank 0 (the one that writes, prints and saves)."""
    return int(os.environ.get("RANK", "0") or 0) == 0
