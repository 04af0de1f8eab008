"""Core is laid out by concern, and each package imports only those below it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "core" / "src" / "cvkit"

# What each package may import from cvkit (besides itself and the ground floor).
GROUND = {"errors", "fileio", "runtime", "backend"}
ALLOWED = {
    "contract": set(),
    "models": {"contract"},
    "data": {"contract"},
    "training": {"contract", "models", "data", "layers"},
    "serve": {"contract", "models", "data"},
    "insight": {"contract", "models", "data", "serve", "training"},  # looks at trained runs and their predictions
}


def _type_checking_blocks(tree: ast.AST) -> set[int]:
    """ids of the nodes under ``if TYPE_CHECKING:``: annotations may name any package."""
    inside = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            inside.update(id(child) for stmt in node.body for child in ast.walk(stmt))
    return inside


def _cvkit_imports(path: Path) -> set[str]:
    """The first component under ``cvkit`` of every run-time ``cvkit.X`` import in a file."""
    found = set()
    tree = ast.parse(path.read_text())
    typing_only = _type_checking_blocks(tree)
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("cvkit."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("cvkit."))
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_each_package_imports_only_those_below_it(package):
    for path in sorted((CORE / package).glob("*.py")):
        reached = _cvkit_imports(path) - GROUND - {package}
        assert reached <= ALLOWED[package], f"{path.relative_to(CORE)} imports cvkit.{', cvkit.'.join(sorted(reached - ALLOWED[package]))}"


def test_data_and_models_are_siblings():
    assert "models" not in ALLOWED["data"] and "data" not in ALLOWED["models"]
