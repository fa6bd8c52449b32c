"""Odd paths and files a hostile user (or a bad day) gives: a name longer than file systems
take, an image that unpacks to a huge picture, a symbolic link loop among the images, a huge
lr-find end, a runs folder on a full disk. Each is a message naming the path, never a traceback."""

from __future__ import annotations

import errno
import json

import pytest

from conftest import make_shapes_dir
from tui_trainer.cli import main

LONG = "n" * 300  # a name of 300 bytes: file systems take at most 255


@pytest.mark.parametrize("args, named", [
    (["train", "--task", "csv", "--set", f"task.path={LONG}.csv", "--dry-run"], "task.path: "),
    (["train", "--task", "images", "--set", f"task.path=/tmp/{LONG}", "--dry-run"], "task.path: "),
    (["train", "--loss", f"{LONG}.py:MyLoss", "--dry-run"], "loss: "),
    (["train", "--task", "mnist", "--data-dir", f"{LONG}/data", "--dry-run"], "task.data_dir: "),
    (["train", "--resume", LONG], "--resume: "),
    (["export-history", LONG], "RUN_DIR: "),
    (["export-plot", LONG], "RUN_DIR: "),
    (["train", "--save-config", f"{LONG}.toml", "--dry-run"], "--save-config: "),
    (["export-script", "-o", f"out/{LONG}.py"], "-o: "),
])
def test_a_name_longer_than_file_systems_take_is_refused_naming_the_field(args, named, tmp_path,
                                                                           monkeypatch, capsys):
    # Before: OSError: [Errno 36] File name too long, a traceback.
    monkeypatch.chdir(tmp_path)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert named in err and "bytes; file systems take names of at most 255 bytes" in err, err


def test_a_decompression_bomb_among_the_images_is_refused_naming_the_file(tmp_path, runs_dir, capsys):
    # A 48 KB PNG of 20000 x 20000 pixels: before, PIL's DecompressionBombError, a traceback.
    from PIL import Image

    folder = make_shapes_dir(tmp_path / "shapes", per_class=3)
    bomb = folder / "circle" / "bomb.png"
    Image.new("1", (20000, 20000)).save(bomb, optimize=True)
    assert bomb.stat().st_size < 100_000
    assert main(["train", "--task", "images", "--set", f"task.path={folder}", "--epochs", "1",
                 "--runs-dir", str(runs_dir)]) == 2
    err = capsys.readouterr().err
    assert f"task.path: {bomb}: not read: Image size (400000000 pixels) exceeds limit" in err
    assert not runs_dir.exists()


def test_a_symbolic_link_loop_among_the_images_is_refused_naming_the_link(tmp_path, runs_dir, capsys):
    # Before: followed about 40 levels deep, 6 images trained as 246.
    folder = make_shapes_dir(tmp_path / "shapes", per_class=2)
    (folder / "circle" / "again").symlink_to(folder / "circle")
    assert main(["train", "--task", "images", "--set", f"task.path={folder}", "--epochs", "1",
                 "--runs-dir", str(runs_dir)]) == 2
    err = capsys.readouterr().err
    assert f"{folder / 'circle' / 'again'}: a folder reached a second time through a symbolic link" in err


def test_lr_find_with_a_huge_end_prints_its_curve_and_valid_json(capsys):
    # Before: end / start overflowed to infinity: OverflowError, and --json printed Infinity.
    assert main(["lr-find", "--task", "iris", "--end", "1e308", "--steps", "20"]) == 0
    assert "learning rate (log scale)" in capsys.readouterr().out
    assert main(["lr-find", "--task", "iris", "--end", "1e308", "--steps", "20", "--json"]) == 0
    found = json.loads(capsys.readouterr().out, parse_constant=lambda name: pytest.fail(f"{name} in JSON"))
    assert found["lrs"][0] == 1e-7 and all(lr is None or 0 < lr <= 1e308 for lr in found["lrs"])


