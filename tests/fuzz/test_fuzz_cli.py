"""Property tests of the command line with hostile input: flags and ``--set`` values, TOML
config files, user loss files, IDX data files and damaged run folders. Each case must end with
an exit code in {0, 1, 2, 130}, no traceback, an exit-2 message naming a field, flag or path,
and no file touched outside the run folder. ``make fuzz`` runs the same with many more cases."""

from __future__ import annotations

import gzip
import shutil
import struct
import tempfile
from pathlib import Path

import tomli_w
from hypothesis import given
from hypothesis import strategies as st

from fuzz.saved_run import saved_run_template
from fuzz.harness import FUZZ, run_command
from tui_trainer.catalog.losses import LOSSES
from tui_trainer.catalog.optimizers import OPTIMIZERS
from tui_trainer.catalog.schedulers import SCHEDULERS
from tui_trainer.catalog.tasks import TASKS
from tui_trainer.config import SECTIONS, params_of

#: Values a hostile user types: types, huge, negative, NaN/inf, unicode, empty.
TEXT_VALUES = ("0", "1", "2", "3", "-1", "0.5", "1e-45", "1e308", "1e400", "-0", "nan", "-inf", "inf",
               "", " ", "abc", "٣", "１", "0x10", "1_000", "true", "off", "full", "auto", "epochs",
               "9" * 30, "18446744073709551616", "9223372036854775808", "1000000000000", "1,2,3",
               "0,0", "[2]", "cuda:99", "cpu", "mps", "../..", "/dev/full", "\x00", "é", "🙂")
TASK_NAMES = tuple(TASKS)
KEYS = tuple(sorted({f"{section}.{p.name}" for section in SECTIONS
                     for name in (TASKS, LOSSES, OPTIMIZERS, SCHEDULERS, [None])[
                         ("task", "loss", "optimizer", "scheduler").index(section)
                         if section in ("task", "loss", "optimizer", "scheduler") else 4]
                     for p in params_of(section, name)}))
FLAGS = ("--task", "--loss", "--optimizer", "--lr", "--scheduler", "--epochs", "--batch-size",
         "--hidden", "--activation", "--dropout", "--val-split", "--device", "--seed")

values = st.one_of(st.sampled_from(TEXT_VALUES), st.text(max_size=8),
                   st.integers(-10, 10).map(str), st.floats(allow_nan=True).map(repr))
keys = st.one_of(st.sampled_from(KEYS), st.sampled_from(("", ".", "x", "task.", ".lr", "optimizer.lr.x",
                                                          "training", "loss", "a.b.c")))
flag_pairs = st.one_of(
    st.tuples(st.sampled_from(FLAGS), values),
    st.tuples(st.just("--set"), st.builds(lambda k, v: f"{k}={v}", keys, values)),
    st.tuples(st.just("--task"), st.sampled_from(TASK_NAMES)),
    st.tuples(st.just("--optimizer"), st.sampled_from(tuple(OPTIMIZERS))),
    st.tuples(st.just("--scheduler"), st.sampled_from(tuple(SCHEDULERS))),
    st.tuples(st.just("--loss"), st.sampled_from(tuple(LOSSES))),
)


def workdir() -> tempfile.TemporaryDirectory:
    return tempfile.TemporaryDirectory(prefix="tui-fuzz-")


def offline(argv: list[str]) -> list[str]:
    """Vision tasks never try torchvision's download in the fuzz suite."""
    if any("mnist" in arg for arg in argv):
        argv += ["--set", "task.download=false", "--set", "task.limit=all"]
    return argv


@FUZZ
@given(pairs=st.lists(flag_pairs, max_size=5), mode=st.sampled_from(("dry-run", "train", "script")))
def test_flags_and_set_values(pairs, mode):
    argv = [item for pair in pairs for item in pair]
    with workdir() as tmp:
        if mode == "script":
            command = ["export-script", *argv, "-o", "out/train.py"]
        else:
            command = ["train", *argv, "--runs-dir", "runs", "--device", "cpu"]
            command += ["--dry-run"] if mode == "dry-run" else ["--epochs", "1", "--set",
                                                               "training.early_stopping_patience=1"]
        run_command(offline(command), Path(tmp))


