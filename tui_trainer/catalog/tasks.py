"""The tasks a run can train on: what each is, its options, and the recipe it starts from."""

from __future__ import annotations

import dataclasses
import importlib
from dataclasses import dataclass, field
from typing import Any

from tui_trainer.catalog.arena import (
    ARENA_KIND, ARENA_LOSS, HIDDEN_NOTE, SURFACES, TAKEN_LAB_FIELDS, UNUSED_FIELDS, arena_options,
)
from tui_trainer.catalog.losses import fitting_losses
from tui_trainer.schema import Param


@dataclass(frozen=True)
class TaskKind:
    """What a kind of task does. ``score``: what its runs are scored by besides the loss
    (``accuracy``, ``r2``; None: a point on a function has only its value); ``layers``: its model
    is a network whose Linear layers the Layers tab measures; ``point``: its model is one 2-D point
    on a function (no data, no network: the arena); ``unused``: the dotted fields (or their
    prefixes) its runs do not take, but those in ``taken``."""

    name: str
    score: str | None
    layers: bool = True
    point: bool = False
    unused: tuple[str, ...] = ()
    taken: tuple[str, ...] = ()

    def takes(self, field: str) -> bool:
        """Whether its runs use the dotted ``field`` (``training.batch_size``: not an arena's)."""
        return field in self.taken or not field.startswith(self.unused)

    @property
    def unit(self) -> str:
        """What its speed counts: samples, or steps (a point has no samples)."""
        return "steps" if self.point else "samples"

    @property
    def values(self) -> bool:
        """Whether its targets are real values (a regression, scored by R²), not classes."""
        return self.score == "r2"


#: Every task kind, by name.
KINDS: dict[str, TaskKind] = {
    kind.name: kind
    for kind in (
        TaskKind("regression", "r2"),
        TaskKind("binary", "accuracy"),
        TaskKind("multiclass", "accuracy"),
        TaskKind(ARENA_KIND, None, layers=False, point=True, unused=UNUSED_FIELDS, taken=TAKEN_LAB_FIELDS),
    )
}


@dataclass(frozen=True)
class DataSource:
    """Where a task's samples come from. ``points``: points of the plane, the model's inputs
    computed from them (the 2-D playground; they may take their own seed); ``standardized``: the
    features (and a regression's target) are scaled with the training split's statistics
    (scikit-learn's datasets); ``folder``: files in a data folder (torchvision's datasets)."""

    name: str
    points: bool = False
    standardized: bool = False
    folder: bool = False


#: Every data source, by name (a task's ``source``).
SOURCES: dict[str, DataSource] = {
    source.name: source
    for source in (
        DataSource("synthetic"), DataSource("plane", points=True), DataSource("sklearn", standardized=True),
        DataSource("torchvision", folder=True), DataSource("csv"), DataSource("images"), DataSource("arena"),
    )
}


@dataclass(frozen=True)
class TaskSpec:
    """A task choice.

    ``recipe`` holds the dotted config values the task starts from (its default model, loss,
    optimizer and training length); a config file or flags override them field by field.
    ``classes_option`` names the option that sets the class count, when the user picks it.
    ``line_truth`` names the options holding the true slope and intercept of a one-feature line:
    a run whose model is a single nn.Linear reports its learned w and b next to them.
    ``kind`` names its TaskKind (``traits``), ``source`` its DataSource (``data_source``).
    ``view`` names the live picture of the task's runs (``catalog.views``): ``boundary`` (a
    classification of 2-D points: the plane colored by the predicted class), ``fit`` (a
    regression on one input: the data and the model's curve) or ``arena`` (a point on a
    function: its path); None for none.
    ``image_size`` is (channels, height, width) for image tasks (a cnn model fits them).
    ``split_option`` names the option (a percentage of the samples to train on) from which the
    task takes its validation split: ``training.val_split`` is then 1 - option / 100, and a
    different val_split given is refused (``config.task_sets``).
    ``loader`` ("module:function") builds the task's Dataset from a config, for data sources
    that live in their own module. ``describe`` ("module:function", torch-free) reads what the
    user's data decides from the options (kind, classes, image size, a note in words, details
    such as the columns), raising UserFacingError naming the option at fault.
    ``test_set`` says where the task's test set comes from, scored once at the end: ``split``
    (``training.test_split`` of the samples, held out before the validation split), ``t10k``
    (the dataset's own test files), ``test_path`` (the ``test_path`` option: your own file or
    folder) or ``none`` (an arena task has no data).
    ``class_names`` are the classes' names, in class-index order, where the data has them.
    """

    name: str
    description: str
    kind: str
    features: int
    source: str
    options: tuple[Param, ...] = ()
    classes: int | None = None
    classes_option: str | None = None
    recipe: dict[str, Any] = field(default_factory=dict)
    line_truth: tuple[str, str] | None = None
    view: str | None = None
    image_size: tuple[int, int, int] | None = None
    split_option: str | None = None
    loader: str | None = None
    describe: str | None = None
    note: str = ""
    details: str = ""
    test_set: str = "split"
    class_names: tuple[str, ...] | None = None

    def described(self, options: dict[str, Any]) -> TaskSpec:
        """This spec with what the data decides for these options (itself for built-in data)."""
        if not self.describe:
            return self
        module, _, function = self.describe.partition(":")
        facts = getattr(importlib.import_module(module), function)(options)
        return dataclasses.replace(self, **facts)

    def num_classes(self, options: dict[str, Any]) -> int | None:
        """Class count for these options (None for regression)."""
        if self.classes_option:
            return options.get(self.classes_option, self.option(self.classes_option).default)
        return self.classes

    def option(self, name: str) -> Param:
        """The option called ``name``."""
        return next(p for p in self.options if p.name == name)

    @property
    def traits(self) -> TaskKind:
        """What its kind of task does."""
        return KINDS[self.kind]

    @property
    def data_source(self) -> DataSource:
        """Where its samples come from."""
        return SOURCES[self.source]

    @property
    def default_loss(self) -> str:
        """The loss the task starts with."""
        return self.recipe["loss.name"]

    @property
    def losses(self) -> list[str]:
        """Catalog losses that fit this task."""
        return fitting_losses(self.kind)


