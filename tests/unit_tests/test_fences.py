"""The private names of Textual, textual-plotext, plotext and torch are reached only in their
fences (``tui_trainer.fences``), and each is still there in the installed versions: after an
upgrade that removes one, these tests name it."""

from __future__ import annotations

import ast
import importlib
import sys
from pathlib import Path

import pytest

import tui_trainer

PACKAGE = Path(tui_trainer.__file__).parent
FENCES = ["textual", "textual_plotext", "plotext", "torch", "rich"]
#: Underscored names that are public API: os._exit (ends the process with no clean-up).
PUBLIC = {"_exit"}


@pytest.mark.parametrize("library", FENCES)
def test_every_private_name_a_fence_reaches_is_still_there(library):
    try:
        fence = importlib.import_module(f"tui_trainer.fences.{library}")
    except ImportError as exc:  # a private module that moved or went
        pytest.fail(f"tui_trainer.fences.{library} cannot import what it reaches: {exc}")
    assert fence.REACHED
    assert fence.missing() == [], f"{library} no longer has: {', '.join(fence.missing())}"


def own_private_names(trees: dict[Path, ast.Module]) -> set[str]:
    """The underscored names tui-trainer itself defines (functions, classes, attributes set on
    self or cls, module-level names)."""
    names = set()
    for tree in trees.values():
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                names.add(node.attr)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
    return {name for name in names if name.startswith("_")}


def test_no_module_outside_the_fences_reaches_a_private_name_of_a_library():
    trees = {path: ast.parse(path.read_text(encoding="utf-8")) for path in PACKAGE.rglob("*.py")
             if "fences" not in path.relative_to(PACKAGE).parts}
    own = own_private_names(trees)
    found = []
    for path, tree in trees.items():
        where = path.relative_to(PACKAGE.parent)
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                modules = [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                found += [f"{where}:{node.lineno}: import of {module}" for module in modules
                          if any(part.startswith("_") and not part.startswith("__") for part in module.split("."))]
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("_") \
                    and not node.name.startswith("__") and node.name not in own - {node.name}:
                # a method named as no other of tui-trainer's: an override of a library's own?
                calls_super = any(isinstance(call, ast.Attribute) and call.attr == node.name
                                  and isinstance(call.value, ast.Call) and getattr(call.value.func, "id", "") == "super"
                                  for call in ast.walk(node))
                if calls_super:
                    found.append(f"{where}:{node.lineno}: override of a library's {node.name}")
            elif isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__") \
                    and node.attr not in own and node.attr not in PUBLIC:
                found.append(f"{where}:{node.lineno}: .{node.attr}")
    assert not found, "private names of libraries outside tui_trainer/fences:\n" + "\n".join(found)


def test_the_engine_reaches_torchs_fence_without_any_ui_library():
    import subprocess

    code = ("import sys\nimport tui_trainer.fences.torch\n"
            "print(' '.join(m for m in sys.modules if m.split('.')[0] in ('textual', 'textual_plotext', 'plotext', 'rich')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == ""


@pytest.mark.parametrize("library, owner, name", [
    ("textual", "textual.widgets:Footer", "_bindings_ready"),
    ("textual", "textual.widgets:Input", "_watch_value"),
    ("textual_plotext", "textual_plotext:PlotextPlot", "_get_plotext_theme_name"),
    ("plotext", "plotext._figure:_figure_class", "_build_matrix"),
])
def test_a_fence_names_what_an_upgrade_removed(library, owner, name, monkeypatch):
    module, _, cls = owner.partition(":")
    monkeypatch.delattr(getattr(importlib.import_module(module), cls), name)
    fence = importlib.import_module(f"tui_trainer.fences.{library}")
    assert any(name in lost for lost in fence.missing())
