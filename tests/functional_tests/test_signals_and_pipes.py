"""Signals and pipes as a person meets them: Ctrl+C at start-up, SIGTERM mid-run, a second Ctrl+C
inside a long step, and output piped into ``head``."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tui_trainer.engine.rundir import read_run

COMMAND = [sys.executable, "-m", "tui_trainer"]


def start(args: list[str], tmp_path: Path) -> subprocess.Popen:
    env = dict(os.environ, XDG_DATA_HOME=str(tmp_path / "xdg"))
    return subprocess.Popen([*COMMAND, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)


def first_epoch_line(proc: subprocess.Popen) -> str:
    started = proc.stdout.readline()  # what trains: the data, the model's size and the device
    line = proc.stdout.readline()
    assert " parameters · " in started and line.startswith("Epoch 1/"), started + line + proc.stderr.read()
    return line


def test_ctrl_c_during_start_up_exits_130_without_a_traceback(tmp_path):
    proc = start(["train", "--epochs", "5"], tmp_path)
    time.sleep(0.3)  # loading: the command line, torch or the checks
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err


def test_sigterm_mid_run_is_ctrl_c_summary_and_model_kept(tmp_path):
    runs = tmp_path / "runs"
    proc = start(["train", "--epochs", "1000000", "--device", "cpu", "--runs-dir", str(runs),
                  "--save-model"], tmp_path)
    first_epoch_line(proc)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "Run ended: interrupted" in out
    run_dir = next(runs.iterdir())
    record = read_run(run_dir)
    assert record.summary["stopped_reason"] == "interrupted"
    assert (run_dir / "model.pt").is_file()


def test_second_ctrl_c_ends_a_long_step_within_a_second(tmp_path):
    runs = tmp_path / "runs"
    proc = start(["train", "--task", "regression", "--set", "task.samples=60000", "--batch-size",
                  "full", "--hidden", "1024,1024", "--epochs", "1000", "--device", "cpu",
                  "--set", "training.threads=1", "--runs-dir", str(runs)], tmp_path)
    first_epoch_line(proc)  # each epoch is one long full-batch step
    proc.send_signal(signal.SIGINT)
    time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    sent = time.monotonic()
    out, err = proc.communicate(timeout=60)
    assert time.monotonic() - sent < 1.0
    assert proc.returncode == 130 and "Traceback" not in err
    assert read_run(next(runs.iterdir())).history[0]["epoch"] == 1


def test_closed_pipe_never_fails_a_command(tmp_path):
    env = dict(os.environ, XDG_DATA_HOME=str(tmp_path / "xdg"))
    for args, code in ((["list"], 0), (["train", "--epochs", "300", "--device", "cpu"], 0)):
        proc = subprocess.Popen([*COMMAND, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        proc.stdout.readline()
        proc.stdout.close()  # the reader (`| head -1`) is gone
        err = proc.stderr.read().decode()
        assert proc.wait(timeout=60) == code, err
        assert "Traceback" not in err and "BrokenPipe" not in err
