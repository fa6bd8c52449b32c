"""``tui-trainer compare`` and the engine's race: many runs at once, each exactly as alone."""

from __future__ import annotations

import json
import re
import sys

import pytest

from helpers import config
from tui_trainer.cli import main
from tui_trainer.engine.events import Callback
from tui_trainer.engine.loop import Trainer
from tui_trainer.engine.race import race


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


class FirstStep(Callback):
    """Keeps the first batch and the weights the first step started from."""

    def __init__(self) -> None:
        self.seen = None

    def after_backward(self, context) -> None:
        if self.seen is None:
            first = next(context.model.parameters())
            self.seen = (context.inputs.clone(), first.detach().clone())


def test_runs_taking_turns_train_exactly_as_alone_from_the_same_start():
    # Dropout draws from torch's global generator, and report_interval=0 makes the runs take
    # turns after every step: the histories still match the runs trained one by one, bit for bit.
    configs = [config("iris", optimizer=name, model__dropout=0.3, training__epochs=6)
               for name in ("sgd", "adam", "rmsprop")]
    alone = [Trainer(c, runs_dir=False, report_interval=0).run() for c in configs]
    firsts = [FirstStep() for _ in configs]
    together = race([Trainer(c, [f], runs_dir=False, report_interval=0) for c, f in zip(configs, firsts)])
    for a, b in zip(alone, together):
        assert [m.train_loss for m in b.history] == [m.train_loss for m in a.history]
        assert [m.val_loss for m in b.history] == [m.val_loss for m in a.history]
        assert b.steps == a.steps
    inputs, weights = firsts[0].seen
    for other in firsts[1:]:
        assert other.seen[0].equal(inputs) and other.seen[1].equal(weights)
    assert len({tuple(m.train_loss for m in r.history) for r in together}) == 3