def plane_facts(options: dict[str, Any]) -> dict[str, Any]:
    """A 2-D playground task's input count (one per chosen feature), and for a task with a class
    count above two its kind: multiclass."""
    facts: dict[str, Any] = {"features": len(options["features"])}
    if options.get(PLANE_CLASSES, 2) > 2:
        facts["kind"] = "multiclass"
    return facts


def _samples(default: int, minimum: int = 10) -> Param:
    return Param("samples", "int", default, "number of samples generated", minimum=minimum)


def _noise(default: float) -> Param:
    return Param("noise", "float", default, "standard deviation of the added noise", minimum=0.0)


_VISION_OPTIONS = (
    Param("data_dir", "str", "", "folder holding the dataset (empty: the user data folder, "
          "e.g. ~/.local/share/tui-trainer/data)", path=True),
    Param("download", "bool", True, "try torchvision's download when the files are missing"),
    Param("limit", "int", "all", "use only the first N training images ('all': every image)",
          minimum=10, keywords=("all",)),
)


#: The input features of the 2-D playground tasks (TensorFlow Playground's), computed from each
#: point (x1, x2) by ``engine.plane.expand_features``.
PLANE_FEATURES = ("x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)")
#: The option of the 2-D playground tasks that sets the validation split.
TRAIN_RATIO = "train_ratio"
#: The option of the 2-D playground tasks that can have more than two classes (gauss, spiral).
PLANE_CLASSES = "classes"
#: The most classes such a task takes.
MAX_PLANE_CLASSES = 8


def _plane_options(samples: int) -> tuple[Param, ...]:
    """The options of a 2-D playground task, as TensorFlow Playground's controls."""
    return (
        _samples(samples),
        Param("noise", "float", 0.0, "noise in percent, as the playground's slider",
              minimum=0.0, maximum=50.0),
        Param(TRAIN_RATIO, "int", 50, "percent of the points to train on, the rest validate "
              "(sets training.val_split)", minimum=10, maximum=90),
        Param("seed", "int", "training", "seed of the points and their split ('training': "
              "training.seed)", minimum=0, maximum=2**64 - 1, keywords=("training",)),
        Param("features", "names", ["x1", "x2"], "the model's inputs, computed from each point "
              "(x1, x2)", choices=PLANE_FEATURES),
    )


def _plane(name: str, description: str, kind: str, samples: int,
           recipe: dict[str, Any], classes: str = "") -> TaskSpec:
    """A 2-D playground task: points in [-6, 6]^2 generated as TensorFlow Playground does.
    ``classes`` names what each class is, for a task that can have more than two (its
    ``classes`` option: above two, a multiclass task the recipe's loss gives way to
    cross-entropy for)."""
    options = _plane_options(samples)
    if classes:
        options = (*options[:2], Param(PLANE_CLASSES, "int", 2, f"number of classes ({classes}); above 2 the "
                                       "model has one output per class and the loss is cross-entropy",
                                       minimum=2, maximum=MAX_PLANE_CLASSES), *options[2:])
    return TaskSpec(name, description, kind, 2, "plane", options,
                    classes=2 if kind == "binary" else None, recipe=recipe,
                    classes_option=PLANE_CLASSES if classes else None,
                    view="boundary" if kind == "binary" else None,
                    split_option=TRAIN_RATIO, describe="tui_trainer.catalog.tasks:plane_facts")


