"""What a run records beside its own files: TensorBoard's event files when asked (read back with
TensorBoard's EventAccumulator), and the machine beside it in ``system.jsonl``."""

from __future__ import annotations

import json
import os
import sys

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import plugin_data_pb2

from helpers import config
from tui_trainer.cli import main
from tui_trainer.engine import system
from tui_trainer.engine.loop import Trainer
from tui_trainer.engine.rundir import read_run
from tui_trainer.engine.system import SystemSample


def events_of(folder) -> EventAccumulator:
    accumulator = EventAccumulator(str(folder), size_guidance={"scalars": 0})
    accumulator.Reload()
    return accumulator


def values(accumulator: EventAccumulator, tag: str) -> list[tuple[int, float]]:
    return [(event.step, event.value) for event in accumulator.Scalars(tag)]


def test_event_files_hold_every_figure_of_the_history_and_the_hyperparameters(runs_dir):
    cfg = config("iris", training__epochs=6, optimizer__lr=0.02, logging__tensorboard=True,
                 scheduler="step", scheduler__step_size=2)
    result = Trainer(cfg, runs_dir=runs_dir).run()
    record = read_run(result.run_dir)
    events = events_of(result.run_dir)
    tags = set(events.Tags()["scalars"])
    for name in ("train_loss", "val_loss", "train_accuracy", "val_accuracy", "lr", "grad_norm", "seconds",
                 "elapsed", "samples_per_second", "global_step"):
        assert values(events, f"epoch/{name}") == [
            (row["epoch"], pytest.approx(row[name], rel=1e-6)) for row in record.history], name
    assert not {tag for tag in tags if tag.endswith(("r2", "/path"))}  # a classification: no R², no path
    assert values(events, "step/train_loss") == [
        (row["step"], pytest.approx(row["train_loss"], rel=1e-6)) for row in record.steps]
    layer = record.history[0]["layers"][0]
    assert values(events, f"layers/{layer['name']}/grad_norm")[0] == (1, pytest.approx(layer["grad_norm"], rel=1e-6))
    assert values(events, "final/val_accuracy") == [(6, pytest.approx(result.final.val_accuracy))]
    content = events.PluginTagToContent("hparams")
    assert set(content) == {"_hparams_/experiment", "_hparams_/session_start_info", "_hparams_/session_end_info"}
    start = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/session_start_info"])
    hparams = start.session_start_info.hparams
    assert hparams["optimizer.lr"].number_value == 0.02 and hparams["optimizer.name"].string_value == "adam"
    assert hparams["scheduler.step_size"].number_value == 2 and hparams["model.hidden"].string_value == "[16]"
    experiment = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/experiment"]).experiment
    assert "epoch/val_loss" in {metric.name.tag for metric in experiment.metric_infos}


def test_an_arena_run_logs_its_path(runs_dir):
    result = Trainer(config("rosenbrock", training__epochs=2, logging__tensorboard=True), runs_dir=runs_dir).run()
    events = events_of(result.run_dir)
    path = [row for epoch in read_run(result.run_dir).history for row in epoch["path"]]
    assert values(events, "path/x") == [(step, pytest.approx(x, rel=1e-6)) for step, x, _ in path]
    assert values(events, "path/y")[-1] == (path[-1][0], pytest.approx(path[-1][2], rel=1e-6))


def test_tensorboard_flag_and_a_missing_install_refused_before_training(tmp_path, capsys, monkeypatch):
    assert main(["train", "--tensorboard", "--dry-run", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["logging"] == {"tensorboard": True}
    for name in ("tensorboard", "torch.utils.tensorboard"):  # as if the extra were not installed
        monkeypatch.setitem(sys.modules, name, None)  # (this process may have imported them already)
    assert main(["compare", "--task", "iris", "--vary", "optimizer.name=sgd,adam", "--tensorboard",
                 "--runs-dir", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err
    assert "logging.tensorboard: needs the tensorboard package, which is not installed" in err
    assert "pip install 'tui-trainer[tensorboard]'" in err and "Traceback" not in err
    assert not (tmp_path / "runs").exists()


def test_system_lines_say_the_process_and_where_the_run_stood(runs_dir, monkeypatch):
    # A sampler of its own: the process's one may still be asleep for up to 2 s after a run that
    # ended just before (another test's), and would wake after this short run.
    monkeypatch.setattr(system, "SAMPLER", system.Sampler(interval=0.05))
    result = Trainer(config("digits", training__epochs=25), runs_dir=runs_dir).run()
    lines = (result.run_dir / "system.jsonl").read_text().splitlines()
    samples = [SystemSample.from_json(json.loads(line)) for line in lines]
    assert len(samples) >= 3
    assert all(s.memory > 50 * 2**20 and s.threads == 1 and s.gpus == [] for s in samples)
    assert all(s.cpu_percent is None or 0 <= s.cpu_percent < 100 * (os.cpu_count() or 1) + 50 for s in samples)
    assert any(s.cpu_percent for s in samples)
    steps = [s.run["global_step"] for s in samples]
    assert steps == sorted(steps) and steps[-1] > steps[0] and steps[-1] <= 25 * 45
    assert [s.time for s in samples] == sorted(s.time for s in samples)
    assert system.SAMPLER.recorders == []  # the run's end stopped its recording
