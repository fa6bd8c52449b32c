"""Script export: a standalone PyTorch script that trains a config the way the engine does.

The script imports only torch, torchvision, scikit-learn and the standard library. It copies the
engine's training kernel whole (``engine/kernel.py``: the epoch's batches, the step and the
evaluation), the loop's rules whole (``engine/rules.py``: where the scheduler steps, the shares
under torchrun, L1, the losses that end a run, the stopping rules, mid-run changes, the final
scores) and its data functions (``inspect.getsource``), builds the same model, loss, optimizer
and scheduler, and drives the kernel as the engine's Trainer does (the same shuffles, batches,
order of steps and rules, by the same functions), so on the same device it prints the same
per-epoch train losses.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import math
import symtable
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn

from tui_trainer.catalog.arena import SURFACES
from tui_trainer.catalog.lab import MISTAKES
from tui_trainer.catalog.losses import LOSSES, user_class_parts, user_loss_parts
from tui_trainer.catalog.optimizers import OPTIMIZERS
from tui_trainer.catalog.schedulers import SCHEDULERS
from tui_trainer.changes import EPOCHS_FIELD
from tui_trainer.config import UNTIL_STOPPED, Config, epoch_limit
from tui_trainer.engine import data as engine_data
from tui_trainer.engine import kernel, plane, rules, surfaces
from tui_trainer.engine.components import AUTOCAST_DTYPES, head_of
from tui_trainer.engine.custom_loss import CustomLoss
from tui_trainer.engine.loop import SMALL_STEP_WORK
from tui_trainer.engine.models import param_count, quiet_model
from tui_trainer.outputs import output_path, write_text
from tui_trainer.schema import show_value


@dataclass(frozen=True)
class _Shape:
    """The sizes the script's loop depends on, measured from the config's real data."""

    n_train: int
    n_val: int
    batch: int
    params: int
    model: nn.Module
    n_test: int = 0

    @property
    def steps(self) -> int:
        """Optimizer steps per epoch."""
        return math.ceil(self.n_train / self.batch)


def write_script(config: Config, path: str | Path, overwrite: bool = False) -> Path:
    """Write the script of ``config`` to ``path``; returns the path. An existing file is kept
    (UserFacingError) unless ``overwrite``."""
    path = output_path(path, overwrite, "-o")
    return write_text(path, script_text(config, path.name), "-o")


def script_text(config: Config, filename: str = "train.py") -> str:
    """The standalone script of ``config``. Reads the task's data once to size the loop (raises
    UserFacingError when the data cannot be read)."""
    shape = _measure(config)
    blocks = [
        _header(config, filename),
        _imports(config),
        _settings(config, shape),
        _device(config, shape),
        _processes(config),
        *map(_engine_source, COPIED_WHOLE),
        *_copied_sources(config),
        _user_model_source(config),
        _data(config),
        _model(config, shape),
        _components(config, shape),
        _loop(config, shape),
        _final(config, shape),
    ]
    text, after_definition = "", False
    for block in (block.strip("\n") for block in blocks if block):
        definition = any(line.startswith(("def ", "class ")) for line in block.splitlines())
        if text:  # two blank lines around functions and classes, one elsewhere (PEP 8)
            text += "\n\n\n" if definition or after_definition else "\n\n"
        text += block
        after_definition = definition
    return text + "\n"


def _measure(config: Config) -> _Shape:
    data = engine_data.build_dataset(config)
    model = quiet_model(config, data.features, data.classes, data.image_size)  # its layers and size
    n_train = len(data.x_train)
    size = config.training.batch_size
    batch = n_train if size == "full" else min(size, n_train)
    return _Shape(n_train, len(data.x_val), batch, param_count(model), model,
                  0 if data.x_test is None else len(data.x_test))


# -- pieces of the script ------------------------------------------------------------------------


def _header(config: Config, filename: str) -> str:
    scheduler = "" if config.scheduler.name == "none" else ", scheduler"
    learned = ", then the learned w and b" if _line_truth(config) else ""
    about = textwrap.fill(
        f"A standalone PyTorch script exported by tui-trainer. It builds the same data (seed "
        f"{_data_seed(config)}), model, loss, optimizer{scheduler} and training loop as the tui-trainer "
        "run, so on the same device it prints the same train loss for every epoch, then the final "
        f"metrics{learned}. Run it with: python {filename}", width=92)
    return f'"""{config.summary()}\n\n{about}\n"""'


def _imports(config: Config) -> str:
    lines = {"import math", "import os", "import sys"} | {f"import {name}" for name in _engine_stdlib_imports()}
    if user_loss_parts(config.loss.name):
        lines.add("import importlib.util")
    future = ("from __future__ import annotations  # as your model's file has it\n\n"
              if config.model.kind == "file" and _user_model_parts(config)[2] else "")
    return future + "\n".join(sorted(lines)) + "\n\nimport torch\nimport torch.nn as nn"


def _engine_stdlib_imports() -> list[str]:
    """The standard-library modules the engine modules copied whole import."""
    trees = [ast.parse(Path(module.__file__).read_text(encoding="utf-8")) for module, _ in COPIED_WHOLE]
    return [alias.name for tree in trees for node in tree.body if isinstance(node, ast.Import)
            for alias in node.names if alias.name != "torch"]


def _settings(config: Config, shape: _Shape) -> str:
    training = config.training
    epochs = (f"EPOCHS = math.inf  # training.epochs = {UNTIL_STOPPED!r}: trains until Ctrl+C"
              if epoch_limit(training.epochs) is None else f"EPOCHS = {training.epochs}")
    lines = [f"SEED = {training.seed}", epochs,
             f"BATCH_SIZE = {shape.batch}  # samples per optimizer step"
             + (" (the whole training set)" if shape.batch >= shape.n_train else ""),
             f"VAL_SPLIT = {training.val_split!r}  # fraction of the samples held out for validation"
             + (f" (100 % - task.{config.task_spec.split_option})" if config.task_spec.split_option else "")
             + (" (of what the test split leaves)" if training.test_split else ""),
             f"MAX_GRAD_NORM = {None if training.grad_clip == 'off' else training.grad_clip!r}  "
             "# gradient clipping (None: off)",
             f"EXPLODE_FACTOR = {None if training.explode_factor == 'off' else training.explode_factor!r}  "
             "# a step's loss more than this many times the first step's ends\n# the run (None: off); "
             "a loss that is not finite always does"]
    if training.test_split:
        lines.insert(4, f"TEST_SPLIT = {training.test_split!r}  # fraction held out first as the test set, "
                     "scored once at the end")
    if training.l1:
        lines.append(f"L1 = {training.l1!r}  # L1 regularization: L1 * sum(|w|) over the weights of the Linear "
                     "and Conv2d layers\n# (not the biases) joins the loss each step minimizes; the loss "
                     "printed is the data's")
    if training.target_loss != "off":
        lines.append(f"TARGET_LOSS = {training.target_loss!r}  # stop once the watched loss "
                     f"({_monitored(shape)}) is at or below this")
    if training.early_stopping_patience != "off":
        lines.append(f"PATIENCE = {training.early_stopping_patience}  # stop after this many epochs "
                     "without improvement")
        lines.append(f"MIN_DELTA = {training.early_stopping_min_delta!r}  # the smallest decrease "
                     "that counts as improvement")
    if config.task_spec.data_source.folder:
        root = Path(engine_data.vision_arguments(config.task.name, config.task.params)["root"])
        lines.append(f"DATA_DIR = {_py(str(root.resolve()))}  # holds {_vision_folder(config)}/raw")
    return "\n".join(lines)


def _device(config: Config, shape: _Shape) -> str:
    training = config.training
    if training.device == "auto":
        lines = ["# The first of CUDA, Apple's MPS and the CPU that this machine has.",
                 "if torch.cuda.is_available():", '    device = torch.device("cuda")',
                 "elif torch.backends.mps.is_available():", '    device = torch.device("mps")',
                 "else:", '    device = torch.device("cpu")']
    else:
        lines = [f"device = torch.device({_py(training.device)})"]
    if training.threads != "auto":
        return "\n".join(lines + ["", f"torch.set_num_threads({training.threads})  # as the config "
                                   "sets (training.threads)"])
    if training.device not in ("auto", "cpu") or shape.params * shape.batch >= SMALL_STEP_WORK:
        return "\n".join(lines)
    threads = ["# One CPU thread: this model's steps are too small to share out; with more threads",
               "# the idle ones spin and slow each step down (tui-trainer makes the same choice).",
               "torch.set_num_threads(1)"]
    if training.device == "auto":
        threads = ['if device.type == "cpu":'] + ["    " + line for line in threads]
    return "\n".join(lines + [""] + threads)


def _processes(config: Config) -> str:
    backend = config.training.backend
    chosen = '"nccl" if device.type == "cuda" else "gloo"' if backend == "auto" else _py(backend)
    return f'''# Under torchrun (torchrun --standalone --nproc-per-node=N train.py) each process trains on its
# share of every batch with DistributedDataParallel, and the run is the same; alone, WORLD is 1.
WORLD = int(os.environ.get("WORLD_SIZE", "1"))
RANK = int(os.environ.get("RANK", "0"))
if WORLD > 1:
    import torch.distributed as dist

    dist.init_process_group({chosen})
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ["LOCAL_RANK"]))


def all_sum(values):
    """A tensor summed over the processes, element by element (as it is when alone)."""
    if WORLD > 1:
        values = values.clone()
        dist.all_reduce(values)
    return values


def say(text):
    """Print on the first process only; once a reader closes the pipe (python train.py | head),
    the rest of the output is dropped and training goes on."""
    if RANK == 0:
        try:
            print(text, flush=True)
        except BrokenPipeError:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())'''


#: The engine modules a script holds whole, each with the comment above its copy.
COPIED_WHOLE = (
    (kernel, "# tui-trainer's training kernel (its engine/kernel.py), copied whole: the epoch's\n"
             "# batches, one optimizer step and the evaluation, exactly as the engine runs them."),
    (rules, "# tui-trainer's training rules (its engine/rules.py), copied whole: where the scheduler\n"
            "# steps, the shares under torchrun, L1, the losses that end a run, the stopping rules,\n"
            "# mid-run changes and the final scores, as the engine applies them."),
)


def _engine_source(copied: tuple[Any, str]) -> str:
    """An engine module as it is, less its module docstring and imports (the script has them),
    under its comment."""
    module, comment = copied
    source = Path(module.__file__).read_text(encoding="utf-8")
    after_imports = max(node.end_lineno for node in ast.parse(source).body
                        if isinstance(node, (ast.Import, ast.ImportFrom)))
    lines = source.splitlines()[after_imports:]
    while not lines[0].strip():
        lines.pop(0)
    return comment + "\n" + "\n".join(lines)


def _source_module(config: Config):
    """The module of a task whose data source lives in its own module (None for built-in data):
    it names the functions a script copies (``SCRIPT_FUNCTIONS``) and writes the script's data
    lines (``script_data``)."""
    loader = config.task_spec.loader
    return importlib.import_module(loader.partition(":")[0]) if loader else None


def _copied_sources(config: Config) -> list[str]:
    task = config.task_spec
    if task.traits.point:
        function = getattr(surfaces, SURFACES[task.name].name)
        return ["# The arena's function, its point and its loss, as tui-trainer defines them.\n"
                + inspect.getsource(function), inspect.getsource(surfaces.Point),
                inspect.getsource(surfaces.SurfaceValue)]
    source = _source_module(config)
    if source is not None:
        functions = list(source.SCRIPT_FUNCTIONS)
    elif task.data_source.points:
        make = plane.GENERATORS[task.name]
        helpers = [helper for helper in (plane.uniform, plane.class_counts)
                   if f"{helper.__name__}(" in inspect.getsource(make)]
        functions = [*helpers, make, plane.expand_features]
    elif task.name in engine_data.SYNTHETIC:
        functions = [engine_data.SYNTHETIC[task.name]]
    else:
        functions = [engine_data.load_vision if task.data_source.folder else engine_data.load_sklearn]
    functions.append(engine_data.split)
    if task.data_source.standardized:
        functions.append(engine_data.standardize)
    sources = [inspect.getsource(function) for function in functions]
    sources[0] = "# The data functions tui-trainer uses, copied as they are.\n" + sources[0]
    if config.loss.name == "custom-mae":
        sources.append("# Tutorial 001's loss, as tui-trainer's custom-mae.\n" + inspect.getsource(CustomLoss))
    return sources


def _data(config: Config) -> str:
    task, options = config.task_spec, config.task.params
    source = _source_module(config)
    if source is not None or task.data_source.points:
        make = None
    elif task.name in engine_data.SYNTHETIC:
        arguments = ", ".join(f"{key}={_py(value)}" for key, value in options.items())
        make = f"{engine_data.SYNTHETIC[task.name].__name__}(g, {arguments})"
    elif not task.data_source.folder:
        make = f"load_sklearn({_py(task.name)})"
    else:
        arguments = engine_data.vision_arguments(task.name, options)
        make = (f"load_vision(DATA_DIR, fashion={arguments['fashion']}, "
                f"download={arguments['download']}, limit={arguments['limit']})")
    seed = options["seed"] if task.data_source.points and options["seed"] != "training" else None
    lines = ["# The samples and their train/validation split come from one seeded generator.",
             "g = torch.Generator().manual_seed(SEED)" if seed is None
             else f"g = torch.Generator().manual_seed({seed})  # the points' own seed (task.seed)"]
    if source is not None:
        lines.append(source.script_data(options))
    elif task.data_source.points:
        lines += _plane_data(config)
    else:
        lines.append(f"x, y = {make}")
        if config.training.test_split:
            lines.append("x, y, x_test, y_test = split(x, y, TEST_SPLIT, g)  # the test set, held out first")
        lines.append("x_train, y_train, x_val, y_val = split(x, y, VAL_SPLIT, g)")
        if task.test_set == "t10k":
            lines.append(make.replace("load_vision(", "x_test, y_test = load_vision(").replace(
                f"limit={engine_data.vision_arguments(task.name, options)['limit']})", "limit=None, train=False)")
                + "  # the t10k test files")
    tested = config.has_test_set
    sets = ("train", "val", "test") if tested else ("train", "val")
    if task.data_source.standardized:
        xs, ys = ", ".join(f"x_{s}" for s in sets), ", ".join(f"y_{s}" for s in sets)
        lines.append(f"{xs} = standardize({xs})  # with the training split's statistics")
        if task.traits.values:
            lines.append(f"{ys} = standardize({ys})")
    if head_of(config).head in ("probability", "logit"):
        lines.append("# Binary cross-entropy takes float targets shaped like the model's output (N, 1).")
        lines.append(", ".join(f"y_{s}" for s in sets) + " = "
                     + ", ".join(f"y_{s}.float().unsqueeze(1)" for s in sets))
    names = ", ".join(f"x_{s}, y_{s}" for s in sets)
    lines.append(f"{names} = (t.to(device) for t in ({names}))")
    lines.append("n_train = len(x_train)")
    return "\n".join(lines)


def _plane_data(config: Config) -> list[str]:
    """A 2-D playground task's lines: its points, their split, then the chosen features."""
    options = config.task.params
    make = plane.GENERATORS[config.task.name].__name__
    return [
        f"# {options['samples']} points; noise {show_value(options['noise'])} % as the playground's "
        "slider (a fraction here)",
        f"points, y = {make}(g, {', '.join(map(repr, engine_data.plane_arguments(config)))})"] + ([
        "points, y, points_test, y_test = split(points, y, TEST_SPLIT, g)  # the test set, held out first"]
        if config.training.test_split else []) + [
        "points_train, y_train, points_val, y_val = split(points, y, VAL_SPLIT, g)",
        f"FEATURES = {options['features']!r}  # the model's inputs, computed from each point",
        "x_train, x_val = expand_features(points_train, FEATURES), expand_features(points_val, FEATURES)"] + ([
        "x_test = expand_features(points_test, FEATURES)"] if config.training.test_split else [])