def test_compare_json_runs_equal_train_json_of_each_config(capsys, runs_dir):
    shared = ["--task", "wine", "--epochs", "5", "--device", "cpu", "--dropout", "0.2",
              "--runs-dir", str(runs_dir)]
    code, out, _ = run_cli(capsys, "compare", *shared, "--vary", "optimizer.name=sgd,adam",
                           "--vary", "optimizer.lr=0.05,0.005", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["varied"] == {"optimizer.name": ["sgd", "adam"], "optimizer.lr": [0.05, 0.005]}
    assert [(r["optimizer"], r["config"]["optimizer"]["lr"]) for r in data["runs"]] == [
        ("sgd", 0.05), ("sgd", 0.005), ("adam", 0.05), ("adam", 0.005)]
    for run in data["runs"]:
        name, lr = run["optimizer"], run["config"]["optimizer"]["lr"]
        code, alone, _ = run_cli(capsys, "train", *shared, "--optimizer", name, "--lr", str(lr), "--json")
        alone = json.loads(alone)
        assert code == 0 and set(run) == set(alone)
        assert [h["train_loss"] for h in run["history"]] == pytest.approx(
            [h["train_loss"] for h in alone["history"]], rel=1e-6)
        assert run["run_dir"] != alone["run_dir"]


def test_a_diverging_run_does_not_stop_the_others_and_ranks_last(capsys, runs_dir):
    code, out, _ = run_cli(capsys, "compare", "--task", "linear", "--optimizer", "sgd", "--epochs", "40",
                           "--device", "cpu", "--vary", "optimizer.lr=0.01,3.0,0.1",
                           "--runs-dir", str(runs_dir))
    assert code == 1  # as train: a run diverged
    board, folders = out[out.index("rank"):].split("\n\nrun folders:\n")
    board = board.splitlines()
    assert board[0].split()[:5] == ["rank", "run", "varies", "val", "loss"]
    rows = [line.split() for line in board[2:]]
    assert [row[1] for row in rows] == ["#3", "#1", "#2"]  # lr 0.1 fits best, lr 3.0 diverged
    assert "diverged at epoch" in board[-1] and "lr=3" in board[-1]
    assert all("completed" in line for line in board[2:4])
    assert max(len(line) for line in board) <= 80  # the folders, long paths, come on their own lines
    assert [line.split()[0] for line in folders.splitlines()] == ["#3", "#1", "#2"]
    assert {line.split()[1] for line in folders.splitlines()} == {str(p) for p in runs_dir.iterdir()}
    assert len(list(runs_dir.iterdir())) == 3
    assert "[#2 lr=3] diverged: loss exploded: " in out  # the run's own line when not a TTY


@pytest.mark.parametrize("args, expected", [
    (["--optimizer", "sgd", "--set", "optimizer.momentum=0.9", "--vary", "optimizer.name=sgd,adam"],
     "optimizer.momentum: unknown setting for adam"),
    (["--task", "iris", "--vary", "loss.name=cross-entropy,mse"], "(run #2: loss=mse)"),
    (["--vary", "optimizer.lr=1,2,3,4,5", "--vary", "optimizer.name=sgd,adam,rmsprop,adagrad"],
     "5 x 4 = 20 runs; a comparison holds at most 16"),
    (["--vary", "optimizer.lr"], "expected FIELD=V1,V2"),
    (["--vary", "optimizer.lr=0.1,,0.2"], "none empty"),
    (["--vary", "optimizer.lr=0.1", "--vary", "optimizer.lr=0.2"], "varied twice"),
    (["--optimizer", "sgd", "--vary", "optimizer.nesterov=true,false"], "torch refuses nesterov=True"),
    # the same value written two ways races one config twice
    (["--vary", "optimizer.lr=0.1,1e-1"], "--vary: runs #1 and #2 are the same (lr=0.1); a value is repeated"),
    # refusals of set-up and pre-flight name the run they are about
    (["--task", "iris", "--vary", "model.hidden=[8],[100000000000]"], "error: run #2: not enough memory"),
    (["--task", "iris", "--set", "lab.wrong_loss=true", "--vary", "loss.name=cross-entropy,bce"],
     "the targets are (16, 1) float32 (run #2)"),
    # a 400-digit value is named short, not echoed whole
    (["--vary", "optimizer.lr=" + "9" * 400 + ",1"], "must be a number > 0 (run #1: lr=999999999999999999999...)\n"),
    # a leaderboard of iris and linear ranked a loss against another and showed R^2 as accuracy
    (["--vary", "task.name=iris,linear"], "task.name: the runs of a comparison share one task; these would "
     "train iris, linear"),
    (["--vary", "training.seed=" + ",".join(str(n) for n in range(17))],
     "--vary: 17 runs; a comparison holds at most 16"),
])
def test_values_that_do_not_fit_are_refused_before_anything_trains(capsys, runs_dir, args, expected):
    code, out, err = run_cli(capsys, "compare", "--runs-dir", str(runs_dir), *args)
    assert code == 2 and out == ""
    assert expected in err and "Traceback" not in err
    assert not runs_dir.exists()


def test_list_values_in_brackets_and_dry_run(capsys):
    code, out, _ = run_cli(capsys, "compare", "--task", "iris", "--vary", "model.hidden=[8],[16,8],[]",
                           "--dry-run")
    assert code == 0
    assert out.splitlines() == [
        "#1 hidden=[8]: iris · cross-entropy · adam lr=0.01 · 100 epochs · batch 16 · model 67 parameters",
        "#2 hidden=[16,8]: iris · cross-entropy · adam lr=0.01 · 100 epochs · batch 16 · model 243 parameters",
        "#3 hidden=[]: iris · cross-entropy · adam lr=0.01 · 100 epochs · batch 16 · model 15 parameters"]


def test_nested_or_unpaired_brackets_are_refused_not_flattened(capsys):
    for vary in ("model.hidden=[[8]],[4]", "model.hidden=[8,[4]"):
        assert main(["compare", "--task", "iris", "--vary", vary, "--dry-run"]) == 2
        assert "a list value is one pair of brackets" in capsys.readouterr().err


def test_devices_that_are_the_same_here_are_refused_as_the_same_run(capsys, runs_dir):
    # Before: two identical runs on a machine without a GPU, without a word.
    import torch

    if torch.cuda.is_available() or torch.backends.mps.is_available():
        pytest.skip("auto is a GPU here")
    assert main(["compare", "--task", "iris", "--vary", "training.device=cpu,auto", "--runs-dir", str(runs_dir)]) == 2
    assert ("runs #1 device=cpu and #2 device=auto are the same run on this machine: their devices are "
            "both cpu here" in capsys.readouterr().err)
    assert not runs_dir.exists()


def test_on_a_terminal_each_runs_bar_ends_at_its_last_step(capsys, runs_dir, monkeypatch):
    # Progress is reported at most every report interval: a bar fed only by it stopped short
    # (391/400 ... completed).
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    code, out, _ = run_cli(capsys, "compare", "--epochs", "400", "--device", "cpu",
                           "--vary", "optimizer.lr=0.01,0.1", "--runs-dir", str(runs_dir))
    assert code == 0
    text = re.sub(r"\x1b\[[0-9;]*m", "", out)  # colors off
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "\n", text)  # each redraw of the bars, its lines apart
    last = {line.split()[0]: line for line in text.splitlines() if re.match(r"#\d lr=", line)}
    assert len(last) == 2 and all("400/400" in line and "completed" in line for line in last.values()), last
