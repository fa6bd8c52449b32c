"""``python -m tui_trainer`` does what the ``tui-trainer`` command does."""

import sys

from tui_trainer.cli import main

sys.exit(main())
