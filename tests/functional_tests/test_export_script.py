"""``tui-trainer export-script``: a standalone PyTorch script that reproduces the engine's run."""

import ast
import inspect
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import config, once_per_session
from tui_trainer.cli import main
from tui_trainer.config import resolve
from tui_trainer.engine import rules
from tui_trainer.engine.loop import train
from tui_trainer.export.script import script_text

ALLOWED_IMPORTS = {"torch", "torchvision", "sklearn", "pandas"} | set(sys.stdlib_module_names)


CASES = {
    "linear + SGD with momentum (tutorial 003: full batch, no validation)": dict(
        task="linear", optimizer="sgd", optimizer__lr=0.05, optimizer__momentum=0.9,
        training__epochs=150, training__val_split=0.0),
    "breast cancer + BCE with logits + Adam + one-cycle, dropout, clipping, batches of 7": dict(
        task="breast-cancer", scheduler="one-cycle", model__dropout=0.1, training__grad_clip=0.5,
        training__early_stopping_patience=2, training__batch_size=7, training__epochs=4),
    "mnist from the tiny IDX files + Adam + step scheduler, exported with the command": dict(
        task="mnist", scheduler="step", scheduler__step_size=1, training__epochs=3),
    "mnist from the tiny IDX files + cnn (two conv blocks, kernel 5)": dict(
        task="mnist", model__kind="cnn", model__channels=[4, 8], model__kernel_size=5,
        model__hidden=[16], training__epochs=2),
    "csv: numeric, one-hot and text-label columns, mean-filled gaps, SGD": dict(
        task="csv", task__target="species", task__missing="mean", optimizer="sgd",
        optimizer__lr=0.1, training__epochs=3),
    "images: a folder of shape PNGs + cnn, validation split": dict(
        task="images", task__size=12, model__channels=[4], training__epochs=2),
    "xor: four features, the points' own seed, 10 % noise": dict(
        task="xor", task__features=["x1", "x2", "x1*x2", "sin(x1)"], task__seed=7, task__noise=10.0,
        training__epochs=4),
    "digits with a test split, held out before the validation split": dict(
        task="digits", training__test_split=0.25, training__epochs=3),
    "circle: a test split of the points, the train ratio splitting the rest": dict(
        task="circle", training__test_split=0.2, training__epochs=3),
    "csv with a test table (task.test_path), regression": dict(
        task="csv", task__target="y", task__test_path="<test table>", training__epochs=3),
    "images with a test folder (task.test_path)": dict(
        task="images", task__size=12, model__channels=[4], task__test_path="<test folder>", training__epochs=2),
    "gauss: sin features, train ratio 70, 30 % noise, SGD with momentum": dict(
        task="gauss", task__features=["sin(x1)", "sin(x2)", "x1^2"], task__train_ratio=70,
        task__noise=30.0, task__samples=200, optimizer="sgd", optimizer__lr=0.05,
        optimizer__momentum=0.9, training__epochs=4),
    "spiral with three arms (cross-entropy) + L1 regularization": dict(
        task="spiral", task__classes=3, task__samples=240, training__l1=0.001, training__epochs=4),
    "bumps (the playground's multi-Gaussian regression) + L1 + SGD": dict(
        task="bumps", task__samples=300, task__noise=10.0, training__l1=0.0005, optimizer="sgd",
        optimizer__lr=0.05, training__epochs=4),
}


#: Runs each script given in argv[1:] as ``python SCRIPT`` runs it (``__main__``, its own
#: globals), one after another in this one process, so that torch is imported once for all the
#: cases; prints one JSON line per script: its exit code, stdout and stderr.
RUN_SCRIPTS = """
import contextlib, io, json, runpy, sys, traceback

for path in sys.argv[1:]:
    out, err, code = io.StringIO(), io.StringIO(), 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            runpy.run_path(path, run_name="__main__")
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:
            traceback.print_exc()
            code = 1
    print(json.dumps({"code": code, "out": out.getvalue(), "err": err.getvalue()}), flush=True)
"""


