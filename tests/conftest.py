"""Shared fixtures: an isolated data folder, a runs folder, and tiny MNIST-format IDX files."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def isolated_user_data(tmp_path, monkeypatch):
    """Keep every test away from the real user data folder."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))


@pytest.fixture
def runs_dir(tmp_path) -> Path:
    """A folder for run folders."""
    return tmp_path / "runs"


def write_idx(folder: Path, prefix: str, count: int, seed: int) -> None:
    """Write ``{prefix}-images-idx3-ubyte`` and ``{prefix}-labels-idx1-ubyte``: each image of
    class k has a bright 4x4 block at a class-specific place, plus noise, so it is learnable."""
    import random

    rng = random.Random(seed)
    labels = [i % 10 for i in range(count)]
    pixels = bytearray()
    for label in labels:
        image = [[rng.randrange(0, 40) for _ in range(28)] for _ in range(28)]
        row, col = 2 + 6 * (label // 4), 2 + 6 * (label % 4)
        for r in range(row, row + 4):
            for c in range(col, col + 4):
                image[r][c] = 255
        pixels.extend(v for line in image for v in line)
    (folder / f"{prefix}-images-idx3-ubyte").write_bytes(struct.pack(">IIII", 2051, count, 28, 28) + pixels)
    (folder / f"{prefix}-labels-idx1-ubyte").write_bytes(struct.pack(">II", 2049, count) + bytes(labels))


def make_vision_dir(root: Path, name: str = "MNIST", train: int = 200, test: int = 50) -> Path:
    """A data folder holding ``{name}/raw`` with tiny train and t10k IDX files; returns ``root``."""
    raw = root / name / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    write_idx(raw, "train", train, seed=1)
    write_idx(raw, "t10k", test, seed=2)
    return root


@pytest.fixture
def mnist_dir(tmp_path) -> Path:
    """A data folder with tiny MNIST IDX files (200 training images)."""
    return make_vision_dir(tmp_path / "data")