toml_scalars = st.one_of(st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=True),
                         st.text(max_size=10), st.sampled_from(TASK_NAMES + tuple(OPTIMIZERS)),
                         st.lists(st.integers(-5, 300), max_size=3))
toml_sections = st.dictionaries(
    st.one_of(st.sampled_from(SECTIONS), st.text(min_size=1, max_size=6)),
    st.one_of(toml_scalars, st.dictionaries(
        st.one_of(st.sampled_from(tuple(k.partition(".")[2] for k in KEYS) + ("name",)), st.text(min_size=1, max_size=6)),
        st.one_of(toml_scalars, st.dictionaries(st.text(min_size=1, max_size=3), toml_scalars, max_size=2)),
        max_size=4)),
    max_size=4)


@FUZZ
@given(document=toml_sections, damage=st.sampled_from(("none", "truncate", "garbage", "binary")),
       cut=st.integers(0, 200))
def test_config_files(document, damage, cut):
    text = tomli_w.dumps(document).encode()
    if damage == "truncate":
        text = text[:cut]
    elif damage == "garbage":
        text = text[:cut] + b"[[[ = =\n"
    elif damage == "binary":
        text = bytes(range(256))[cut:] + text
    with workdir() as tmp:
        config = Path(tmp, "inputs", "run.toml")
        config.parent.mkdir()
        config.write_bytes(text)
        run_command(offline(["train", "--config", str(config), "--dry-run", "--runs-dir", "runs"]), Path(tmp))


LOSS_IMPORTS = ("import torch\nimport torch.nn as nn\n", "import sys\nsys.exit(3)\n",
                "raise KeyboardInterrupt\n", "raise RuntimeError('boom')\n", "def broken(:\n",
                "import torch.nn as nn\nimport no_such_module\n", "")
LOSS_INITS = ("", "    def __init__(self):\n        super().__init__()\n",
              "    def __init__(self, weight):\n        super().__init__()\n",
              "    def __init__(self):\n        raise ValueError('no')\n",
              "    def __init__(self):\n        import sys; sys.exit(0)\n")
LOSS_RETURNS = ("torch.nn.functional.mse_loss(out.float(), y.float().reshape(out.shape))",
                "(out - y).abs().mean()", "1.0", "None", "out", "out.sum().detach()",
                "torch.tensor(1.0)", "(out.float().mean() - 1) ** 2", "out.argmax()",
                "torch.nn.functional.cross_entropy(out, y)", "float('nan') * out.sum()",
                "__import__('sys').exit(4)", "[out.mean()]")
LOSS_BASES = ("nn.Module", "object", "torch.nn.Module")


@FUZZ
@given(header=st.sampled_from(LOSS_IMPORTS), base=st.sampled_from(LOSS_BASES),
       init=st.sampled_from(LOSS_INITS), result=st.sampled_from(LOSS_RETURNS),
       name=st.sampled_from(("MyLoss", "Other")), task=st.sampled_from(("linear", "iris", "binary", "regression")))
def test_user_loss_files(header, base, init, result, name, task):
    source = (f"import torch\nimport torch.nn as nn\n{header}\nclass MyLoss({base}):\n{init}"
              f"    def forward(self, out, y):\n        return {result}\n")
    with workdir() as tmp:
        file = Path(tmp, "inputs", "my_loss.py")
        file.parent.mkdir()
        file.write_text(source)
        run_command(["train", "--task", task, "--loss", f"{file}:{name}", "--epochs", "1",
                     "--runs-dir", "runs", "--device", "cpu"], Path(tmp))


IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
             "t10k-labels-idx1-ubyte")


