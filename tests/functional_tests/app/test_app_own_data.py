"""The form with your own data: model fields that fit the task and kind, and a CSV's columns."""

from __future__ import annotations

from tui_trainer.app import make_app


def shown_model_fields(app) -> list[str]:
    return [row.param.name for row in app.form.model.rows if row.display]


async def test_model_fields_follow_the_task_and_the_model_kind(runs_dir, make_ui):
    app = make_app(runs_dir=runs_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        ui = make_ui(pilot)
        assert shown_model_fields(app) == ["kind", "hidden", "activation", "dropout"]
        assert [kind for _, kind in ui.row("model.kind").options] == ["mlp", "file"]  # linear: no images
        await ui.choose("task.name", "mnist")
        assert shown_model_fields(app) == ["kind", "hidden", "activation", "dropout"]
        assert [kind for _, kind in ui.row("model.kind").options] == ["mlp", "cnn", "file"]
        await ui.choose("model.kind", "cnn")
        assert shown_model_fields(app) == ["kind", "channels", "kernel_size", "hidden", "activation",
                                           "dropout"]
        assert app.form.config.model.kind == "cnn"
        await ui.choose("task.name", "iris")
        assert shown_model_fields(app) == ["kind", "hidden", "activation", "dropout"]
        assert app.form.config.model.kind == "mlp"
        await ui.choose("model.kind", "file")
        assert shown_model_fields(app) == ["kind", "path", "args"]


async def test_a_csv_path_lists_its_columns_and_the_target_shows_the_decision(runs_dir, make_ui,
                                                                                table_csv):
    app = make_app(runs_dir=runs_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        ui = make_ui(pilot)
        await ui.choose("task.name", "csv")
        await ui.paste("task.path", str(table_csv))
        error = str(ui.row("task.target").error.render())
        assert error.startswith("give the column to predict; the columns:")
        assert "color (text, 3 distinct): " in error and "x1 (number, 300 distinct): " in error
        await ui.type("task.target", "species")
        assert app.form.config is not None and app.form.config.classes == 3
        help_text = str(app.form.choices["task"].help.render())
        assert "target 'species' holds text: classification with 3 classes (alpha, beta, gamma)" in help_text
