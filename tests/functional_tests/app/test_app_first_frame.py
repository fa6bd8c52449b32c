"""The app's first frame comes before torch is imported (torch takes about a second here); then
what every run needs is warmed in the background while the status says what is loading, and
the linear task imports no scikit-learn. Garbage collections, held by the command while the app
starts, resume at the first frame."""

from __future__ import annotations

import subprocess
import sys

#: Runs the app while ``import torch`` is held back: the first frame must not need it.
PROGRAM = r'''
import asyncio, gc, sys, threading
from pathlib import Path

release = threading.Event()
at_first_frame = []

class HoldTorch:
    """Makes ``import torch`` wait until released (in whichever thread imports it): torch's
    module is found, then waits before it runs (holding only torch's own import lock)."""
    def find_spec(self, name, path=None, target=None):
        if name != "torch":
            return None
        sys.meta_path.remove(self)
        from importlib.machinery import PathFinder
        spec = PathFinder.find_spec(name, path)
        run = spec.loader.exec_module
        def exec_module(module):
            release.wait(120)
            run(module)
        spec.loader.exec_module = exec_module
        return spec

sys.meta_path.insert(0, HoldTorch())
from tui_trainer.engine.memory import hold_collections
hold_collections()  # as the command does before importing the app
from tui_trainer.app import make_app
from tui_trainer.app.app import TrainerApp

after_first_frame = TrainerApp._after_first_frame
def first_frame_drawn(self, folders):
    at_first_frame.append("torch" in sys.modules)
    print("collections at first frame:", gc.isenabled())
    after_first_frame(self, folders)
    print("collections after it:", gc.isenabled())
TrainerApp._after_first_frame = first_frame_drawn

async def main():
    app = make_app(runs_dir=Path(sys.argv[1]), pace="max")  # the run: as fast as it trains
    async with app.run_test(size=(80, 24)) as pilot:
        while not at_first_frame:  # the first frame drawn (a moment later on a busy machine)
            await pilot.pause(0.05)
        frame = app.screen.find_widget(app.form).region
        print("torch at first frame:", at_first_frame)
        print("task shown:", app.form.rows[0].editor.value, "form area:", frame.area > 0)
        print("status:", app.readouts.status.state)
        release.set()
        while not app.engine_ready:
            await pilot.pause(0.05)
        await pilot.pause()
        print("torch after engine loaded:", "torch" in sys.modules)
        print("optimizer machinery warm:", "torch._dynamo" in sys.modules, "status:", app.readouts.status.state)
        await pilot.press("ctrl+r")
        while app.job is not None or app.readouts.status.state != "finished":
            await pilot.pause(0.05)
        print("linear run finished; scikit-learn imported:", "sklearn" in sys.modules)

asyncio.run(main())
'''


def test_first_frame_is_drawn_before_torch_is_imported(tmp_path):
    done = subprocess.run([sys.executable, "-c", PROGRAM, str(tmp_path / "runs")], capture_output=True,
                          text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "collections at first frame: False",
        "collections after it: True",
        "torch at first frame: [False]",
        "task shown: linear form area: True",
        "status: loading",
        "torch after engine loaded: True",
        "optimizer machinery warm: True status: ready",
        "linear run finished; scikit-learn imported: False",
    ]
