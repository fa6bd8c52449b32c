"""The ``tui-trainer`` command: the app (no subcommand), ``train`` headless, ``compare`` (several
runs raced), ``watch`` (the app on runs other processes train), ``list``, ``evaluate`` (a saved
model scored again), and the exports (``export-script``, ``export-history``). Each subcommand is one entry of COMMANDS: its
flags and its handler.

Exit codes: 0 done, 1 training failed (e.g. diverged), 2 bad input, 129 the terminal went away
(SIGHUP), 130 interrupted (Ctrl+C, SIGTERM).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

from tui_trainer import __version__
from tui_trainer.catalog.lab import MISTAKES
from tui_trainer.catalog.losses import LOSSES, OWN_LOSSES, USER_LOSS_HELP, user_class_parts, user_loss_parts
from tui_trainer.catalog.optimizers import OPTIMIZERS
from tui_trainer.catalog.schedulers import SCHEDULERS
from tui_trainer.catalog.tasks import TASKS
from tui_trainer.config import Config, Text, read_toml, resolve_flags, to_dict, to_toml
from tui_trainer.engine.rundir import CHECKPOINT_FILE, CONFIG_FILE, default_runs_dir
from tui_trainer.errors import ConfigError, FieldError, UserFacingError
from tui_trainer.export.history import FORMATS, export_history
from tui_trainer.interrupts import (
    EXIT_INTERRUPTED, StopOnSignals, exit_for, exit_now, exit_on_signals,
)
from tui_trainer.launch import is_rank_zero, world_size
from tui_trainer.outputs import output_path, write_text
from tui_trainer.paths import checked_path
from tui_trainer.pipes import ClosedPipeSafe
from tui_trainer.schema import Param, show_value
from tui_trainer.trust import TRUST_FLAG, foreign_code
from tui_trainer.warnings_shown import show_warnings_once

if TYPE_CHECKING:
    from tui_trainer.engine.checkpoint import Checkpoint
    from tui_trainer.engine.events import RunResult

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2

#: Named flags of ``train`` and the dotted config field each one sets.
FLAG_FIELDS = {
    "task": "task.name", "loss": "loss.name", "optimizer": "optimizer.name", "lr": "optimizer.lr",
    "scheduler": "scheduler.name", "epochs": "training.epochs", "batch_size": "training.batch_size",
    "hidden": "model.hidden", "activation": "model.activation", "dropout": "model.dropout",
    "val_split": "training.val_split", "device": "training.device", "seed": "training.seed",
    "data_dir": "task.data_dir", "tensorboard": "logging.tensorboard",
}


class UsageError(Exception):
    """A command-line mistake reported with exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser: the app's flags, and a subparser per command of COMMANDS, whose
    handler it sets (``args.handler``; none: the app)."""
    parser = argparse.ArgumentParser(
        prog="tui-trainer",
        description="A terminal playground for PyTorch training. With no command, opens the app.")
    parser.add_argument("--version", action="version", version=f"tui-trainer {__version__}")
    parser.add_argument("--config", type=Path, help="TOML config file to open the app with")
    parser.add_argument("--runs-dir", type=Path, help="folder of run folders (default: "
                        "$XDG_DATA_HOME/tui-trainer/runs)")
    parser.add_argument("--pace", type=_pace, metavar="PACE", help="the pace the app's runs start at: "
                        "'max', or epochs (an arena task: steps) a second (default: each task's own; "
                        "ctrl+b and ctrl+f change it)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        sub = commands.add_parser(command.name, help=command.help, description=command.description)
        command.flags(sub)
        sub.set_defaults(handler=command.handler)
    return parser


def _pace(text: str) -> str | float:
    """``--pace``'s value, checked (the app's pacing rules, torch-free and Textual-free)."""
    from tui_trainer.pacing import parse_pace

    try:
        return parse_pace(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _train_flags(train: argparse.ArgumentParser) -> None:
    add_config_flags(train)
    train.add_argument("--json", action="store_true", help="print one JSON object (and nothing else) "
                       "on stdout")
    train.add_argument("--verbose", "-v", action="store_true",
                       help="on a terminal, print one line per epoch above the progress bar too")
    train.add_argument("--save-config", type=Path, metavar="FILE",
                       help="write the resolved config as TOML (with --dry-run: and stop)")
    train.add_argument("--force", action="store_true", help="let --save-config overwrite FILE")
    train.add_argument("--dry-run", action="store_true",
                       help="validate, print the resolved config and exit without training")
    add_runs_dir_flag(train)
    add_tensorboard_flag(train)
    train.add_argument("--save-model", action="store_true",
                       help=f"write {CHECKPOINT_FILE} (weights, config, optimizer state) into the run "
                       "folder when the run ends")
    train.add_argument("--resume", type=Path, metavar="RUN_DIR",
                       help=f"continue the run in RUN_DIR from its {CHECKPOINT_FILE}, appending to its "
                       "history (flags may change epochs, stopping rules, device and threads); "
                       "the checkpoint is saved again at the end")


def _lr_find_flags(finder: argparse.ArgumentParser) -> None:
    add_config_flags(finder)
    finder.add_argument("--start", type=float, default=1e-7, help="first learning rate (default 1e-7)")
    finder.add_argument("--end", type=float, default=10.0, help="last learning rate (default 10)")
    finder.add_argument("--steps", type=int, default=100, help="optimizer steps (default 100)")
    finder.add_argument("--rule", choices=("valley", "steep"), default="valley",
                        help="how to suggest: valley (fastai's default: the middle of the longest "
                        "falling stretch) or steep (the steepest descent)")
    finder.add_argument("--json", action="store_true", help="print one JSON object (lrs, losses, "
                        "suggestion, rule) and nothing else on stdout")


def _lab_flags(lab: argparse.ArgumentParser) -> None:
    lab.add_argument("mistake", choices=list(MISTAKES), metavar="MISTAKE",
                     help="one of: " + ", ".join(MISTAKES))
    add_config_flags(lab)
    lab.add_argument("--json", action="store_true", help="print one JSON object (runs, varied)")
    add_runs_dir_flag(lab)
    add_tensorboard_flag(lab)


def _compare_flags(compare: argparse.ArgumentParser) -> None:
    add_config_flags(compare)
    compare.add_argument("--vary", action="append", required=True, metavar="FIELD=V1,V2",
                         help="a dotted field and its values, e.g. optimizer.name=sgd,adam,rmsprop "
                         "or optimizer.lr=0.1,0.01 (repeatable: the runs are every combination; "
                         "list values in brackets: model.hidden=[64],[32,32])")
    compare.add_argument("--json", action="store_true", help="print one JSON object (runs, varied) "
                         "and nothing else on stdout")
    compare.add_argument("--dry-run", action="store_true",
                         help="validate every run, list them and exit without training")
    add_runs_dir_flag(compare)
    add_tensorboard_flag(compare)


def _no_flags(parser: argparse.ArgumentParser) -> None:
    """A command without flags of its own."""


def _export_script_flags(script: argparse.ArgumentParser) -> None:
    add_config_flags(script)
    script.add_argument("-o", "--output", type=Path, default=Path("train.py"), metavar="FILE",
                        help="the script to write (default: train.py)")
    script.add_argument("--force", action="store_true", help="overwrite FILE if it exists")


def _export_plot_flags(plot: argparse.ArgumentParser) -> None:
    plot.add_argument("run_dirs", type=Path, nargs="+", metavar="RUN_DIR",
                      help="run folders, or runs' names in the runs folder")
    plot.add_argument("-o", "--output", type=Path, metavar="FILE",
                      help="FILE.png or FILE.svg (default: plot.png in the run folder; with several "
                      "runs, compare.png here)")
    plot.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    add_runs_folder_flag(plot, "where to look for runs given by name")


def _export_history_flags(history: argparse.ArgumentParser) -> None:
    history.add_argument("run_dir", type=Path, metavar="RUN_DIR",
                         help="a run folder, or a run's name in the runs folder")
    history.add_argument("--format", choices=FORMATS, default="csv",
                         help="csv: history.csv and history-steps.csv; json: one history.json "
                         "(default: csv)")
    history.add_argument("-o", "--output", type=Path, metavar="FILE",
                         help="the file to write (default: in RUN_DIR)")
    history.add_argument("--force", action="store_true", help="overwrite existing export files "
                         "(never the run's own files)")
    add_runs_folder_flag(history, "where to look for RUN_DIR given as a name")


def add_runs_dir_flag(parser: argparse.ArgumentParser) -> None:
    """A training command's --runs-dir: where its run folders go."""
    parser.add_argument("--runs-dir", type=Path, dest="train_runs_dir", metavar="DIR",
                        help="folder of run folders (default: $XDG_DATA_HOME/tui-trainer/runs)")


