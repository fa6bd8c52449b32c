"""Nothing that exists is destroyed: exports never write over a run's files or an existing file
without --force, a foreign or damaged model.pt is refused before the folder is touched, and a
full disk leaves a readable, exportable run."""

import errno
import hashlib
import json

import pytest
import torch

from helpers import config
from tui_trainer.cli import main
from tui_trainer.engine.loop import train
from tui_trainer.engine.rundir import RUN_FILES, RunDirectoryWriter, read_run


def digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture
def saved_run(runs_dir, capsys):
    assert main(["train", "--epochs", "4", "--device", "cpu", "--runs-dir", str(runs_dir / "a"),
                 "--save-model", "--json"]) == 0
    return next((runs_dir / "a").iterdir())


def test_exports_never_write_over_a_run_or_an_existing_file(saved_run, tmp_path, capsys):
    before = digest(saved_run)
    for name in RUN_FILES:
        assert main(["export-history", str(saved_run), "-o", str(saved_run / name), "--force"]) == 2
        assert "one of the run's own files" in capsys.readouterr().err
    assert digest(saved_run) == before
    existing = tmp_path / "mine.csv"
    existing.write_text("keep me")
    for command in (["export-history", str(saved_run), "-o", str(existing)],
                    ["export-script", "-o", str(existing)],
                    ["train", "--save-config", str(existing), "--dry-run"]):
        assert main(command) == 2
        assert "exists; choose another file" in capsys.readouterr().err
    assert existing.read_text() == "keep me"
    for target in ("", str(tmp_path), "/dev/full"):
        assert main(["export-history", str(saved_run), "-o", target]) == 2
        assert main(["train", "--save-config", target, "--dry-run"]) == 2
        assert "Traceback" not in capsys.readouterr().err
    assert main(["export-history", str(saved_run), "-o", str(existing), "--force"]) == 0
    assert existing.read_text().startswith("epoch,")


def test_resume_refuses_a_foreign_or_damaged_checkpoint_and_leaves_the_folder(saved_run, runs_dir, capsys):
    assert main(["train", "--epochs", "6", "--lr", "0.1", "--device", "cpu", "--runs-dir",
                 str(runs_dir / "b"), "--save-model", "--json"]) == 0
    foreign = torch.load(next((runs_dir / "b").iterdir()) / "model.pt", weights_only=True)
    own = torch.load(saved_run / "model.pt", weights_only=True)
    cases = {
        "another run's": (foreign, "does not belong to the run"),
        "a longer run's": ({**foreign, "config": own["config"]}, "saved after epoch 6"),
        "missing keys": ({k: v for k, v in own.items() if k != "optimizer"}, "'optimizer' entry"),
        "wrong shapes": ({**own, "model": {k: torch.zeros(2, 5) for k in own["model"]}}, "size mismatch"),
    }
    for name, (state, message) in cases.items():
        torch.save(state, saved_run / "model.pt")
        before = digest(saved_run)
        assert main(["train", "--resume", str(saved_run), "--epochs", "9"]) == 2, name
        assert message in capsys.readouterr().err, name
        assert digest(saved_run) == before, name
    (saved_run / "model.pt").write_bytes(b"\x80\x04 random bytes")
    assert main(["train", "--resume", str(saved_run), "--epochs", "9"]) == 2
    assert "not a readable checkpoint" in capsys.readouterr().err


def test_damaged_history_lines_are_refused_with_the_line(saved_run, capsys):
    history = saved_run / "history.jsonl"
    lines = history.read_text().splitlines()
    for bad in ("\udcff binary", json.dumps({"epoch": 2, "foreign": 1}), json.dumps([1, 2])):
        history.write_text("\n".join([lines[0], bad, *lines[1:]]) + "\n", errors="surrogateescape")
        assert main(["train", "--resume", str(saved_run), "--epochs", "9"]) == 2
        assert f"{history}, line 2" in capsys.readouterr().err
    assert main(["export-history", str(saved_run), "--format", "json"]) == 0  # still exports


def test_full_disk_ends_the_run_with_a_message_and_a_readable_folder(runs_dir, monkeypatch):
    def full(self, event):
        raise OSError(errno.ENOSPC, "No space left on device")

    original = RunDirectoryWriter.on_epoch_end
    calls = []

    def fills_up(self, event):
        calls.append(event.epoch)
        if len(calls) > 2:
            full(self, event)
        original(self, event)

    monkeypatch.setattr(RunDirectoryWriter, "on_epoch_end", fills_up)
    monkeypatch.setattr("tui_trainer.outputs.os.fsync", lambda fd: full(None, None) if len(calls) > 2 else None)
    result = train(config("linear", training__epochs=6), runs_dir=runs_dir)
    assert result.reason == "failed" and "No space left on device" in result.message
    assert "summary.json: cannot write" in result.message
    record = read_run(result.run_dir)
    assert [row["epoch"] for row in record.history] == [1, 2] and record.summary is None
    assert main(["export-history", str(result.run_dir), "--format", "json"]) == 2  # disk still full
    monkeypatch.undo()  # space again: the folder exports
    assert main(["export-history", str(result.run_dir), "--format", "json"]) == 0
