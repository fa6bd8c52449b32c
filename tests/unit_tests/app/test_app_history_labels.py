"""History entries and the legend labels that say what differs between runs."""

from __future__ import annotations

from tui_trainer.formatting import duration, number, percent, rate
from tui_trainer.app.history import RunEntry, differing_labels
from tui_trainer.config import resolve, to_dict


def entry(number: int, **layer) -> RunEntry:
    return RunEntry(number, to_dict(resolve(layer)), [], None, None)


def test_labels_name_only_what_differs():
    adam = entry(1, task="linear")
    sgd = entry(2, task="linear", optimizer={"name": "sgd", "lr": 0.01})
    assert differing_labels([adam, sgd]) == ["#1 optimizer=adam", "#2 optimizer=sgd"]
    fast = entry(3, task="linear", optimizer={"name": "adam", "lr": 0.1})
    assert differing_labels([adam, fast]) == ["#1 lr=0.01", "#3 lr=0.1"]
    assert differing_labels([adam]) == ["#1"]


def test_unfinished_run_is_described_from_its_last_epoch():
    run = entry(4, task="iris")
    run.history = [{"epoch": 1, "train_loss": 1.0, "val_loss": 0.75}]
    assert run.reason == "unfinished"
    assert run.describe().startswith("#4 iris · cross-entropy · adam lr=0.01")
    assert "unfinished, loss 0.75" in run.describe()
    assert run.curve("val_loss") == [(1, 0.75)]


def test_numbers_read_plainly():
    assert number(None) == "—" and number(0.000123456) == "0.0001235" and number(float("nan")) == "nan"
    assert percent(0.9734) == "97.3%"
    assert duration(0.42) == "0.42 s" and duration(65) == "1:05" and duration(3723) == "1:02:03"
    assert rate(1_234_567) == "1.2M" and rate(12_300) == "12.3k" and rate(12) == "12"