def add_runs_folder_flag(parser: argparse.ArgumentParser, what: str) -> None:
    """A command's --runs-dir that finds runs given by name (``what`` it is for)."""
    parser.add_argument("--runs-dir", type=Path, dest="sub_runs_dir", metavar="DIR",
                        help=f"{what} (default: $XDG_DATA_HOME/tui-trainer/runs)")


def _evaluate_flags(evaluate: argparse.ArgumentParser) -> None:
    evaluate.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="a run folder, or a run's name "
                          "in the runs folder")
    evaluate.add_argument("--split", choices=("test", "val", "train"),
                          help="the set to score (default: test when the run has one, else val)")
    evaluate.add_argument("--json", action="store_true", help="print one JSON object (split, samples, "
                          "loss, accuracy, r2, confusion, mistakes) and nothing else on stdout")
    add_runs_folder_flag(evaluate, "where to look for RUN_DIR given as a name")


def cmd_evaluate(args: argparse.Namespace) -> int:
    """``tui-trainer evaluate``: a run's saved model scored again on one of its splits."""
    run_dir = find_run_dir(args.run_dir, args.sub_runs_dir or args.runs_dir)
    from tui_trainer.engine.evaluation import score_run
    from tui_trainer.report import evaluation_text

    with StopOnSignals(exit_for):
        score = score_run(run_dir, args.split)
    print(json.dumps(score.as_json()) if args.json else evaluation_text(score))
    return EXIT_OK


