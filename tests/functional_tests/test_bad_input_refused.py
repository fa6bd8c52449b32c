"""Every bad input of the hostile-user table (issue 8) is refused up front with a message that
names the field or path, exit 2, no traceback and no run folder."""

from __future__ import annotations

import json
import struct

import pytest

from tui_trainer.cli import main

LOSS_TEMPLATE = "import torch\nimport torch.nn as nn\n{header}\nclass MyLoss(nn.Module):\n{body}"


def refused(capsys, argv: list[str], *expected: str) -> str:
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    for text in expected:
        assert text in err, err
    return err


@pytest.mark.parametrize(("flags", "expected"), [
    (["--seed", "18446744073709551616"], "training.seed: 18446744073709551616 is not allowed"),
    (["--set", "training.threads=99999999999999999999"], "training.threads"),
    (["--epochs", "9" * 30], "at most 9223372036854775807"),
    (["--set", ".=1"], "expected KEY=VALUE"),
    # a section of settings given one value was reported as an unknown lab.name
    (["--set", "lab=true"], "lab: must be a table of settings, got 'true' (on the command line: --set lab.NAME=VALUE)"),
    (["--lr", "-inf"], "optimizer.lr: -inf is not allowed"),
    (["--scheduler", "one-cycle", "--set", "scheduler.pct_start=0.01", "--set", "task.samples=125",
      "--batch-size", "1", "--epochs", "1"], "scheduler.pct_start: pct_start=0.01 over the run's 100"),
    (["--scheduler", "one-cycle", "--set", "scheduler.max_momentum=1"], "scheduler.name: torch refuses one-cycle with max_momentum=1"),
    (["--scheduler", "one-cycle", "--set", "scheduler.div_factor=1e-45"], "div_factor=1e-45"),
    (["--hidden", "100000000000"], "not enough memory for this run"),
    (["--set", "task.samples=1000000000000"], "not enough memory for this run"),
    # the 2-D playground tasks' options
    (["--task", "xor", "--set", "task.noise=-1"], "task.noise: -1 is not allowed; must be a number in [0, 50]"),
    (["--task", "circle", "--set", "task.noise=80"], "task.noise: 80 is not allowed; must be a number in [0, 50]"),
    (["--task", "gauss", "--set", "task.train_ratio=0"],
     "task.train_ratio: 0 is not allowed; must be a whole number in [10, 90]"),
    (["--task", "spiral", "--set", "task.train_ratio=95"], "task.train_ratio: 95 is not allowed"),
    (["--task", "plane", "--set", "task.samples=0"], "task.samples: 0 is not allowed; must be a whole number >= 10"),
    (["--task", "xor", "--set", "task.features=x3"],
     "task.features: ['x3'] is not allowed; 'x3' is none of x1, x2, x1^2, x2^2, x1*x2, sin(x1), sin(x2)"),
    (["--task", "xor", "--set", "task.features=x1,x1"], "task.features: ['x1', 'x1'] is not allowed; 'x1' is given twice"),
    (["--task", "xor", "--set", "task.features="], "task.features: [] is not allowed; give one or more of x1, x2"),
    (["--task", "xor", "--val-split", "0.1"],
     "training.val_split: 0.1 is not allowed for task xor, which splits its points by task.train_ratio"),
    (["--task", "plane", "--set", "task.samples=1000000000000"], "not enough memory for this run"),
    (["--task", "gauss", "--set", "task.classes=1"], "task.classes: 1 is not allowed; must be a whole number in [2, 8]"),
    (["--task", "spiral", "--set", "task.classes=3", "--loss", "bce-logits"], "loss: bce-logits needs"),
    # issue 22's settings
    (["--epochs", "forever"], "training.epochs: 'forever' is not allowed; must be a whole number >= 1 or "
                              "'until-stopped'"),
    (["--epochs", "until-stopped", "--scheduler", "one-cycle"],
     "training.epochs: 'until-stopped' is not allowed with scheduler one-cycle, which sets every step's rate"),
    (["--epochs", "until-stopped", "--scheduler", "cosine"],
     "or set scheduler.T_max to a number of epochs"),
    (["--set", "training.explode_factor=1"], "training.explode_factor: 1 is not allowed; must be a number > 1 or 'off'"),
    (["--set", "training.l1=-0.1"], "training.l1: -0.1 is not allowed; must be a number >= 0"),
    (["--task", "rosenbrock", "--set", "training.l1=0.01"], "training.l1: 0.01 does nothing here"),
])
def test_values_torch_cannot_take_are_refused_before_training(flags, expected, runs_dir, capsys):
    refused(capsys, ["train", *flags, "--device", "cpu", "--runs-dir", str(runs_dir)], expected)
    assert not runs_dir.exists() or not any(runs_dir.iterdir())


