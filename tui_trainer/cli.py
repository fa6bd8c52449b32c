"""The ``tui-trainer`` command: the app (no subcommand), ``train`` headless, ``compare`` (several
runs raced), ``list``, and the exports (``export-script``, ``export-history``).

Exit codes: 0 done, 1 training failed (e.g. diverged), 2 bad input, 130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Sequence

from tui_trainer import __version__
from tui_trainer.catalog.losses import LOSSES, USER_LOSS_HELP
from tui_trainer.catalog.optimizers import OPTIMIZERS
from tui_trainer.catalog.schedulers import SCHEDULERS
from tui_trainer.catalog.tasks import TASKS
from tui_trainer.config import Config, Text, read_toml, resolve_flags, save_config, to_dict, to_toml
from tui_trainer.engine.rundir import CHECKPOINT_FILE, default_runs_dir
from tui_trainer.errors import ConfigError, FieldError, UserFacingError
from tui_trainer.export.history import FORMATS, export_history
from tui_trainer.schema import Param, show_value

if TYPE_CHECKING:
    from tui_trainer.engine.checkpoint import Checkpoint
    from tui_trainer.engine.control import RunControl

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130

#: Named flags of ``train`` and the dotted config field each one sets.
FLAG_FIELDS = {
    "task": "task.name", "loss": "loss.name", "optimizer": "optimizer.name", "lr": "optimizer.lr",
    "scheduler": "scheduler.name", "epochs": "training.epochs", "batch_size": "training.batch_size",
    "hidden": "model.hidden", "activation": "model.activation", "dropout": "model.dropout",
    "val_split": "training.val_split", "device": "training.device", "seed": "training.seed",
    "data_dir": "task.data_dir",
}


class UsageError(Exception):
    """A command-line mistake reported with exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="tui-trainer",
        description="A terminal playground for PyTorch training. With no command, opens the app.")
    parser.add_argument("--version", action="version", version=f"tui-trainer {__version__}")
    parser.add_argument("--config", type=Path, help="TOML config file to open the app with")
    parser.add_argument("--runs-dir", type=Path, help="folder of run folders (default: "
                        "$XDG_DATA_HOME/tui-trainer/runs)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    train = commands.add_parser("train", help="train headless and print a summary",
                                description="Train headless. Flags override the config file; "
                                "--set reaches any field.")
    add_config_flags(train)
    train.add_argument("--json", action="store_true", help="print one JSON object (and nothing else) "
                       "on stdout")
    train.add_argument("--save-config", type=Path, metavar="FILE",
                       help="write the resolved config as TOML (with --dry-run: and stop)")
    train.add_argument("--dry-run", action="store_true",
                       help="validate, print the resolved config and exit without training")
    train.add_argument("--runs-dir", type=Path, dest="train_runs_dir", metavar="DIR",
                       help="folder of run folders (default: $XDG_DATA_HOME/tui-trainer/runs)")
    train.add_argument("--save-model", action="store_true",
                       help=f"write {CHECKPOINT_FILE} (weights, config, optimizer state) into the run "
                       "folder when the run ends")
    train.add_argument("--resume", type=Path, metavar="RUN_DIR",
                       help=f"continue the run in RUN_DIR from its {CHECKPOINT_FILE}, appending to its "
                       "history (flags may change epochs, stopping rules, device and threads); "
                       "the checkpoint is saved again at the end")

    compare = commands.add_parser(
        "compare", help="train several runs that differ in the --vary fields, side by side",
        description="Train every combination of the --vary values (at most 16 runs) from the same "
        "initial weights on the same batches, taking turns in one process, then print a "
        "leaderboard sorted by final validation loss (train loss without a validation split). "
        "The other flags set what all runs share, as for `train`.")
    add_config_flags(compare)
    compare.add_argument("--vary", action="append", required=True, metavar="FIELD=V1,V2",
                         help="a dotted field and its values, e.g. optimizer.name=sgd,adam,rmsprop "
                         "or optimizer.lr=0.1,0.01 (repeatable: the runs are every combination; "
                         "list values in brackets: model.hidden=[64],[32,32])")
    compare.add_argument("--json", action="store_true", help="print one JSON object (runs, varied) "
                         "and nothing else on stdout")
    compare.add_argument("--dry-run", action="store_true",
                         help="validate every run, list them and exit without training")
    compare.add_argument("--runs-dir", type=Path, dest="train_runs_dir", metavar="DIR",
                         help="folder of run folders (default: $XDG_DATA_HOME/tui-trainer/runs)")

    commands.add_parser("list", help="list tasks, losses, optimizers (with hyperparameters and "
                        "defaults) and schedulers")

    script = commands.add_parser(
        "export-script", help="write a standalone PyTorch script that trains the config as the "
        "engine does", description="Write a standalone PyTorch script (torch, torchvision, "
        "scikit-learn only) that trains the config exactly as `train` would: on the same device it "
        "prints the same per-epoch train losses. Reads the task's data once to size the loop.")
    add_config_flags(script)
    script.add_argument("-o", "--output", type=Path, default=Path("train.py"), metavar="FILE",
                        help="the script to write (default: train.py)")
    script.add_argument("--force", action="store_true", help="overwrite FILE if it exists")

    history = commands.add_parser(
        "export-history", help="write a run's per-epoch history and per-interval train loss as CSV "
        "or JSON")
    history.add_argument("run_dir", type=Path, metavar="RUN_DIR",
                         help="a run folder, or a run's name in the runs folder")
    history.add_argument("--format", choices=FORMATS, default="csv",
                         help="csv: history.csv and history-steps.csv; json: one history.json "
                         "(default: csv)")
    history.add_argument("-o", "--output", type=Path, metavar="FILE",
                         help="the file to write (default: in RUN_DIR)")
    history.add_argument("--runs-dir", type=Path, dest="sub_runs_dir", metavar="DIR",
                         help="where to look for RUN_DIR given as a name (default: "
                         "$XDG_DATA_HOME/tui-trainer/runs)")
    return parser


