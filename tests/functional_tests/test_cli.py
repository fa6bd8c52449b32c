"""The ``tui-trainer`` command as a person runs it: flags, JSON, exit codes, messages."""

import gc
import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tui_trainer.cli import main
from tui_trainer.config import load_config

REQUIRED_KEYS = {"task", "loss", "optimizer", "device", "epochs_run", "stopped_reason", "final",
                 "parameters", "param_count", "history", "seconds", "samples_per_second", "run_dir"}


def test_json_prints_one_object_with_the_documented_keys(runs_dir, capsys):
    code = main(["train", "--task", "linear", "--epochs", "300", "--device", "cpu",
                 "--runs-dir", str(runs_dir), "--json"])
    assert code == 0
    out = capsys.readouterr().out
    data = json.loads(out)
    assert REQUIRED_KEYS <= set(data)
    assert set(data["final"]) >= {"train_loss", "val_loss", "train_accuracy", "val_accuracy"}
    assert data["final"]["train_accuracy"] is None
    assert data["parameters"]["weight"] == pytest.approx(2.0, abs=0.1)
    assert data["stopped_reason"] == "completed" and data["epochs_run"] == 300
    assert len(data["history"]) == 300 and data["samples_per_second"] > 0
    assert Path(data["run_dir"]).parent == runs_dir


def test_the_app_and_watch_open_with_garbage_collections_held(runs_dir, monkeypatch):
    """The app resumes them at its first frame (test_app_first_frame); here: held while it loads."""
    import tui_trainer.app

    held = []
    monkeypatch.setattr(tui_trainer.app, "run_app", lambda *args, **kwargs: held.append(not gc.isenabled()) or 0)
    try:
        assert main(["--runs-dir", str(runs_dir)]) == 0
        assert main(["watch", "--runs-dir", str(runs_dir)]) == 0
    finally:
        gc.enable()
    assert held == [True, True]


def test_flags_and_set_override_the_config_file(tmp_path, runs_dir, capsys):
    file = tmp_path / "base.toml"
    file.write_text('[task]\nname = "iris"\n[optimizer]\nname = "sgd"\nlr = 0.05\n')
    code = main(["train", "--config", str(file), "--epochs", "2", "--set", "optimizer.momentum=0.9",
                 "--set", "optimizer.nesterov=true", "--hidden", "8", "--runs-dir", str(runs_dir),
                 "--save-config", str(tmp_path / "out.toml"), "--dry-run"])
    assert code == 0
    saved = load_config(tmp_path / "out.toml")
    assert saved.task.name == "iris" and saved.model.hidden == [8] and saved.training.epochs == 2
    assert saved.optimizer.params == {"lr": 0.05, "momentum": 0.9, "dampening": 0.0, "weight_decay": 0.0,
                                      "nesterov": True, "maximize": False}
    printed = capsys.readouterr().out
    assert "[optimizer]" in printed and 'name = "sgd"' in printed
    assert not runs_dir.exists()  # a dry run trains nothing


