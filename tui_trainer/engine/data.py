"""Datasets for every task, as tensors with a seeded train/validation split.

Each ``make_*`` function is self-contained (torch, torchvision or scikit-learn only), so the
script export can copy it verbatim.
"""

from __future__ import annotations

import dataclasses
import importlib
import math
from dataclasses import dataclass
from pathlib import Path

import torch

from tui_trainer.catalog.tasks import TASKS
from tui_trainer.config import Config
from tui_trainer.engine.idx import check_vision_folder
from tui_trainer.engine.plane import GENERATORS, expand_features
from tui_trainer.errors import UserFacingError, first_line
from tui_trainer.paths import user_data_dir


@dataclass
class Dataset:
    """Training and validation tensors. Classification targets are class indices (int64);
    regression targets are float columns of shape (N, 1)."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    classes: int | None
    #: (channels, height, width) when each row is an image, flattened (for a cnn model).
    image_size: tuple[int, int, int] | None = None
    #: The class names, in class-index order, when the data names them.
    class_names: list[str] | None = None
    #: The 2-D playground tasks' points (x1, x2) behind each row, (N, 2), kept on the CPU for
    #: drawing (``engine.plane.expand_features`` turns points into rows); None for other tasks.
    points_train: torch.Tensor | None = None
    points_val: torch.Tensor | None = None
    #: The test set, scored once at the end (None: the task has none): the t10k files, a
    #: ``task.test_path``, or ``training.test_split`` of the samples held out before the
    #: validation split. Nothing during training sees it.
    x_test: torch.Tensor | None = None
    y_test: torch.Tensor | None = None
    points_test: torch.Tensor | None = None
    #: A table's samples as its file holds them (csv): by split, each sample's row of its file
    #: (``tabular.load_table``; the test split's rows are of ``task.test_path``).
    rows: dict[str, list[int]] | None = None

    @property
    def features(self) -> int:
        """Number of input features."""
        return self.x_train.shape[1]

    def to(self, device: torch.device) -> Dataset:
        """The same tensors on ``device`` (the points stay on the CPU)."""
        moved = {name: getattr(self, name).to(device) for name in TENSORS if getattr(self, name) is not None}
        return dataclasses.replace(self, **moved)

    def split_of(self, name: str) -> tuple[torch.Tensor, torch.Tensor] | None:
        """The inputs and targets of split ``train``, ``val`` or ``test`` (None when it has no samples)."""
        x, y = getattr(self, f"x_{name}"), getattr(self, f"y_{name}")
        return (x, y) if x is not None and len(x) else None


#: The tensors of a Dataset that move to the run's device (the 2-D points stay on the CPU).
TENSORS = ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test")
#: The splits of a Dataset.
SPLITS = ("train", "val", "test")


def make_linear(g: torch.Generator, samples: int, slope: float, intercept: float, noise: float):
    """Tutorial 003: y = slope * x + intercept + noise, 1 feature."""
    x = torch.randn(samples, 1, generator=g)
    y = slope * x + intercept + noise * torch.randn(samples, 1, generator=g)
    return x, y


def make_regression(g: torch.Generator, samples: int, noise: float):
    """10 features; y = sin(2 x0) + x1 x2 + 0.5 x3^2 - x4 + noise."""
    x = torch.randn(samples, 10, generator=g)
    y = torch.sin(2 * x[:, 0]) + x[:, 1] * x[:, 2] + 0.5 * x[:, 3] ** 2 - x[:, 4]
    y = y + noise * torch.randn(samples, generator=g)
    return x, y.unsqueeze(1)


def make_binary(g: torch.Generator, samples: int):
    """10 features; class 1 where x0 x1 + sin(2 x2) + 0.5 x3 > 0."""
    x = torch.randn(samples, 10, generator=g)
    score = x[:, 0] * x[:, 1] + torch.sin(2 * x[:, 2]) + 0.5 * x[:, 3]
    return x, (score > 0).long()


def make_spiral(g: torch.Generator, samples: int, classes: int, noise: float):
    """A 2-D spiral with one arm per class."""
    y = torch.arange(samples) % classes
    radius = torch.rand(samples, generator=g)
    angle = y * (2 * math.pi / classes) + radius * 4 + noise * torch.randn(samples, generator=g)
    x = torch.stack([radius * torch.cos(angle), radius * torch.sin(angle)], dim=1)
    return x, y


def load_sklearn(name: str):
    """One of scikit-learn's bundled datasets as float features and int64 (or float) targets."""
    from sklearn import datasets

    loader = {
        "digits": datasets.load_digits, "iris": datasets.load_iris, "wine": datasets.load_wine,
        "breast-cancer": datasets.load_breast_cancer, "diabetes": datasets.load_diabetes,
    }[name]
    features, target = loader(return_X_y=True)
    x = torch.tensor(features, dtype=torch.float32)
    if name == "diabetes":
        return x, torch.tensor(target, dtype=torch.float32).unsqueeze(1)
    return x, torch.tensor(target, dtype=torch.int64)


