"""The package's layers: imports run one way, and no private name is used outside its module.

docs/architecture.md describes the layers; this test holds the code to them, so that a new import that runs
back up, or a reach into another module's private names, fails here rather than in a later reading.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

PACKAGE = ROOT / "sim"
#: Each layer may import from itself and the layers below it; experiments and studies stand side by side.
LAYERS = {"core": 0, "inputs": 1, "model": 2, "experiments": 3, "studies": 3, "outputs": 4, "cli": 5, "__main__": 6}
#: What the foundations may import beyond the standard library.
CORE_LIBRARIES = {"numpy"}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(module: str) -> str | None:
    """The layer of a module of the package (None for the package itself, whose face every layer may use)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def is_module(module: str) -> bool:
    path = ROOT.joinpath(*module.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imports(path: Path) -> list[tuple[str, list[str]]]:
    """(absolute module, names taken from it) for each import of a file, relative imports resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            for name in (alias.name for alias in node.names):  # `from . import x`: x may be a module
                found.append((f"{module}.{name}", []) if is_module(f"{module}.{name}") else (module, [name]))
    return found


FILES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_run_down_the_layers(path):
    mine = layer(module_name(path))
    for module, _ in imports(path):
        if not module.startswith("sim.") or mine is None:
            continue
        theirs = layer(module)
        if theirs is None:  # the package's face (its version)
            continue
        assert LAYERS[theirs] <= LAYERS[mine], f"{module_name(path)} imports {module}, a layer above it"
        if theirs != mine:
            assert {mine, theirs} != {"experiments", "studies"}, f"{module_name(path)} imports {module}, beside it"


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_private_name_is_used_outside_its_module(path):
    for module, names in imports(path):
        if module.startswith("sim"):
            private = [name for name in names if name.startswith("_") and not name.startswith("__")]
            assert not private, f"{module_name(path)} takes {private} from {module}"


@pytest.mark.parametrize("path", sorted((PACKAGE / "core").glob("*.py")), ids=lambda p: p.name)
def test_the_foundations_need_numpy_and_the_standard_library_only(path):
    for module, _ in imports(path):
        top = module.split(".")[0]
        inside = module == "sim" or module.startswith("sim.core")
        assert inside or top in sys.stdlib_module_names or top in CORE_LIBRARIES, module


def test_every_module_is_in_a_layer():
    assert {layer(module_name(path)) for path in FILES} - {None} <= set(LAYERS)
