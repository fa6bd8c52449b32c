"""The app's monkey test (``app_monkey``): random sequences of keys, palette commands, dialogs,
typed text, clicks and resizes, during runs and races. No sequence may end the app. The normal
suite plays two short sequences; ``make fuzz`` plays FUZZ_EXAMPLES / 60 longer ones."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from fuzz.app_monkey import actions, play
from fuzz.harness import EXAMPLES, FUZZ, TALLY

#: Sequences per session: each one opens the app and plays for half a minute (a CLI case takes a
#: fraction of a second), so the long fuzz plays one for every 60 CLI cases (20 by default).
SEQUENCES = 2 if EXAMPLES <= 12 else max(2, EXAMPLES // 60)
#: Actions per sequence.
LENGTH = 24 if EXAMPLES <= 12 else 120


@settings(FUZZ, max_examples=SEQUENCES)
@given(sequence=st.lists(actions, min_size=LENGTH // 2, max_size=LENGTH))
def test_no_sequence_of_keys_palette_commands_dialogs_and_resizes_ends_the_app(sequence):
    TALLY.tried += 1
    with tempfile.TemporaryDirectory(prefix="tui-monkey-") as folder:
        try:
            play(sequence, Path(folder))
        except BaseException as exc:
            TALLY.failed += 1
            TALLY.failures.append(f"app monkey: {exc}: {[str(a) for a in sequence]}")
            raise
    TALLY.codes[0] += 1
