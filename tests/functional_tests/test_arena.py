"""The optimizer arena: a 2-D point stepped by torch's optimizers on a test function."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys

import pytest
import torch

from helpers import config
from tui_trainer.catalog.arena import SURFACES
from tui_trainer.cli import main
from tui_trainer.engine import loop, surfaces
from tui_trainer.engine.loop import train
from tui_trainer.export.script import script_text


def test_adam_with_its_recipe_walks_rosenbrocks_valley_to_its_minimum():
    result = train(config("rosenbrock"), runs_dir=False)
    assert result.reason == "completed"
    assert result.config.task.params["start"] == [-1.5, 2.0]
    point = result.point
    assert math.hypot(point["x"] - 1, point["y"] - 1) < 0.05
    assert point["nearest_minimum"] == [1.0, 1.0] and point["distance"] < 0.05
    assert point["value"] == pytest.approx(result.final.train_loss)
    assert 0 < point["reached_step"] <= result.history[-1].global_step
    assert result.final.train_accuracy is None and result.final.train_r2 is None


@pytest.mark.parametrize("name", sorted(SURFACES))
def test_every_function_trains_from_its_start_and_reports_its_point(name):
    result = train(config(name, training__epochs=1), runs_dir=False)
    assert result.reason == "completed", result.message
    start = result.config.task.params["start"]
    assert result.path[0] == pytest.approx([0, *start]) and result.path[-1][0] == 100
    assert result.point["value"] < surfaces_value(name, start)  # it went downhill


def surfaces_value(name, point):
    surface = SURFACES[name]
    settings = surface.function_params(config(name).task.params)
    return float(getattr(surfaces, name)(torch.tensor(point[0]), torch.tensor(point[1]), **settings))


def test_sgd_with_a_too_high_learning_rate_diverges_and_says_so(runs_dir, capsys):
    code = main(["train", "--task", "rosenbrock", "--optimizer", "sgd", "--lr", "0.01",
                 "--runs-dir", str(runs_dir)])
    out = capsys.readouterr().out
    assert code == 1
    assert re.search(r"Run ended: diverged: loss exploded: \S+ in epoch 1 \(step 5\), from 12 at the first step: "
                     r"more than training.explode_factor = 10000 times; try a lower learning rate", out)
    assert "point:       not finite: the point diverged · never within 0.05" in out
    assert "accuracy" not in out


def test_the_path_is_the_points_positions_step_by_step_as_a_hand_loop_gives_them():
    cfg = config("rosenbrock", optimizer="sgd", optimizer__lr=0.0005, optimizer__momentum=0.9,
                 task__steps_per_epoch=40, training__epochs=3)
    result = train(cfg, runs_dir=False)
    point = torch.nn.Parameter(torch.tensor([-1.5, 2.0]))
    optimizer = torch.optim.SGD([point], lr=0.0005, momentum=0.9)
    expected = [[0, -1.5, 2.0]]
    for step in range(1, 121):
        optimizer.zero_grad()
        surfaces.rosenbrock(point[0], point[1], 1.0, 100.0).backward()
        optimizer.step()
        expected.append([step, *point.tolist()])
    assert [p[0] for p in result.path] == list(range(121))
    flat = [value for point in result.path for value in point]
    assert flat == pytest.approx([value for point in expected for value in point], rel=1e-6, abs=1e-7)
    # each epoch's history holds its share of the path, in order
    assert [p for m in result.history for p in m.path] == result.path
    assert [len(m.path) for m in result.history] == [41, 40, 40]


def test_a_long_runs_path_is_bounded_like_its_step_curve(monkeypatch):
    monkeypatch.setattr(loop, "MAX_STEP_POINTS", 20)
    result = train(config("quadratic", task__steps_per_epoch=30, training__epochs=2), runs_dir=False)
    steps = [p[0] for p in result.path]
    assert steps == [0, *range(3, 61, 3)]  # every third step of 60; the last one is among them
    assert len(result.steps) <= 21


def test_train_json_holds_the_final_point_and_the_path_and_the_run_folder_keeps_it(runs_dir, capsys):
    assert main(["train", "--task", "himmelblau", "--epochs", "3", "--json", "--runs-dir", str(runs_dir)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["point"]["nearest_minimum"] == [3.0, 2.0] and data["point"]["tolerance"] == 0.05
    assert len(data["path"]) == 301 and data["path"][-1][1:] == [data["point"]["x"], data["point"]["y"]]
    assert [p for row in data["history"] for p in row["path"]] == data["path"]
    assert data["final"]["train_accuracy"] is None and data["parameters"] is None
    (run,) = runs_dir.iterdir()
    assert json.loads((run / "summary.json").read_text())["path"] == data["path"]
    assert main(["export-history", str(run), "--format", "csv"]) == 0
    rows = (run / "history-path.csv").read_text().splitlines()
    assert rows[0] == "step,x,y" and len(rows) == 302 and rows[1] == "0,0.0,0.0"
    assert "path" not in (run / "history.csv").read_text().splitlines()[0]


def test_compare_races_optimizers_from_the_same_start_with_the_arenas_leaderboard(tmp_path, capsys):
    code = main(["compare", "--task", "rosenbrock", "--vary", "optimizer.name=sgd,adam,rmsprop",
                 "--epochs", "10", "--runs-dir", str(tmp_path / "race")])
    out = capsys.readouterr().out
    assert code == 1  # sgd diverges with the recipe's rate; the others finish
    table = out[out.index("rank  run"):].splitlines()
    assert re.split(r"\s{2,}", table[0]) == ["rank", "run", "varies", "f(x, y)", "to minimum",
                                             "steps to 0.05", "time", "ending"]
    adam = next(line for line in table if "optimizer=adam" in line)
    assert re.split(r"\s{2,}", adam)[:2] == ["1", "#2"] and re.split(r"\s{2,}", adam)[5].isdigit()
    assert re.split(r"\s{2,}", next(line for line in table if "optimizer=sgd" in line))[-1] == \
        "diverged at epoch 1"
    assert "accuracy" not in out and "R^2" not in out
    svg = tmp_path / "race.svg"
    assert main(["export-plot", *map(str, sorted((tmp_path / "race").iterdir())), "-o", str(svg)]) == 0
    text = svg.read_text()
    assert "rosenbrock: f(x, y)" in text and "known minima" in text and "accuracy" not in text


def test_exported_script_reproduces_an_arena_run(tmp_path):
    cfg = config("beale", optimizer="rmsprop", optimizer__lr=0.01, scheduler="step",
                 scheduler__step_size=2, task__steps_per_epoch=50, training__epochs=4)
    script = tmp_path / "arena.py"
    script.write_text(script_text(cfg))
    process = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    result = train(cfg, runs_dir=False)
    output, errors = process.communicate(timeout=120)
    assert process.returncode == 0, errors
    losses = [float(v) for v in re.findall(r"^Epoch \d+/\d+ - train_loss: (\S+)", output, re.M)]
    assert losses == pytest.approx([m.train_loss for m in result.history], rel=1e-6)
    x, y = map(float, re.search(r"^Point: \((\S+), (\S+)\)", output, re.M).groups())
    assert [x, y] == pytest.approx([result.point["x"], result.point["y"]], rel=1e-6)
    assert "tui_trainer" not in script.read_text()


@pytest.mark.parametrize("flags, message", [
    (["--set", "task.start=a,b"], "task.start: 'a,b' is not allowed; must be 2 numbers"),
    (["--set", "task.steps_per_epoch=0"], "task.steps_per_epoch: 0 is not allowed; must be a whole number"),
    (["--set", "task.b=nan"], "task.b: nan is not allowed; must be a number > 0"),
    (["--set", "task.a=inf"], "task.a: inf is not allowed; must be a number"),
    (["--loss", "mse"], "loss: task rosenbrock is an arena task: its loss is the function's value"),
    (["--hidden", "16"], "model.hidden: [16] does nothing here: task rosenbrock trains one 2-D point"),
    (["--batch-size", "8"], "training.batch_size: 8 does nothing here: task rosenbrock has no data"),
    (["--val-split", "0.2"], "training.val_split: 0.2 does nothing here"),
    (["--set", "lab.no_shuffle=true"], "lab.no_shuffle: does nothing here"),
    (["--set", "task.start=1e30,1e30"], "task.start: rosenbrock(1e+30, 1e+30) = inf in float32 with a=1, "
                                        "b=100: no step can start there"),
])
def test_hostile_or_meaningless_settings_are_refused_with_a_message(flags, message, runs_dir, capsys):
    assert main(["train", "--task", "rosenbrock", *flags, "--runs-dir", str(runs_dir)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not runs_dir.exists()


def test_a_resumed_arena_run_goes_on_along_the_same_path(tmp_path, capsys):
    flags = ["--task", "saddle", "--optimizer", "sgd", "--lr", "0.02", "--set", "task.steps_per_epoch=20"]
    assert main(["train", *flags, "--epochs", "4", "--json", "--runs-dir", str(tmp_path / "straight")]) == 0
    straight = json.loads(capsys.readouterr().out)
    assert main(["train", *flags, "--epochs", "2", "--save-model", "--runs-dir", str(tmp_path / "halves")]) == 0
    (run,) = (tmp_path / "halves").iterdir()
    capsys.readouterr()
    assert main(["train", "--resume", str(run), "--epochs", "4", "--json"]) == 0
    resumed = json.loads(capsys.readouterr().out)
    assert resumed["path"] == straight["path"] and resumed["point"] == straight["point"]
