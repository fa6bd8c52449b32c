"""Your own model in the app, the test set in its readouts and leaderboard, and what the model
gets wrong: a model file chosen in the form (its import's errors under the field) trains and
races; the Confusion tab shows the run's confusion matrices; the Mistakes tab pages through the
misclassified samples (pictures, a table's rows from its file); the Model tab summarizes the
form's model."""

from __future__ import annotations

import re

from tests.helpers import write_resmlp
from tui_trainer.app import make_app
from tui_trainer.app.compare import CompareDialog
from tui_trainer.config import resolve
from tui_trainer.formatting import percent


def iris(epochs: int = 5, **training) -> object:
    return resolve({"task": "iris", "training": {"epochs": epochs, "device": "cpu", **training}})


def matrix_of(app) -> list[list[int]]:
    """The counts the Confusion tab shows, row by row ("·" is a zero)."""
    lines = str(app.results["confusion"].matrix.render()).splitlines()[1:]
    return [[0 if cell == "·" else int(cell.replace(",", "")) for cell in re.findall(r"(?<= )(?:[\d,]+|·)(?= |$)", line)]
            for line in lines]


async def test_a_model_file_chosen_in_the_form_trains_and_races_with_a_test_column(runs_dir, make_ui, tmp_path):
    path = write_resmlp(tmp_path)
    app = make_app(runs_dir=runs_dir, config=iris(test_split=0.2))
    async with app.run_test(size=(120, 36)) as pilot:
        ui = make_ui(pilot)
        await ui.wait_until(lambda: app.engine_ready)
        await ui.choose("model.kind", "file")
        assert [row.param.name for row in app.form.model.rows if row.display] == ["kind", "path", "args"]
        await ui.paste("model.path", path)
        await ui.type("model.args", "width=8, depth=1")
        await ui.wait_until(lambda: not app.user_imports and app.form.config is not None)
        assert (app.form.config.model.path, app.form.config.model.args) == (path, {"width": 8, "depth": 1})
        await ui.run_to_end()
        result = app.last_job.first.result
        assert result.reason == "completed" and result.config.model.args == {"width": 8, "depth": 1}
        assert result.param_count == 8 * 4 + 8 + 2 * 8 + 8 * 8 + 8 + 8 * 3 + 3
        numbers = str(app.readouts.numbers.render())
        assert f"test set: accuracy {percent(result.final.test_accuracy)}" in numbers

        await pilot.press("f5")  # compare: one of the model's keyword arguments, typed
        await ui.wait_until(lambda: isinstance(app.screen, CompareDialog))
        dialog = app.screen
        assert "model.args.width" in dialog.fields
        dialog.field_select.value = "model.args.width"
        await pilot.pause()
        dialog.values.value = "4, 16"
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, CompareDialog), str(dialog.problems.render())
        await ui.wait_until(lambda: app.job is None and app.last_job.compared)
        board = app.leaderboard
        # once the runs ended, their test scores take the epochs' column (the board fits 80 columns)
        assert [str(column.label) for column in board.columns.values()] == [
            "#", "args.width", "status", "test", "loss", "acc"]
        rows = {board.get_row_at(i)[1]: board.get_row_at(i) for i in range(board.row_count)}
        assert set(rows) == {"4", "16"}
        for run in app.last_job.runs:
            assert run.result.reason == "completed" and run.config.model.path == path
            assert rows[str(run.config.model.args["width"])][3] == percent(run.result.final.test_accuracy)


async def test_what_a_model_file_raises_on_import_shows_under_its_field(runs_dir, make_ui, tmp_path):
    bad = tmp_path / "quits.py"
    bad.write_text("import sys\nsys.exit(3)\n")
    app = make_app(runs_dir=runs_dir, config=iris())
    async with app.run_test(size=(80, 24)) as pilot:
        ui = make_ui(pilot)
        await ui.wait_until(lambda: app.engine_ready)
        await ui.choose("model.kind", "file")
        await ui.paste("model.path", f"{bad}:Net")
        await ui.wait_until(lambda: not app.user_imports and "sys.exit(3)" in ui.row("model.path").message)
        assert app.form.config is None and app.readouts.status.state == "invalid"
        await ui.paste("model.path", write_resmlp(tmp_path).replace(":ResMLP", ":Nope"))
        await ui.wait_until(lambda: "has no nn.Module subclass named 'Nope'; it defines Block, ResMLP"
                            in ui.row("model.path").message)


async def test_the_test_split_shows_only_for_a_task_that_splits_its_test_set(runs_dir, make_ui, table_csv):
    app = make_app(runs_dir=runs_dir, config=iris())
    async with app.run_test(size=(80, 24)) as pilot:
        ui = make_ui(pilot)
        assert ui.row("training.test_split").display
        await ui.type("training.test_split", "0.2")
        await ui.choose("task.name", "mnist")  # its t10k files are its test set
        assert not ui.row("training.test_split").display
        assert app.form.config is not None and app.form.config.training.test_split == 0
        await ui.choose("task.name", "csv")  # task.test_path
        assert not ui.row("training.test_split").display
        await ui.choose("task.name", "circle")
        assert ui.row("training.test_split").display