def add_config_flags(parser: argparse.ArgumentParser) -> None:
    """The flags that build a config: --config, the named flags, and --set."""
    parser.add_argument("--config", type=Path, dest="sub_config", metavar="FILE", help="TOML config file")
    parser.add_argument("--task", choices=list(TASKS), help="what to learn (see `tui-trainer list`)")
    parser.add_argument("--loss", help="loss: " + ", ".join(LOSSES) + "; " + USER_LOSS_HELP)
    parser.add_argument("--optimizer", choices=list(OPTIMIZERS))
    parser.add_argument("--lr", metavar="LR", help="learning rate (optimizer.lr)")
    parser.add_argument("--scheduler", choices=list(SCHEDULERS))
    parser.add_argument("--epochs", metavar="N", help="passes over the training data, or "
                        "'until-stopped' (Ctrl+C ends the run, keeping it)")
    parser.add_argument("--batch-size", metavar="N", help="a number, or 'full' for full-batch")
    parser.add_argument("--model", metavar="KIND|PATH.py:Class", help="mlp, cnn (image tasks), or your "
                        "own nn.Module class as path/to/net.py:ClassName (model.kind = file; keyword "
                        "arguments with --set model.args.NAME=VALUE)")
    parser.add_argument("--hidden", metavar="SIZES", help="hidden layer sizes, e.g. 128,64 "
                        "(empty string: a single linear layer)")
    parser.add_argument("--activation", metavar="NAME")
    parser.add_argument("--dropout", metavar="P")
    parser.add_argument("--val-split", metavar="FRACTION", help="fraction held out for validation "
                        "(the 2-D playground tasks take it from task.train_ratio)")
    parser.add_argument("--device", metavar="DEVICE", help="auto, cpu, cuda, cuda:N or mps")
    parser.add_argument("--seed", metavar="N")
    parser.add_argument("--data-dir", metavar="DIR", help="dataset folder for mnist and fashion-mnist")
    parser.add_argument("--change", action="append", default=[], metavar="STEP:FIELD=VALUE",
                        help="change a hyperparameter from optimizer step STEP on, e.g. --change "
                        "200:optimizer.lr=0.001 (repeatable; optimizer settings and training.epochs; "
                        "recorded in the run's config as [[changes]])")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="set any field, e.g. --set optimizer.momentum=0.9 (repeatable)")
    parser.add_argument(TRUST_FLAG, action="store_true",
                        help="run a loss or model file that a config file names from outside its own "
                        "folder (or another user's): such a file is Python code (export-script and "
                        "--dry-run never run a loss file)")


def add_tensorboard_flag(parser: argparse.ArgumentParser) -> None:
    """``--tensorboard``: logging.tensorboard = true, for the commands that write run folders."""
    parser.add_argument("--tensorboard", action="store_const", const="true",
                        help="also write TensorBoard event files into each run folder "
                        "(logging.tensorboard; pip install 'tui-trainer[tensorboard]')")