def _model(config: Config, shape: _Shape) -> str:
    if config.task_spec.traits.point:
        options = config.task.params
        surface = SURFACES[config.task.name]
        settings = "".join(f", {name}={_py(value)}" for name, value in surface.function_params(options).items())
        return (f"# The model is one 2-D point on {surface.name}, starting at {tuple(options['start'])}.\n"
                f"model = Point({surface.name}, {_py(options['start'])}{settings}).to(device)")
    if config.model.kind == "file":
        cls_name = _user_model_parts(config)[1]
        arguments = ", ".join(f"{key}={_py(value)}" for key, value in config.model.args.items())
        lab = [f"nn.{layer!r}" for layer in list(shape.model)[1:]] if _lab_wrapped(config) else []
        return (f"your_model_class = define_{cls_name}()\n"
                "torch.manual_seed(SEED)  # the same initial weights\n"
                f"model = your_model_class({arguments})" + ("  # [model.args]" if arguments else "")
                + ("" if not lab else f"\nmodel = nn.Sequential(model, {', '.join(lab)})  # LAB: after your model")
                + "\nmodel = model.to(device)")
    layers = [f"nn.Linear({layer.in_features}, {layer.out_features})" if isinstance(layer, nn.Linear)
              else f"nn.{layer!r}" for layer in shape.model]
    body = "".join(f"    {layer},\n" for layer in layers)
    return f"torch.manual_seed(SEED)  # the same initial weights\nmodel = nn.Sequential(\n{body}).to(device)"