def idx_bytes(kind: str, magic: int, count: int, side: int, extra: int, labels_max: int) -> bytes:
    if "images" in kind:
        body = bytes(count * side * side)
        data = struct.pack(">IIII", magic, count, side, side) + body
    else:
        data = struct.pack(">II", magic, count) + bytes(i % (labels_max + 1) for i in range(count))
    return data[:len(data) + extra] if extra < 0 else data + bytes(extra)


idx_file = st.tuples(st.sampled_from((2051, 2049, 0, 0x12345678)), st.sampled_from((0, 1, 20, 30)),
                     st.sampled_from((28, 27, 0)), st.sampled_from((0, 0, -1, -9, -40, 3)),
                     st.sampled_from((9, 9, 10, 255)), st.sampled_from(("raw", "gz", "missing", "junk")))


@FUZZ
@given(files=st.tuples(idx_file, idx_file, idx_file, idx_file), task=st.sampled_from(("mnist", "fashion-mnist")))
def test_idx_files(files, task):
    with workdir() as tmp:
        raw = Path(tmp, "inputs", "MNIST" if task == "mnist" else "FashionMNIST", "raw")
        raw.mkdir(parents=True)
        for name, (magic, count, side, extra, labels_max, form) in zip(IDX_FILES, files):
            magic = (2051 if "images" in name else 2049) if magic in (2051, 2049) else magic
            data = idx_bytes(name, magic, count, side, extra, labels_max)
            if form == "raw":
                (raw / name).write_bytes(data)
            elif form == "gz":
                (raw / f"{name}.gz").write_bytes(gzip.compress(data))
            elif form == "junk":
                (raw / f"{name}.gz").write_bytes(data[:7])
        run_command(["train", "--task", task, "--data-dir", str(Path(tmp, "inputs")), "--set",
                     "task.download=false", "--epochs", "1", "--batch-size", "4", "--runs-dir", "runs",
                     "--device", "cpu"], Path(tmp))


RUN_FILE_NAMES = ("config.toml", "history.jsonl", "steps.jsonl", "summary.json", "model.pt")


@FUZZ
@given(damages=st.lists(st.tuples(st.sampled_from(RUN_FILE_NAMES),
                                  st.sampled_from(("truncate", "flip", "random", "delete", "append", "empty")),
                                  st.integers(0, 10**6)), min_size=1, max_size=3),
       command=st.sampled_from(("resume", "export-csv", "export-json")))
def test_damaged_run_folders(damages, command):
    import random

    with workdir() as tmp:
        folder = Path(tmp, "runs", "run")
        shutil.copytree(saved_run_template(), folder)
        for name, damage, seed in damages:
            path = folder / name
            data = path.read_bytes() if path.exists() else b""
            rng = random.Random(seed)
            at = rng.randrange(len(data) + 1)
            if damage == "truncate":
                data = data[:at]
            elif damage == "flip" and data:
                data = data[:at] + bytes([rng.randrange(256)]) + data[at + 1:]
            elif damage == "random":
                data = rng.randbytes(rng.randrange(1, 400))
            elif damage == "append":
                data = data + rng.choice((b'{"epoch": 99}\n', b"\xff\xfe\n", b"[1, 2]\n", b'"x"\n'))
            elif damage == "empty":
                data = b""
            if damage == "delete":
                path.unlink(missing_ok=True)
            else:
                path.write_bytes(data)
        if command == "resume":
            argv = ["train", "--resume", str(folder), "--epochs", "4", "--device", "cpu"]
        else:
            argv = ["export-history", str(folder), "--format", command.split("-")[1], "-o",
                    f"out/history.{command.split('-')[1]}"]
        before = {p.name: p.read_bytes() for p in folder.iterdir()}
        outcome = run_command(argv, Path(tmp))
        if outcome.code == 2:  # refused: the damaged folder is left exactly as it was
            assert {p.name: p.read_bytes() for p in folder.iterdir()} == before, outcome.err
