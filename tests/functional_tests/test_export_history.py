"""``tui-trainer export-history``: a run's per-epoch history and per-interval train loss as CSV or JSON."""

import csv
import json

from helpers import config
from tui_trainer.cli import main
from tui_trainer.engine.loop import train


def read_csv(path):
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_csv_holds_every_epoch_and_every_interval(runs_dir, capsys):
    result = train(config("regression", task__samples=200, training__epochs=3), runs_dir=runs_dir,
                   report_interval=0)
    assert main(["export-history", str(result.run_dir), "--format", "csv"]) == 0
    epochs_file, steps_file = result.run_dir / "history.csv", result.run_dir / "history-steps.csv"
    assert capsys.readouterr().out.splitlines() == [f"wrote {epochs_file}", f"wrote {steps_file}"]
    rows = read_csv(epochs_file)
    assert [int(row["epoch"]) for row in rows] == [1, 2, 3]
    assert [float(row["train_loss"]) for row in rows] == [m.train_loss for m in result.history]
    assert [float(row["val_r2"]) for row in rows] == [m.val_r2 for m in result.history]
    assert rows[0]["val_accuracy"] == ""  # regression: no accuracy
    steps = read_csv(steps_file)
    assert [(int(row["step"]), float(row["train_loss"])) for row in steps] == result.steps


def test_json_holds_config_summary_history_and_steps(runs_dir, tmp_path, capsys):
    result = train(config("iris", training__epochs=2, training__val_split=0.0), runs_dir=runs_dir,
                   report_interval=0)
    out = tmp_path / "exports" / "iris.json"
    assert main(["export-history", result.run_dir.name, "--format", "json", "-o", str(out),
                 "--runs-dir", str(runs_dir)]) == 0
    data = json.loads(out.read_text())
    assert data["config"]["task"]["name"] == "iris"
    assert data["summary"]["stopped_reason"] == "completed"
    assert data["history"] == [m.as_json() for m in result.history]
    assert data["history"][0]["val_loss"] is None  # no validation split
    assert [(row["step"], row["train_loss"]) for row in data["steps"]] == result.steps


def test_a_folder_that_is_not_a_run_exits_2(tmp_path, capsys):
    assert main(["export-history", str(tmp_path)]) == 2
    assert "is not a run folder (no config.toml)" in capsys.readouterr().err
    assert main(["export-history", "no-such-run"]) == 2
    assert "no run folder 'no-such-run'" in capsys.readouterr().err


def test_dash_prints_to_standard_output_and_writes_no_file(runs_dir, tmp_path, monkeypatch, capsys):
    # Before: -o - wrote files named "-" and "--steps.csv".
    monkeypatch.chdir(tmp_path)
    result = train(config("iris", training__epochs=3), runs_dir=runs_dir)
    capsys.readouterr()
    assert main(["export-history", str(result.run_dir), "-o", "-"]) == 0
    out, err = capsys.readouterr()
    assert [row["epoch"] for row in csv.DictReader(out.splitlines())] == ["1", "2", "3"]
    assert "per-epoch table only" in err
    assert main(["export-history", str(result.run_dir), "-o", "-", "--format", "json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["history"]) == 3
    written = {p.name for p in result.run_dir.iterdir()}
    assert list(tmp_path.iterdir()) == [runs_dir] and not {"-", "--steps.csv", "history.csv"} & written
    assert main(["export-script", "-o", "-"]) == 2
    assert "'-' (standard output) is not taken here" in capsys.readouterr().err
