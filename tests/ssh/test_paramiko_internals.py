"""paramiko's internals stay in one module."""

from __future__ import annotations

import ast
from pathlib import Path

import pacsys_ssh

PACKAGE = Path(pacsys_ssh.__file__).resolve().parent
INTERNALS = PACKAGE / "_paramiko.py"


def _private_uses(path: Path) -> list[str]:
    """``obj._name`` on anything but self/cls/super(), and imports of paramiko submodules."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            owner = node.value
            if isinstance(owner, ast.Name) and owner.id in {"self", "cls"}:
                continue
            if isinstance(owner, ast.Call) and getattr(owner.func, "id", "") == "super":
                continue
            if node.attr.startswith("__"):
                continue
            found.append(f"{path.name}:{node.lineno} .{node.attr}")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("paramiko."):
            found.append(f"{path.name}:{node.lineno} from {node.module}")
        elif isinstance(node, ast.Import):
            found += [
                f"{path.name}:{node.lineno} import {alias.name}"
                for alias in node.names
                if alias.name.startswith("paramiko.")
            ]
    return found


def test_paramiko_internals_are_used_only_in_one_module() -> None:
    modules = sorted(set(PACKAGE.glob("*.py")) - {INTERNALS})
    assert modules, PACKAGE
    assert [use for module in modules for use in _private_uses(module)] == []
    assert _private_uses(INTERNALS)  # the check does see them where they are
