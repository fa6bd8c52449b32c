"""A test set, used once: the t10k files, ``task.test_path`` (csv, images), ``training.test_split``
(the generated, scikit-learn and playground tasks). Scored once at the end on the final weights,
reported in the summary, ``--json``, ``summary.json`` and the leaderboard; nothing during training
sees it."""

from __future__ import annotations

import json
from collections import Counter

import pytest
import torch

from conftest import make_shapes_dir, write_regression_csv
from helpers import config
from tui_trainer.cli import main
from tui_trainer.engine.data import build_dataset, load_sklearn, split, standardize
from tui_trainer.engine.events import Callback
from tui_trainer.engine.loop import Trainer, train
from tui_trainer.engine.rundir import read_run
from tui_trainer.errors import ConfigError, UserFacingError

SPLIT_TASKS = ["linear", "regression", "binary", "multiclass", "circle", "xor", "gauss", "spiral", "plane",
               "digits", "iris", "wine", "breast-cancer", "diabetes"]


def own_data(task: str, tmp_path, mnist_dir) -> dict:
    """The options of a task whose test set is its own files or folder."""
    if task in ("mnist", "fashion-mnist"):
        from conftest import make_vision_dir

        root = mnist_dir if task == "mnist" else make_vision_dir(tmp_path / "fashion", "FashionMNIST")
        return {"task__data_dir": str(root), "task__download": False}
    if task == "csv":
        return {"task__path": str(write_regression_csv(tmp_path / "train.csv")), "task__target": "y",
                "task__test_path": str(write_regression_csv(tmp_path / "test.csv", rows=60, seed=1))}
    shapes = make_shapes_dir(tmp_path / "shapes", per_class=10)
    return {"task__path": str(shapes), "task__size": 12, "model__channels": [4],
            "task__test_path": str(make_shapes_dir(tmp_path / "shapes-test", per_class=4, seed=1))}


@pytest.mark.parametrize("task", SPLIT_TASKS + ["mnist", "fashion-mnist", "csv", "images"])
def test_every_task_with_a_test_set_reports_its_test_figures(task, tmp_path, mnist_dir, runs_dir):
    extra = ({"training__test_split": 0.2} if task in SPLIT_TASKS
             else own_data(task, tmp_path, mnist_dir))
    cfg = config(task, training__epochs=2, **extra)
    result = train(cfg, runs_dir=runs_dir)
    final = result.final
    assert result.ok and final.test_loss is not None
    regression = cfg.task_spec.kind == "regression"
    assert (final.test_r2 if regression else final.test_accuracy) is not None
    assert (final.test_accuracy if regression else final.test_r2) is None
    summary = read_run(result.run_dir).summary
    assert summary["final"]["test_loss"] == pytest.approx(final.test_loss)
    if not regression:  # the classifier's confusion matrices: validation and test
        assert set(summary["confusion"]) == {"val", "test"}
        assert sum(map(sum, summary["confusion"]["test"]["matrix"])) == len(
            build_dataset(cfg).x_test)


def test_tasks_without_a_test_set_report_none_and_train_as_before(runs_dir):
    result = train(config("iris", training__epochs=2), runs_dir=runs_dir)
    final = result.final
    assert final.test_loss is None and final.test_accuracy is None and final.test_r2 is None
    assert set(result.confusion) == {"val"}
    # off by default: the data is split as before, bit for bit (no draw for a test split)
    data = build_dataset(config("iris"))
    x, y = load_sklearn("iris")
    x_train, y_train, x_val, y_val = split(x, y, 0.2, torch.Generator().manual_seed(42))
    assert torch.equal(data.x_train, standardize(x_train, x_val)[0]) and torch.equal(data.y_val, y_val)
    assert data.x_test is None


@pytest.mark.parametrize("task", ["iris", "spiral", "regression"])
def test_the_test_split_is_held_out_first_and_the_three_sets_share_no_sample(task):
    data = build_dataset(config(task, training__test_split=0.25))
    n = {"iris": 150, "spiral": 500, "regression": 1000}[task]
    assert len(data.x_test) == round(n * 0.25)
    assert len(data.x_train) + len(data.x_val) + len(data.x_test) == n
    assert len(data.x_val) == round((n - len(data.x_test)) * (0.5 if task == "spiral" else 0.2))
    whole = build_dataset(config(task))  # the same samples, none held out as a test set
    rows = Counter(tuple(row.tolist()) for part in (data.x_train, data.x_val, data.x_test) for row in part)
    if task == "iris":  # standardized with another training split's statistics: compare the targets
        rows = Counter(data.y_train.tolist() + data.y_val.tolist() + data.y_test.tolist())
        assert rows == Counter(whole.y_train.tolist() + whole.y_val.tolist())
    else:
        assert rows == Counter(tuple(row.tolist()) for part in (whole.x_train, whole.x_val) for row in part)


class SeenRows(Callback):
    """Every input row the model is called on, with what the run was doing: training steps and
    validation (until the run's end is being scored), then the final scoring."""

    def __init__(self) -> None:
        self.during: list[torch.Tensor] = []
        self.final: list[torch.Tensor] = []
        self.ended = False

    def watch(self, model: torch.nn.Module) -> None:
        model.register_forward_pre_hook(
            lambda _module, inputs: (self.final if self.ended else self.during).append(inputs[0].detach().clone()))

    def on_epoch_end(self, event) -> None:
        self.ended = event.epoch == event.epochs  # after the last epoch's validation: the final scoring