def test_save_config_with_dry_run_says_each_thing_on_its_own_line(tmp_path):
    # Both streams on one terminal: the saved file's line never runs into the config's last.
    out = tmp_path / "out.toml"
    result = subprocess.run([sys.executable, "-m", "tui_trainer", "train", "--epochs", "3", "--save-config",
                             str(out), "--dry-run"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert f"saved config to {out}" in lines and "wrong_loss = false" in lines and result.stdout.endswith("\n")


def test_bad_input_exits_2_naming_every_field_without_traceback(capsys):
    assert main(["train", "--task", "iris", "--loss", "bce", "--lr", "-1", "--batch-size", "zero"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "optimizer.lr: -1 is not allowed; must be a number > 0" in err
    assert "training.batch_size: 'zero' is not allowed; must be a whole number >= 1 or 'full'" in err
    assert "loss: bce needs one output in [0, 1] (a binary task); task iris has 3 classes" in err


def test_torch_refusals_and_bad_set_syntax_exit_2(capsys):
    assert main(["train", "--optimizer", "sgd", "--set", "optimizer.nesterov=true", "--dry-run"]) == 2
    assert "optimizer.nesterov: torch refuses" in capsys.readouterr().err
    assert main(["train", "--set", "optimizer.lr"]) == 2
    assert "expected KEY=VALUE" in capsys.readouterr().err
    assert main(["train", "--config", "/nonexistent/x.toml"]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_missing_mnist_exits_2_with_the_folder(tmp_path, capsys):
    code = main(["train", "--task", "mnist", "--data-dir", str(tmp_path / "nowhere"),
                 "--set", "task.download=false"])
    assert code == 2
    assert str(tmp_path / "nowhere" / "MNIST" / "raw") in capsys.readouterr().err


def test_divergence_exits_1_with_the_reason(runs_dir, capsys):
    code = main(["train", "--optimizer", "sgd", "--lr", "3", "--batch-size", "10", "--epochs", "100",
                 "--device", "cpu", "--runs-dir", str(runs_dir)])
    assert code == 1
    out = capsys.readouterr().out
    assert "Run ended: diverged: loss exploded: " in out and "try a lower learning rate" in out


def test_non_terminal_output_is_one_keras_line_per_epoch_then_a_summary(runs_dir, capsys):
    assert main(["train", "--task", "iris", "--epochs", "3", "--device", "cpu", "--runs-dir", str(runs_dir)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "iris: 120 training / 30 validation samples · model 131 parameters · cpu (CPU)"
    assert lines[1].startswith("Epoch 1/3 - train_loss: ")
    assert " - val_loss: " in lines[1] and " - accuracy: " in lines[1] and " - lr: 0.01 - " in lines[1]
    assert lines[4] == "Run ended: completed 3 epochs"
    assert any(line.strip().startswith("run folder:") for line in lines)
    # the summary's lines fit 80 columns (a terminal of 100 wrapped a lone "%" of the final metrics)
    assert lines[5].startswith("  final:       train_loss ") and lines[6].strip().startswith("train_accuracy ")
    assert all(len(line) <= 80 for line in lines[4:] if "run folder:" not in line)


def test_linear_summary_shows_learned_w_and_b_next_to_truth(runs_dir, capsys):
    assert main(["train", "--epochs", "1000", "--device", "cpu", "--runs-dir", str(runs_dir)]) == 0
    out = capsys.readouterr().out
    assert "learned:     w = 1.99" in out or "learned:     w = 2.00" in out
    assert "(true 2)" in out and "(true 3)" in out


def test_list_names_every_choice_with_defaults(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for text in ("linear", "fashion-mnist", "breast-cancer", "custom-mae", "PATH.py:Class",
                 "torch.optim.Adadelta", "rho = 0.9", "nesterov = false", "betas = 0.9,0.999",
                 "torch.optim.lr_scheduler.OneCycleLR", "losses: cross-entropy, nll, bce, bce-logits"):
        assert text in out, text


def wait_for_lines(path: Path, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and len(path.read_text().splitlines()) >= count:
            return
        time.sleep(0.05)
    raise AssertionError(f"{path} never reached {count} lines")


def start_long_run(runs_dir: Path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui_trainer", "train", "--task", "linear", "--epochs", "1000000",
         "--device", "cpu", "--runs-dir", str(runs_dir)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not (runs_dir.exists() and any(runs_dir.iterdir())):
        assert time.monotonic() < deadline and proc.poll() is None, proc.stderr.read() if proc.poll() else ""
        time.sleep(0.05)
    run_dir = next(runs_dir.iterdir())
    wait_for_lines(run_dir / "history.jsonl", 5)
    return proc, run_dir


def test_ctrl_c_stops_cleanly_exits_130_and_keeps_history(runs_dir):
    from tui_trainer.engine.rundir import read_run

    proc, run_dir = start_long_run(runs_dir)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert "Run ended: interrupted" in out
    record = read_run(run_dir)
    assert record.summary["stopped_reason"] == "interrupted"
    assert len(record.history) == record.summary["epochs_run"] >= 5


def test_killed_run_leaves_a_readable_history(runs_dir):
    from tui_trainer.engine.rundir import read_run

    proc, run_dir = start_long_run(runs_dir)
    proc.kill()
    proc.communicate(timeout=30)
    record = read_run(run_dir)
    assert record.summary is None
    assert len(record.history) >= 5
    assert [row["epoch"] for row in record.history] == list(range(1, len(record.history) + 1))


@pytest.mark.parametrize("verbose", [False, True])
def test_on_a_terminal_a_bar_and_the_summary_epoch_lines_only_with_verbose(verbose, runs_dir, capsys,
                                                                          monkeypatch):
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    argv = ["train", "--epochs", "40", "--device", "cpu", "--runs-dir", str(runs_dir)]
    assert main(argv + (["--verbose"] if verbose else [])) == 0
    out = capsys.readouterr().out
    epoch_lines = set(re.findall(r"Epoch (\d+)/40 - train_loss: ", out))
    assert len(epoch_lines) == (40 if verbose else 0)
    assert "Run ended: completed 40 epochs" in out and "learned:     w = " in out