def _lab_wrapped(config: Config) -> bool:
    """Whether the mistake lab puts a softmax or sigmoid after a model of your own."""
    return config.lab.softmax_before_loss or config.lab.sigmoid_before_bce_logits


def _user_model_parts(config: Config) -> tuple[Path, str, bool]:
    """A model of your own: its file (absolute), its class name, and whether the file postpones
    its annotations (``from __future__ import annotations``)."""
    path, cls_name = user_class_parts(config.model.path)
    file = Path(path).expanduser().resolve()
    tree = ast.parse(file.read_text(encoding="utf-8"))
    future = any(isinstance(node, ast.ImportFrom) and node.module == "__future__"
                 and any(alias.name == "annotations" for alias in node.names) for node in tree.body)
    return file, cls_name, future


def _user_model_source(config: Config) -> str:
    """A model of your own, copied into the script: the class and what it uses of its file (the
    file's imports, functions, classes and constants the class needs, in the file's order),
    inside a function that returns the class, so its names never meet the script's own."""
    if config.model.kind != "file" or config.task_spec.traits.point:
        return ""
    file, cls_name, _ = _user_model_parts(config)
    source = file.read_text(encoding="utf-8")
    lines = source.splitlines()
    nodes = [node for node in ast.parse(source).body
             if not (isinstance(node, ast.ImportFrom) and node.module == "__future__")]
    bound = [_bound_names(node) for node in nodes]
    module = symtable.symtable(source, str(file), "exec")
    needed, queue = {cls_name}, [cls_name]
    while queue:
        name = queue.pop()
        for node, names in zip(nodes, bound):
            if name in names or "*" in names:
                for used in _used_names(node, module) - needed:
                    needed.add(used)
                    queue.append(used)
    kept = [node for node, names in zip(nodes, bound) if names & needed or "*" in names]
    text, previous, previous_node = "", None, None
    for node in kept:  # one blank line around definitions, none between other statements
        first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        definition = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        if previous is not None:
            text += "\n\n" if definition or previous or type(node) is not type(previous_node) else "\n"
        text += "\n".join(lines[first - 1:node.end_lineno])
        previous, previous_node = definition, node
    body = textwrap.indent(text, "    ")
    return (f"# Your model class {cls_name}, copied from {file} with what it uses there, so this\n"
            f"# script runs without that file.\ndef define_{cls_name}():\n"
            f'    """Your {cls_name} (its file\'s definitions live in here, apart from the script\'s)."""\n'
            f"{body}\n\n    return {cls_name}")