def export_every_case(tmp) -> dict:
    """Every case exported and its script run (in one other process, while this one trains the
    engine on the same config): {case: {"script": exit code and output, "path", "engine": what
    the engine's run gave}}."""
    from conftest import make_shapes_dir, make_vision_dir, write_regression_csv, write_table_csv

    mnist_dir = make_vision_dir(tmp / "data")
    table = write_table_csv(tmp / "table.csv")
    lines = table.read_text().splitlines()
    for row in (3, 10, 20):  # three gaps in x1, filled with the training split's mean
        lines[row] = "," + lines[row].partition(",")[2]
    table.write_text("\n".join(lines) + "\n")
    own_data = {"mnist": dict(task__data_dir=str(mnist_dir), task__download=False),
                "csv": dict(task__path=str(table)),
                "images": dict(task__path=str(make_shapes_dir(tmp / "shapes", per_class=8)))}
    env = dict(os.environ, XDG_DATA_HOME=str(tmp / "xdg-data"))
    test_data = {"<test table>": (write_regression_csv(tmp / "train.csv"), write_regression_csv(tmp / "test.csv", 50, 1)),
                 "<test folder>": (None, make_shapes_dir(tmp / "shapes-test", per_class=3, seed=1))}
    configs, paths = {}, {}
    for n, (case, dotted) in enumerate(CASES.items()):
        path = paths[case] = tmp / f"train_{n}.py"
        dotted = {**dotted, **own_data.get(dotted["task"], {})}
        if dotted.get("task__test_path") in test_data:
            train_file, test_file = test_data[dotted["task__test_path"]]
            dotted = {**dotted, "task__test_path": str(test_file), **({"task__path": str(train_file)} if train_file else {})}
        if case.endswith("exported with the command"):
            assert main(["export-script", "--task", "mnist", "--data-dir", str(mnist_dir), "--set",
                         "task.download=false", "--epochs", "3", "--device", "cpu", "--scheduler",
                         "step", "--set", "scheduler.step_size=1", "-o", str(path)]) == 0
        else:
            path.write_text(script_text(config(**dotted)))
        configs[case] = config(**dotted)
    scripts = subprocess.Popen([sys.executable, "-c", RUN_SCRIPTS, *map(str, paths.values())],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    engine = {}
    for case, cfg in configs.items():
        result = train(cfg, runs_dir=tmp / "runs")
        engine[case] = {"train_losses": [m.train_loss for m in result.history], "epochs_run": result.epochs_run,
                        "final": vars(result.final), "parameters": result.parameters,
                        "task": result.config.task.name, "params": result.config.task.params}
    out, err = scripts.communicate(timeout=600)
    ran = [json.loads(line) for line in out.splitlines()]
    assert len(ran) == len(CASES), err
    return {case: {"script": script, "path": str(paths[case]), "engine": engine[case]}
            for case, script in zip(CASES, ran)}


@pytest.fixture
def exported(tmp_path_factory) -> dict:
    """export_every_case, made once for the whole session (whichever test process asks first)."""
    return once_per_session("export-script", export_every_case, tmp_path_factory.getbasetemp())


def final_value(output, name):
    return float(re.search(rf"^Final - .*\b{name}: (\S+)", output, re.M).group(1))


@pytest.mark.parametrize("case", list(CASES))
def test_exported_script_prints_the_engines_per_epoch_losses(case, exported):
    script, path, result = exported[case]["script"], Path(exported[case]["path"]), exported[case]["engine"]
    output, final = script["out"], result["final"]
    assert script["code"] == 0, script["err"]
    losses = [float(v) for v in re.findall(r"^Epoch \d+/\d+ - train_loss: (\S+)", output, re.M)]
    assert len(losses) == len(result["train_losses"]) == result["epochs_run"]
    assert losses == pytest.approx(result["train_losses"], rel=1e-6, abs=1e-9)
    assert final_value(output, "train_loss") == pytest.approx(final["train_loss"], rel=1e-6)
    if final["val_accuracy"] is not None:
        assert final_value(output, "val_accuracy") == pytest.approx(final["val_accuracy"], abs=1e-4)
    if final["test_loss"] is not None:  # the test set, scored once at the end
        assert final_value(output, "test_loss") == pytest.approx(final["test_loss"], rel=1e-6)
    assert ("test_loss" in output) == (final["test_loss"] is not None)
    if result["parameters"]:
        learned = re.search(r"Learned w = (\S+) \(true 2.0\), b = (\S+) \(true 3.0\)", output)
        assert float(learned[1]) == pytest.approx(result["parameters"]["weight"], abs=1e-6)
        assert float(learned[2]) == pytest.approx(result["parameters"]["bias"], abs=1e-6)
    modules = {alias.name.split(".")[0] for node in ast.walk(ast.parse(path.read_text()))
               if isinstance(node, (ast.Import, ast.ImportFrom))
               for alias in (node.names if isinstance(node, ast.Import) else [ast.alias(node.module)])}
    assert modules <= ALLOWED_IMPORTS and "tui_trainer" not in path.read_text()
    if result["task"] == "mnist":
        assert f'DATA_DIR = "{result["params"]["data_dir"]}"' in path.read_text()


def test_script_is_plain_pytorch_with_every_choice_spelled_out(tmp_path):
    loss_file = tmp_path / "my_loss.py"
    loss_file.write_text("import torch.nn as nn\nclass Quartic(nn.Module):\n"
                         "    def forward(self, p, a):\n        return ((p - a) ** 4).mean()\n")
    text = script_text(config("regression", task__samples=100, loss=f"{loss_file}:Quartic",
                              optimizer="adam", optimizer__betas=[0.8, 0.99], optimizer__amsgrad=True,
                              scheduler="plateau", scheduler__factor=0.5))
    modules = {alias.name.split(".")[0] for node in ast.walk(ast.parse(text))
               if isinstance(node, (ast.Import, ast.ImportFrom))
               for alias in (node.names if isinstance(node, ast.Import) else [ast.alias(node.module)])}
    assert modules <= ALLOWED_IMPORTS
    assert "tui_trainer" not in text
    assert "optimizer = torch.optim.Adam(model.parameters(), lr=0.01, betas=(0.8, 0.99), amsgrad=True)" in text
    assert "torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5)" in text
    assert 'scheduler_steps(scheduler, "plateau")' in text and "step_after_epoch(monitored)" in text
    assert f'spec_from_file_location("user_loss", "{loss_file}")' in text
    assert "# Your loss class Quartic, imported by path" in text
    assert "def make_regression(g: torch.Generator" in text  # the engine's own data function


def test_the_script_follows_the_engines_rules_by_calling_them():
    # Each of the loop's rules is one function of engine/rules.py, copied whole into the script:
    # its loop calls every one of them (no rule is restated as text of its own).
    text = script_text(resolve({
        "task": {"name": "iris"}, "scheduler": {"name": "one-cycle"}, "training": {
            "device": "cpu", "l1": 0.001, "target_loss": 0.01, "early_stopping_patience": 3, "test_split": 0.2},
        "changes": [{"at_step": 5, "field": "optimizer.weight_decay", "value": 0.01}]}))
    loop = ast.parse(text.partition("\nHEAD = ")[2])
    called = {node.func.id if isinstance(node.func, ast.Name) else node.func.attr
              for node in ast.walk(loop) if isinstance(node, ast.Call)}
    own = {name for name, member in vars(rules).items()
           if inspect.isfunction(member) or inspect.isclass(member) and member.__module__ == rules.__name__}
    through_others = {"regularized_weights", "l1_penalty", "evaluate", "share_of", "split_score"}
    assert own - through_others <= called, own - through_others - called


def test_a_diverging_script_says_what_the_engine_says(tmp_path):
    cfg = config("iris", optimizer__lr=1e9)  # Adam at 1e9: the loss explodes at the second step
    path = tmp_path / "train.py"
    path.write_text(script_text(cfg))
    script = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=120)
    result = train(cfg, runs_dir=False)
    assert script.returncode == 0, script.stderr
    assert result.reason == "diverged" and result.message.startswith("loss exploded: ")
    assert script.stdout.splitlines()[0] == result.message


