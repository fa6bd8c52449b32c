"""``torchrun --standalone --nproc-per-node=2 -m tui_trainer train``: one run over two processes
(gloo on the CPU) that gives the single-process run's losses, one folder, one JSON object."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import config, write_resmlp
from tui_trainer.cli import main
from tui_trainer.engine.distributed import Ranks
from tui_trainer.engine.events import RunEnded
from tui_trainer.engine.follow import RunFollower
from tui_trainer.engine.loop import Trainer
from tui_trainer.engine.rundir import read_jsonl
from tui_trainer.engine.runinfo import read_run_info
from tui_trainer.errors import UserFacingError

pytestmark = pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="two ranks need two cores")

TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2"]


def torchrun(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([*TORCHRUN, "-m", "tui_trainer", *args], capture_output=True, text=True,
                          timeout=180, **kwargs)


def alone(capsys, *args: str) -> dict:
    """The same command in one process (in this one: no second torch import)."""
    capsys.readouterr()
    assert main(list(args)) == 0
    return json.loads(capsys.readouterr().out)


def assert_same_run(distributed: dict, single: dict) -> None:
    for name in ("train_loss", "val_loss", "val_accuracy"):
        assert [h[name] for h in distributed["history"]] == pytest.approx(
            [h[name] for h in single["history"]], rel=1e-5), name
    for name in ("val_loss", "test_loss", "test_accuracy"):  # the test set: scored over both ranks
        assert (distributed["final"][name] is None) == (single["final"][name] is None)
        if single["final"][name] is not None:
            assert distributed["final"][name] == pytest.approx(single["final"][name], rel=1e-5)
    assert distributed["confusion"] == single["confusion"]


@pytest.mark.parametrize("task", ["iris", "mnist", "own model"])
def test_two_ranks_train_the_single_process_run(task, tmp_path, mnist_dir, capsys):
    # iris: 120 training samples in batches of 16, the last one of 8; mnist: 160 in batches of 64,
    # the last of 32. Each rank takes half of every batch. Your own model: a residual MLP from a
    # file, on iris with a test split.
    args = ["train", "--task", "iris" if task == "own model" else task, "--epochs", "4", "--device", "cpu",
            "--json"]
    if task == "mnist":
        args += ["--data-dir", str(mnist_dir), "--set", "task.download=false"]
    if task == "own model":
        args += ["--model", write_resmlp(tmp_path), "--set", "training.test_split=0.2"]
    proc = torchrun(*args, "--runs-dir", str(tmp_path / "ddp"))
    assert proc.returncode == 0, proc.stderr
    distributed = json.loads(proc.stdout)  # one object: only rank 0 prints
    assert distributed["epochs_run"] == 4
    assert_same_run(distributed, alone(capsys, *args, "--runs-dir", str(tmp_path / "single")))
    folders = list((tmp_path / "ddp").iterdir())
    assert len(folders) == 1 and (folders[0] / "summary.json").is_file()
    assert len((folders[0] / "history.jsonl").read_text().splitlines()) == 4
    info = read_run_info(folders[0])  # rank 0 wrote it, and the machine beside it
    assert info.world == 2 and info.writer.pid != os.getpid() and info.started["epochs"] == 4
    follower = RunFollower(folders[0])
    assert isinstance(follower.poll()[-2], RunEnded) and len(follower.history) == 4


def test_resume_under_torchrun_again_and_again_writes_each_epoch_once(tmp_path, capsys):
    # The first part trains in one process (checkpoints hold no trace of the world size), the
    # rest under torchrun, resumed three times: each time the history is the uninterrupted
    # single-process run's, written by rank 0 alone. Before, both ranks appended the resumed
    # epochs (history 1 2 3 3 4 4, every step twice) and the next --resume was refused; the
    # ranks raced, so it showed in most tries but not all: three resumes in a row.
    common = ["--task", "wine", "--device", "cpu", "--json", "--runs-dir", str(tmp_path / "runs")]
    run_dir = Path(alone(capsys, "train", *common, "--epochs", "2", "--save-model")["run_dir"])
    for epochs in (4, 6, 8):
        resumed = torchrun("train", "--resume", str(run_dir), "--epochs", str(epochs), "--json")
        assert resumed.returncode == 0, resumed.stderr
        assert [row["epoch"] for row in read_jsonl(run_dir / "history.jsonl")] == list(range(1, epochs + 1))
        steps = [row["step"] for row in read_jsonl(run_dir / "steps.jsonl")]
        assert steps == list(range(1, steps[-1] + 1))
    single = alone(capsys, "train", *common[:-2], "--epochs", "8", "--runs-dir", str(tmp_path / "single"))
    assert_same_run(json.loads(resumed.stdout), single)
    assert [row["train_loss"] for row in read_jsonl(run_dir / "history.jsonl")] == pytest.approx(
        [h["train_loss"] for h in single["history"]], rel=1e-5)


def test_a_batch_the_ranks_cannot_share_is_refused(monkeypatch, capsys, tmp_path):
    # Checked in this process as rank 0 of 2 (the refusal comes before any collective): every
    # rank finds it, and only rank 0 says it.
    monkeypatch.setattr(Ranks, "start", classmethod(lambda cls, backend, device: cls(0, 2, 0, "gloo")))
    assert main(["train", "--task", "iris", "--batch-size", "15", "--device", "cpu",
                 "--runs-dir", str(tmp_path / "runs")]) == 2
    assert ("training.batch_size: 15 is the global batch; with 2 ranks it must be a multiple of 2"
            in capsys.readouterr().err)
    assert not (tmp_path / "runs").exists()
    with pytest.raises(UserFacingError, match="the last batch of an epoch holds 1 sample"):
        # 129 training samples in batches of 16: the last batch has 1, fewer than the 2 ranks
        Trainer(config("iris", training__batch_size=16, training__val_split=0.14), runs_dir=False).setup()


def long_run_under_torchrun(runs: Path) -> subprocess.Popen:
    """A long digits run under torchrun, in its own session, once its first epoch is written."""
    proc = subprocess.Popen([*TORCHRUN, "-m", "tui_trainer", "train", "--task", "digits", "--epochs",
                             "100000", "--device", "cpu", "--runs-dir", str(runs)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    while not any(path.read_text() for path in runs.glob("*/history.jsonl")):
        if time.monotonic() > deadline or proc.poll() is not None:
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail(f"no epoch written: {proc.communicate()}")
        time.sleep(0.2)
    return proc


def test_ctrl_c_stops_every_rank_with_130_and_keeps_the_history(tmp_path):
    runs = tmp_path / "runs"
    proc = long_run_under_torchrun(runs)
    os.killpg(proc.pid, signal.SIGINT)  # as a terminal's Ctrl+C: torchrun and both ranks
    out, err = proc.communicate(timeout=60)
    summary = json.loads(next(runs.glob("*/summary.json")).read_text())
    assert summary["stopped_reason"] == "interrupted" and summary["epochs_run"] >= 1
    assert "Run ended: interrupted" in out
    assert "tui_trainer/" not in err


def test_the_exported_script_runs_under_torchrun_the_same_way(tmp_path, capsys):
    script = tmp_path / "train.py"
    args = ["--task", "wine", "--epochs", "4", "--device", "cpu"]
    assert main(["export-script", *args, "-o", str(script)]) == 0
    proc = subprocess.run([*TORCHRUN, str(script)], capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stdout.splitlines() if line.startswith("Epoch ")]
    assert len(lines) == 4  # printed by the first process only
    losses = [float(line.split("train_loss: ")[1].split(" ")[0]) for line in lines]
    single = alone(capsys, "train", *args, "--json", "--runs-dir", str(tmp_path / "runs"))
    assert losses == pytest.approx([h["train_loss"] for h in single["history"]], rel=1e-5)


def test_ranks_stop_and_keep_the_history_when_torchrun_is_killed(tmp_path):
    # Before: SIGKILL to torchrun left both ranks training as orphans for ever. Each rank now
    # notices that torchrun is gone (it was re-parented) and stops as after SIGHUP.
    runs = tmp_path / "runs"
    proc = long_run_under_torchrun(runs)
    try:
        proc.kill()  # torchrun alone; the ranks hold its stdout and stderr until they end
        out, err = proc.communicate(timeout=120)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # ranks left over by a failure
    summary = json.loads(next(runs.glob("*/summary.json")).read_text())
    assert summary["stopped_reason"] == "interrupted" and summary["epochs_run"] >= 1
    assert "torchrun ended: this rank stops after its current step" in err
    assert "Traceback" not in err