def _bound_names(node: ast.stmt) -> set[str]:
    """The names a top-level statement binds (``*`` for ``from module import *``)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    names: set[str] = set()
    for child in ast.walk(node):
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            names.update(alias.asname or alias.name.split(".")[0] for alias in child.names)
        elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(child.name)
        elif isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
            names.add(child.id)
    return names


def _used_names(node: ast.stmt, module: symtable.SymbolTable) -> set[str]:
    """The module-level names a top-level statement reads: for a function or class, the globals
    its body reads (``symtable``: not its parameters or locals) and the names in its
    decorators, bases and signature; for other statements, every name they read."""
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {child.id for child in ast.walk(node) if isinstance(child, ast.Name)}
    outside = [*node.decorator_list, *getattr(node, "bases", []), *getattr(node, "keywords", []),
               *([node.args, node.returns] if not isinstance(node, ast.ClassDef) else [])]
    names = {child.id for part in outside if part is not None for child in ast.walk(part)
             if isinstance(child, ast.Name)}
    tables = [t for t in module.get_children() if t.get_name() == node.name and t.get_lineno() == node.lineno]
    while tables:
        table = tables.pop()
        names |= {s.get_name() for s in table.get_symbols() if s.is_global() and s.is_referenced()}
        tables += table.get_children()
    return names


def _components(config: Config, shape: _Shape) -> str:
    return "\n".join([_loss(config), _optimizer(config), _scheduler(config, shape)]).strip("\n")


def _loss(config: Config) -> str:
    name = config.loss.name
    parts = user_loss_parts(name)
    if parts:
        file = Path(parts[0]).expanduser().resolve()
        return (f"# Your loss class {parts[1]}, imported by path from the file the run used; the script\n"
                f"# needs that file where it is.\n"
                f"spec = importlib.util.spec_from_file_location(\"user_loss\", {_py(str(file))})\n"
                "user_loss = importlib.util.module_from_spec(spec)\n"
                "spec.loader.exec_module(user_loss)\n"
                f"loss_fn = user_loss.{parts[1]}()\n")
    if name == "custom-mae":
        return "loss_fn = CustomLoss()\n"
    if name == "surface":
        return "loss_fn = SurfaceValue()  # the function's value at the point\n"
    cls = LOSSES[name].torch_class
    return f"loss_fn = nn.{cls}({_arguments(getattr(nn, cls), config.loss.params)})\n"


def _optimizer(config: Config) -> str:
    cls = OPTIMIZERS[config.optimizer.name].torch_class
    params = {k: tuple(v) if isinstance(v, list) else v for k, v in config.optimizer.params.items()}
    arguments = _arguments(getattr(torch.optim, cls), params, always=("lr",))
    return f"optimizer = torch.optim.{cls}(model.parameters(), {arguments})\n"


def _scheduler(config: Config, shape: _Shape) -> str:
    choice = config.scheduler
    spec = SCHEDULERS[choice.name]
    if spec.torch_class is None:
        return ""
    arguments = spec.torch_arguments(choice.params, epoch_limit(config.training.epochs), shape.steps)
    raw: dict[str, str] = {}
    if spec.run_length == "total_steps":
        raw["total_steps"] = f"EPOCHS * {shape.steps}  # the run's optimizer steps"
    elif spec.spans_run(choice.params):
        raw[spec.run_length] = "EPOCHS"
    for key in raw:
        del arguments[key]
    shown = ", ".join(filter(None, [
        _arguments(getattr(torch.optim.lr_scheduler, spec.torch_class), arguments),
        ", ".join(f"{key}={code.split('  #')[0]}" for key, code in raw.items())]))
    when = {"epoch": "steps once per epoch", "batch": "steps after every optimizer step",
            "plateau": f"steps once per epoch with the {_monitored(shape)}"}[spec.steps]
    return (f"# The scheduler {when}.\n"
            f"scheduler = torch.optim.lr_scheduler.{spec.torch_class}(optimizer, {shown})\n")


def _arguments(cls: type, values: dict[str, Any], always: tuple[str, ...] = ()) -> str:
    """``name=value`` for each value that is required or differs from the class's own default."""
    signature = inspect.signature(cls)
    shown = []
    for name, value in values.items():
        default = signature.parameters[name].default
        if name in always or default is inspect.Parameter.empty or default != value:
            shown.append(f"{name}={_py(value)}")
    return ", ".join(shown)


