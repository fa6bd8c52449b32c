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


def write_table_csv(path: Path, rows: int = 300, seed: int = 0) -> Path:
    """A CSV with two numeric columns, a text column of three colours and a text label of three
    species that depends on x1 and the colour (x2 is noise)."""
    import random

    rng = random.Random(seed)
    lines = ["x1,x2,color,species"]
    for _ in range(rows):
        x1, x2 = rng.gauss(0, 1), rng.gauss(0, 1)
        color = rng.choice(["red", "green", "blue"])
        score = x1 + {"red": 1.5, "green": 0.0, "blue": -1.5}[color]
        species = "alpha" if score > 0.7 else "beta" if score > -0.7 else "gamma"
        lines.append(f"{x1:.4f},{x2:.4f},{color},{species}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_regression_csv(path: Path, rows: int = 300, seed: int = 0) -> Path:
    """A semicolon-separated table: y = 3a - 2b + a c + noise."""
    import random

    rng = random.Random(seed)
    lines = ["a;b;c;y"]
    for _ in range(rows):
        a, b, c = (rng.uniform(-2, 2) for _ in range(3))
        lines.append(f"{a:.4f};{b:.4f};{c:.4f};{3 * a - 2 * b + a * c + rng.gauss(0, 0.1):.4f}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def make_shapes_dir(root: Path, per_class: int = 40, side: int = 16, seed: int = 0) -> Path:
    """A folder of three class subfolders (circle, square, triangle) of white shapes of random
    size and place on black, as PNG files; returns ``root``."""
    import random

    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    for shape in ("circle", "square", "triangle"):
        folder = root / shape
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            image = Image.new("L", (side, side), 0)
            draw = ImageDraw.Draw(image)
            r = rng.randint(side // 4, side // 2 - 1)
            x, y = rng.randint(1, side - 2 * r - 1), rng.randint(1, side - 2 * r - 1)
            if shape == "circle":
                draw.ellipse([x, y, x + 2 * r, y + 2 * r], fill=255)
            elif shape == "square":
                draw.rectangle([x, y, x + 2 * r, y + 2 * r], fill=255)
            else:
                draw.polygon([(x + r, y), (x, y + 2 * r), (x + 2 * r, y + 2 * r)], fill=255)
            image.save(folder / f"{i}.png")
    return root


@pytest.fixture
def table_csv(tmp_path) -> Path:
    """A classification CSV (numeric, categorical and text-label columns)."""
    return write_table_csv(tmp_path / "table.csv")


@pytest.fixture
def shapes_dir(tmp_path) -> Path:
    """A folder of three classes of shape images."""
    return make_shapes_dir(tmp_path / "shapes")
