"""``tui-trainer export-plot``: runs drawn with matplotlib as PNG or SVG, never over a file."""

from __future__ import annotations

import dataclasses
import re

from tui_trainer.cli import main
from tui_trainer.engine.views import read_view
from tui_trainer.export.plot import plot_runs
from tui_trainer.pictures import class_color


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
    again = tmp_path / "again.png"
    assert main(["export-plot", str(run), f"{run}/", "-o", str(again)]) == 2
    assert f"{run}: given twice (also as {run}); each run is drawn once" in capsys.readouterr().err
    assert not again.exists()


def test_folders_with_nothing_to_draw_or_a_bad_config_are_refused_naming_them(tmp_path, capsys):
    # Before: an empty run drew blank axes with a matplotlib warning, a bad task gave a config
    # error naming no folder, and a missing absolute path was "looked for" in /.
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "config.toml").write_text('[task]\nname = "iris"\n')
    (empty / "history.jsonl").write_text("")
    assert main(["export-plot", str(empty)]) == 2
    err = capsys.readouterr().err
    assert f"{empty}: nothing to draw: no finished step in steps.jsonl and no epoch in history.jsonl" in err
    assert "Warning" not in err and not (empty / "plot.png").exists()
    (empty / "config.toml").write_text('[task]\nname = "nonsense"\n')
    assert main(["export-plot", str(empty)]) == 2
    assert f"{empty / 'config.toml'} is not a run's config: task.name: 'nonsense'" in capsys.readouterr().err
    assert main(["export-plot", str(tmp_path / "missing")]) == 2
    assert capsys.readouterr().err.strip() == f"error: no run folder '{tmp_path / 'missing'}'"


def test_many_runs_get_a_color_each_and_a_title_that_fits(tmp_path, capsys):
    # Before: runs 11 and 12 took runs 1 and 2's colors, and the title ran off the figure.
    race = tmp_path / "race"
    assert main(["compare", "--task", "iris", "--epochs", "1", "--device", "cpu", "--runs-dir", str(race),
                 "--vary", "training.seed=" + ",".join(str(n) for n in range(12))]) == 0
    svg = tmp_path / "many.svg"
    assert main(["export-plot", *map(str, sorted(race.iterdir())), "-o", str(svg)]) == 0
    text = svg.read_text()
    assert "12 runs (the legend says what differs)" in text
    assert len(set(re.findall(r"stroke: (#[0-9a-f]{6})", text))) >= 12


def test_a_2d_classification_run_draws_its_decision_boundary(tmp_path, runs_dir):
    assert main(["train", "--task", "multiclass", "--epochs", "3", "--device", "cpu", "--runs-dir",
                 str(runs_dir)]) == 0
    (run,) = runs_dir.iterdir()
    svg = tmp_path / "one.svg"
    assert main(["export-plot", str(run), "-o", str(svg)]) == 0
    text = svg.read_text()
    assert "decision boundary, epoch 3" in text and "<image" in text  # the shaded plane
    live = dataclasses.replace(read_view(run), epoch=2)  # a run still going: the app's newest picture
    plot_runs([run], tmp_path / "live.svg", pictures={run: [live]})
    assert "decision boundary, epoch 2" in (tmp_path / "live.svg").read_text()
    assert main(["compare", "--task", "multiclass", "--epochs", "2", "--device", "cpu", "--vary",
                 "optimizer.name=sgd,adam", "--runs-dir", str(tmp_path / "race")]) == 0
    both = tmp_path / "race.svg"
    assert main(["export-plot", *map(str, sorted((tmp_path / "race").iterdir())), "-o", str(both)]) == 0
    text = both.read_text()
    assert "optimizer=sgd" in text and text.count("decision boundary, epoch 2") == 2