async def test_the_confusion_tab_shows_the_runs_matrices_and_f7_switches_the_set(runs_dir, make_ui):
    app = make_app(runs_dir=runs_dir, config=iris(100_000, test_split=0.3))
    async with app.run_test(size=(120, 36)) as pilot:
        ui = make_ui(pilot)
        await ui.show_tab("tab-confusion")
        await ui.start()
        assert "shows once run #1 ends" in str(app.results["confusion"].caption.render())
        await ui.wait_until(lambda: app.job.feed.epochs)
        await pilot.press("ctrl+t")  # a run stopped has its matrices too
        await ui.wait_until(lambda: app.job is None)
        result = app.last_job.first.result
        panel = app.results["confusion"]
        caption = str(panel.caption.render())
        val, test = result.confusion["val"], result.confusion["test"]
        assert caption.startswith(f"validation set: {val.correct} of {val.total} right") and "f7: test set" in caption
        assert matrix_of(app) == val.matrix and str(panel.matrix.render()).split()[4:7] == [
            "setosa", "versicolor", "virginica"]
        await pilot.press("f7")
        assert str(panel.caption.render()).startswith(f"test set: {test.correct} of {test.total} right")
        assert matrix_of(app) == test.matrix and sum(map(sum, test.matrix)) == 45


async def test_the_mistakes_tab_pages_through_the_misclassified_pictures(runs_dir, make_ui, mnist_dir):
    config = resolve({"task": {"name": "mnist", "data_dir": str(mnist_dir), "download": False},
                      "optimizer": {"lr": 0.0003}, "training": {"epochs": 1, "device": "cpu"}})
    app = make_app(runs_dir=runs_dir, config=config)
    async with app.run_test(size=(120, 36)) as pilot:
        ui = make_ui(pilot)
        await ui.show_tab("tab-mistakes")
        await ui.run_to_end()
        panel = app.results["mistakes"]
        examples = app.last_job.feed.examples["val"]
        wrong = examples.mistakes
        assert wrong is app.last_job.first.result.mistakes["val"] and len(wrong.samples) > 12
        from tui_trainer.engine.evaluation import image_of

        data = app.last_trainer.data
        for i, mistake in enumerate(wrong.samples):  # each sample's own picture
            expected = (image_of(data, "val", mistake.index) * 255).round().to(examples.pictures.dtype)
            assert examples.pictures[i].equal(expected)
        size = panel.gallery.page_size
        assert size >= 4
        first = wrong.samples[0]
        text = "\n".join(str(panel.gallery.render_line(y).text) for y in range(panel.gallery.size.height))
        assert f"{first.true}→{first.predicted}" in text and f"{first.probability:.0%} #{first.index}" in text
        assert str(panel.caption.render()).startswith(f"validation: {wrong.count} of {wrong.total} wrong · "
                                                      f"1-{size} of {len(wrong.samples)}")
        await pilot.press("pagedown")
        assert panel.first == size
        text = "\n".join(str(panel.gallery.render_line(y).text) for y in range(panel.gallery.size.height))
        assert f"#{wrong.samples[size].index}" in text and f"#{first.index} " not in text + " "
        await pilot.press("pageup", "pageup")
        assert panel.first == 0
        await pilot.press("f7")  # the t10k files' mistakes
        assert str(panel.caption.render()).startswith("test: ") and panel.examples.mistakes.total == 50


async def test_the_mistakes_of_a_table_are_its_rows_as_the_file_has_them(runs_dir, make_ui, table_csv):
    config = resolve({"task": {"name": "csv", "path": str(table_csv), "target": "species"},
                      "training": {"epochs": 2, "device": "cpu"}})
    app = make_app(runs_dir=runs_dir, config=config)
    async with app.run_test(size=(120, 36)) as pilot:
        ui = make_ui(pilot)
        await ui.show_tab("tab-mistakes")
        await ui.run_to_end()
        examples = app.last_job.feed.examples["val"]
        assert examples.mistakes.count > 0
        lines = table_csv.read_text().splitlines()
        for where, words, mistake in zip(examples.where, examples.words, examples.mistakes.samples):
            number = int(re.fullmatch(r"line (\d+) of table\.csv", where).group(1))
            x1, x2, color, species = lines[number - 1].split(",")
            assert words == f"x1={float(x1)}, x2={float(x2)}, color={color}"  # the target: its true class
            assert examples.mistakes.classes[mistake.true] == species
        gallery = app.results["mistakes"].gallery
        assert str(gallery.render_line(0).text).startswith(f"{examples.where[0]} · ")
        assert str(gallery.render_line(1).text).strip() == examples.words[0]


async def test_the_model_tab_summarizes_the_forms_model_as_it_changes(runs_dir, make_ui):
    app = make_app(runs_dir=runs_dir, config=iris())
    async with app.run_test(size=(80, 24)) as pilot:
        ui = make_ui(pilot)
        await ui.wait_until(lambda: app.engine_ready)
        await ui.show_tab("tab-model")
        panel = app.model_panel
        await ui.wait_until(lambda: panel.summary is not None)
        assert panel.summary.total == 4 * 16 + 16 + 16 * 3 + 3
        assert "mlp · input (B, 4) · 131 parameters (all trainable)" in str(panel.caption.render())
        await ui.type("model.hidden", "32,8")
        await ui.wait_until(lambda: panel.summary is not None and panel.summary.total == 4 * 32 + 32 + 32 * 8 + 8 + 8 * 3 + 3)
        table = str(panel.table.render())
        assert "(B, 32)" in table and "(B, 8)" in table
        await ui.type("model.hidden", "32,x")
        assert "once the form is valid" in str(panel.caption.render())