def _recipe(loss: str, hidden: list[int], optimizer: str, lr: float, epochs: int,
            batch_size: int | str) -> dict[str, Any]:
    return {
        "loss.name": loss, "model.hidden": hidden, "optimizer.name": optimizer,
        "optimizer.lr": lr, "training.epochs": epochs, "training.batch_size": batch_size,
    }


TASKS: dict[str, TaskSpec] = {
    spec.name: spec
    for spec in (
        TaskSpec(
            "linear", "y = 2x + 3 + noise, learned by nn.Linear(1, 1) (tutorial 003)",
            "regression", 1, "synthetic",
            (
                _samples(100, minimum=2),
                Param("slope", "float", 2.0, "true slope w"),
                Param("intercept", "float", 3.0, "true intercept b"),
                _noise(0.1),
            ),
            recipe=_recipe("mse", [], "adam", 0.01, 1000, "full"),
            line_truth=("slope", "intercept"),
            view="fit",
        ),
        TaskSpec(
            "regression", "10 features, y = sin(2 x0) + x1 x2 + 0.5 x3^2 - x4 + noise, MLP",
            "regression", 10, "synthetic",
            (_samples(1000), _noise(0.1)),
            recipe=_recipe("mse", [64, 64], "adam", 0.01, 50, 32),
        ),
        TaskSpec(
            "binary", "10 features, class = [x0 x1 + sin(2 x2) + 0.5 x3 > 0], MLP",
            "binary", 10, "synthetic",
            (_samples(1000),),
            classes=2,
            recipe=_recipe("bce-logits", [32, 16], "adam", 0.01, 40, 32),
        ),
        TaskSpec(
            "multiclass", "2-D spiral with one arm per class, MLP",
            "multiclass", 2, "synthetic",
            (
                _samples(600),
                Param("classes", "int", 3, "number of classes (spiral arms)", minimum=2, maximum=20),
                _noise(0.2),
            ),
            classes_option="classes",
            recipe=_recipe("cross-entropy", [64, 64], "adam", 0.01, 100, 32),
            view="boundary",
        ),
        _plane("circle", "2-D playground: a disc of one class inside a ring of the other",
               "binary", 500, {**_recipe("bce-logits", [8, 8], "adam", 0.03, 20, 10),
                               "model.activation": "tanh"}),
        _plane("xor", "2-D playground: the four quadrants, class by the sign of x1 * x2",
               "binary", 500, {**_recipe("bce-logits", [8, 8], "adam", 0.03, 20, 10),
                               "model.activation": "tanh"}),
        _plane("gauss", "2-D playground: Gaussian blobs, one per class (two, or task.classes)",
               "binary", 500, {**_recipe("bce-logits", [4], "adam", 0.03, 20, 10),
                               "model.activation": "tanh"}, classes="Gaussian blobs"),
        _plane("spiral", "2-D playground: interleaved spirals, one per class (two, or task.classes)",
               "binary", 500, _recipe("bce-logits", [64, 64], "adam", 0.01, 60, 25),
               classes="spiral arms"),
        _plane("plane", "2-D playground regression: the tilted plane y = (x1 + x2) / 10",
               "regression", 1200, {**_recipe("mse", [4], "adam", 0.03, 20, 10),
                                    "model.activation": "tanh"}),
        _plane("bumps", "2-D playground regression: six bumps of height +-1 (its multi-Gaussian)",
               "regression", 1200, _recipe("mse", [32, 32], "adam", 0.01, 60, 25)),
        TaskSpec(
            "mnist", "handwritten digits 28x28 (torchvision), MLP 784-128-64-10 (tutorial 004)",
            "multiclass", 784, "torchvision", _VISION_OPTIONS, classes=10,
            recipe=_recipe("cross-entropy", [128, 64], "adam", 0.001, 10, 64), image_size=(1, 28, 28),
            test_set="t10k", class_names=tuple("0123456789"),
        ),
        TaskSpec(
            "fashion-mnist", "clothing images 28x28 (torchvision), MLP 784-128-64-10",
            "multiclass", 784, "torchvision", _VISION_OPTIONS, classes=10,
            recipe=_recipe("cross-entropy", [128, 64], "adam", 0.001, 10, 64), image_size=(1, 28, 28),
            test_set="t10k", class_names=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                                          "Shirt", "Sneaker", "Bag", "Ankle boot"),
        ),
        TaskSpec(
            "digits", "scikit-learn's 8x8 digits, 1797 images, 10 classes",
            "multiclass", 64, "sklearn", classes=10,
            recipe=_recipe("cross-entropy", [64], "adam", 0.01, 30, 32), class_names=tuple("0123456789"),
        ),
        TaskSpec(
            "iris", "scikit-learn's iris flowers, 150 samples, 4 features, 3 classes",
            "multiclass", 4, "sklearn", classes=3,
            recipe=_recipe("cross-entropy", [16], "adam", 0.01, 100, 16),
            class_names=("setosa", "versicolor", "virginica"),
        ),
        TaskSpec(
            "wine", "scikit-learn's wine, 178 samples, 13 features, 3 classes",
            "multiclass", 13, "sklearn", classes=3,
            recipe=_recipe("cross-entropy", [32], "adam", 0.01, 60, 16),
        ),
        TaskSpec(
            "breast-cancer", "scikit-learn's breast cancer, 569 samples, 30 features, 2 classes",
            "binary", 30, "sklearn", classes=2,
            recipe=_recipe("bce-logits", [32], "adam", 0.01, 40, 32), class_names=("malignant", "benign"),
        ),
        TaskSpec(
            "diabetes", "scikit-learn's diabetes progression, 442 samples, 10 features "
            "(target standardised)",
            "regression", 10, "sklearn",
            recipe=_recipe("mse", [32], "adam", 0.01, 100, 32),
        ),
        TaskSpec(
            "csv", "your own table: a CSV or TSV file, one column to predict (pandas)",
            "multiclass", 0, "csv",
            (
                Param("path", "str", "", "the CSV or TSV file (a header row names the columns)", path=True),
                Param("target", "str", "", "the column to predict"),
                Param("kind", "choice", "auto", "auto: classification for a text target or few "
                      "distinct whole numbers, else regression", choices=("auto", "regression",
                                                                          "classification")),
                Param("features", "str", "", "the input columns, comma-separated (empty: every "
                      "column but the target)"),
                Param("delimiter", "choice", "auto", "the field separator (auto: sniffed from the "
                      "file)", choices=("auto", ",", ";", "tab", "|")),
                Param("missing", "choice", "refuse", "rows with empty cells: refuse the file, drop "
                      "them, or fill with the training split's mean (text: mode) or mode",
                      choices=("refuse", "drop", "mean", "mode")),
                Param("test_path", "str", "", "a table with the same columns, scored once at the end "
                      "as the test set (empty: none)", path=True),
            ),
            recipe=_recipe("cross-entropy", [64], "adam", 0.01, 50, 32),
            loader="tui_trainer.engine.tabular:csv_dataset",
            describe="tui_trainer.engine.table_reader:describe_csv", test_set="test_path",
        ),
        TaskSpec(
            "images", "your own images: a folder with one subfolder of images per class "
            "(torchvision ImageFolder)",
            "multiclass", 0, "images",
            (
                Param("path", "str", "", "the folder of class subfolders (path/cats/1.png, "
                      "path/dogs/2.png ...)", path=True),
                Param("val_path", "str", "", "a folder of the same class subfolders for validation "
                      "(empty: hold out training.val_split of path's images)", path=True),
                Param("test_path", "str", "", "a folder of the same class subfolders, scored once at "
                      "the end as the test set (empty: none)", path=True),
                Param("size", "int", 28, "images are resized to size x size", minimum=4, maximum=512),
                Param("color", "choice", "grayscale", "one channel (grayscale) or three (rgb)",
                      choices=("grayscale", "rgb")),
            ),
            recipe={**_recipe("cross-entropy", [64], "adam", 0.001, 10, 32), "model.kind": "cnn"},
            image_size=(1, 28, 28),  # for the default options; the folder's options decide
            loader="tui_trainer.engine.imagefolder:images_dataset",
            describe="tui_trainer.engine.imagefolder:describe_images", test_set="test_path",
        ),
    )
}


def _arena_task(name: str) -> TaskSpec:
    """The arena task of surface ``name``: a 2-D point stepped by the optimizer on the function."""
    surface = SURFACES[name]
    return TaskSpec(
        name, f"f(x, y) = {surface.formula}; {surface.description}", ARENA_KIND, 0, "arena",
        arena_options(surface),
        recipe={**_recipe(ARENA_LOSS, [], surface.optimizer, surface.lr, surface.epochs, 1),
                "training.val_split": 0.0},
        view="arena", loader="tui_trainer.engine.arena:arena_dataset", note=HIDDEN_NOTE, test_set="none")


TASKS.update({name: _arena_task(name) for name in SURFACES})