def test_a_linear_run_draws_the_models_curve_with_the_learned_and_true_lines(tmp_path, runs_dir):
    assert main(["train", "--task", "linear", "--epochs", "30", "--device", "cpu", "--runs-dir",
                 str(runs_dir)]) == 0
    (run,) = runs_dir.iterdir()
    svg = tmp_path / "line.svg"
    assert main(["export-plot", str(run), "-o", str(svg)]) == 0
    text = svg.read_text()
    assert "the fit, epoch 30" in text and "true: y = 2x + 3" in text and "learned: y = " in text
    (run / "view.json").unlink()  # a run from before pictures were kept: the line from its summary
    assert main(["export-plot", str(run), "-o", str(tmp_path / "older.svg")]) == 0
    assert "learned: y = " in (tmp_path / "older.svg").read_text()


def test_a_damaged_picture_is_refused_naming_its_file(tmp_path, runs_dir, capsys):
    assert main(["train", "--task", "multiclass", "--epochs", "1", "--device", "cpu", "--runs-dir",
                 str(runs_dir)]) == 0
    (run,) = runs_dir.iterdir()
    (run / "view.json").write_text('{"kind": "boundary", "cols": 3}')
    capsys.readouterr()
    assert main(["export-plot", str(run)]) == 2
    assert f"{run / 'view.json'}: not a picture tui-trainer wrote" in capsys.readouterr().err
    assert not (run / "plot.png").exists()


def test_a_playground_task_with_four_classes_draws_each_in_its_color(tmp_path, runs_dir):
    assert main(["train", "--task", "gauss", "--set", "task.classes=4", "--device", "cpu", "--runs-dir",
                 str(runs_dir)]) == 0
    (run,) = runs_dir.iterdir()
    frame = read_view(run)
    assert frame.classes == 4 and set(frame.predicted) == {0, 1, 2, 3}
    assert set(frame.samples.train_label) == {0, 1, 2, 3}
    svg = tmp_path / "four.svg"
    assert main(["export-plot", str(run), "-o", str(svg)]) == 0
    text = svg.read_text()
    assert "decision boundary, epoch 20" in text
    for k in range(4):  # each class's training samples in its color
        assert "fill: #{:02x}{:02x}{:02x}".format(*class_color(k)) in text


def test_every_panel_says_solid_train_dashed_validation_and_the_title_clears_their_titles(
        tmp_path, runs_dir, monkeypatch):
    # Before: the loss panel said "solid: train", the accuracy panel "solid: validation", the
    # figure's title sat 8 pixels above the panels' titles, in the same type; a run making a lab
    # mistake did not say so.
    import matplotlib.axes
    import matplotlib.text
    from matplotlib.figure import Figure

    assert main(["train", "--task", "iris", "--epochs", "3", "--device", "cpu", "--set", "lab.wrong_loss=true",
                 "--runs-dir", str(runs_dir)]) in (0, 1)
    (run,) = runs_dir.iterdir()
    drawn = {}
    save = Figure.savefig

    def savefig(figure, *args, **kwargs):
        save(figure, *args, **kwargs)  # lays the figure out
        renderer = figure.canvas.get_renderer()
        texts = [t for t in figure.findobj(matplotlib.text.Text) if t.get_text() and t.get_visible()]
        drawn["texts"] = [t.get_text() for t in texts]
        drawn["title"] = next(t.get_window_extent(renderer) for t in texts if "lab mistake" in t.get_text())
        drawn["panels"] = [axis.title.get_window_extent(renderer) for axis in figure.findobj(matplotlib.axes.Axes)
                           if axis.title.get_text()]
        drawn["points"] = figure.dpi / 72  # pixels a typographic point

    monkeypatch.setattr(Figure, "savefig", savefig)
    plot_runs([run], tmp_path / "one.png")
    texts = drawn["texts"]
    assert texts.count("solid: train") == 2 and texts.count("dashed: validation") == 2  # loss, accuracy
    assert not [t for t in texts if "solid: validation" in t or "dashed: train" in t]
    assert any(t.endswith("lab mistake on purpose: wrong_loss") for t in texts)
    # a clear gap (a line of small text) between the figure's title and the panels' own
    assert len(drawn["panels"]) >= 3  # loss, accuracy, learning rate (and a confusion matrix)
    assert all(drawn["title"].y0 - panel.y1 >= 12 * drawn["points"] for panel in drawn["panels"])