def config_layers(args: argparse.Namespace, base: dict[str, Any] | None = None
                  ) -> tuple[dict[str, Any], dict[str, Any]]:
    """The layers a config resolves from: the --config file's dict (or ``base``), and the dotted
    overrides of the named flags and --set."""
    config_path = getattr(args, "sub_config", None) or args.config
    file_dict = read_toml(config_path) if config_path else base or {}
    if config_path:
        refuse_foreign_code(args, file_dict, config_path)
    if args.change:
        from tui_trainer.changes import parse_flag

        try:
            flagged = [parse_flag(text) for text in args.change]
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        file_dict = {**file_dict, "changes": [*file_dict.get("changes", []), *flagged]}
    overrides: dict[str, Any] = {}
    for flag, key in FLAG_FIELDS.items():
        value = getattr(args, flag, None)
        if value is not None:
            overrides[key] = Text(value)
    model = getattr(args, "model", None)
    if model is not None:  # --model mlp, or --model net.py:Class (kind file)
        overrides.update({"model.kind": Text("file"), "model.path": Text(model)} if user_class_parts(model)
                         else {"model.kind": Text(model)})
    for item in args.set:
        key, sep, value = item.partition("=")
        section, dot, name = key.strip().partition(".")
        if not sep or not section or (dot and not name):
            raise UsageError(f"--set {item!r}: expected KEY=VALUE with KEY a SECTION or SECTION.NAME, "
                             "e.g. --set optimizer.momentum=0.9")
        overrides[key.strip()] = Text(value)
    return file_dict, overrides


def refuse_foreign_code(args: argparse.Namespace, file_dict: dict[str, Any], config_file: Path,
                        run_folder: bool = False) -> None:
    """Refuse a command that would run a loss or model file ``config_file`` names from outside
    its folder (``trust.foreign_code``), unless --trust-code, or a flag names that file itself. A
    command that trains nothing (export-script, --dry-run) runs no loss file (the model file it
    builds)."""
    if args.trust_code:
        return
    given = {item.partition("=")[0].strip() for item in [*args.set, *(getattr(args, "vary", None) or [])]}
    loss, model = (file_dict.get(section) for section in ("loss", "model"))
    names = []
    trains = args.command != "export-script" and not getattr(args, "dry_run", False)
    if trains and isinstance(loss, dict) and args.loss is None and not given & {"loss", "loss.name"}:
        names.append(loss.get("name"))
    if isinstance(model, dict) and model.get("kind") == "file" and getattr(args, "model", None) is None \
            and not given & {"model.path", "model.kind"}:
        names.append(model.get("path"))
    problem = foreign_code(names, config_file, run_folder)
    if problem is not None:
        raise UsageError(problem)


def config_from_args(args: argparse.Namespace, base: dict[str, Any] | None = None) -> Config:
    """Resolve the config: the task's recipe, then the --config file (or ``base``), then flags,
    then --set."""
    return resolve_flags(*config_layers(args, base))


def run() -> None:
    """The console entry point: ``main`` with Ctrl+C and SIGTERM giving 130 (SIGHUP 129) at any
    moment and a closed pipe or a terminal that hung up dropping output, then a prompt exit (no
    slow interpreter shutdown)."""
    sys.stdout, sys.stderr = ClosedPipeSafe(sys.stdout), ClosedPipeSafe(sys.stderr)
    show_warnings_once()
    exit_on_signals()  # outside a run (start-up, checks, the end) an interrupt ends at once
    try:
        code = main()
    except KeyboardInterrupt:  # raised by user code, or the app
        code = EXIT_INTERRUPTED
        print("interrupted", file=sys.stderr)
    exit_on_signals()
    # With torch loaded, the interpreter's shutdown spends ~0.8 s collecting objects that are
    # about to vanish anyway (ctrl+q in the app exits in < 1 s); files are closed by now.
    exit_now(code)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = build_parser().parse_args(attach_negative_numbers(sys.argv[1:] if argv is None else argv))
    try:
        return getattr(args, "handler", cmd_app)(args)
    except (ConfigError, UsageError, UserFacingError) as exc:
        if is_rank_zero():  # under torchrun every rank finds the same problem; one says it
            print_error(exc)
        return EXIT_BAD_INPUT


