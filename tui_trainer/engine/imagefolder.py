"""The ``images`` task: a folder of class subfolders read with torchvision's ImageFolder.

``load_image_folder`` is self-contained (torch, torchvision and the standard library), so the
script export copies it as it is; it raises ValueError with a message naming the folder or the
file. ``describe_images`` is what the config needs before any training (torch-free).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tui_trainer.errors import UserFacingError


def load_image_folder(path, size, grayscale, max_entries=200_000):
    """Every image of the folder's class subfolders (torchvision's ImageFolder, classes in sorted
    order), resized to size x size, one channel (grayscale) or three (RGB), scaled to [0, 1] by
    ToTensor and normalized with mean 0.5 and std 0.5 per channel, flattened to one row per
    image. Returns (x, y, class names). A folder holding more than ``max_entries`` files and
    folders (all levels) is refused before anything is read (a wrong path such as / or ~)."""
    import os
    from pathlib import Path

    import torch
    from torchvision import datasets, transforms

    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise ValueError(f"{folder}: no such folder")
    entries, seen = 0, set()
    for root, folders, files in os.walk(folder, followlinks=True):  # as ImageFolder walks it
        entries += len(folders) + len(files)
        if entries > max_entries:
            raise ValueError(f"{folder}: holds more than {max_entries:,} files and folders; is it "
                             "the folder of class subfolders of images?")
        place = os.stat(root)
        if (place.st_dev, place.st_ino) in seen:  # ImageFolder would read its images again and again
            raise ValueError(f"{root}: a folder reached a second time through a symbolic link (a "
                             "loop, or two links to one folder); its images would count again")
        seen.add((place.st_dev, place.st_ino))
    channels = 1 if grayscale else 3
    steps = [transforms.Grayscale(1)] if grayscale else []
    transform = transforms.Compose(steps + [transforms.Resize((size, size)), transforms.ToTensor(),
                                            transforms.Normalize((0.5,) * channels, (0.5,) * channels)])
    try:
        dataset = datasets.ImageFolder(str(folder), transform=transform)
    except FileNotFoundError as exc:
        if "class folder" in str(exc):
            raise ValueError(f"{folder}: no class subfolders; put each class's images in a subfolder "
                             "named after the class (e.g. cats/1.png, dogs/2.png)") from None
        raise ValueError(f"{folder}: {exc}") from None
    except OSError as exc:
        raise ValueError(f"{folder}: cannot be read ({exc.strerror or exc})") from None
    images, labels = [], []
    for index, (file, label) in enumerate(dataset.samples):
        try:
            image, _ = dataset[index]
        except (OSError, ValueError) as exc:  # PIL's UnidentifiedImageError is an OSError
            raise ValueError(f"{file}: not a readable image ({type(exc).__name__})") from None
        except Exception as exc:  # PIL's DecompressionBombError: a small file, a huge picture
            raise ValueError(f"{file}: not read: {exc}") from None
        images.append(image)
        labels.append(label)
    x = torch.stack(images).flatten(1)
    return x, torch.tensor(labels, dtype=torch.int64), list(dataset.classes)


#: The functions of this module an exported script holds (with the engine's split).
SCRIPT_FUNCTIONS = (load_image_folder,)


def folder_arguments(options: dict[str, Any]) -> dict[str, Any]:
    """The arguments of ``load_image_folder`` for the images task's options (absolute path)."""
    return {"path": _absolute(options["path"]), "size": options["size"],
            "grayscale": options["color"] == "grayscale"}


def image_size(options: dict[str, Any]) -> tuple[int, int, int]:
    """(channels, height, width) of the task's images."""
    return (1 if options["color"] == "grayscale" else 3, options["size"], options["size"])


