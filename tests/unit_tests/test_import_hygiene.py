"""The engine imports no UI; the config layer imports no torch (the app's forms need it fast)."""

import subprocess
import sys

ENGINE_MODULES = [
    "tui_trainer.config", "tui_trainer.schema", "tui_trainer.errors", "tui_trainer.report",
    "tui_trainer.cli", "tui_trainer.catalog.tasks", "tui_trainer.catalog.losses",
    "tui_trainer.catalog.optimizers", "tui_trainer.catalog.schedulers", "tui_trainer.catalog.views",
    "tui_trainer.engine.loop", "tui_trainer.engine.data", "tui_trainer.engine.models",
    "tui_trainer.engine.components", "tui_trainer.engine.checks", "tui_trainer.engine.events",
    "tui_trainer.engine.control", "tui_trainer.engine.rundir", "tui_trainer.engine.devices",
    "tui_trainer.engine.checkpoint", "tui_trainer.engine.views", "tui_trainer.export.script", "tui_trainer.export.history",
    "tui_trainer.engine.follow", "tui_trainer.engine.runinfo", "tui_trainer.engine.system",
    "tui_trainer.engine.tensorboard",
]


def imported_after(modules: list[str]) -> set[str]:
    code = ("import sys\n" + "".join(f"import {m}\n" for m in modules)
            + "print(' '.join(sorted(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_engine_and_cli_import_no_textual():
    loaded = imported_after(ENGINE_MODULES)
    assert "tui_trainer.engine.loop" in loaded
    assert not {m for m in loaded if m == "textual" or m.startswith(("textual.", "textual_plotext"))}
    assert not {m for m in loaded if m.startswith("tui_trainer.app")}


def test_config_and_catalogs_import_no_torch():
    loaded = imported_after(["tui_trainer.config", "tui_trainer.cli", "tui_trainer.catalog.tasks",
                             "tui_trainer.catalog.views"])
    assert "tui_trainer.config" in loaded
    assert "torch" not in loaded