def add_config_flags(parser: argparse.ArgumentParser) -> None:
    """The flags that build a config: --config, the named flags, and --set."""
    parser.add_argument("--config", type=Path, dest="sub_config", metavar="FILE", help="TOML config file")
    parser.add_argument("--task", choices=list(TASKS), help="what to learn (see `tui-trainer list`)")
    parser.add_argument("--loss", help="loss: " + ", ".join(LOSSES) + "; " + USER_LOSS_HELP)
    parser.add_argument("--optimizer", choices=list(OPTIMIZERS))
    parser.add_argument("--lr", metavar="LR", help="learning rate (optimizer.lr)")
    parser.add_argument("--scheduler", choices=list(SCHEDULERS))
    parser.add_argument("--epochs", metavar="N")
    parser.add_argument("--batch-size", metavar="N", help="a number, or 'full' for full-batch")
    parser.add_argument("--hidden", metavar="SIZES", help="hidden layer sizes, e.g. 128,64 "
                        "(empty string: a single linear layer)")
    parser.add_argument("--activation", metavar="NAME")
    parser.add_argument("--dropout", metavar="P")
    parser.add_argument("--val-split", metavar="FRACTION")
    parser.add_argument("--device", metavar="DEVICE", help="auto, cpu, cuda, cuda:N or mps")
    parser.add_argument("--seed", metavar="N")
    parser.add_argument("--data-dir", metavar="DIR", help="dataset folder for mnist and fashion-mnist")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="set any field, e.g. --set optimizer.momentum=0.9 (repeatable)")


def config_layers(args: argparse.Namespace, base: dict[str, Any] | None = None
                  ) -> tuple[dict[str, Any], dict[str, Any]]:
    """The layers a config resolves from: the --config file's dict (or ``base``), and the dotted
    overrides of the named flags and --set."""
    config_path = getattr(args, "sub_config", None) or args.config
    file_dict = read_toml(config_path) if config_path else base or {}
    overrides: dict[str, Any] = {}
    for flag, key in FLAG_FIELDS.items():
        value = getattr(args, flag, None)
        if value is not None:
            overrides[key] = Text(value)
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--set {item!r}: expected KEY=VALUE, e.g. --set optimizer.momentum=0.9")
        overrides[key.strip()] = Text(value)
    return file_dict, overrides


def config_from_args(args: argparse.Namespace, base: dict[str, Any] | None = None) -> Config:
    """Resolve the config: the task's recipe, then the --config file (or ``base``), then flags,
    then --set."""
    return resolve_flags(*config_layers(args, base))


def run() -> None:
    """The console entry point: ``main``, then exit without a slow final garbage collection."""
    code = main()
    # With torch loaded, the interpreter's shutdown spends ~0.8 s collecting objects that are
    # about to vanish anyway; frozen objects are skipped (so ctrl+q in the app exits in < 1 s).
    gc.freeze()
    sys.exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "train":
            return cmd_train(args)
        if args.command == "compare":
            return cmd_compare(args)
        if args.command == "list":
            print(catalog_text())
            return EXIT_OK
        if args.command == "export-script":
            return cmd_export_script(args)
        if args.command == "export-history":
            return cmd_export_history(args)
        return cmd_app(args)
    except (ConfigError, UsageError, UserFacingError) as exc:
        print_error(exc)
        return EXIT_BAD_INPUT