def _loop(config: Config, shape: _Shape) -> str:
    training, lab = config.training, config.lab
    step_arguments = "" if training.zero_grad_set_to_none else ", set_to_none=False"
    mistakes = [f"# LAB {name}: {MISTAKES[name].summary} (on purpose; fix: {MISTAKES[name].fix})"
                for name in MISTAKES if getattr(lab, name)]
    if lab.skip_zero_grad:
        step_arguments += ", zero_grad=False"
    head = [*mistakes, "# Under torchrun the model is wrapped in DistributedDataParallel, which averages the\n"
            "# processes' gradients.",
            "net = model if WORLD == 1 else nn.parallel.DistributedDataParallel(model)"]
    if training.compile:
        head.append("net = torch.compile(net)  # the first step compiles it (training.compile)")
    if training.precision != "fp32":
        step_arguments += f", autocast_dtype=torch.{AUTOCAST_DTYPES[training.precision]}"
        if training.precision == "fp16":
            head.append('scaler = torch.amp.GradScaler(device.type)  # float16 gradients, scaled')
            step_arguments += ", scaler=scaler"
    if training.l1:
        head.append("penalty = l1_regularization(model, L1)  # added to the loss each step minimizes")
        step_arguments += ", penalty=penalty"
    scheduled = config.scheduler.name != "none"
    if scheduled:
        head.append("step_after_batch, step_after_epoch = scheduler_steps(scheduler, "
                    f"{_py(SCHEDULERS[config.scheduler.name].steps)})  # where it steps")
    if training.early_stopping_patience != "off":
        head.append("early_stop = EarlyStop(PATIENCE, MIN_DELTA)")
    head += ["shuffle = torch.Generator().manual_seed(SEED)  # a new order of the samples each epoch",
             "first_loss = None  # the loss of the run's first step, what EXPLODE_FACTOR compares with"]
    until_stopped = epoch_limit(training.epochs) is None
    if config.changes or until_stopped:
        head += _changes(config) if config.changes else []
        head.append("epochs, epoch, step = EPOCHS, 0, 0" if config.changes else "epochs, epoch = EPOCHS, 0")
        loop = ["while trains_epoch(epoch + 1, epochs):  # the run's length"
                + (", as the changes set it" if config.changes else ""), "    epoch += 1"]
    else:
        loop = ["for epoch in range(1, EPOCHS + 1):"]
    loop += ["    model.train()",
             "    order = epoch_order(n_train, BATCH_SIZE, shuffle"
             + (", False)  # LAB no_shuffle: the same order every epoch" if lab.no_shuffle else ")"),
             "    x_epoch, y_epoch, index = arrange(x_train, y_train, order)",
             "    losses, counts = [], []  # each step's loss (read at the epoch's end) and batch size",
             "    for start in range(0, n_train, BATCH_SIZE):",
             "        xb, yb = take_batch(x_epoch, y_epoch, index, start, BATCH_SIZE)"]
    if config.changes:
        loop += ["        step += 1",
                 "        for name, value in CHANGES.get(step, ()):  # the changes due at this step",
                 "            epochs = change_setting(optimizer, name, value, epochs)"]
    loop += ["        # This process's share of the batch (all of it when alone), its loss weighted so that",
             "        # the processes' averaged gradient is the batch's.",
             "        x_share, y_share, share_loss = batch_share(xb, yb, loss_fn, RANK, WORLD)",
             "        loss, out, norm = train_step(net, share_loss, optimizer, x_share, y_share, MAX_GRAD_NORM"
             f"{step_arguments})"]
    if scheduled:
        loop += ["        if step_after_batch:", "            step_after_batch()"]
    loop += ["        losses.append(loss.detach())",
             "        counts.append(len(yb))",
             "    # The steps' losses, read in one go (no step waits for the device); the first one that is",
             "    # not finite, or more than EXPLODE_FACTOR times the run's first, ends the run.",
             "    values = read_losses(losses, all_sum, WORLD)",
             "    first_loss = values[0] if first_loss is None else first_loss",
             "    bad = first_bad_loss(values, first_loss, EXPLODE_FACTOR)",
             "    if bad is not None:",
             "        say(diverged_message(epoch, bad + 1, values[bad], first_loss, EXPLODE_FACTOR))",
             "        break",
             "    train_loss = sum(value * count for value, count in zip(values, counts)) / n_train"]
    total = "" if until_stopped and not config.changes else "/{" + ("epochs" if config.changes else "EPOCHS") + "}"
    shown = "f\"Epoch {epoch}" + total + " - train_loss: {train_loss:.10g}"
    if shape.n_val:
        metric = _metric_name(config)
        loop.append(f"    val_loss, val_{metric} = scores(x_val, y_val)")
        shown += f" - val_loss: {{val_loss:.10g}} - val_{metric}: {{val_{metric}:.4f}}"
    loop += [f"    say({shown}\")",
             f"    watched, monitored = monitored_loss(train_loss, {'val_loss' if shape.n_val else 'None'})"]
    if scheduled:
        loop += ["    if step_after_epoch:", "        step_after_epoch(monitored)"]
    loop += _stopping_rules(config)
    if until_stopped:  # Ctrl+C ends such a run; the final metrics follow as after any other ending
        loop = (["try:"] + [f"    {line}" for line in loop]
                + [f"except KeyboardInterrupt:  # training.epochs = {UNTIL_STOPPED!r}: Ctrl+C ends the run",
                   '    say(f"stopped by Ctrl+C in epoch {epoch}")'])
    return _scores(config) + "\n\n\n" + "\n".join(head + loop)


