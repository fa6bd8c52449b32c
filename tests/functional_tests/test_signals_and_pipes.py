"""Signals and pipes as a person meets them: Ctrl+C at start-up, SIGTERM mid-run, a second Ctrl+C
inside a long step, output piped into ``head``, and the terminal going away (SIGHUP: a dropped
SSH session) under every command that trains, in a real pseudo-terminal."""

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import signals_of, wait_until
from pty_terminal import Terminal
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
    # The command catches SIGTERM from its first line on (``entry.run``); torch and the command
    # line are still loading then. Before that, Python's own start-up is not the command's.
    wait_until("the command to catch signals", lambda: signal.SIGTERM in signals_of(proc.pid, "SigCgt"))
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert out == ""  # it stopped loading: nothing trained, nothing printed


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


def test_second_ctrl_c_ends_a_long_step_at_once(tmp_path):
    runs = tmp_path / "runs"
    proc = start(["train", "--task", "regression", "--set", "task.samples=60000", "--batch-size",
                  "full", "--hidden", "1024,1024", "--epochs", "1000", "--device", "cpu",
                  "--set", "training.threads=1", "--runs-dir", str(runs)], tmp_path)
    line = first_epoch_line(proc)  # each epoch is one long full-batch step: its time ends the line
    took = line.strip().rsplit(" - ", 1)[1]  # 2.7s, or 850ms
    epoch = float(took[:-2]) / 1000 if took.endswith("ms") else float(took[:-1])
    proc.send_signal(signal.SIGINT)
    # Two Ctrl+C still pending would be one: the second goes once the first was delivered.
    wait_until("the first Ctrl+C to be delivered",
               lambda: signal.SIGINT not in signals_of(proc.pid, "SigPnd") | signals_of(proc.pid, "ShdPnd"))
    proc.send_signal(signal.SIGINT)
    sent = time.monotonic()
    out, err = proc.communicate(timeout=120)
    # The step it was in would have taken about as long as the first epoch (measured in the same
    # process, on the same machine, at the same load): it ended well before that step could.
    assert time.monotonic() - sent < epoch / 2, (epoch, line)
    assert proc.returncode == 130 and "Traceback" not in err
    assert "aborted: second interrupt" in err
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


def wait_for_history(runs: Path, terminal: Terminal, runs_count: int = 1) -> None:
    """Wait until ``runs_count`` run folders each hold a finished epoch."""
    deadline = time.monotonic() + 120
    while sum(bool(path.read_text()) for path in runs.glob("*/history.jsonl")) < runs_count:
        assert time.monotonic() < deadline and not terminal.exited(), terminal.text()[-2000:]
        time.sleep(0.05)


@pytest.mark.parametrize("command, runs_count", [
    (["train", "--save-model"], 1),
    (["compare", "--vary", "optimizer.lr=0.01,0.02"], 2),
    (["lab", "skip_zero_grad", "--optimizer", "sgd"], 2),
])
def test_a_terminal_that_goes_away_stops_the_run_keeping_its_ending_129(command, runs_count, tmp_path):
    # Before: SIGHUP ended the process at once: no summary.json, no model.pt, no resume. Now it
    # stops after the current step like Ctrl+C, and the progress it still prints into the dead
    # terminal (EIO) is dropped instead of raising.
    runs = tmp_path / "runs"
    terminal = Terminal([*command, "--epochs", "1000000", "--device", "cpu", "--runs-dir", str(runs)],
                        env={"XDG_DATA_HOME": str(tmp_path / "xdg")})
    try:
        wait_for_history(runs, terminal, runs_count)
        terminal.hang_up()
        assert terminal.wait_exit() == 129
    finally:
        terminal.kill()
    folders = sorted(runs.iterdir())
    assert len(folders) == runs_count
    for folder in folders:
        record = read_run(folder)
        assert record.summary["stopped_reason"] == "interrupted" and record.history
    assert (folders[0] / "model.pt").is_file() == (command[0] == "train")


def watching_signals(pid: int) -> bool:
    """Whether the process holds a socket: the wake-up socket of the signal watcher that is on
    while a command trains (``interrupts.StopOnSignals``)."""
    links = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):  # an fd closed meanwhile
            links.append(os.readlink(fd))
    return any(link.startswith("socket:") for link in links)


def test_lr_find_ends_with_129_when_its_terminal_goes_away(tmp_path):
    terminal = Terminal(["lr-find", "--task", "digits", "--hidden", "512,512", "--steps", "100000",
                         "--end", "1e-3", "--device", "cpu"], env={"XDG_DATA_HOME": str(tmp_path / "xdg")})
    try:
        deadline = time.monotonic() + 120
        while not watching_signals(terminal.pid):  # the range test is under way
            assert time.monotonic() < deadline and not terminal.exited(), terminal.text()
            time.sleep(0.05)
        terminal.hang_up()
        assert terminal.wait_exit() == 129
    finally:
        terminal.kill()


def test_sighup_with_the_terminal_still_there_prints_the_summary(tmp_path):
    # `kill -HUP` by hand: the terminal is still there, so the summary shows on it.
    runs = tmp_path / "runs"
    terminal = Terminal(["train", "--epochs", "1000000", "--device", "cpu", "--runs-dir", str(runs)],
                        env={"XDG_DATA_HOME": str(tmp_path / "xdg")})
    try:
        wait_for_history(runs, terminal)
        terminal.signal(signal.SIGHUP)
        assert terminal.wait_exit() == 129
    finally:
        terminal.kill()
    terminal.wait_for(b"Run ended: interrupted by request")
    assert b"Traceback" not in terminal.text()


def test_the_first_signal_is_handed_over_with_its_exit_code():
    from threading import Event

    from tui_trainer.interrupts import StopOnSignals

    for signum, code in ((signal.SIGHUP, 129), (signal.SIGTERM, 130), (signal.SIGINT, 130)):
        got, seen = [], Event()
        with StopOnSignals(lambda number: (got.append(number), seen.set())) as signals:
            os.kill(os.getpid(), signum)
            assert seen.wait(30)
        assert got == [signum] and signals.exit_code == code