def script_data(options: dict[str, Any]) -> str:
    """The exported script's lines that read the folder (and the validation folder, or split;
    and the test folder)."""
    arguments = ", ".join(f"{k}={v!r}" for k, v in folder_arguments(options).items())
    lines = [f"x, y, classes = load_image_folder({arguments})"]
    if options["val_path"]:
        val = ", ".join(f"{k}={v!r}" for k, v in
                        folder_arguments({**options, "path": options["val_path"]}).items())
        lines += ["x_train, y_train = x, y",
                  f"x_val, y_val, _ = load_image_folder({val})  # the validation folder"]
    else:
        lines.append("x_train, y_train, x_val, y_val = split(x, y, VAL_SPLIT, g)")
    if options["test_path"]:
        test = ", ".join(f"{k}={v!r}" for k, v in
                         folder_arguments({**options, "path": options["test_path"]}).items())
        lines.append(f"x_test, y_test, _ = load_image_folder({test})  # the test folder")
    return "\n".join(lines)


def describe_images(options: dict[str, Any]) -> dict[str, Any]:
    """What the config needs to know of the folder: its class count (raises UserFacingError
    naming the option at fault)."""
    if not options["path"]:
        raise UserFacingError("task.path: give the folder of class subfolders")
    classes = _class_names("task.path", options["path"])
    for field in ("val_path", "test_path"):
        if options[field]:
            other = _class_names(f"task.{field}", options[field])
            if other != classes:
                raise UserFacingError(f"task.{field}: its class subfolders ({', '.join(other)}) are not "
                                      f"those of task.path ({', '.join(classes)})")
    if len(classes) < 2:
        raise UserFacingError(f"task.path: {_absolute(options['path'])} has one class subfolder "
                              f"only ({classes[0]}); classification needs at least two")
    kind = "binary" if len(classes) == 2 else "multiclass"
    return {"kind": kind, "classes": len(classes), "image_size": image_size(options),
            "note": f"{len(classes)} classes: {', '.join(classes[:10])}"
            + (", ..." if len(classes) > 10 else "")}


def _class_names(field: str, path: str) -> list[str]:
    folder = Path(_absolute(path))
    if not folder.is_dir():
        raise UserFacingError(f"{field}: {folder}: no such folder")
    try:
        names = sorted(entry.name for entry in os.scandir(folder) if entry.is_dir())  # as ImageFolder
    except OSError as exc:
        raise UserFacingError(f"{field}: {folder}: cannot be read ({exc.strerror or exc})") from None
    if not names:
        raise UserFacingError(f"{field}: {folder}: no class subfolders; put each class's images in "
                              "a subfolder named after the class (e.g. cats/1.png, dogs/2.png)")
    return names


def _absolute(path: str) -> str:
    return str(Path(path).expanduser().absolute())


def images_dataset(config):
    """The images task's Dataset: the folder split with the config's seed, or the folder for
    training and task.val_path for validation; task.test_path, when given, is the test set
    (UserFacingError naming the folder or file)."""
    import torch

    from tui_trainer.engine.data import Dataset, check_split, split

    options = config.task.params
    x_test = y_test = None
    field = "task.path"
    try:
        x, y, classes = load_image_folder(**folder_arguments(options))
        if options["val_path"]:
            field = "task.val_path"
            x_val, y_val, _ = load_image_folder(**folder_arguments({**options, "path": options["val_path"]}))
            x_train, y_train = x, y
        if options["test_path"]:
            field = "task.test_path"
            x_test, y_test, _ = load_image_folder(**folder_arguments({**options, "path": options["test_path"]}))
    except ValueError as exc:
        raise UserFacingError(f"{field}: {exc}") from None
    if not options["val_path"]:
        check_split(len(x), config.training.val_split, "images")
        x_train, y_train, x_val, y_val = split(x, y, config.training.val_split,
                                               torch.Generator().manual_seed(config.training.seed))
    return Dataset(x_train, y_train, x_val, y_val, len(classes), image_size=image_size(options),
                   class_names=classes, x_test=x_test, y_test=y_test)