def _changes(config: Config) -> list[str]:
    """``CHANGES``: the run's mid-run changes by optimizer step (the settings' torch names)."""
    by_step: dict[int, list[str]] = {}
    for change in config.changes:
        name = change.field.partition(".")[2]
        value = tuple(change.value) if isinstance(change.value, list) else change.value
        shown = "math.inf" if change.field == EPOCHS_FIELD and epoch_limit(value) is None else repr(value)
        by_step.setdefault(change.at_step, []).append(f"({_py(name)}, {shown})")
    body = "".join(f"    {step}: [{', '.join(items)}],\n" for step, items in sorted(by_step.items()))
    return ["# Mid-run changes (the run's [[changes]]): from step N on, the setting has the value.",
            "CHANGES = {\n" + body + "}"]


def _scores(config: Config) -> str:
    metric = _metric_name(config)
    eval_mode = ", eval_mode=False" if config.lab.no_eval_mode else ""
    head = head_of(config).head
    scored = {"value": "squared error (R^2)", "surface": "nothing (a point on a function)"}.get(
        head, "predicted classes (accuracy)")
    return (f"HEAD = {_py(head)}  # how the kernel scores the output: {scored}\n\n\n"
            "def scores(x, y):\n"
            f'    """Mean loss and {"R^2" if metric == "r2" else "accuracy"} of the model on a set (the '
            "rules' score_set: the kernel's\n"
            "    evaluate; under torchrun each process scores its share and the sums are added up).\"\"\"\n"
            "    loss, accuracy, r2 = score_set(model, loss_fn, x, y, HEAD, sum_of_squares(y), RANK, WORLD, "
            f"all_sum{eval_mode})\n"
            f"    return loss, {metric}")


