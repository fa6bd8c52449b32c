"""The app asks before it shows a config (ctrl+o, or --config at start) whose loss file lies in
another folder: the form imports a loss file, running its code, as soon as it shows it."""

from __future__ import annotations

from pathlib import Path

from tui_trainer.app import make_app
from tui_trainer.app.dialogs import ConfirmDialog

LOSS = '''
from pathlib import Path
Path(__file__).with_name("RAN").write_text("the loss file ran")
import torch.nn as nn

class Loss(nn.Module):
    def forward(self, output, target):
        return ((output - target) ** 2).mean()
'''


def foreign_config(tmp_path: Path) -> tuple[Path, Path]:
    (tmp_path / "theirs").mkdir()
    (tmp_path / "mine").mkdir()
    (tmp_path / "theirs" / "loss.py").write_text(LOSS)
    config = tmp_path / "mine" / "foreign.toml"
    config.write_text(f'[task]\nname = "linear"\n[loss]\nname = "{tmp_path}/theirs/loss.py:Loss"\n')
    return config, tmp_path / "theirs" / "RAN"


async def test_ctrl_o_asks_before_a_config_brings_code(tmp_path, runs_dir, make_ui):
    config, ran = foreign_config(tmp_path)
    app = make_app(runs_dir=runs_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        ui = make_ui(pilot)
        await ui.wait_until(lambda: app.engine_ready)
        for answer in ("n", "y"):
            await pilot.press("ctrl+o")
            app.screen.query_one("#path").value = str(config)
            await pilot.press("enter")
            await ui.wait_until(lambda: isinstance(app.screen, ConfirmDialog))
            assert "lies outside" in str(app.screen.query("Label")[1].render())
            await pilot.press(answer)
            await pilot.pause()
            if answer == "n":
                assert ui.row("loss.name").editor.value == "mse" and not ran.exists()
        await ui.wait_until(ran.exists)  # trusted: shown, and imported off the UI thread
        assert ui.row("loss.name").editor.value.endswith("loss.py:Loss")


async def test_config_at_start_asks_first(tmp_path, runs_dir, make_ui):
    config, ran = foreign_config(tmp_path)
    app = make_app(config, runs_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        ui = make_ui(pilot)
        await ui.wait_until(lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("escape")
        await ui.wait_until(lambda: app.engine_ready)
        await pilot.pause()
        assert ui.row("loss.name").editor.value == "mse" and not ran.exists()
