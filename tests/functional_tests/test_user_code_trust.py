"""A loss or model file is Python code that runs. Named by a config file from another folder, it
never runs without asking: the command line refuses it unless --trust-code, and commands that
train nothing (export-script, --dry-run) never run a loss file. Before, reading such a config ran
the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui_trainer.cli import main

LOSS = '''
from pathlib import Path
Path(__file__).with_name("RAN").write_text("the loss file ran")
import torch.nn as nn

class Loss(nn.Module):
    def forward(self, output, target):
        return ((output - target) ** 2).mean()
'''


@pytest.fixture
def files(tmp_path) -> tuple[Path, Path, Path]:
    """A config in one folder naming a loss file in another; the marker the file writes when it
    runs; and a config with its loss file beside it."""
    (tmp_path / "theirs").mkdir()
    (tmp_path / "mine").mkdir()
    (tmp_path / "theirs" / "loss.py").write_text(LOSS)
    (tmp_path / "mine" / "loss.py").write_text(LOSS)
    foreign = tmp_path / "mine" / "foreign.toml"
    foreign.write_text(f'[task]\nname = "linear"\n[loss]\nname = "{tmp_path}/theirs/loss.py:Loss"\n'
                       '[training]\nepochs = 2\n')
    own = tmp_path / "mine" / "own.toml"
    own.write_text(f'[task]\nname = "linear"\n[loss]\nname = "{tmp_path}/mine/loss.py:Loss"\n'
                   '[training]\nepochs = 2\n')
    return foreign, tmp_path / "theirs" / "RAN", own


@pytest.mark.parametrize("command", [["train"], ["compare", "--vary", "optimizer.lr=0.1,0.2"],
                                     ["lab", "skip_zero_grad"], ["lr-find", "--steps", "10"]])
def test_a_config_naming_a_loss_file_from_another_folder_is_refused(command, files, runs_dir,
                                                                    monkeypatch, capsys):
    foreign, ran, _ = files
    monkeypatch.setenv("XDG_DATA_HOME", str(runs_dir.parent))  # where runs would go
    assert main([*command, "--config", str(foreign)]) == 2
    err = capsys.readouterr().err
    assert f"{foreign} names the file {foreign.parent.parent / 'theirs' / 'loss.py'}, which lies outside" in err
    assert "--trust-code" in err
    assert not ran.exists() and not (runs_dir.parent / "tui-trainer").exists()


def test_trust_code_runs_it(files, runs_dir, capsys):
    foreign, ran, _ = files
    assert main(["train", "--config", str(foreign), "--trust-code", "--runs-dir", str(runs_dir)]) == 0
    assert ran.exists()


@pytest.mark.parametrize("command", [["train", "--dry-run"], ["compare", "--vary", "optimizer.lr=0.1,0.2", "--dry-run"],
                                     ["export-script", "-o", "out.py", "--force"]])
def test_commands_that_train_nothing_never_run_it(command, files, tmp_path, monkeypatch, capsys):
    foreign, ran, _ = files
    monkeypatch.chdir(tmp_path)
    for trust in ([], ["--trust-code"]):
        assert main([*command, "--config", str(foreign), *trust]) == 0
        assert not ran.exists()
    if command[0] == "train":
        assert "--dry-run runs none of it" in capsys.readouterr().err


def test_a_loss_file_beside_the_config_or_named_by_a_flag_runs(files, runs_dir, capsys):
    foreign, ran, own = files
    assert main(["train", "--config", str(own), "--runs-dir", str(runs_dir)]) == 0
    assert own.with_name("RAN").exists()
    assert main(["train", "--config", str(foreign), "--loss", f"{ran.parent}/loss.py:Loss",
                 "--runs-dir", str(runs_dir)]) == 0  # the person named it
    assert ran.exists()


def test_resume_runs_the_code_its_run_trained_with_unless_it_is_another_users(files, runs_dir,
                                                                              monkeypatch, capsys):
    # A run folder's config names its loss file outside the folder by nature; the run trained
    # with it (and --resume checks it has not changed). Another user's file asks for trust.
    foreign, ran, _ = files
    assert main(["train", "--config", str(foreign), "--trust-code", "--save-model", "--runs-dir", str(runs_dir)]) == 0
    run_dir = next(runs_dir.iterdir())
    assert main(["train", "--resume", str(run_dir), "--epochs", "3"]) == 0
    monkeypatch.setattr("tui_trainer.trust.os.getuid", lambda: 12345)  # as another user
    capsys.readouterr()
    assert main(["train", "--resume", str(run_dir), "--epochs", "4"]) == 2
    assert "which belongs to another user" in capsys.readouterr().err
    assert main(["train", "--resume", str(run_dir), "--epochs", "4", "--trust-code"]) == 0


NET = '''
from pathlib import Path
Path(__file__).with_name("RAN").write_text("the model file ran")
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = nn.Linear(1, 1)

    def forward(self, x):
        return self.layer(x)
'''


@pytest.mark.parametrize("command", [["train"], ["train", "--dry-run"], ["export-script", "-o", "out.py"]])
def test_a_model_file_from_another_folder_is_refused_even_where_nothing_trains(command, tmp_path, monkeypatch,
                                                                              capsys):
    # A model file runs wherever the model is built: a dry run and an export build it too.
    (tmp_path / "theirs").mkdir()
    (tmp_path / "mine").mkdir()
    (tmp_path / "theirs" / "net.py").write_text(NET)
    config = tmp_path / "mine" / "run.toml"
    config.write_text(f'[task]\nname = "linear"\n[model]\nkind = "file"\npath = "{tmp_path}/theirs/net.py:Net"\n'
                      '[training]\nepochs = 2\n')
    monkeypatch.chdir(tmp_path)
    assert main([*command, "--config", str(config)]) == 2
    assert f"names the file {tmp_path / 'theirs' / 'net.py'}, which lies outside" in capsys.readouterr().err
    assert not (tmp_path / "theirs" / "RAN").exists()
    assert main([*command, "--config", str(config), "--trust-code"]) == 0
    assert (tmp_path / "theirs" / "RAN").exists()
