"""``tui-trainer export-plot``: runs drawn with matplotlib as PNG or SVG, never over a file."""

from __future__ import annotations

from tui_trainer.cli import main


def test_one_run_and_a_comparison_are_drawn(tmp_path, runs_dir, capsys):
    assert main(["train", "--task", "linear", "--epochs", "30", "--device", "cpu", "--runs-dir",
                 str(runs_dir)]) == 0
    (run,) = runs_dir.iterdir()
    assert main(["export-plot", str(run)]) == 0
    assert (run / "plot.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["compare", "--task", "iris", "--epochs", "3", "--device", "cpu", "--vary",
                 "optimizer.name=sgd,adam", "--runs-dir", str(tmp_path / "race")]) == 0
    svg = tmp_path / "race.svg"
    assert main(["export-plot", *map(str, sorted((tmp_path / "race").iterdir())), "-o", str(svg)]) == 0
    text = svg.read_text()
    assert text.startswith("<?xml") and "optimizer=sgd" in text and "optimizer=adam" in text
    capsys.readouterr()
    assert main(["export-plot", str(run)]) == 2  # plot.png exists now
    assert "exists; choose another file (-o) or overwrite it (--force)" in capsys.readouterr().err
    assert main(["export-plot", str(run), "--force"]) == 0
    assert main(["export-plot", str(run), "-o", str(tmp_path / "plot.jpg")]) == 2
    assert "must be a .png or .svg file" in capsys.readouterr().err