def test_a_runs_folder_on_a_full_disk_is_refused_before_training(runs_dir, monkeypatch, capsys):
    # Before: writing config.toml failed with an ENOSPC traceback. Now the run is refused
    # before its first step, naming the folder, and leaves no empty run folder behind.
    from tui_trainer.engine import rundir

    written = rundir.replace_text

    def full(path, text):
        if path.name == "config.toml":
            raise OSError(errno.ENOSPC, "No space left on device")
        written(path, text)

    monkeypatch.setattr(rundir, "replace_text", full)
    assert main(["train", "--task", "iris", "--epochs", "1", "--runs-dir", str(runs_dir)]) == 2
    captured = capsys.readouterr()
    assert f"error: runs folder {runs_dir}: cannot write config.toml in" in captured.err
    assert "No space left on device" in captured.err and "Epoch" not in captured.out
    assert list(runs_dir.iterdir()) == []


def test_a_table_of_10000_columns_is_read_and_planned(tmp_path, capsys):
    # Before: planning looked each column up in a list, twice, and picked columns from pandas'
    # one block per column: 2,000 columns took 6 s, 10,000 minutes, 100,000 never started. Now linear (a hang
    # here, not a slow pass, is what this test catches).
    wide = tmp_path / "wide.csv"
    columns = 10_000
    rows = [",".join(f"c{i}" for i in range(columns)) + ",y"]
    rows += [",".join(f"{(r * 7 + i) % 13 / 10}" for i in range(columns)) + f",{r % 2}" for r in range(6)]
    wide.write_text("\n".join(rows) + "\n")
    assert main(["train", "--task", "csv", "--set", f"task.path={wide}", "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "task.target: give the column to predict" in err and "... and 9,951 more columns" in err
    assert main(["train", "--task", "csv", "--set", f"task.path={wide}", "--set", "task.target=y",
                 "--hidden", "4", "--dry-run"]) == 0
    assert "target 'y' holds 2 distinct whole numbers: classification" in capsys.readouterr().err


@pytest.mark.parametrize("cell", ["inf", "1e400", "-inf"])
def test_an_infinite_number_in_a_csv_is_refused_naming_column_and_line(cell, tmp_path, runs_dir, capsys):
    # Before: the run started and "diverged at step 1 ... try a lower learning rate".
    table = tmp_path / "table.csv"
    table.write_text(f"a,b,y\n1,2,0\n3,{cell},1\n4,5,0\n6,7,1\n5,5,1\n")
    assert main(["train", "--task", "csv", "--set", f"task.path={table}", "--set", "task.target=y",
                 "--runs-dir", str(runs_dir)]) == 2
    err = capsys.readouterr().err
    assert f"task.path: {table}: column 'b' holds {'-' if cell == '-inf' else ''}inf at line 3" in err
    assert not runs_dir.exists()


def test_torch_warnings_show_once_without_file_paths(tmp_path):
    # Before: lab wrong_loss printed torch's UserWarning with its source path for every batch
    # size; resuming from a plain-pickle model.pt printed torch's pickle-protocol warning.
    import contextlib
    import io
    import os
    import subprocess
    import sys

    env = dict(os.environ, XDG_DATA_HOME=str(tmp_path))
    lab = subprocess.run([sys.executable, "-m", "tui_trainer", "lab", "wrong_loss", "--task", "iris", "--loss",
                          "mse", "--epochs", "2"], capture_output=True, text=True, env=env, timeout=120)
    assert lab.returncode == 0, lab.stderr
    warned = [line for line in lab.stderr.splitlines() if "Warning" in line or "warning" in line]
    assert len(warned) == 1 and warned[0].startswith("warning (torch): Using a target size"), lab.stderr
    assert "loss.py" not in lab.stderr
    runs = tmp_path / "runs"
    with contextlib.redirect_stdout(io.StringIO()):  # a run to resume, trained in this process
        assert main(["train", "--task", "iris", "--epochs", "1", "--save-model", "--runs-dir", str(runs)]) == 0
    run_dir = next(runs.iterdir())
    (run_dir / "model.pt").write_bytes(b"\x80\x04 a plain pickle")
    resume = subprocess.run([sys.executable, "-m", "tui_trainer", "train", "--resume", str(run_dir), "--epochs",
                             "2"], capture_output=True, text=True, env=env, timeout=120)
    assert resume.returncode == 2 and "is not a readable checkpoint" in resume.stderr
    assert "UserWarning" not in resume.stderr and "warning (" not in resume.stderr, resume.stderr
