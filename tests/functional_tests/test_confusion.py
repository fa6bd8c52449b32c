"""What the model gets wrong: the confusion matrix (rows true, columns predicted) equals one
computed with plain torch from the same predictions; the misclassified samples are kept as plain
data (mistakes.json) for the app to draw; export-plot draws the matrix."""

from __future__ import annotations

import json
import struct

import pytest
import torch

from helpers import config
from tui_trainer.engine.data import build_dataset
from tui_trainer.engine.evaluation import image_of
from tui_trainer.engine.loop import Trainer
from tui_trainer.engine.rundir import MISTAKES_FILE, read_run


def plain_confusion(outputs: torch.Tensor, targets: torch.Tensor, classes: int, one_output: bool) -> list:
    """The matrix by hand: each sample adds one to [true][predicted]."""
    predicted = (outputs.reshape(-1) > 0).long() if one_output else outputs.argmax(dim=1)
    matrix = torch.zeros(classes, classes, dtype=torch.int64)
    for t, p in zip(targets.reshape(-1).long().tolist(), predicted.tolist()):
        matrix[t, p] += 1
    return matrix.tolist()


@pytest.mark.parametrize("task, extra", [
    ("digits", {"training__epochs": 2}),  # 10 classes, a test split too
    ("breast-cancer", {"training__epochs": 1}),  # one logit (bce-logits)
    ("multiclass", {"task__classes": 4, "training__epochs": 3}),
])
def test_the_confusion_matrix_equals_plain_torchs(task, extra, runs_dir):
    trainer = Trainer(config(task, training__test_split=0.2, **extra), runs_dir=runs_dir)
    result = trainer.run()
    one_output = trainer.head == "logit"
    trainer.model.eval()
    for split in ("val", "test"):
        x, y = getattr(trainer.data, f"x_{split}"), getattr(trainer.data, f"y_{split}")
        with torch.no_grad():
            outputs = trainer.model(x)
        matrix = plain_confusion(outputs, y, trainer.data.classes, one_output)
        assert result.confusion[split].matrix == matrix
        assert result.confusion[split].correct / len(y) == pytest.approx(
            getattr(result.final, f"{split}_accuracy"))
    summary = read_run(result.run_dir).summary
    assert summary["confusion"] == {split: c.as_json() for split, c in result.confusion.items()}
    if task == "breast-cancer":
        assert result.confusion["val"].classes == ["malignant", "benign"]


def test_the_misclassified_samples_are_plain_data_in_the_run_folder(runs_dir):
    trainer = Trainer(config("digits", training__epochs=1, optimizer__lr=0.001), runs_dir=runs_dir)
    result = trainer.run()
    trainer.model.eval()
    with torch.no_grad():
        probabilities = torch.softmax(trainer.model(trainer.data.x_val), dim=1)
    predicted = probabilities.argmax(dim=1)
    wrong = (predicted != trainer.data.y_val).nonzero().reshape(-1).tolist()
    saved = json.loads((result.run_dir / MISTAKES_FILE).read_text())
    assert set(saved) == {"val"} and saved["val"]["count"] == len(wrong) > 0
    assert saved["val"]["total"] == len(trainer.data.y_val)
    samples = saved["val"]["samples"]
    assert sorted(s["index"] for s in samples) == wrong
    for sample in samples:
        i = sample["index"]
        assert (sample["true"], sample["predicted"]) == (int(trainer.data.y_val[i]), int(predicted[i]))
        assert sample["probability"] == pytest.approx(float(probabilities[i].max()), rel=1e-5)
    assert [s["probability"] for s in samples] == sorted((s["probability"] for s in samples), reverse=True)
    assert result.mistakes["val"].samples[0].index == samples[0]["index"]


def test_an_image_mistake_shows_its_pixels(mnist_dir):
    trainer = Trainer(config("mnist", task__data_dir=str(mnist_dir), task__download=False,
                             training__val_split=0.0, training__epochs=1), runs_dir=False)
    trainer.run()
    raw = (mnist_dir / "MNIST" / "raw" / "t10k-images-idx3-ubyte").read_bytes()
    count = struct.unpack(">I", raw[4:8])[0]
    pixels = torch.tensor(list(raw[16:]), dtype=torch.float32).reshape(count, 1, 28, 28) / 255
    assert torch.allclose(image_of(trainer.data, "test", 7), pixels[7], atol=1e-6)
    assert image_of(build_dataset(config("iris")), "val", 0) is None  # no images


def test_export_plot_draws_the_confusion_matrix_beside_the_charts(runs_dir, tmp_path):
    from tui_trainer.export.plot import plot_runs

    def width(png) -> int:
        return struct.unpack(">I", png.read_bytes()[16:20])[0]

    classified = Trainer(config("iris", training__epochs=2), runs_dir=runs_dir).run()
    fitted = Trainer(config("diabetes", training__epochs=2), runs_dir=runs_dir).run()
    one = plot_runs([classified.run_dir], tmp_path / "iris.png")
    plain = plot_runs([fitted.run_dir], tmp_path / "diabetes.png")
    assert width(one) == pytest.approx(width(plain) * 4 / 3, rel=0.02)  # a fourth panel: the matrix
    both = plot_runs([classified.run_dir, fitted.run_dir], tmp_path / "both.png")
    assert both.is_file()