def attach_negative_numbers(argv: Sequence[str]) -> list[str]:
    """Join ``--lr -inf`` into ``--lr=-inf`` (and ``--change -1:...`` into ``--change=-1:...``):
    argparse takes a value such as ``-inf``, ``-nan`` or ``-1e-5`` for a flag of its own and then
    says the flag lacks its argument, where our own check names what is wrong with the value."""
    out: list[str] = []
    for arg in argv:
        previous = out[-1] if out else ""
        if arg.startswith("-") and ((_is_float(arg) and previous.startswith("-") and "=" not in previous
                                     and not _is_float(previous))
                                    or (previous == "--change" and ":" in arg)):
            out[-1] = f"{previous}={arg}"
        else:
            out.append(arg)
    return out


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


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
    if world_size() > 1:
        raise UsageError("the app runs in one process; under torchrun train headless instead: "
                         "torchrun --standalone --nproc-per-node=N -m tui_trainer train [flags]")
    if args.config is not None:
        read_toml(args.config)  # a missing or broken file is reported before the app opens
    return _open_app(args.config, args.runs_dir, pace=args.pace)  # SIGTERM and SIGHUP quit it as ctrl+q does


def _watch_flags(watch: argparse.ArgumentParser) -> None:
    watch.add_argument("run_dirs", type=Path, nargs="*", metavar="RUN_DIR",
                       help="run folders (or runs' names in the runs folder) to watch; a comparison's "
                       "runs show together; a runs folder: its runs (default: the runs folder)")
    add_runs_folder_flag(watch, "the runs folder: History lists its runs, and RUN_DIR given as a name is "
                         "looked for there")


def cmd_watch(args: argparse.Namespace) -> int:
    """``tui-trainer watch``: the app on runs other processes train; it writes nothing."""
    from tui_trainer.engine.rundir import CONFIG_FILE
    from tui_trainer.engine.runinfo import RUN_INFO_FILE, read_run_info

    if world_size() > 1:
        raise UsageError("watch runs in one process; start it outside torchrun")
    runs_dir = args.sub_runs_dir or args.runs_dir
    folders = [find_run_dir(name, runs_dir).absolute() for name in args.run_dirs]
    run_dirs = [f for f in folders if (f / RUN_INFO_FILE).exists() or (f / CONFIG_FILE).exists()]
    others = [f for f in folders if f not in run_dirs]
    if others and (run_dirs or len(others) > 1):
        raise UsageError(f"{others[0]} is not a run folder (no {RUN_INFO_FILE} or {CONFIG_FILE}); give run "
                         "folders, or one runs folder")
    for folder in run_dirs:
        read_run_info(folder)  # a folder of another format, or damaged, is refused before the app opens
    if others:
        runs_dir = others[0]
    elif run_dirs and runs_dir is None:
        runs_dir = run_dirs[0].parent
    return _open_app(None, runs_dir.absolute() if runs_dir else None, watch=run_dirs)  # signals: as ctrl+q


def _open_app(config: Path | None, runs_dir: Path | None, **options: Any) -> int:
    """Import and run the app, with garbage collections held from before its import until its
    first frame is on screen (the app resumes them then)."""
    from tui_trainer.engine.memory import hold_collections

    hold_collections()
    from tui_trainer.app import run_app

    return run_app(config, runs_dir, **options)


def cmd_train(args: argparse.Namespace) -> int:
    """``tui-trainer train``: validate, optionally save, then train with progress and a summary."""
    checkpoint = None
    if args.resume is not None:
        if getattr(args, "sub_config", None) or args.config:
            raise UsageError("--resume continues the run with the config it was saved with; "
                             "change what may change with flags (e.g. --epochs), not --config")
        from tui_trainer.engine.checkpoint import RESUMABLE_FIELDS, read_checkpoint
        from tui_trainer.engine.runcheck import check_run_folder

        checkpoint = read_checkpoint(find_run_dir(args.resume, args.train_runs_dir or args.runs_dir, "--resume"))
        check_run_folder(checkpoint, RESUMABLE_FIELDS)  # before anything in the folder is written
        refuse_foreign_code(args, checkpoint.config_dict, checkpoint.path.parent / CONFIG_FILE, run_folder=True)
    config = config_from_args(args, checkpoint.config_dict if checkpoint else None)
    from tui_trainer.engine.checks import check

    check(config, import_user_loss=not args.dry_run)  # a dry run runs no loss file (its pre-flight builds the model)
    if checkpoint is not None:
        checkpoint.check_resumable(config)
    if args.save_config is not None:
        path = write_text(output_path(args.save_config, args.force, "--save-config"), to_toml(config),
                          "--save-config")
        print(f"saved config to {path}", file=sys.stderr)
    if args.dry_run:
        print(planned_text(config), file=sys.stderr)
        from tui_trainer.engine.loop import Trainer
        from tui_trainer.engine.preflight import prepare

        trainer = Trainer(config, runs_dir=False, run_user_code=False)
        prepare(trainer)  # data, model, one step (a loss file of yours is left out): refused or fine
        if config.task_spec.traits.layers:
            from tui_trainer.engine.summary import model_name, summarize

            print(summarize(trainer.model, trainer.data.x_train, model_name(config)).text(), file=sys.stderr)
        if user_loss_parts(config.loss.name):
            print(f"note: the loss {config.loss.name} is code of yours: --dry-run runs none of it "
                  "(training runs it once in the same pre-flight before its first step)", file=sys.stderr)
        if not args.json:
            print(to_toml(config), end="")
        else:
            print(json.dumps(to_dict(config)))
        return EXIT_OK
    return run_training(config, args.json, args.train_runs_dir or args.runs_dir,
                        save_model=args.save_model or checkpoint is not None, resume=checkpoint,
                        verbose=args.verbose)