def _stopping_rules(config: Config) -> list[str]:
    """The epoch's end: the rules that may end the run there, each saying why."""
    training = config.training
    checks = ["diverged_at_epoch_end(epoch, watched, monitored)"]
    if training.target_loss != "off":
        checks.append("target_reached(epoch, watched, monitored, TARGET_LOSS)")
    if training.early_stopping_patience != "off":
        checks.append("early_stop.check(epoch, watched, monitored)")
    if len(checks) == 1:
        lines = [f"    ending = {checks[0]}"]
    else:
        lines = [f"    ending = ({checks[0]}"] + [f"              or {check}" for check in checks[1:]]
        lines[-1] += ")"
    return lines + ["    if ending:", "        say(ending)", "        break"]


def _final(config: Config, shape: _Shape) -> str:
    tested = config.has_test_set
    sets = [("train", "x_train, y_train"), ("val", "x_val, y_val")] + ([("test", "x_test, y_test")] if tested else [])
    lines = ["# The model the run ends with, scored on each set that has samples: the training and",
             "# validation sets" + (", then the test set, held out from all of the above, in its one use."
                                    if tested else "."),
             "final = final_scores(scores, {" + ", ".join(f'"{name}": ({xy})' for name, xy in sets) + "})"]
    if config.task_spec.traits.point:
        return "\n".join(lines + [
            'say("Final - " + " - ".join(f"{name}_loss: {loss:.10g}" for name, (loss, _) in final.items()))',
            "# Where the point ended, and the function's value there.",
            "x, y = model.point.tolist()",
            'say(f"Point: ({x:.8g}, {y:.8g})")', *_leave_processes()])
    metric = _metric_name(config)
    lines += [f'say("Final - " + " - ".join(f"{{name}}_loss: {{loss:.10g}} - {{name}}_{metric}: {{{metric}:.4f}}"',
              f"                            for name, (loss, {metric}) in final.items()))"]
    truth = _line_truth(config)
    if truth:
        options = config.task.params
        lines.append(f'say(f"Learned w = {{model[0].weight.item():.6f}} (true {options[truth[0]]!r}), '
                     f'b = {{model[0].bias.item():.6f}} (true {options[truth[1]]!r})")')
    return "\n".join(lines + _leave_processes())


