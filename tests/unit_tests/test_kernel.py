"""The training kernel (torch only, copied whole into exported scripts) and the run state."""

from __future__ import annotations

import ast
import inspect
import sys
from pathlib import Path

import torch

from helpers import config
import pytest

from tui_trainer.engine import kernel, loop, plane, rules
from tui_trainer.engine.loop import Trainer
from tui_trainer.engine.state import EpochPart, RunState
from tui_trainer.export.script import script_text


@pytest.mark.parametrize("module", [kernel, rules, plane], ids=["kernel", "rules", "plane"])
def test_copied_modules_import_only_torch_and_the_standard_library(module):
    """The kernel, the loop's rules and the 2-D tasks' generators are copied into exported scripts
    (the rules after the kernel, whose functions they import)."""
    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    modules = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
               for alias in node.names}
    modules |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                and node.module != kernel.__name__}
    assert modules <= {"torch", "torchvision", "sklearn"} | set(sys.stdlib_module_names)
    assert "torch" in modules


@pytest.mark.parametrize("module", [kernel, rules], ids=["kernel", "rules"])
def test_exported_script_holds_the_kernel_and_the_rules_whole(module):
    text = script_text(config("iris", training__epochs=2))
    for name, member in [*inspect.getmembers(module, inspect.isfunction),
                         *inspect.getmembers(module, inspect.isclass)]:
        if member.__module__ == module.__name__:
            assert inspect.getsource(member) in text, name
    assert "CACHE_SIZED = 1 << 20" in text and "EVAL_CHUNK = 8192" in text


def test_run_state_round_trips_through_its_state_dict():
    state = RunState(epochs_run=3, global_step=41, train_seconds=1.5, samples_seen=900,
                     unfinished=EpochPart(4, torch.arange(5), next_step=2, loss_total=1.0, seen=10))
    copy = RunState()
    copy.load_state_dict(state.state_dict())
    assert copy.epochs_run == 3 and copy.global_step == 41 and copy.samples_seen == 900
    assert copy.unfinished.order.equal(torch.arange(5)) and copy.unfinished.next_step == 2
    assert copy.next_epoch == 4


def test_every_step_is_recorded_and_long_runs_keep_a_bounded_curve(monkeypatch):
    short = Trainer(config("iris", training__epochs=5), runs_dir=False).run()
    assert [step for step, _ in short.steps] == list(range(1, 5 * 8 + 1))  # 120 samples, batch 16
    monkeypatch.setattr(loop, "MAX_STEP_POINTS", 50)
    long = Trainer(config("iris", training__epochs=13), runs_dir=False).run()  # 104 steps, stride 3
    assert [step for step, _ in long.steps] == list(range(3, 104, 3)) + [104]
    assert long.steps[0][1] == pytest.approx(sum(loss for _, loss in short.steps[:3]) / 3)