def run_training(config: Config, as_json: bool, runs_dir: Path | None, save_model: bool = False,
                 resume: Checkpoint | None = None, verbose: bool = False) -> int:
    """Train with the right reporter (on a terminal a progress bar, epoch lines only when
    ``verbose``; otherwise epoch lines), then save the model if asked (a resumed run always
    saves); Ctrl+C stops cleanly after the current step."""
    from tui_trainer.engine.control import RunControl
    from tui_trainer.engine.loop import Trainer
    from tui_trainer.report import EpochLines, ProgressBar, summary_text

    control = RunControl()
    callbacks = []
    if not as_json:
        callbacks.append(ProgressBar(verbose) if sys.stdout.isatty() else EpochLines(sys.stdout))
    speaks = is_rank_zero()  # under torchrun, rank 0 alone prints and saves
    if resume is not None and speaks:
        print(f"resuming {resume.path.parent} {resume.where}", file=sys.stderr)
    trainer = Trainer(config, callbacks, control, runs_dir=runs_dir, resume=resume)
    # Ctrl+C, SIGTERM or SIGHUP stops after the current step; a second one ends the process at once.
    with StopOnSignals(lambda signum: control.stop("interrupted")) as signals:
        result = trainer.run()
    model_file = None
    if not speaks:
        return exit_code(result, signals)
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
    return exit_code(result, signals)


def exit_code(result: RunResult, signals: StopOnSignals) -> int:
    """For an interrupted run the signal's code (130, or 129 when the terminal went away); 1
    for one that diverged or failed, else 0."""
    if result.reason == "interrupted":
        return signals.exit_code or EXIT_INTERRUPTED
    return EXIT_OK if result.ok else EXIT_FAILED


def cmd_lr_find(args: argparse.Namespace) -> int:
    """``tui-trainer lr-find``: the range test, its curve and a suggested learning rate."""
    import math

    problems = []
    if not (math.isfinite(args.start) and args.start > 0):
        problems.append(f"--start: {args.start} is not allowed; must be a number > 0")
    if not (math.isfinite(args.end) and args.end > args.start):
        problems.append(f"--end: {args.end} is not allowed; must be a number > --start ({args.start})")
    if not 5 <= args.steps <= 100_000:
        problems.append(f"--steps: {args.steps} is not allowed; must be a whole number from 5 to 100000")
    if args.change:
        problems.append("--change: lr-find sets every step's learning rate itself, so mid-run changes do "
                        "not apply (give them to train)")
    if problems:
        raise UsageError("; ".join(problems))
    config = config_from_args(args)
    from tui_trainer.engine.checks import check
    from tui_trainer.engine.lrfind import find_lr

    check(config)
    with StopOnSignals(exit_for):
        result = find_lr(config, args.start, args.end, args.steps, args.rule)
    if args.json:
        print(json.dumps(result.as_json()))
        return EXIT_OK
    from tui_trainer.report import lr_find_text

    print(lr_find_text(result))
    return EXIT_OK


def cmd_export_plot(args: argparse.Namespace) -> int:
    """``tui-trainer export-plot``: draw runs with matplotlib."""
    run_dirs = [find_run_dir(name, args.sub_runs_dir or args.runs_dir) for name in args.run_dirs]
    output = args.output or (run_dirs[0] / "plot.png" if len(run_dirs) == 1 else Path("compare.png"))
    from tui_trainer.export.plot import plot_runs

    print(f"wrote {plot_runs(run_dirs, output, args.force)}")
    return EXIT_OK


