"""Checks of MNIST-format IDX files before torchvision reads them: magic number, dimensions,
lengths, image and label counts and the label range, each refusal naming the file and what is
wrong. Files given only as ``.gz`` are unpacked beside them (offline), as torchvision's own
download does."""

from __future__ import annotations

import contextlib
import gzip
import struct
import zlib
from pathlib import Path

from tui_trainer.errors import UserFacingError

#: (magic number, dimensions) of an IDX file of unsigned bytes: images (N, 28, 28), labels (N,).
IMAGES = (0x00000803, 3)
LABELS = (0x00000801, 1)
IMAGE_SIDE = 28


def check_vision_folder(folder: Path, prefixes: tuple[str, ...] = ("train", "t10k"),
                        classes: int = 10) -> None:
    """Check (and unpack from ``.gz`` where needed) the image and label files of each prefix in
    ``folder``; raises UserFacingError naming the file and the problem. Missing files are left to
    the caller (torchvision's download, or its message)."""
    for prefix in prefixes:
        images_file, labels_file = folder / f"{prefix}-images-idx3-ubyte", folder / f"{prefix}-labels-idx1-ubyte"
        images, labels = _contents(images_file), _contents(labels_file)
        if images is None or labels is None:
            continue
        count = _check_header(images_file, *images, IMAGES, "images")
        label_count = _check_header(labels_file, *labels, LABELS, "labels")
        if count != label_count:
            raise UserFacingError(f"{images_file} holds {count} images but {labels_file.name} holds "
                                  f"{label_count} labels; they must match one to one")
        bad = next(((i, v) for i, v in enumerate(labels[0][8:]) if v >= classes), None)
        if bad is not None:
            raise UserFacingError(f"{labels_file}: label {bad[1]} (item {bad[0]}) is outside 0-{classes - 1}")
        for path, (data, _) in ((images_file, images), (labels_file, labels)):
            if not path.exists():
                _unpack(path, data)


def _contents(path: Path) -> tuple[bytes, int] | None:
    """(bytes, length) of the file (of an images file only its header: the pixels are not
    checked), or of its ``.gz`` sibling unpacked; None when neither exists."""
    packed = path.with_name(path.name + ".gz")
    try:
        if path.exists():
            with path.open("rb") as handle:
                return handle.read(16 if "images" in path.name else -1), path.stat().st_size
        if packed.exists():
            with gzip.open(packed, "rb") as handle:
                data = handle.read()
            return data, len(data)
    except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        source = path if path.exists() else packed
        raise UserFacingError(f"{source} cannot be read: {exc}") from None
    return None


def _check_header(path: Path, data: bytes, length: int, kind: tuple[int, int], noun: str) -> int:
    magic, dims = kind
    header = 4 + 4 * dims
    if length < header:
        raise UserFacingError(f"{path} is {length} bytes long; an IDX {noun} file starts with a "
                              f"{header}-byte header")
    found, *sizes = struct.unpack(f">I{dims}I", data[:header])
    if found != magic:
        raise UserFacingError(f"{path} is not an IDX {noun} file: it starts with 0x{found:08x}, "
                              f"not 0x{magic:08x}")
    if dims == 3 and sizes[1:] != [IMAGE_SIDE, IMAGE_SIDE]:
        raise UserFacingError(f"{path} holds {sizes[1]}x{sizes[2]} images; MNIST images are "
                              f"{IMAGE_SIDE}x{IMAGE_SIDE}")
    expected = header + sizes[0] * (IMAGE_SIDE * IMAGE_SIDE if dims == 3 else 1)
    if length != expected:
        raise UserFacingError(f"{path} is {length} bytes long, but its header announces "
                              f"{sizes[0]} {noun} ({expected} bytes): the file is "
                              f"{'truncated' if length < expected else 'longer than its header says'}")
    if sizes[0] == 0:
        raise UserFacingError(f"{path} holds no {noun}")
    return sizes[0]


def _unpack(path: Path, data: bytes) -> None:
    """Write the unpacked bytes of ``path.gz`` beside it (aside first, then moved into place)."""
    partial = path.with_name(path.name + ".part")
    try:
        partial.write_bytes(data)
        partial.replace(path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        raise UserFacingError(f"{path}.gz cannot be unpacked beside it: {exc.strerror or exc}") from None