def load_vision(root: str, fashion: bool, download: bool, limit: int | None, train: bool = True):
    """MNIST or Fashion-MNIST training images (``train=False``: the t10k test images) through
    torchvision, as ToTensor + Normalize((0.5,), (0.5,)) would give them, flattened to 784
    features."""
    from torchvision import datasets, transforms

    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    cls = datasets.FashionMNIST if fashion else datasets.MNIST
    dataset = cls(root=root, train=train, transform=transform, download=download)
    images = dataset.data[:limit]
    # ToTensor scales uint8 pixels to [0, 1] and adds the channel axis; Normalize is applied as is.
    x = transform.transforms[1](images.unsqueeze(1).float().div(255))
    return x.flatten(1), dataset.targets[:limit].long()


def split(x: torch.Tensor, y: torch.Tensor, val_split: float, g: torch.Generator):
    """Shuffle with ``g`` and hold out ``val_split`` of the samples: (x_train, y_train, x_val, y_val)."""
    n_val = round(len(x) * val_split)
    order = torch.randperm(len(x), generator=g)
    val, train = order[:n_val], order[n_val:]
    return x[train], y[train], x[val], y[val]


def standardize(train: torch.Tensor, *others: torch.Tensor):
    """Scale to zero mean and unit variance with the training split's statistics only: the
    training split, then each other split (validation, test)."""
    mean, std = train.mean(dim=0), train.std(dim=0)
    std = torch.where(std > 0, std, torch.ones_like(std))
    return ((train - mean) / std, *((other - mean) / std for other in others))


def default_data_dir() -> Path:
    """The user data folder where datasets are looked for by default."""
    return user_data_dir() / "data"


#: The generated tasks and the function that makes each one's samples from a seeded generator.
SYNTHETIC = {"linear": make_linear, "regression": make_regression, "binary": make_binary,
             "multiclass": make_spiral}


def vision_arguments(name: str, options: dict) -> dict:
    """The arguments of ``load_vision`` for a vision task's options (root: the data folder)."""
    root = Path(options["data_dir"]).expanduser() if options["data_dir"] else default_data_dir()
    return {"root": str(root), "fashion": name == "fashion-mnist", "download": options["download"],
            "limit": None if options["limit"] == "all" else options["limit"]}


VISION_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def build_dataset(config: Config) -> Dataset:
    """The task's data, split with the config's seed and validation fraction (on the CPU)."""
    task, options = config.task_spec, config.task.params
    seed, val_split = config.training.seed, config.training.val_split
    if task.loader:
        module, _, function = task.loader.partition(":")
        return getattr(importlib.import_module(module), function)(config)
    if task.data_source.points:
        return plane_dataset(config)
    g = torch.Generator().manual_seed(seed)
    x_test = y_test = None
    if task.name in SYNTHETIC:
        x, y = SYNTHETIC[task.name](g, **options)
    elif task.data_source.folder:
        x, y = _load_vision_or_explain(task.name, options)
        x_test, y_test = load_vision(**{**vision_arguments(task.name, options), "limit": None}, train=False)
    else:
        x, y = load_sklearn(task.name)
    if config.training.test_split:  # held out first: the validation split is of the rest
        check_split(len(x), config.training.test_split, task.name, "training.test_split")
        x, y, x_test, y_test = split(x, y, config.training.test_split, g)
    check_split(len(x), val_split, task.name)
    x_train, y_train, x_val, y_val = split(x, y, val_split, g)
    if task.data_source.standardized:
        x_train, x_val, *tested = standardize(x_train, x_val, *([x_test] if x_test is not None else []))
        x_test = tested[0] if tested else None
        if task.traits.values:
            y_train, y_val, *tested = standardize(y_train, y_val, *([y_test] if y_test is not None else []))
            y_test = tested[0] if tested else None
    return Dataset(x_train, y_train, x_val, y_val, config.classes, image_size=task.image_size,
                   x_test=x_test, y_test=y_test)


