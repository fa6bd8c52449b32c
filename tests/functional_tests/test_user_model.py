"""Your own model: ``model.kind = "file"``, ``--model path.py:Class`` with ``[model.args]``. It
trains, races in compare, resumes (refused once its file changed), exports to a script that runs
without the file, and every way the file can be wrong is refused before training, naming it."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from helpers import config, write_resmlp
from tui_trainer.cli import main
from tui_trainer.engine.loop import Trainer


def train_json(capsys, *args: str) -> tuple[int, dict]:
    capsys.readouterr()
    code = main(["train", *args, "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out) if out else {}


def test_the_residual_mlp_trains_on_iris_and_digits(tmp_path, runs_dir, capsys):
    model = write_resmlp(tmp_path)
    code, iris = train_json(capsys, "--task", "iris", "--model", model, "--epochs", "30", "--device", "cpu",
                            "--runs-dir", str(runs_dir))
    assert code == 0 and iris["final"]["val_accuracy"] >= 0.9
    assert iris["config"]["model"] == {**iris["config"]["model"], "kind": "file", "path": model, "args": {}}
    assert iris["param_count"] == 4 * 32 + 32 + 2 * (2 * 32 + 32 * 32 + 32) + 32 * 3 + 3
    # the per-layer figures: every nn.Linear it holds, by its path in the model
    names = [layer["name"] for layer in iris["history"][0]["layers"]]
    assert names == ["stem: Linear(4→32)", "blocks.0.fc: Linear(32→32)", "blocks.1.fc: Linear(32→32)",
                     "head: Linear(32→3)"]
    assert all(layer["grad_norm"] is not None for layer in iris["history"][0]["layers"])
    code, digits = train_json(capsys, "--task", "digits", "--model", model, "--set", "model.args.inputs=64",
                              "--set", "model.args.classes=10", "--set", "model.args.width=48",
                              "--epochs", "8", "--device", "cpu", "--runs-dir", str(runs_dir))
    assert code == 0 and digits["final"]["val_accuracy"] >= 0.9
    assert digits["config"]["model"]["args"] == {"inputs": 64, "classes": 10, "width": 48}


def test_model_args_come_from_a_config_table_and_the_flags_entry_by_entry(tmp_path):
    model = write_resmlp(tmp_path)
    file = tmp_path / "run.toml"
    file.write_text(f'[task]\nname = "iris"\n[model]\nkind = "file"\npath = "{model}"\n'
                    '[model.args]\nwidth = 8\ndepth = 1\n')
    from tui_trainer.config import Text, load_config, read_toml, resolve_flags, to_toml

    cfg = resolve_flags(read_toml(file), {"model.args.depth": Text("3")})
    assert cfg.model.args == {"width": 8, "depth": 3}
    saved = tmp_path / "saved.toml"
    saved.write_text(to_toml(cfg))
    assert load_config(saved) == cfg and "[model.args]" in saved.read_text()
    # a catalog model's config holds no path or arguments
    assert "path" not in to_toml(config("iris")) and "args" not in to_toml(config("iris"))


def test_the_file_model_races_in_compare_by_an_argument_and_by_its_path(tmp_path, runs_dir, capsys):
    model = write_resmlp(tmp_path)
    other = tmp_path / "other" / "resmlp.py"  # the same file name in another folder, a narrower net
    other.parent.mkdir()
    other.write_text((tmp_path / "resmlp.py").read_text().replace("WIDTH = 32", "WIDTH = 4"))
    args = ["--task", "iris", "--model", model, "--epochs", "3", "--device", "cpu", "--runs-dir", str(runs_dir),
            "--json"]
    capsys.readouterr()
    assert main(["compare", *args, "--vary", "model.args.width=8,16"]) == 0
    raced = json.loads(capsys.readouterr().out)
    assert raced["varied"] == {"model.args.width": [8, 16]}
    assert [run["config"]["model"]["args"] for run in raced["runs"]] == [{"width": 8}, {"width": 16}]
    code, alone = train_json(capsys, *args[:-1], "--set", "model.args.width=16")
    assert code == 0  # a raced run trains exactly as alone
    assert [h["train_loss"] for h in raced["runs"][1]["history"]] == [h["train_loss"] for h in alone["history"]]
    assert main(["compare", *args, "--vary", f"model.path={model},{other}:ResMLP"]) == 0
    paths = json.loads(capsys.readouterr().out)["runs"]
    assert [run["param_count"] for run in paths] == [2499, 4 * 4 + 4 + 2 * (2 * 4 + 4 * 4 + 4) + 4 * 3 + 3]
    assert main(["compare", *args[:-1], "--vary", "model.args.width=8,16"]) == 0
    assert "args.width=16" in capsys.readouterr().out  # the leaderboard names the argument


def test_a_resumed_run_goes_on_exactly_and_a_changed_file_is_refused(tmp_path, runs_dir, capsys):
    model = write_resmlp(tmp_path)
    base = ["--task", "iris", "--model", model, "--device", "cpu", "--runs-dir", str(runs_dir)]
    code, first = train_json(capsys, *base, "--epochs", "3", "--save-model")
    assert code == 0
    code, resumed = train_json(capsys, "--resume", first["run_dir"], "--epochs", "6")
    assert code == 0 and resumed["epochs_run"] == 6
    code, whole = train_json(capsys, *base, "--epochs", "6")
    assert [h["train_loss"] for h in resumed["history"]] == pytest.approx(
        [h["train_loss"] for h in whole["history"]], rel=1e-6)
    file = tmp_path / "resmlp.py"
    file.write_text(file.read_text().replace("WIDTH = 32", "WIDTH = 32  # edited"))
    capsys.readouterr()
    assert main(["train", "--resume", first["run_dir"], "--epochs", "8"]) == 2
    err = capsys.readouterr().err
    assert f"model.path: {file} has changed since" in err and "put that file back" in err
    assert main(["evaluate", first["run_dir"]]) == 2  # its weights belong to the old code
    assert f"{file} has changed" in capsys.readouterr().err
    file.unlink()
    assert main(["train", "--resume", first["run_dir"], "--epochs", "8"]) == 2
    assert f"{file}" in capsys.readouterr().err


def test_the_exported_script_runs_without_the_file_and_prints_the_same_losses(tmp_path, runs_dir, capsys):
    model = write_resmlp(tmp_path / "models")
    args = ["--task", "iris", "--model", model, "--set", "model.args.depth=3", "--epochs", "6",
            "--device", "cpu", "--set", "training.test_split=0.2"]
    script = tmp_path / "elsewhere" / "train.py"
    script.parent.mkdir()
    assert main(["export-script", *args, "-o", str(script)]) == 0
    code, engine = train_json(capsys, *args, "--runs-dir", str(runs_dir))
    assert code == 0
    (tmp_path / "models" / "resmlp.py").unlink()  # the script holds the class and what it uses
    text = script.read_text()
    assert "class ResMLP(nn.Module):" in text and "class Block(nn.Module):" in text
    assert "print(ResMLP()(x).shape)" not in text  # the file's own demo is not copied
    process = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120,
                             cwd=script.parent)
    assert process.returncode == 0, process.stderr
    losses = [float(v) for v in re.findall(r"^Epoch \d+/\d+ - train_loss: (\S+)", process.stdout, re.M)]
    assert losses == pytest.approx([h["train_loss"] for h in engine["history"]], rel=1e-6)
    test_loss = float(re.search(r"test_loss: (\S+)", process.stdout)[1])
    assert test_loss == pytest.approx(engine["final"]["test_loss"], rel=1e-6)


BAD_MODELS = {
    "wrong output shape": (
        "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.fc = nn.Linear(4, 5)\n    def forward(self, x):\n        return self.fc(x)\n",
        "Net gives (16, 5) float32 for a batch of 16 (inputs (16, 4) float32); task iris has 3 classes "
        "and cross-entropy needs one raw score (logit) per class: (16, 3)"),
    "not a tensor": (
        "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.fc = nn.Linear(4, 3)\n    def forward(self, x):\n        return self.fc(x), x\n",
        "Net gives tuple for a batch of 16 (inputs (16, 4) float32); forward must return one tensor"),
    "parameters that are not floats": (
        "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.fc = nn.Linear(4, 3)\n"
        "        self.steps = nn.Parameter(torch.zeros(1, dtype=torch.int64), requires_grad=False)\n"
        "    def forward(self, x):\n        return self.fc(x)\n",
        "Net has parameters that are not floating-point: steps (int64)"),
    "no parameters": (
        "class Net(nn.Module):\n    def forward(self, x):\n        return x[:, :3]\n",
        "Net has no parameters for the optimizer to train"),
    "raises in __init__": (
        "class Net(nn.Module):\n    def __init__(self, width=4):\n        super().__init__()\n"
        "        raise ValueError('width must be even')\n",
        "Net: Net() raised ValueError: width must be even"),
    "raises in forward": (
        "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.fc = nn.Linear(3, 3)\n    def forward(self, x):\n        return self.fc(x)\n",
        "Net: forward raised RuntimeError: mat1 and mat2 shapes cannot be multiplied"),
    "sys.exit in forward": (
        "import sys\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.fc = nn.Linear(4, 3)\n    def forward(self, x):\n        sys.exit(3)\n",
        "Net: forward called sys.exit(3) on a batch of 16"),
    "sys.exit on import": (
        "import sys\nsys.exit(4)\n", "importing {file} called sys.exit(4)"),
    "no such class": (
        "class Other(nn.Module):\n    pass\n", "{file} has no nn.Module subclass named 'Net'; it defines Other"),
}


@pytest.mark.parametrize("case", list(BAD_MODELS))
def test_each_model_problem_is_refused_before_training_naming_the_file_and_class(case, tmp_path, runs_dir,
                                                                                   capsys):
    body, expected = BAD_MODELS[case]
    file = tmp_path / "net.py"
    file.write_text("import torch\nimport torch.nn as nn\n" + body)
    capsys.readouterr()
    code = main(["train", "--task", "iris", "--model", f"{file}:Net", "--epochs", "1", "--device", "cpu",
                 "--runs-dir", str(runs_dir)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "model.path: " in err and expected.format(file=file) in err
    assert "Traceback" not in err and not runs_dir.exists()


def test_a_missing_or_misspelled_model_file_is_refused(tmp_path, capsys):
    assert main(["train", "--task", "iris", "--model", f"{tmp_path}/none.py:Net", "--dry-run"]) == 2
    assert f"model.path: file '{tmp_path}/none.py' does not exist" in capsys.readouterr().err
    assert main(["train", "--task", "iris", "--set", "model.kind=file", "--dry-run"]) == 2
    assert "model.path: model.kind is file: give your nn.Module class as path/to/net.py:ClassName" in \
        capsys.readouterr().err
    assert main(["train", "--task", "iris", "--set", "model.kind=file", "--set", "model.path=net", "--dry-run"]) == 2
    assert "model.path: 'net' is not allowed" in capsys.readouterr().err
    assert main(["train", "--task", "rosenbrock", "--model", write_resmlp(tmp_path), "--dry-run"]) == 2
    assert "model.kind: 'file' does nothing here" in capsys.readouterr().err
    assert main(["train", "--task", "iris", "--model", write_resmlp(tmp_path), "--set", "model.args.3d=1",
                 "--dry-run"]) == 2
    assert "model.args" in capsys.readouterr().err


def test_dry_run_prints_the_model_summary(tmp_path, capsys):
    assert main(["train", "--task", "iris", "--model", write_resmlp(tmp_path), "--dry-run"]) == 0
    err = capsys.readouterr().err
    assert "resmlp.py:ResMLP: input (B, 4)" in err
    rows = {line.split()[0]: line.split()[1:] for line in err.splitlines() if "(" in line and line.strip()}
    assert rows["stem"] == ["(Linear)", "(B,", "32)", "160"]
    assert rows["blocks.0.fc"] == ["(Linear)", "(B,", "32)", "1,056"]
    assert rows["blocks.0"] == ["(Block)", "(B,", "32)", "-"]
    assert rows["head"] == ["(Linear)", "(B,", "3)", "99"]
    assert "Total params: 2,499   Trainable params: 2,499" in err
    assert main(["train", "--task", "mnist", "--set", "task.download=false", "--set", "model.kind=cnn",
                 "--dry-run"]) == 2  # no data here: refused before any summary
    capsys.readouterr()


def test_cnn_layers_report_their_convolutions_too(mnist_dir):
    cfg = config("mnist", task__data_dir=str(mnist_dir), task__download=False, model__kind="cnn",
                 model__channels=[4], model__hidden=[8], training__epochs=1)
    result = Trainer(cfg, runs_dir=False).run()
    layers = result.history[0].layers
    assert [layer["name"] for layer in layers] == ["1: Conv2d(1→4, 3x3)", "5: Linear(784→8)", "7: Linear(8→10)"]
    assert layers[0]["dead_relu"] is not None and layers[0]["update_ratio"] is not None