def print_error(exc: Exception) -> None:
    """Print a bad-input message to stderr, one line per problem."""
    if isinstance(exc, ConfigError):
        print("error: invalid configuration:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
    else:
        print(f"error: {exc}", file=sys.stderr)


def cmd_app(args: argparse.Namespace) -> int:
    """Open the Textual app (torch loads after its first frame)."""
    if args.config is not None:
        read_toml(args.config)  # a missing or broken file is reported before the app opens
    from tui_trainer.app import run_app

    return run_app(args.config, args.runs_dir)


def cmd_train(args: argparse.Namespace) -> int:
    """``tui-trainer train``: validate, optionally save, then train with progress and a summary."""
    checkpoint = None
    if args.resume is not None:
        if getattr(args, "sub_config", None) or args.config:
            raise UsageError("--resume continues the run with the config it was saved with; "
                             "change what may change with flags (e.g. --epochs), not --config")
        from tui_trainer.engine.checkpoint import read_checkpoint

        checkpoint = read_checkpoint(find_run_dir(args.resume, args.train_runs_dir or args.runs_dir))
    config = config_from_args(args, checkpoint.config_dict if checkpoint else None)
    from tui_trainer.engine.checks import check

    check(config)
    if checkpoint is not None:
        checkpoint.check_resumable(config)
    if args.save_config:
        path = save_config(config, args.save_config)
        print(f"saved config to {path}", file=sys.stderr)
    if args.dry_run:
        print(planned_text(config), file=sys.stderr)
        if not args.json:
            print(to_toml(config), end="")
        else:
            print(json.dumps(to_dict(config)))
        return EXIT_OK
    return run_training(config, args.json, args.train_runs_dir or args.runs_dir,
                        save_model=args.save_model or checkpoint is not None, resume=checkpoint)


def run_training(config: Config, as_json: bool, runs_dir: Path | None, save_model: bool = False,
                 resume: Checkpoint | None = None) -> int:
    """Train with the right reporter, then save the model if asked (a resumed run always saves);
    Ctrl+C stops cleanly after the current step."""
    from tui_trainer.engine.control import RunControl
    from tui_trainer.engine.loop import Trainer
    from tui_trainer.report import EpochLines, ProgressBar, summary_text

    control = RunControl()
    callbacks = []
    if not as_json:
        callbacks.append(ProgressBar() if sys.stdout.isatty() else EpochLines(sys.stdout))
    if resume is not None:
        print(f"resuming {resume.path.parent} {resume.where}", file=sys.stderr)
    trainer = Trainer(config, callbacks, control, runs_dir=runs_dir, resume=resume)
    with stopped_by_ctrl_c(control):
        result = trainer.run()
    model_file = None
    if save_model:
        from tui_trainer.engine.checkpoint import save_checkpoint

        try:
            model_file = save_checkpoint(trainer)
        except UserFacingError as exc:
            print(f"note: {exc}", file=sys.stderr)
    if as_json:
        print(json.dumps({**result.as_json(), "model_file": str(model_file) if model_file else None}))
    else:
        print(summary_text(result) + (f"\n  saved model: {model_file}" if model_file else ""))
    if result.reason == "interrupted":
        return EXIT_INTERRUPTED
    return EXIT_OK if result.ok else EXIT_FAILED


@contextlib.contextmanager
def stopped_by_ctrl_c(control: RunControl) -> Iterator[None]:
    """While inside, Ctrl+C asks ``control`` to stop after the current step (the history is
    kept); a second Ctrl+C aborts at once."""

    def interrupt(signum, frame):
        control.stop("interrupted")
        signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = signal.signal(signal.SIGINT, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def cmd_compare(args: argparse.Namespace) -> int:
    """``tui-trainer compare``: plan and check every run, race them, print the leaderboard."""
    from tui_trainer.compare import Variation, plan_runs

    variations = [Variation.parse(text) for text in args.vary]
    runs = plan_runs(*config_layers(args), variations)
    from tui_trainer.engine.checks import torch_problems

    problems = [FieldError(p.field, f"{p.message} (run {run.label})")
                for run in runs for p in torch_problems(run.config)]
    if problems:
        raise ConfigError(problems)
    if args.dry_run:
        lines = [f"{run.label}: {run.config.summary()} · {planned_text(run.config)}" for run in runs]
        print(json.dumps([to_dict(run.config) for run in runs]) if args.json else "\n".join(lines))
        return EXIT_OK
    from tui_trainer.engine.control import RunControl
    from tui_trainer.engine.loop import Trainer
    from tui_trainer.engine.race import race
    from tui_trainer.leaderboard import LabelledEpochLines, RaceBars, compare_json, leaderboard_text

    control = RunControl()
    bars = RaceBars() if not args.json and sys.stdout.isatty() else None

    def callbacks(run) -> list:
        if args.json:
            return []
        return [bars.callback(run.label) if bars else LabelledEpochLines(sys.stdout, run.label)]

    runs_dir = args.train_runs_dir or args.runs_dir
    trainers = [Trainer(run.config, callbacks(run), control, runs_dir=runs_dir) for run in runs]
    with stopped_by_ctrl_c(control), bars or contextlib.nullcontext():
        results = race(trainers)
    if args.json:
        print(json.dumps(compare_json(runs, results)))
    else:
        print(leaderboard_text(runs, results))
    if any(result.reason == "interrupted" for result in results):
        return EXIT_INTERRUPTED
    return EXIT_OK if all(result.ok for result in results) else EXIT_FAILED


def planned_text(config: Config) -> str:
    """What a run will train, before it does: what its data decided (user data) and its model's
    parameter count."""
    from tui_trainer.engine.models import planned_param_count

    note = config.task_spec.note
    return (f"{note} · " if note else "") + f"model {planned_param_count(config):,} parameters"


def find_run_dir(name: Path, runs_dir: Path | None) -> Path:
    """A run folder given as a path or as a name in the runs folder (UsageError when neither)."""
    if name.expanduser().is_dir():
        return name.expanduser()
    inside = (runs_dir or default_runs_dir()) / name
    if inside.is_dir():
        return inside
    raise UsageError(f"no run folder {str(name)!r} (looked in the current folder and in {inside.parent})")


def cmd_export_script(args: argparse.Namespace) -> int:
    """``tui-trainer export-script``: write the standalone PyTorch script of the config."""
    config = config_from_args(args)
    from tui_trainer.engine.checks import check
    from tui_trainer.export.script import write_script

    check(config)
    path = write_script(config, args.output, overwrite=args.force)
    print(f"wrote {path}; run it with: python {path}")
    return EXIT_OK


def cmd_export_history(args: argparse.Namespace) -> int:
    """``tui-trainer export-history``: write a run's history as CSV or JSON."""
    run_dir = find_run_dir(args.run_dir, args.sub_runs_dir or args.runs_dir)
    for path in export_history(run_dir, args.format, args.output):
        print(f"wrote {path}")
    return EXIT_OK


def catalog_text() -> str:
    """What ``tui-trainer list`` prints: every task, loss, optimizer and scheduler."""
    out = ["Tasks (--task):"]
    for task in TASKS.values():
        classes = f", {task.classes} classes" if task.classes else ""
        out.append(f"  {task.name:<14} {task.kind}{classes}: {task.description}")
        out.append(f"  {'':<14} losses: {', '.join(task.losses)} (default {task.default_loss})")
        out += _param_lines(task.options, indent=17)
    out.append("\nLosses (--loss):")
    for loss in LOSSES.values():
        out.append(f"  {loss.name:<14} nn.{loss.torch_class if loss.name != 'custom-mae' else 'Module'}: "
                   f"{loss.help}")
        out += _param_lines(loss.params, indent=17)
    out.append(f"  {'PATH.py:Class':<14} {USER_LOSS_HELP}")
    out.append("\nOptimizers (--optimizer; hyperparameters via --set optimizer.NAME=VALUE):")
    for opt in OPTIMIZERS.values():
        out.append(f"  {opt.name:<14} torch.optim.{opt.torch_class}: {opt.help}")
        out += _param_lines(opt.params, indent=17)
    out.append("\nSchedulers (--scheduler; parameters via --set scheduler.NAME=VALUE):")
    for sched in SCHEDULERS.values():
        where = f"torch.optim.lr_scheduler.{sched.torch_class}" if sched.torch_class else "no scheduler"
        out.append(f"  {sched.name:<14} {where}: {sched.help} (steps per {sched.steps})")
        out += _param_lines(sched.params, indent=17)
    return "\n".join(out)


def _param_lines(params: tuple[Param, ...], indent: int) -> list[str]:
    pad = " " * indent
    return [f"{pad}{p.name} = {show_value(p.default) if p.kind == 'str' else p.format(p.default)}  "
            f"({p.help}; {p.allowed()})" for p in params]
