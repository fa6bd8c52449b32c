"""The fuzz suite's harness: run the command line in-process as a person would, and check what
every hostile input must give (an exit code in {0, 1, 2, 130}, no traceback, exit-2 messages
naming a field, flag or path, no file touched outside the run folder), counting the cases."""

from __future__ import annotations

import contextlib
import io
import os
import re
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import HealthCheck, settings

from tui_trainer.cli import main

#: Examples per property: bounded in the normal suite; ``make fuzz`` sets many more.
EXAMPLES = int(os.environ.get("TUI_TRAINER_FUZZ_EXAMPLES", "12"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=EXAMPLES <= 12,
                suppress_health_check=list(HealthCheck))
ALLOWED_CODES = {0, 1, 2, 130}
#: What a bad-input message must name: a config field or section, a flag, or a file or folder.
NAMES = re.compile(r"\b(task|model|loss|optimizer|scheduler|training|config)\b|--?[a-z]|/|\w\.\w")


@dataclass
class Tally:
    """Cases tried and failed over the session (printed at its end)."""

    tried: int = 0
    failed: int = 0
    failures: list[str] = field(default_factory=list)
    codes: Counter = field(default_factory=Counter)


TALLY = Tally()


@dataclass
class Outcome:
    """What one command gave."""

    code: int
    out: str
    err: str


def run_command(argv: list[str], cwd: Path) -> Outcome:
    """Run ``tui-trainer ARGV`` in-process in ``cwd`` and check the command line's promises;
    counts the case and raises AssertionError (with the input) when a promise is broken."""
    TALLY.tried += 1
    out, err = io.StringIO(), io.StringIO()
    before = _files(cwd)
    previous = os.getcwd()
    try:
        os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as exc:  # argparse's usage errors
                code = exc.code if isinstance(exc.code, int) else 2
        outcome = Outcome(code, out.getvalue(), err.getvalue())
        TALLY.codes[code] += 1
        problem = _broken_promise(outcome, before, _files(cwd))
    except BaseException:  # a traceback: the worst failure
        outcome, problem = None, "traceback:\n" + traceback.format_exc()
    finally:
        os.chdir(previous)
    if problem:
        TALLY.failed += 1
        TALLY.failures.append(f"{argv!r}: {problem}")
        raise AssertionError(f"tui-trainer {argv!r}: {problem}")
    return outcome


def _broken_promise(outcome: Outcome, before: set[str], after: set[str]) -> str | None:
    if outcome.code not in ALLOWED_CODES:
        return f"exit code {outcome.code}\n{outcome.err}"
    if "Traceback" in outcome.err:
        return f"a traceback on stderr:\n{outcome.err}"
    if outcome.code == 2 and not NAMES.search(outcome.err.partition("error:")[2]):
        return f"exit 2 without naming a field, flag or path:\n{outcome.err}"
    touched = {p for p in after ^ before if not p.startswith("runs/") and not p.startswith("out/")}
    if touched:
        return f"files touched outside the run folder and the requested output: {sorted(touched)}"
    return None


def _files(root: Path) -> set[str]:
    """Every file under ``root`` with its size and modification time."""
    found = set()
    for path in root.rglob("*"):
        if path.is_file():
            stat = path.stat()
            found.add(f"{path.relative_to(root).as_posix()} {stat.st_size} {stat.st_mtime_ns}")
    return found