def cmd_lab(args: argparse.Namespace) -> int:
    """``tui-trainer lab MISTAKE``: say what the mistake does, then race without it and with it."""
    mistake = MISTAKES[args.mistake]
    args.vary, args.dry_run = [_lab_race(args, mistake.name)], False
    if not args.json:
        print(f"{mistake.name}: {mistake.summary}\n  what goes wrong: {mistake.wrong}\n"
              f"  what to watch:   {mistake.watch}\n  the fix:         {mistake.fix}\n")
    return cmd_compare(args)


def _lab_race(args: argparse.Namespace, name: str) -> str:
    """What ``lab NAME`` varies: ``lab.NAME=false,true``, but for a mistake the config could not
    show (no_eval_mode without dropout) a refusal saying what to add, and for wrong_loss (a
    permission, not a change of the loop) the task's own loss against the misfit one given."""
    if name not in ("no_eval_mode", "wrong_loss"):
        return f"lab.{name}=false,true"
    file_dict, overrides = config_layers(args)
    config = resolve_flags(file_dict, {**overrides, f"lab.{name}": Text("true")})
    if name == "no_eval_mode":
        if config.model.dropout == 0:
            raise ConfigError([FieldError("model.dropout", "lab no_eval_mode: with dropout 0 the model "
                                          "is the same in eval mode, so both runs would be equal; give "
                                          "--dropout, e.g. --dropout 0.5")])
        return f"lab.{name}=false,true"
    from tui_trainer.catalog.losses import loss_fit_problem, loss_spec

    task = config.task_spec
    spec = loss_spec(config.loss.name, task.kind)
    misfits = [loss for loss in LOSSES if loss_fit_problem(LOSSES[loss], task.name, task.kind, config.classes)]
    if not spec or not loss_fit_problem(spec, task.name, task.kind, config.classes):
        raise ConfigError([FieldError("loss", f"lab wrong_loss: {config.loss.name} fits task {task.name}; "
                                      "give one that does not with --loss (e.g. --loss "
                                      f"{misfits[0]}) to race it against the task's own loss")])
    args.set = [*args.set, "lab.wrong_loss=true"]
    return f"loss.name={task.default_loss},{config.loss.name}"


def cmd_compare(args: argparse.Namespace) -> int:
    """``tui-trainer compare``: plan and check every run, race them, print the leaderboard."""
    from tui_trainer.compare import Variation, plan_runs

    variations = [Variation.parse(text) for text in args.vary]
    runs = plan_runs(*config_layers(args), variations)
    from tui_trainer.engine.checks import check_runs

    check_runs([(run.config, run.label) for run in runs], import_user_loss=not args.dry_run)
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
    with StopOnSignals(lambda signum: control.stop("interrupted")) as signals, \
            bars or contextlib.nullcontext():
        results = race(trainers)
    if args.json:
        print(json.dumps(compare_json(runs, results)))
    else:
        print(leaderboard_text(runs, results))
    return max((exit_code(result, signals) for result in results), default=EXIT_OK)


def planned_text(config: Config) -> str:
    """What a run will train, before it does: what its data decided (user data) and its model's
    parameter count."""
    from tui_trainer.engine.models import planned_param_count

    note = config.task_spec.note
    return (f"{note} · " if note else "") + f"model {planned_param_count(config):,} parameters"


def find_run_dir(name: Path, runs_dir: Path | None, what: str = "RUN_DIR") -> Path:
    """A run folder given as a path or as a name in the runs folder (UsageError when neither)."""
    checked_path(name, what)
    if name.expanduser().is_dir():
        return name.expanduser()
    if name.expanduser().is_absolute():
        raise UsageError(f"no run folder {str(name)!r}")
    inside = (runs_dir or default_runs_dir()) / name
    if inside.is_dir():
        return inside
    raise UsageError(f"no run folder {str(name)!r} (looked in the current folder and in {inside.parent})")


def cmd_export_script(args: argparse.Namespace) -> int:
    """``tui-trainer export-script``: write the standalone PyTorch script of the config."""
    config = config_from_args(args)
    from tui_trainer.engine.checks import check
    from tui_trainer.export.script import write_script

    check(config, import_user_loss=False)  # the script imports a loss file; exporting runs none
    path = write_script(config, args.output, overwrite=args.force)
    print(f"wrote {path}; run it with: python {path}")
    return EXIT_OK


