"""The app in a real pseudo-terminal when it is told to go: SIGTERM, the terminal going away
(SIGHUP: a dropped SSH session) and ctrl+q on a big model each stop the run as interrupted, keep
its summary, give the terminal back (alternate screen left, mouse tracking off) and exit."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from pty_terminal import Terminal
from tui_trainer.engine.rundir import read_run

#: What Textual writes when it gives the terminal back: leave the alternate screen, mouse off.
TERMINAL_RESTORED = (b"\x1b[?1049l", b"\x1b[?1000l")


def start_a_run(tmp_path: Path, config: str) -> tuple[Terminal, Path]:
    """The app with ``config``, its run started with ctrl+r and training."""
    runs = tmp_path / "runs"
    path = tmp_path / "run.toml"
    path.write_text(config)
    terminal = Terminal(["--runs-dir", str(runs), "--config", str(path)],
                        env={"XDG_DATA_HOME": str(tmp_path / "xdg")})
    terminal.wait_for(b"ready")
    terminal.send(b"\x12")  # ctrl+r
    terminal.wait_for(b"running")
    return terminal, runs


def the_run(runs: Path) -> dict:
    folder, = runs.iterdir()
    record = read_run(folder)
    assert record.summary is not None, f"{folder} has no summary.json"
    return record.summary


LONG_LINEAR = '[task]\nname = "linear"\n[training]\nepochs = 1000000\n'


@pytest.mark.parametrize("how, code", [("SIGTERM", 130), ("hang up", 129)])
def test_a_signal_quits_the_app_as_ctrl_q_does(how, code, tmp_path):
    # Before: SIGTERM or SIGHUP killed the app at once (exit 143 or 129), with no summary.json
    # and the terminal left on the alternate screen with mouse tracking on.
    terminal, runs = start_a_run(tmp_path, LONG_LINEAR)
    try:
        sent_at = len(terminal.text())
        if how == "hang up":
            terminal.hang_up()
        else:
            terminal.signal(getattr(signal, how))
        assert terminal.wait_exit() == code
    finally:
        terminal.kill()
    summary = the_run(runs)
    assert summary["stopped_reason"] == "interrupted"
    if how != "hang up":
        after = terminal.text()[sent_at:]
        assert all(sequence in after for sequence in TERMINAL_RESTORED), after[-500:]
        assert b"Traceback" not in after


def test_ctrl_q_on_a_big_model_keeps_the_run_ending(tmp_path):
    # hidden 4096,4096 on digits: 17M parameters. Before, ctrl+q exited in the middle of the
    # run's ending (its final pass over the data) and left no summary.json. Now the run stops
    # after its current step, skips that pass and writes its summary before the app exits.
    terminal, runs = start_a_run(tmp_path, '[task]\nname = "digits"\n[model]\nhidden = [4096, 4096]\n'
                                           '[training]\nepochs = 1000\ndevice = "cpu"\n')
    try:
        terminal.send(b"\x11")  # ctrl+q
        assert terminal.wait_exit() == 0
    finally:
        terminal.kill()
    summary = the_run(runs)
    assert summary["stopped_reason"] == "interrupted"
    assert "final metrics not measured" in summary["message"]


def test_watch_opens_in_a_terminal_and_quits_on_a_signal(tmp_path):
    # Before: `tui-trainer watch` ended at once with a NameError, before drawing anything.
    terminal = Terminal(["watch", "--runs-dir", str(tmp_path / "runs")], env={"XDG_DATA_HOME": str(tmp_path / "xdg")})
    try:
        terminal.wait_for(b"no run is being written")
        sent_at = len(terminal.text())
        terminal.signal(signal.SIGTERM)
        assert terminal.wait_exit() == 130
    finally:
        terminal.kill()
    after = terminal.text()[sent_at:]
    assert all(sequence in after for sequence in TERMINAL_RESTORED), after[-500:]
    assert b"Traceback" not in terminal.text()
