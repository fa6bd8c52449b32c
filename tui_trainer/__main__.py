"""``python -m tui_trainer`` does what the ``tui-trainer`` command does."""

from tui_trainer.entry import run

run()
