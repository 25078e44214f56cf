"""paramiko's internals stay in one module, and paramiko stays in the range they were read in."""

from __future__ import annotations

import ast
import importlib.metadata
from pathlib import Path

import paramiko
from packaging.requirements import Requirement

import pacsys_ssh

PACKAGE = Path(pacsys_ssh.__file__).resolve().parent
INTERNALS = PACKAGE / "_paramiko.py"


def test_installed_paramiko_is_in_the_declared_range() -> None:
    """A new paramiko is a deliberate change: re-read its internals, then widen the range."""
    (requirement,) = [
        Requirement(line)
        for line in importlib.metadata.requires("pacsys-ssh") or []
        if Requirement(line).name == "paramiko"
    ]
    assert any(spec.operator in {"<", "<="} for spec in requirement.specifier), requirement
    assert requirement.specifier.contains(paramiko.__version__), (
        f"paramiko {paramiko.__version__} is outside pacsys-ssh's range {requirement}"
    )


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