def cmd_export_history(args: argparse.Namespace) -> int:
    """``tui-trainer export-history``: write a run's history as CSV or JSON."""
    run_dir = find_run_dir(args.run_dir, args.sub_runs_dir or args.runs_dir)
    for path in export_history(run_dir, args.format, args.output, force=args.force):
        print(f"wrote {path}")
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    """``tui-trainer list``: the catalog."""
    print(catalog_text())
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
        out.append(f"  {loss.name:<14} nn.{loss.torch_class if loss.name not in OWN_LOSSES else 'Module'}: "
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
    out.append("\nMistake lab (--set lab.NAME=true, or `tui-trainer lab NAME` to race with and without):")
    out += [f"  {mistake.name:<26} {mistake.summary}" for mistake in MISTAKES.values()]
    return "\n".join(out)


def _param_lines(params: tuple[Param, ...], indent: int) -> list[str]:
    pad = " " * indent
    return [f"{pad}{p.name} = {show_value(p.default) if p.kind == 'str' else p.format(p.default)}  "
            f"({p.help}; {p.allowed()})" for p in params]


@dataclass(frozen=True)
class Command:
    """A subcommand: its name, its help in the command list and its description in its own
    --help, the function adding its flags, and its handler (the exit code from the parsed args)."""

    name: str
    help: str
    description: str | None
    flags: Callable[[argparse.ArgumentParser], None]
    handler: Callable[[argparse.Namespace], int]


#: Every subcommand, in the order ``--help`` lists them. A new command is one entry here, its
#: flags and its handler.
COMMANDS = (
    Command("train", "train headless and print a summary",
            "Train headless. Flags override the config file; --set reaches any field.", _train_flags, cmd_train),
    Command("lr-find", "the learning-rate range test: which learning rate to train with",
            "fastai's range test on the config's data, model and optimizer: the learning rate grows "
            "exponentially from --start to --end over --steps optimizer steps while the smoothed loss is "
            "recorded; it stops early once that loss passes 4x its best, and the model and optimizer are "
            "put back. Prints the curve (log x) and a suggested rate.", _lr_find_flags, cmd_lr_find),
    Command("lab", "make one of the tutorials' common mistakes on purpose and race it against the same "
            "run without it", "The mistake lab: explains MISTAKE (what goes wrong, what to watch, the fix), "
            "then trains the config with and without it from the same start, side by side, and prints the "
            "leaderboard (as `compare --vary lab.MISTAKE=false,true`).", _lab_flags, cmd_lab),
    Command("compare", "train several runs that differ in the --vary fields, side by side",
            "Train every combination of the --vary values (at most 16 runs) from the same initial weights "
            "on the same batches, taking turns in one process, then print a leaderboard sorted by final "
            "validation loss (train loss without a validation split). The other flags set what all runs "
            "share, as for `train`.", _compare_flags, cmd_compare),
    Command("watch", "watch runs other processes train (train, compare, lab, torchrun) in the app",
            "Open the app's live view on runs that other processes write (a `train` or `compare` in tmux or "
            "under nohup, a torchrun job, another app): charts, progress, the machine beside them, and their "
            "ending. With no RUN_DIR, the runs folder: its newest live run shows, or the first to start; "
            "History lists every run (● live: still being written) and enter opens one. Nothing is "
            "trained, no file is written, and a run whose writer died shows as lost, with the reason.",
            _watch_flags, cmd_watch),
    Command("list", "list tasks, losses, optimizers (with hyperparameters and defaults) and schedulers",
            None, _no_flags, cmd_list),
    Command("export-script", "write a standalone PyTorch script that trains the config as the engine does",
            "Write a standalone PyTorch script (torch, torchvision, scikit-learn only) that trains the "
            "config exactly as `train` would: on the same device it prints the same per-epoch train "
            "losses. Reads the task's data once to size the loop.", _export_script_flags, cmd_export_script),
    Command("export-plot", "draw runs' loss, accuracy or R², and learning rate as a PNG or SVG",
            "Draw one run, or several in one figure (a comparison: one color per run, named by what "
            "differs), with matplotlib: every step's train loss and the validation loss, the accuracy or "
            "R², the learning rate; for a run that learned a line, the data with the learned and the true "
            "line.", _export_plot_flags, cmd_export_plot),
    Command("export-history", "write a run's per-epoch history and per-interval train loss as CSV or JSON",
            None, _export_history_flags, cmd_export_history),
    Command("evaluate", "score a run's saved model again on its test, validation or training set",
            "Score a run's model.pt again, as Keras' evaluate does: the run's data rebuilt from its config "
            "and seed, its loss, accuracy or R², and for a classifier the confusion matrix (rows: true "
            "class, columns: predicted). Reads the run folder and writes nothing.", _evaluate_flags,
            cmd_evaluate),
)
