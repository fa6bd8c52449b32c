"""``tui-trainer evaluate RUN_DIR [--split test|val|train] [--json]``: a run's model.pt scored
again on one of its splits, as the run scored it, without touching the run folder."""

from __future__ import annotations

import hashlib
import json

import pytest

from helpers import write_resmlp
from tui_trainer.cli import main


def folder_state(folder) -> dict:
    """Every file of a folder with its size, modification time and digest."""
    return {path.name: (path.stat().st_size, path.stat().st_mtime_ns, hashlib.sha256(path.read_bytes()).hexdigest())
            for path in sorted(folder.iterdir())}


def trained(capsys, runs_dir, *args: str) -> dict:
    capsys.readouterr()
    assert main(["train", *args, "--device", "cpu", "--runs-dir", str(runs_dir), "--save-model", "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def evaluated(capsys, *args: str) -> dict:
    capsys.readouterr()
    assert main(["evaluate", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("task", ["iris", "diabetes"])
def test_evaluate_gives_the_runs_own_final_figures_and_writes_nothing(task, tmp_path, runs_dir, capsys):
    run = trained(capsys, runs_dir, "--task", task, "--epochs", "4", "--model", write_resmlp(tmp_path),
                  *(["--set", "model.args.inputs=10", "--set", "model.args.classes=1"] if task == "diabetes" else []),
                  "--set", "training.test_split=0.2")
    folder = runs_dir / run["run_dir"].rsplit("/", 1)[1]
    before = folder_state(folder)
    metric = "r2" if task == "diabetes" else "accuracy"
    for split, expected_split in ((None, "test"), ("test", "test"), ("val", "val"), ("train", "train")):
        scored = evaluated(capsys, str(folder), *(["--split", split] if split else []))
        assert scored["split"] == expected_split
        assert scored["loss"] == pytest.approx(run["final"][f"{expected_split}_loss"], rel=1e-6)
        assert scored[metric] == pytest.approx(run["final"][f"{expected_split}_{metric}"], rel=1e-6)
        if task == "iris" and expected_split != "train":
            assert scored["confusion"] == run["confusion"][expected_split]
    assert folder_state(folder) == before  # nothing written, nothing touched
    capsys.readouterr()
    assert main(["evaluate", folder.name, "--runs-dir", str(runs_dir)]) == 0  # a run's name works too
    text = capsys.readouterr().out
    assert f"{folder.name}: test set, 30 samples" in text if task == "iris" else "test set, 88 samples" in text
    if task == "iris":
        assert "confusion matrix (test; rows: true class, columns: predicted):" in text
        assert "setosa" in text and "misclassified:" in text
    assert folder_state(folder) == before


def test_evaluate_says_what_is_missing(tmp_path, runs_dir, capsys):
    run = trained(capsys, runs_dir, "--task", "iris", "--epochs", "1")
    assert main(["evaluate", run["run_dir"], "--split", "test"]) == 2
    assert "--split test: the run in" in (err := capsys.readouterr().err) and "training.test_split was 0" in err
    unsaved = runs_dir / "unsaved"
    unsaved.mkdir()
    (unsaved / "config.toml").write_text('[task]\nname = "iris"\n')
    assert main(["evaluate", str(unsaved)]) == 2
    assert "has no model.pt" in capsys.readouterr().err
    assert main(["evaluate", str(tmp_path / "nowhere")]) == 2
    assert "no run folder" in capsys.readouterr().err