def test_a_script_whose_reader_closes_the_pipe_trains_on_without_a_traceback(tmp_path):
    path = tmp_path / "train.py"
    path.write_text(script_text(config("linear", training__epochs=300)))
    script = subprocess.Popen([sys.executable, str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = script.stdout.readline()  # as `python train.py | head -1` reads
    script.stdout.close()
    _, err = script.communicate(timeout=120)
    assert first.startswith(b"Epoch 1/300")
    assert script.returncode == 0 and b"Traceback" not in err, err.decode()


def test_export_refuses_bad_configs_and_keeps_existing_files(tmp_path, capsys):
    existing = tmp_path / "train.py"
    existing.write_text("mine")
    assert main(["export-script", "--task", "iris", "-o", str(existing)]) == 2
    assert "exists; choose another file (-o) or overwrite it (--force)" in capsys.readouterr().err
    assert existing.read_text() == "mine"
    assert main(["export-script", "--optimizer", "sgd", "--set", "optimizer.nesterov=true",
                 "-o", str(tmp_path / "x.py")]) == 2
    assert "optimizer.nesterov: torch refuses" in capsys.readouterr().err
    assert main(["export-script", "--task", "mnist", "--data-dir", str(tmp_path / "none"),
                 "--set", "task.download=false", "-o", str(tmp_path / "m.py")]) == 2
    assert str(tmp_path / "none" / "MNIST" / "raw") in capsys.readouterr().err
    assert not (tmp_path / "x.py").exists() and not (tmp_path / "m.py").exists()
