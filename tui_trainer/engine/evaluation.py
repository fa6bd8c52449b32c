"""What a classifier gets wrong: its predictions on a split, the confusion matrix (rows: the true
class, columns: the predicted one) and the misclassified samples, as plain data the CLI prints,
the run folder keeps (``mistakes.json``) and the app draws.

Also ``score_run``: a run's saved model scored again on one of its splits (``tui-trainer
evaluate``), reading its folder and writing nothing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from tui_trainer.engine import kernel
from tui_trainer.engine.events import finite_or_none

if TYPE_CHECKING:
    from tui_trainer.config import Config
    from tui_trainer.engine.data import Dataset

#: The heads whose outputs are class scores (the confusion matrix and mistakes apply).
CLASS_HEADS = ("logits", "log-probs", "probability", "logit")
#: A run keeps at most this many mistakes per split (the most confident first) in mistakes.json.
MAX_MISTAKES = 1000


@dataclass
class Predictions:
    """A split's predictions: the true class of each sample, the class the model predicts and the
    probability it gives that class (CPU tensors, in the split's sample order)."""

    split: str
    true: torch.Tensor
    predicted: torch.Tensor
    probability: torch.Tensor


@dataclass
class Confusion:
    """A split's confusion matrix: ``matrix[t][p]`` counts the samples of true class ``t`` the
    model predicted as ``p`` (rows true, columns predicted), ``classes`` names them."""

    split: str
    classes: list[str]
    matrix: list[list[int]]

    @property
    def total(self) -> int:
        """The samples counted."""
        return sum(map(sum, self.matrix))

    @property
    def correct(self) -> int:
        """The samples on the diagonal."""
        return sum(row[i] for i, row in enumerate(self.matrix))

    def as_json(self) -> dict[str, Any]:
        """``{"classes": [...], "matrix": [[...]]}`` (the split is the key it is kept under)."""
        return {"classes": self.classes, "matrix": self.matrix}


@dataclass
class Mistake:
    """A misclassified sample: its row in the split (``Dataset.x_val[index]``; the point
    ``points_val[index]`` of a 2-D task; the image ``image_of(data, "val", index)``), its true
    and predicted class and the probability the model gave the predicted class."""

    index: int
    true: int
    predicted: int
    probability: float


@dataclass
class Mistakes:
    """A split's misclassified samples, the most confident first (at most MAX_MISTAKES of
    ``count``)."""

    split: str
    classes: list[str]
    count: int
    total: int
    samples: list[Mistake] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """Plain data: ``classes``, ``count`` (all mistakes), ``total`` (samples), ``samples``."""
        return {"classes": self.classes, "count": self.count, "total": self.total,
                "samples": [{**asdict(mistake), "probability": finite_or_none(mistake.probability)}
                            for mistake in self.samples]}


def class_probabilities(out: torch.Tensor, head: str) -> torch.Tensor:
    """(N, classes) probabilities from a classification head's output: softmax of logits, exp of
    log-probabilities, and for one output (a sigmoid, or a logit) the two classes' 1 - p and p."""
    if head == "logits":
        return torch.softmax(out.float(), dim=1)
    if head == "log-probs":
        return out.float().exp()
    p = out.float().reshape(-1)
    p = torch.sigmoid(p) if head == "logit" else p
    return torch.stack([1 - p, p], dim=1)


@torch.no_grad()
def predict(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, head: str, split: str,
            eval_mode: bool = True) -> Predictions:
    """The model's predictions on a split, under model.eval() and torch.no_grad(), in chunks (its
    mode put back). The predicted class is the kernel's (``kernel.predictions``)."""
    was_training = model.training
    model.train(not eval_mode)
    predicted, probability = [], []
    for start in range(0, len(x), kernel.EVAL_CHUNK):
        out = model(x[start:start + kernel.EVAL_CHUNK])
        classes = kernel.predictions(out, head).reshape(len(out)).long()
        predicted.append(classes.cpu())
        chosen = class_probabilities(out, head).gather(1, classes.unsqueeze(1)).squeeze(1)
        probability.append(chosen.cpu())
    model.train(was_training)
    return Predictions(split, y.reshape(len(y)).long().cpu(), torch.cat(predicted), torch.cat(probability))


def confusion_of(predictions: Predictions, classes: list[str]) -> Confusion:
    """The confusion matrix of a split's predictions (rows true, columns predicted)."""
    n = len(classes)
    counts = torch.bincount(predictions.true * n + predictions.predicted, minlength=n * n)
    return Confusion(predictions.split, classes, counts.reshape(n, n).tolist())


def mistakes_of(predictions: Predictions, classes: list[str], limit: int = MAX_MISTAKES) -> Mistakes:
    """The misclassified samples of a split's predictions, the most confident first."""
    wrong = (predictions.true != predictions.predicted).nonzero().reshape(-1)
    order = wrong[predictions.probability[wrong].argsort(descending=True, stable=True)][:limit]
    samples = [Mistake(int(i), int(predictions.true[i]), int(predictions.predicted[i]),
                       float(predictions.probability[i])) for i in order]
    return Mistakes(predictions.split, classes, len(wrong), len(predictions.true), samples)


def predicts_classes(config: Config, data: Dataset, head: str) -> bool:
    """Whether the model's outputs are the classes of the data: a classification task and a
    classification head with as many classes (not so for a mistake lab's wrong loss)."""
    if config.task_spec.kind not in ("binary", "multiclass") or head not in CLASS_HEADS:
        return False
    return head in ("logits", "log-probs") or data.classes == 2


def class_names(data: Dataset, config: Config) -> list[str]:
    """The names of a classification's classes: the data's (csv, images), the task's (iris,
    fashion-mnist ...), else the class indices as text."""
    count = data.classes or 2
    names = data.class_names or config.task_spec.class_names
    return list(names) if names and len(names) == count else [str(i) for i in range(count)]


def image_of(data: Dataset, split: str, index: int) -> torch.Tensor | None:
    """Sample ``index`` of a split of an image task as a (channels, height, width) picture with
    values in [0, 1] (the pixels before normalization), or None for a task without images."""
    if data.image_size is None:
        return None
    x = getattr(data, f"x_{split}")[index].detach().float().cpu()
    return (x.reshape(data.image_size) * 0.5 + 0.5).clamp(0, 1)  # every image task normalizes to mean 0.5, std 0.5


@dataclass
class SplitScore:
    """A saved model scored on one split of its run's data (``tui-trainer evaluate``)."""

    run_dir: Path
    split: str
    samples: int
    loss: float
    accuracy: float | None
    r2: float | None
    confusion: Confusion | None
    mistakes: Mistakes | None

    def as_json(self) -> dict[str, Any]:
        """The ``evaluate --json`` object; non-finite numbers are null."""
        return {"run_dir": str(self.run_dir), "split": self.split, "samples": self.samples,
                "loss": finite_or_none(self.loss), "accuracy": finite_or_none(self.accuracy),
                "r2": finite_or_none(self.r2),
                "confusion": self.confusion.as_json() if self.confusion else None,
                "mistakes": None if self.mistakes is None else self.mistakes.count}


def score_run(run_dir: str | Path, split: str | None = None) -> SplitScore:
    """Score a run's ``model.pt`` again on one split of its data (default: the test set when the
    run has one, else validation), as the run scored it at its end: the same data (rebuilt
    from its config and seed), loss and evaluation. Reads the folder and writes nothing in it.
    Raises UserFacingError naming what is missing."""
    from tui_trainer.engine.checkpoint import load_model
    from tui_trainer.engine.components import build_loss, head_of
    from tui_trainer.engine.data import build_dataset
    from tui_trainer.engine.loop import shape_targets
    from tui_trainer.errors import UserFacingError

    model, config = load_model(run_dir)
    head = head_of(config).head
    data = shape_targets(build_dataset(config), head)
    chosen = split or ("test" if data.split_of("test") else "val")
    held = data.split_of(chosen)
    if held is None:
        hint = {"test": no_test_hint(config), "val": "its training.val_split is 0",
                "train": "it has no training samples"}[chosen]
        raise UserFacingError(f"--split {chosen}: the run in {Path(run_dir)} has no {chosen} set ({hint})")
    x, y = held
    eval_mode = not config.lab.no_eval_mode
    with torch.random.fork_rng(devices=[]):  # dropout left on (lab.no_eval_mode) draws numbers
        loss, score = kernel.evaluate(model, build_loss(config.loss), x, y, head, eval_mode)
        accuracy, r2 = kernel.split_score(score, len(x), kernel.sum_of_squares(y), head)
        confusion = mistakes = None
        if predicts_classes(config, data, head):
            names = class_names(data, config)
            predictions = predict(model, x, y, head, chosen, eval_mode)
            confusion, mistakes = confusion_of(predictions, names), mistakes_of(predictions, names)
    return SplitScore(Path(run_dir), chosen, len(x), loss, accuracy, r2, confusion, mistakes)


def no_test_hint(config: Config) -> str:
    """Why a run has no test set, and how the next one gets one."""
    task = config.task_spec
    if task.test_set == "test_path":
        return "task.test_path was empty; give one to a new run"
    if task.test_set == "none":
        return f"task {task.name} has no data"
    return "its training.test_split was 0; give one to a new run, e.g. --set training.test_split=0.2"
