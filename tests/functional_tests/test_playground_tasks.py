"""The 2-D playground tasks train to the figures their recipes promise, and say when they diverge."""

import json

import pytest

from helpers import config
from tui_trainer.cli import main
from tui_trainer.engine.loop import train


@pytest.mark.parametrize(("task", "accuracy"), [("xor", 0.95), ("circle", 0.95), ("gauss", 0.95),
                                                ("spiral", 0.9)])
def test_each_recipe_learns_its_task_with_the_default_options(task, accuracy, runs_dir):
    result = train(config(task), runs_dir=runs_dir)
    assert result.reason == "completed"
    assert result.final.val_accuracy >= accuracy
    assert (len(result.history), result.config.training.val_split) == (
        result.config.training.epochs, 0.5)


def test_plane_regression_fits_the_tilted_plane(runs_dir):
    result = train(config("plane"), runs_dir=runs_dir)
    assert result.final.val_r2 >= 0.99 and result.final.val_accuracy is None


def test_the_bumps_recipe_fits_the_six_bumps(runs_dir):
    result = train(config("bumps"), runs_dir=runs_dir)
    assert result.reason == "completed" and result.final.val_r2 >= 0.95


@pytest.mark.parametrize(("task", "classes", "accuracy"), [("gauss", 4, 0.95), ("spiral", 3, 0.85)])
def test_more_classes_learn_with_cross_entropy_and_one_output_each(task, classes, accuracy, runs_dir):
    result = train(config(task, task__classes=classes), runs_dir=runs_dir)
    assert result.config.loss.name == "cross-entropy" and result.reason == "completed"
    assert result.final.val_accuracy >= accuracy


def test_more_features_widen_the_model_and_still_learn(runs_dir):
    result = train(config("circle", task__features="x1^2,x2^2", model__hidden=[],
                          training__epochs=10), runs_dir=runs_dir)
    assert result.param_count == 3  # nn.Linear(2, 1) on x1^2, x2^2: the circle is linear there
    assert result.final.val_accuracy >= 0.95


def test_sgd_with_a_too_high_learning_rate_diverges_and_says_so(runs_dir, capsys):
    code = main(["train", "--task", "plane", "--optimizer", "sgd", "--lr", "5", "--device", "cpu",
                 "--runs-dir", str(runs_dir), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 1 and out["stopped_reason"] == "diverged"
    assert out["message"].startswith("loss exploded: ") and " in epoch 1 (step " in out["message"]
    assert out["message"].endswith("try a lower learning rate")


def test_a_config_file_with_bad_features_is_refused_naming_the_field(tmp_path, runs_dir, capsys):
    path = tmp_path / "run.toml"
    path.write_text('[task]\nname = "spiral"\nfeatures = ["x1", "cos(x1)"]\n')
    assert main(["train", "--config", str(path), "--runs-dir", str(runs_dir)]) == 2
    assert "task.features: ['x1', 'cos(x1)'] is not allowed; 'cos(x1)' is none of x1, x2" in \
        capsys.readouterr().err


def test_list_shows_the_tasks_and_their_options(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for task in ("circle", "xor", "gauss", "spiral", "plane", "bumps"):
        assert f"\n  {task} " in out
    assert "features = x1,x2  (the model's inputs, computed from each point (x1, x2); must be one " \
           "or more of x1, x2, x1^2, x2^2, x1*x2, sin(x1), sin(x2)" in out
    assert "train_ratio = 50" in out and "seed = training" in out
