"""``torchrun --standalone --nproc-per-node=2 -m tui_trainer train``: one run over two processes
(gloo on the CPU) that gives the single-process run's losses, one folder, one JSON object."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import make_vision_dir
from helpers import config, once_per_session, write_resmlp
from tui_trainer.cli import main
from tui_trainer.engine.distributed import Ranks
from tui_trainer.engine.events import RunEnded
from tui_trainer.engine.follow import RunFollower
from tui_trainer.engine.loop import Trainer
from tui_trainer.engine.runinfo import read_run_info
from tui_trainer.errors import UserFacingError

pytestmark = pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="two ranks need two cores")

TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2"]


#: Runs several commands one after another in the same two ranks (each rank imports torch once, for
#: every command), as ``-m tui_trainer`` runs one. After each command the ranks wait for each
#: other (a file each in the folder argv[2]), so that every write of the command is done; then
#: each prints one line: its exit code, what it printed, and (rank 0) the files the command names.
DRIVER = """
import contextlib, io, json, os, sys, time
from pathlib import Path
from tui_trainer.cli import main

rank, world, folder = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), Path(sys.argv[2])
for n, (name, argv, files) in enumerate(json.loads(sys.argv[1])):
    with contextlib.redirect_stdout(io.StringIO()) as out:
        code = main(argv)
    (folder / f"{n}-{rank}").touch()
    while not all((folder / f"{n}-{other}").exists() for other in range(world)):
        time.sleep(0.05)
    read = {path: Path(path).read_text() for path in files} if rank == 0 else {}
    print(json.dumps({"rank": rank, "name": name, "code": code, "stdout": out.getvalue(), "files": read}),
          flush=True)
"""


def train_args(task: str, folder: Path) -> list[str]:
    """A run trained both ways. iris: 120 training samples in batches of 16, the last one of 8;
    mnist: 160 in batches of 64, the last of 32. Each rank takes half of every batch. Your own
    model: a residual MLP from a file, on iris with a test split."""
    args = ["train", "--task", "iris" if task == "own model" else task, "--epochs", "4", "--device", "cpu",
            "--json"]
    if task == "mnist":
        args += ["--data-dir", str(make_vision_dir(folder / "data")), "--set", "task.download=false"]
    if task == "own model":
        args += ["--model", write_resmlp(folder), "--set", "training.test_split=0.2"]
    return args


TASKS = ["iris", "mnist", "own model"]
#: The wine run trained for 2 epochs in one process, then resumed under torchrun to these.
RESUMED = ["--task", "wine", "--device", "cpu", "--json"]
RESUMES = (4, 6, 8)


def launch(folder: Path) -> dict:
    """One torchrun launch of every command the tests below read: the run of each of TASKS, and
    the wine run resumed three times (its first 2 epochs trained in one process: checkpoints
    hold no trace of the world size). {"code", "stderr", "said": {name: [rank 0's, rank 1's]}}."""
    commands = [(task, [*train_args(task, folder / task), "--runs-dir", str(folder / task / "ddp")], [])
                for task in TASKS]
    with contextlib.redirect_stdout(io.StringIO()) as out:
        assert main(["train", *RESUMED, "--epochs", "2", "--save-model", "--runs-dir", str(folder / "runs")]) == 0
    run_dir = Path(json.loads(out.getvalue())["run_dir"])
    commands += [(f"resume to {epochs}", ["train", "--resume", str(run_dir), "--epochs", str(epochs), "--json"],
                  [str(run_dir / "history.jsonl"), str(run_dir / "steps.jsonl")]) for epochs in RESUMES]
    (folder / "barrier").mkdir()
    (folder / "driver.py").write_text(DRIVER)
    proc = subprocess.run([*TORCHRUN, str(folder / "driver.py"), json.dumps(commands), str(folder / "barrier")],
                          capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, XDG_DATA_HOME=str(folder / "xdg-data")))
    said: dict[str, list] = {}
    for line in proc.stdout.splitlines():
        if line.startswith('{"rank"'):
            record = json.loads(line)
            said.setdefault(record["name"], [None, None])[record["rank"]] = record
    return {"code": proc.returncode, "stderr": proc.stderr, "said": said, "folder": str(folder)}


@pytest.fixture
def launched(tmp_path_factory) -> dict:
    """The launch, made once for the whole session (whichever test process asks first)."""
    return once_per_session("torchrun", launch, tmp_path_factory.getbasetemp())


def launched_command(launched: dict, name: str) -> tuple[dict, dict]:
    """Command ``name`` of the launch: (the one JSON object it printed, the files rank 0 read
    after it). Both ranks exited 0, and only rank 0 printed."""
    assert launched["code"] == 0 and name in launched["said"], launched["stderr"]
    first, second = launched["said"][name]
    assert first["code"] == second["code"] == 0, launched["stderr"]
    assert second["stdout"] == ""
    return json.loads(first["stdout"]), first["files"]


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


@pytest.mark.parametrize("task", TASKS)
def test_two_ranks_train_the_single_process_run(task, launched, tmp_path, capsys):
    distributed, _ = launched_command(launched, task)
    assert distributed["epochs_run"] == 4
    assert_same_run(distributed, alone(capsys, *train_args(task, tmp_path), "--runs-dir", str(tmp_path / "single")))
    folders = list((Path(launched["folder"]) / task / "ddp").iterdir())
    assert len(folders) == 1 and (folders[0] / "summary.json").is_file()
    assert len((folders[0] / "history.jsonl").read_text().splitlines()) == 4
    info = read_run_info(folders[0])  # rank 0 wrote it, and the machine beside it
    assert info.world == 2 and info.writer.pid != os.getpid() and info.started["epochs"] == 4
    follower = RunFollower(folders[0])
    assert isinstance(follower.poll()[-2], RunEnded) and len(follower.history) == 4


def test_resume_under_torchrun_again_and_again_writes_each_epoch_once(launched, tmp_path, capsys):
    # The first part trained in one process, the rest under torchrun, resumed three times: each
    # time the history is the uninterrupted single-process run's, written by rank 0 alone.
    # Before, both ranks appended the resumed epochs (history 1 2 3 3 4 4, every step twice) and
    # the next --resume was refused; the ranks raced, so it showed in most tries but not all:
    # three resumes in a row.
    for epochs in RESUMES:
        resumed, files = launched_command(launched, f"resume to {epochs}")
        history, steps = ([json.loads(line) for line in text.splitlines()] for text in files.values())
        assert [row["epoch"] for row in history] == list(range(1, epochs + 1))
        steps = [row["step"] for row in steps]
        assert steps == list(range(1, steps[-1] + 1))
    single = alone(capsys, "train", *RESUMED, "--epochs", "8", "--runs-dir", str(tmp_path / "single"))
    assert_same_run(resumed, single)
    assert [row["train_loss"] for row in history] == pytest.approx(
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