def test_config_paths_that_are_no_toml_file_are_refused(tmp_path, capsys):
    binary, deep, huge = tmp_path / "binary.toml", tmp_path / "deep.toml", tmp_path / "huge.toml"
    binary.write_bytes(b"\xff\xfe\x00 latin-1 caf\xe9")
    deep.write_text("a = " + "[" * 5000 + "]" * 5000 + "\n")
    huge.write_text("[optimizer]\nlr = 1" + "0" * 400 + "\n")
    loop = tmp_path / "loop.toml"
    loop.symlink_to(loop)
    for path, expected in ((tmp_path, "is a folder"), ("", "is a folder"), (binary, "not UTF-8 text"),
                           (deep, "too deep"), (huge, "optimizer.lr"), (loop, "cannot be read")):
        refused(capsys, ["train", "--config", str(path), "--dry-run"], expected)


@pytest.mark.parametrize(("header", "body", "expected"), [
    ("", "    def __init__(self, weight):\n        super().__init__()\n", "MyLoss() raised TypeError"),
    ("", "    def __init__(self):\n        raise RuntimeError('no')\n", "MyLoss() raised RuntimeError: no"),
    ("", "    def forward(self, out, y):\n        return 1.0\n", "returned float 1.0, not a tensor"),
    ("", "    def forward(self, out, y):\n        return None\n", "returned NoneType"),
    ("", "    def forward(self, out, y):\n        return out - y\n", "not a single value"),
    ("", "    def forward(self, out, y):\n        return (out - y).abs().mean().detach()\n", "no gradient"),
    ("", "    def forward(self, out, y):\n        return (torch.cat([out, out]) - y).abs().mean()\n", "must match"),
    ("import sys\nsys.exit(3)", "    pass\n", "importing"),
    ("raise KeyboardInterrupt", "    pass\n", "raised KeyboardInterrupt"),
    ("", "    def forward(self, out, y):\n        raise SystemExit(4)\n", "called sys.exit(4)"),
])
def test_broken_user_losses_are_one_message_with_the_shapes(header, body, expected, tmp_path, runs_dir, capsys):
    file = tmp_path / "my_loss.py"
    file.write_text(LOSS_TEMPLATE.format(header=header, body=body))
    err = refused(capsys, ["train", "--task", "regression", "--set", "task.samples=100", "--loss",
                           f"{file}:MyLoss", "--runs-dir", str(runs_dir), "--device", "cpu"], expected, "loss")
    if "forward" in body and "exit" not in body and "raise" not in body:
        assert "the model gives (32, 1) float32 for a batch of 32, the targets are (32, 1) float32" in err
    assert not runs_dir.exists() or not any(runs_dir.iterdir())


def test_damaged_mnist_files_name_the_file_and_the_problem(mnist_dir, runs_dir, capsys):
    raw = mnist_dir / "MNIST" / "raw"
    labels = raw / "train-labels-idx1-ubyte"
    good = labels.read_bytes()
    argv = ["train", "--task", "mnist", "--data-dir", str(mnist_dir), "--set", "task.download=false",
            "--runs-dir", str(runs_dir), "--device", "cpu"]
    labels.write_bytes(struct.pack(">II", 2049, 100) + good[8:108])
    refused(capsys, argv, "holds 200 images but train-labels-idx1-ubyte holds 100 labels")
    labels.write_bytes(good[:10] + bytes([167]) + good[11:])
    refused(capsys, argv, "label 167 (item 2) is outside 0-9")
    labels.write_bytes(b"\x12\x34\x56\x78" + good[4:])
    refused(capsys, argv, "is not an IDX labels file: it starts with 0x12345678")
    labels.write_bytes(b"")
    refused(capsys, argv, f"{labels} is 0 bytes long")
    assert not runs_dir.exists() or not any(runs_dir.iterdir())


def test_gz_only_files_are_read_offline(mnist_dir, runs_dir, capsys):
    import gzip

    raw = mnist_dir / "MNIST" / "raw"
    for path in list(raw.iterdir()):
        path.with_name(path.name + ".gz").write_bytes(gzip.compress(path.read_bytes()))
        path.unlink()
    assert main(["train", "--task", "mnist", "--data-dir", str(mnist_dir), "--set", "task.download=false",
                 "--epochs", "1", "--runs-dir", str(runs_dir), "--device", "cpu", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["epochs_run"] == 1


def test_json_has_null_for_non_finite_numbers(runs_dir, capsys):
    assert main(["train", "--set", "task.slope=1e308", "--json", "--epochs", "2", "--device", "cpu",
                 "--runs-dir", str(runs_dir)]) == 1
    out = capsys.readouterr().out
    data = json.loads(out, parse_constant=lambda name: pytest.fail(f"{name} in --json output"))
    assert data["stopped_reason"] == "diverged" and data["parameters"]["weight"] is None


def test_a_loss_refusing_diverged_outputs_counts_as_divergence(runs_dir, capsys):
    assert main(["train", "--task", "binary", "--loss", "bce", "--lr", "1e18", "--epochs", "3",
                 "--device", "cpu", "--runs-dir", str(runs_dir)]) == 1
    assert "Run ended: diverged: the model's outputs are not finite" in capsys.readouterr().out
