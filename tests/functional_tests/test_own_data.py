"""Bring your own data: the csv and images tasks, and the cnn model, end to end."""

import json

import pytest
import torch

from conftest import make_shapes_dir, write_regression_csv
from helpers import config
from tui_trainer.cli import main
from tui_trainer.config import resolve_flags
from tui_trainer.engine.checkpoint import load_model
from tui_trainer.engine.data import build_dataset, split
from tui_trainer.engine.loop import train
from tui_trainer.errors import ConfigError


def test_csv_with_numeric_categorical_and_text_label_columns_learns_to_90_percent(table_csv, runs_dir):
    cfg = config("csv", task__path=str(table_csv), task__target="species")
    assert cfg.task_spec.kind == "multiclass" and cfg.classes == 3
    assert cfg.task_spec.note == ("target 'species' holds text: classification with 3 classes "
                                  "(alpha, beta, gamma); one-hot: color")
    result = train(cfg, runs_dir=runs_dir)
    assert result.final.val_accuracy >= 0.9
    assert result.class_names == ["alpha", "beta", "gamma"]
    assert result.param_count == (2 + 3) * 64 + 64 + 64 * 3 + 3  # x1, x2 and three colours


def test_regression_csv_is_decided_from_its_target_and_reaches_r2_09(tmp_path, capsys):
    table = write_regression_csv(tmp_path / "reg.csv")  # semicolons: sniffed
    code = main(["train", "--task", "csv", "--set", f"task.path={table}", "--set", "task.target=y",
                 "--epochs", "30", "--runs-dir", str(tmp_path / "runs"), "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["loss"] == "mse"  # the recipe's cross-entropy does not fit: the kind's first loss
    assert out["final"]["val_r2"] >= 0.9 and out["classes"] is None


BAD_TABLES = {
    "no such file": (None, "y", "task.path: {file}: no such file"),
    "empty file": ("", "y", "task.path: {file}: the file is empty"),
    "header only": ("a,y\n", "y", "task.path: {file}: the file has a header but no rows"),
    "no such target column": ("a,b\n1,2\n", "y", "task.target: {file}: no column 'y' to predict "
                              "(task.target); the columns are 'a', 'b'"),
    "one class only": ("a,y\n1,x\n2,x\n", "y", "task.target: {file}: column 'y' (the target) has one "
                       "class only ('x'); classification needs at least two"),
    "a column neither numeric nor a small category set": (
        "a,name,y\n" + "".join(f"{i},n{i},{i % 2}\n" for i in range(30)), "y",
        "task.features: {file}: column 'name' is neither numeric nor a small category set (text with "
        "30 distinct values, e.g. 'n0', 'n1', 'n2'; at most 20 are one-hot encoded); leave it out "
        "with task.features"),
    "missing values": ("a,b,y\n1,2,x\n,3,y\n4,,x\n5,6,y\n,7,x\n", "y",
                       "task.missing: {file}: 3 rows have missing values (first at lines 3, 4, 6; "
                       "in columns 'a', 'b'); set task.missing to drop, mean or mode"),
    "ragged rows": ("a,b,y\n1,2,x\n3,4,y,9\n", "y", "task.path: {file}: line 3 has 4 fields where the "
                    "header has 3 (ragged rows); every row needs one value per column"),
    "a text target for regression": ("a,y\n1,x\n2,z\n", "y --set task.kind=regression",
                                     "task.kind: {file}: column 'y' holds text, not numbers; "
                                     "regression needs a numeric target (use task.kind = classification)"),
}


@pytest.mark.parametrize("case", list(BAD_TABLES))
def test_each_bad_file_exits_2_naming_the_file_row_or_column(case, tmp_path, capsys):
    text, target, message = BAD_TABLES[case]
    file = tmp_path / "data.csv"
    if text is not None:
        file.write_text(text)
    target, *more = target.split(" ")
    code = main(["train", "--task", "csv", "--set", f"task.path={file}", "--set", f"task.target={target}",
                 *more, "--runs-dir", str(tmp_path / "runs")])
    err = capsys.readouterr().err
    assert code == 2
    assert err == "error: invalid configuration:\n  " + message.format(file=file) + "\n"
    assert not (tmp_path / "runs").exists()


def test_gaps_are_dropped_or_filled_with_the_training_splits_statistics(tmp_path):
    file = tmp_path / "gaps.csv"
    file.write_text("a,c,y\n" + "".join(f"{'' if i % 10 == 3 else i},{'' if i % 10 == 5 else 'pq'[i % 2]},"
                                        f"{i % 2}\n" for i in range(40)))
    sizes = {}
    for missing in ("drop", "mean", "mode"):
        data = build_dataset(config("csv", task__path=str(file), task__target="y", task__missing=missing,
                                    training__val_split=0.25))
        sizes[missing] = len(data.x_train) + len(data.x_val)
        assert torch.isfinite(data.x_train).all() and torch.isfinite(data.x_val).all()
        assert data.x_train[:, 0].mean().abs() < 1e-5  # standardized with its own statistics
    assert sizes == {"drop": 32, "mean": 40, "mode": 40}


def test_a_category_seen_only_in_validation_is_all_zeros(tmp_path):
    # The split of 20 rows with seed 42 holds out these rows, the first of them the rare one.
    held_out = split(torch.arange(20), torch.arange(20), 0.2, torch.Generator().manual_seed(42))[2]
    rare = int(held_out[0])
    file = tmp_path / "rare.csv"
    file.write_text("a,c,y\n" + "".join(f"{i},{'rare' if i == rare else 'pq'[i % 2]},{i % 2}\n"
                                        for i in range(20)))
    data = build_dataset(config("csv", task__path=str(file), task__target="y"))
    assert data.x_train.shape == (16, 3)  # a, then c one-hot over the training split's p and q
    assert data.x_val[0, 1:].tolist() == [0.0, 0.0]
    assert data.x_val[1:, 1:].sum(dim=1).tolist() == [1.0, 1.0, 1.0]


def test_shape_folder_trains_a_cnn_to_90_percent(shapes_dir, runs_dir):
    cfg = config("images", task__path=str(shapes_dir), task__size=16, model__channels=[8, 16],
                 optimizer__lr=0.01, training__epochs=12)
    assert cfg.model.kind == "cnn" and cfg.task_spec.note == "3 classes: circle, square, triangle"
    result = train(cfg, runs_dir=runs_dir)
    assert result.final.val_accuracy >= 0.9, [m.val_accuracy for m in result.history]
    assert result.class_names == ["circle", "square", "triangle"]


def test_rgb_images_with_a_separate_validation_folder(tmp_path, shapes_dir):
    val = make_shapes_dir(tmp_path / "val", per_class=4, seed=1)
    data = build_dataset(config("images", task__path=str(shapes_dir), task__val_path=str(val),
                                task__color="rgb", task__size=8))
    assert data.image_size == (3, 8, 8) and data.x_train.shape == (120, 192)
    assert data.x_val.shape == (12, 192) and data.y_val.tolist() == [0] * 4 + [1] * 4 + [2] * 4
    assert data.x_train.min() >= -1 and data.x_train.max() <= 1  # ToTensor, then Normalize(0.5, 0.5)


def test_image_folder_problems_name_the_folder_or_the_file(tmp_path, shapes_dir, capsys):
    (tmp_path / "flat").mkdir()
    (tmp_path / "flat" / "a.png").write_bytes(b"")
    broken = shapes_dir / "square" / "broken.png"
    broken.write_text("not a png")
    cases = [(tmp_path / "nowhere", f"task.path: {tmp_path / 'nowhere'}: no such folder"),
             (tmp_path / "flat", f"task.path: {tmp_path / 'flat'}: no class subfolders; put each class's "
              "images in a subfolder named after the class (e.g. cats/1.png, dogs/2.png)"),
             (shapes_dir, f"task.path: {broken}: not a readable image (UnidentifiedImageError)")]
    for folder, message in cases:
        code = main(["train", "--task", "images", "--set", f"task.path={folder}", "--runs-dir",
                     str(tmp_path / "runs")])
        assert code == 2 and message in capsys.readouterr().err


def test_cnn_is_for_image_tasks_and_its_blocks_must_fit_the_image():
    with pytest.raises(ConfigError) as refused:
        resolve_flags(None, {"task.name": "iris", "model.kind": "cnn"})
    assert str(refused.value) == ("model.kind: cnn needs an image task (mnist, fashion-mnist, images); "
                                  "task iris has no images; use mlp")
    with pytest.raises(ConfigError) as refused:
        resolve_flags(None, {"task.name": "mnist", "model.kind": "cnn", "model.channels": [4] * 5})
    assert str(refused.value) == ("model.channels: 5 blocks shrink 28x28 images to nothing at block 5 "
                                  "(each halves them); use fewer blocks or larger images")


def test_cnn_on_mnist_idx_files_trains_saves_and_loads(mnist_dir, tmp_path, capsys):
    code = main(["train", "--task", "mnist", "--data-dir", str(mnist_dir), "--set", "task.download=false",
                 "--set", "model.kind=cnn", "--set", "model.channels=8", "--hidden", "32", "--epochs", "4",
                 "--set", "optimizer.lr=0.003", "--runs-dir", str(tmp_path / "runs"), "--save-model"])
    out = capsys.readouterr().out
    assert code == 0
    assert out.splitlines()[0] == ("mnist: 160 training / 40 validation / 50 test samples · model 50,618 "
                                   "parameters · cpu (CPU)")  # conv 8*9+8, head 8*14*14*32+32 and 32*10+10
    assert float(out.split("val_accuracy ")[1].split("%")[0]) >= 90
    run_dir = next((tmp_path / "runs").iterdir())
    model, saved = load_model(run_dir / "model.pt")
    assert isinstance(model[1], torch.nn.Conv2d) and saved.model.channels == [8]
    assert model(torch.zeros(2, 784)).shape == (2, 10)


def test_csv_runs_save_resume_and_compare(table_csv, tmp_path, capsys):
    runs = str(tmp_path / "runs")
    common = ["--task", "csv", "--set", f"task.path={table_csv}", "--set", "task.target=species"]
    assert main(["train", *common, "--epochs", "4", "--runs-dir", runs, "--json"]) == 0
    whole = [m["train_loss"] for m in json.loads(capsys.readouterr().out)["history"]]
    assert main(["train", *common, "--epochs", "2", "--runs-dir", runs, "--json", "--save-model"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert main(["train", "--resume", first["run_dir"], "--epochs", "4", "--json"]) == 0
    resumed = [m["train_loss"] for m in json.loads(capsys.readouterr().out)["history"]]
    assert resumed == pytest.approx(whole, rel=1e-6)
    model, _ = load_model(first["model_file"])
    assert model(torch.zeros(1, 5)).shape == (1, 3)  # x1, x2 and the colours one-hot

    assert main(["compare", *common, "--epochs", "3", "--vary", "optimizer.name=sgd,adam",
                 "--runs-dir", runs]) == 0
    out = capsys.readouterr().out
    assert "#1 optimizer=sgd" in out and "#2 optimizer=adam" in out
    assert out.splitlines()[0].startswith("[#1 optimizer=sgd] csv: 240 training / 60 validation samples")