def test_no_test_sample_reaches_a_training_step_or_a_validation_score():
    cfg = config("regression", training__test_split=0.25, training__epochs=3, training__batch_size=50,
                 training__early_stopping_patience=5)
    seen = SeenRows()
    trainer = Trainer(cfg, [seen], runs_dir=False)
    trainer.get_ready()
    seen.watch(trainer.model)
    result = trainer.run()
    test_rows = {tuple(row.tolist()) for row in trainer.data.x_test}
    during = [tuple(row.tolist()) for batch in seen.during for row in batch]
    assert during and not test_rows & set(during)  # steps, validation, the layer figures: none
    scored = [tuple(row.tolist()) for batch in seen.final for row in batch]
    assert test_rows <= set(scored)  # then scored once at the end
    assert result.final.test_loss is not None and len(trainer.data.x_test) == 250


def test_mnist_is_scored_on_its_t10k_files(mnist_dir, runs_dir, capsys):
    from torchvision import datasets, transforms

    code = main(["train", "--task", "mnist", "--data-dir", str(mnist_dir), "--set", "task.download=false",
                 "--epochs", "3", "--device", "cpu", "--runs-dir", str(runs_dir), "--save-model", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["final"]["test_accuracy"] is not None
    reference = datasets.MNIST(str(mnist_dir), train=False, download=False, transform=transforms.Compose(
        [transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))]))
    images = torch.stack([reference[i][0].flatten() for i in range(len(reference))])
    labels = torch.tensor([reference[i][1] for i in range(len(reference))])
    from tui_trainer.engine.checkpoint import load_model

    model, _ = load_model(out["model_file"])
    with torch.no_grad():
        outputs = model(images)
    assert len(images) == 50
    assert out["final"]["test_accuracy"] == pytest.approx(float((outputs.argmax(1) == labels).float().mean()))
    assert out["final"]["test_loss"] == pytest.approx(
        float(torch.nn.functional.cross_entropy(outputs, labels)), rel=1e-5)
    assert out["confusion"]["test"]["classes"] == list("0123456789")
    capsys.readouterr()
    assert main(["train", "--task", "mnist", "--data-dir", str(mnist_dir), "--set", "task.download=false",
                 "--epochs", "1", "--device", "cpu", "--runs-dir", str(runs_dir)]) == 0
    text = capsys.readouterr().out
    assert "160 training / 40 validation / 50 test samples" in text
    assert "  test set:    test_loss " in text and "test_accuracy " in text


def test_the_summary_and_the_leaderboard_show_the_test_set_when_there_is_one(runs_dir, capsys):
    base = ["--task", "iris", "--epochs", "3", "--device", "cpu", "--runs-dir", str(runs_dir)]
    assert main(["compare", *base, "--vary", "optimizer.lr=0.01,0.1", "--set", "training.test_split=0.2"]) == 0
    header = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("rank"))
    assert "test acc" in [cell.strip() for cell in header.split("  ")]
    assert main(["compare", *base, "--vary", "optimizer.lr=0.01,0.1"]) == 0
    header = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("rank"))
    assert "test" not in header


def test_test_files_and_folders_that_do_not_fit_are_refused(tmp_path, table_csv):
    other = tmp_path / "other.csv"
    other.write_text("x1,x2,species\n0.1,0.2,alpha\n")
    with pytest.raises(ConfigError) as info:
        config("csv", task__path=str(table_csv), task__target="species", task__test_path=str(other))
    assert str(info.value.problems[0]).startswith(f"task.test_path: {other}: no column 'color'")
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("x1,x2,color,species\n0.1,0.2,red,delta\n")
    cfg = config("csv", task__path=str(table_csv), task__target="species", task__test_path=str(unknown))
    with pytest.raises(UserFacingError, match="task.test_path: .*class 'delta' of column 'species' is not one"):
        build_dataset(cfg)
    shapes = make_shapes_dir(tmp_path / "shapes", per_class=2)
    wrong = tmp_path / "wrong"
    (wrong / "circle").mkdir(parents=True)
    with pytest.raises(ConfigError) as info:
        config("images", task__path=str(shapes), task__test_path=str(wrong))
    assert str(info.value.problems[0]).startswith("task.test_path: its class subfolders (circle)")


@pytest.mark.parametrize("task, words", [("mnist", "its own test files"), ("csv", "task.test_path"),
                                         ("rosenbrock", "has no data to hold out")])
def test_a_test_split_is_refused_where_the_test_set_comes_from_elsewhere(task, words, table_csv):
    extra = {"task__path": str(table_csv), "task__target": "species"} if task == "csv" else {}
    with pytest.raises(ConfigError) as info:
        config(task, training__test_split=0.2, **extra)
    assert any(p.field == "training.test_split" and words in p.message for p in info.value.problems)
    with pytest.raises(ConfigError) as info:
        config("iris", training__test_split=0.9, training__val_split=0.9)
    assert info.value.problems[0].field == "training.test_split"