def _leave_processes() -> list[str]:
    """The script's last lines: under torchrun each process leaves the process group and ends at
    once, as tui-trainer's own command does (measured here: 2 and 4 of 25 runs of a script that
    then shut its interpreter down aborted at its end, 0 of 25 with these lines)."""
    return ["if WORLD > 1:  # each process leaves the process group, then ends at once: an interpreter",
            "    # that shuts down with torch.distributed's threads about may abort (\"terminate called",
            "    # without an active exception\")",
            "    dist.destroy_process_group()",
            "    sys.stdout.flush()",
            "    os._exit(0)"]


# -- helpers -------------------------------------------------------------------------------------


def _line_truth(config: Config) -> tuple[str, str] | None:
    """The task's options holding the true line when the model is one nn.Linear (the engine then
    reports the learned w and b), else None."""
    truth = config.task_spec.line_truth
    return truth if truth and config.model.kind != "file" and not config.model.hidden else None


def _data_seed(config: Config) -> int:
    """The seed of the run's data (a 2-D playground task may give its points their own)."""
    return engine_data.plane_seed(config) if config.task_spec.data_source.points else config.training.seed


def _metric_name(config: Config) -> str:
    return "r2" if head_of(config).head == "value" else "accuracy"


def _py(value: Any) -> str:
    """A value as Python source, strings in double quotes."""
    return json.dumps(value) if isinstance(value, str) else repr(value)


def _monitored(shape: _Shape) -> str:
    return "val_loss" if shape.n_val else "train_loss"


def _vision_folder(config: Config) -> str:
    return "FashionMNIST" if config.task.name == "fashion-mnist" else "MNIST"
