"""Numbers keep their significant digits wherever they are shown (app, CLI lines, summary)."""

from __future__ import annotations

from tui_trainer.engine.events import EpochMetrics
from tui_trainer.formatting import number
from tui_trainer.report import epoch_line


def test_numbers_keep_significant_digits_small_and_large():
    assert number(0.01) == "0.01"
    assert number(1.234e-05) == "1.234e-05"
    assert number(31543941865823797248.0, 5) == "3.1544e+19"
    assert number(1.99921, 5) == "1.9992"
    assert number(None) == "—" and number(float("nan")) == "nan"


def test_cli_epoch_line_shows_a_small_loss_and_lr_in_significant_digits():
    metrics = EpochMetrics(epoch=3, train_loss=1.2345e-06, val_loss=2.5e-07, train_accuracy=None,
                           val_accuracy=None, train_r2=0.9876, val_r2=0.9, lr=0.0001, grad_norm=None,
                           seconds=0.5, elapsed=1.5, global_step=3, samples_per_second=100.0)
    line = epoch_line(metrics, 20)
    assert line.startswith("Epoch 3/20 - train_loss: 1.234e-06 - val_loss: 2.5e-07 - r2: 0.9876 - val_r2: 0.9")
    assert " - lr: 0.0001 - 500ms" in line


def test_app_epoch_line_is_aligned_and_shows_the_scores_the_run_has():
    def metrics(**scores) -> EpochMetrics:
        values = {"train_accuracy": None, "val_accuracy": None, "train_r2": None, "val_r2": None, **scores}
        return EpochMetrics(epoch=3, train_loss=0.1234, val_loss=0.13, lr=0.01, grad_norm=None, seconds=1.2,
                            elapsed=3.0, global_step=30, samples_per_second=100.0, **values)

    assert epoch_line(metrics(train_accuracy=0.952, val_accuracy=0.96), 20, compact=True) == (
        "epoch  3/20  train 0.1234  val 0.13  acc 95.2%/96.0%  lr 0.01  1.20 s")
    assert "  R² 0.9876/0.9  lr" in epoch_line(metrics(train_r2=0.9876, val_r2=0.9), 20, compact=True)
    assert "  val 0.13  lr 0.01" in epoch_line(metrics(), 5, compact=True)  # an arena run: no score
