"""training.precision (autocast; fp16 with a gradient scaler) and training.compile."""

from __future__ import annotations

import functools

import pytest
import torch

from helpers import config
from tui_trainer.cli import main
from tui_trainer.engine.checks import torch_problems
from tui_trainer.engine.loop import Trainer


def test_bf16_trains_under_autocast_on_the_cpu_close_to_fp32():
    runs = {p: Trainer(config("iris", training__epochs=5, training__precision=p), runs_dir=False).run()
            for p in ("fp32", "bf16")}
    assert runs["bf16"].ok and runs["bf16"].history[0].train_loss != runs["fp32"].history[0].train_loss
    assert runs["bf16"].final.train_loss == pytest.approx(runs["fp32"].final.train_loss, rel=0.05)


def test_fp16_is_refused_off_cuda_with_the_reason(capsys):
    problems = torch_problems(config("iris", training__precision="fp16"))
    assert [p.field for p in problems] == ["training.precision"]
    assert "fp16 needs a CUDA GPU" in problems[0].message and "use bf16" in problems[0].message
    assert main(["train", "--task", "iris", "--device", "cpu", "--set", "training.precision=fp16"]) == 2
    assert "training.precision: fp16 needs a CUDA GPU" in capsys.readouterr().err


def test_compile_wraps_the_model_and_times_its_first_step_apart(monkeypatch):
    # The eager backend exercises torch.compile's wrapping quickly; inductor would take minutes here.
    monkeypatch.setattr(torch, "compile", functools.partial(torch.compile, backend="eager"))
    plain = Trainer(config("iris", training__epochs=3), runs_dir=False).run()
    compiled = Trainer(config("iris", training__epochs=3, training__compile=True), runs_dir=False)
    result = compiled.run()
    assert compiled.net is not compiled.model and result.compile_seconds > 0
    assert result.as_json()["compile_seconds"] == pytest.approx(result.compile_seconds, abs=1e-4)
    assert [m.train_loss for m in result.history] == pytest.approx([m.train_loss for m in plain.history],
                                                                   rel=1e-6)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_fp16_on_cuda_scales_gradients_and_learns():
    result = Trainer(config("iris", training__device="cuda", training__epochs=20,
                            training__precision="fp16"), runs_dir=False).run()
    assert result.ok and result.final.val_accuracy > 0.8