def plane_seed(config: Config) -> int:
    """The seed of a 2-D playground task's points and split: task.seed, or training.seed."""
    seed = config.task.params["seed"]
    return config.training.seed if seed == "training" else seed


def plane_arguments(config: Config) -> tuple:
    """The arguments of a 2-D playground task's generator after the random generator: the
    sample count, the noise as a fraction, and the class count where the task takes one."""
    options, task = config.task.params, config.task_spec
    counted = (options[task.classes_option],) if task.classes_option else ()
    return (options["samples"], options["noise"] / 100, *counted)


def plane_dataset(config: Config) -> Dataset:
    """A 2-D playground task's points, split by its train ratio (training.val_split holds it),
    with the chosen features as the model's inputs."""
    task, options = config.task_spec, config.task.params
    g = torch.Generator().manual_seed(plane_seed(config))
    points, y = GENERATORS[task.name](g, *plane_arguments(config))
    points_test = y_test = None
    if config.training.test_split:  # held out first: the train ratio splits the rest
        check_split(len(points), config.training.test_split, task.name, "training.test_split")
        points, y, points_test, y_test = split(points, y, config.training.test_split, g)
    check_split(len(points), config.training.val_split, task.name)
    points_train, y_train, points_val, y_val = split(points, y, config.training.val_split, g)
    features = options["features"]
    return Dataset(expand_features(points_train, features), y_train,
                   expand_features(points_val, features), y_val, config.classes,
                   points_train=points_train, points_val=points_val,
                   x_test=None if points_test is None else expand_features(points_test, features),
                   y_test=y_test, points_test=points_test)


def check_split(n: int, val_split: float, task: str, field: str = "training.val_split") -> None:
    """Refuse a validation (or test, ``field``) split that leaves no training (or, when asked
    for, no held-out) sample."""
    n_val = round(n * val_split)
    if n - n_val < 1 or (val_split > 0 and n_val < 1):
        held = "testing" if field == "training.test_split" else "validation"
        raise UserFacingError(
            f"{field}: {val_split} of task {task}'s {n} samples leaves "
            f"{n - n_val} for training and {n_val} for {held}; each needs at least one "
            "(use more samples or another split)")


def _load_vision_or_explain(name: str, options: dict) -> tuple[torch.Tensor, torch.Tensor]:
    arguments = vision_arguments(name, options)
    root = Path(arguments["root"])
    folder = root / ("FashionMNIST" if arguments["fashion"] else "MNIST") / "raw"
    present = all((folder / f).exists() or (folder / f"{f}.gz").exists() for f in VISION_FILES)
    check_vision_folder(folder, classes=TASKS[name].classes)  # before torchvision: say what is wrong
    try:
        return load_vision(**arguments)
    except Exception as exc:  # torchvision raises RuntimeError, URLError, OSError ...
        if present:
            raise UserFacingError(f"task {name}: the files in {folder} could not be read: "
                                  f"{first_line(exc)}") from exc
        tried = (f"torchvision's download failed too ({first_line(exc)})" if options["download"]
                 else "download is off (task.download = false)")
        raise UserFacingError(
            f"task {name}: the dataset files are not in {folder}; {tried}. Expected the files "
            f"{', '.join(VISION_FILES)} (or the same with .gz). Copy them into that folder from a "
            "machine with internet access (e.g. run this task there once, then copy "
            f"{root}), or point task.data_dir (--data-dir) at the folder that holds "
            f"{folder.parent.name}/raw.") from exc
