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


# The paramiko classes _paramiko.py reaches into, and the undocumented public attributes it
# reads or sets on them (private ones are found in its source by _private_names_used).
PARAMIKO_CLASSES = ("Transport", "Channel", "AuthHandler", "BufferedPipe")
UNDOCUMENTED = {
    "Transport": {"saved_exception", "auth_handler", "initial_kex_done", "session_id", "lock"},
    "Channel": {"in_buffer", "in_stderr_buffer", "event", "event_ready", "remote_chanid"},
    "AuthHandler": {"auth_event", "auth_method", "username", "authenticated", "transport"},
    "BufferedPipe": {"set_event"},
}


def _paramiko_class(name: str) -> type:
    from paramiko.auth_handler import AuthHandler
    from paramiko.buffered_pipe import BufferedPipe

    return {"AuthHandler": AuthHandler, "BufferedPipe": BufferedPipe}.get(name) or getattr(
        paramiko, name
    )


def _has(cls: type, name: str) -> bool:
    """A class attribute or method of ``cls``, or an attribute its ``__init__`` sets."""
    return hasattr(cls, name) or any(
        name in vars(klass)["__init__"].__code__.co_names
        for klass in cls.__mro__
        if "__init__" in vars(klass) and hasattr(vars(klass)["__init__"], "__code__")
    )


def _private_names_used(path: Path) -> set[str]:
    """paramiko private names used in ``path``: on other objects, via ``super()``, and
    ``self._x`` that the module does not define itself (inherited from paramiko)."""
    tree = ast.parse(path.read_text(), str(path))
    defined = {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    } | {
        target.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign | ast.AnnAssign)
        for assigned in (node.targets if isinstance(node, ast.Assign) else [node.target])
        for target in ast.walk(assigned)
        if isinstance(target, ast.Attribute)
    }
    used = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute) or not node.attr.startswith("_"):
            continue
        if node.attr.startswith("__"):
            continue
        owner = node.value
        if isinstance(owner, ast.Name) and owner.id == "sys":
            continue  # sys._getframe: the interpreter's, not paramiko's
        if isinstance(owner, ast.Name) and owner.id in {"self", "cls"}:
            if node.attr not in defined:
                used.add(node.attr)
        else:
            used.add(node.attr)
    return used


def test_the_paramiko_internals_used_still_exist() -> None:
    """Each private or undocumented name _paramiko.py relies on is on a paramiko class."""
    classes = {name: _paramiko_class(name) for name in PARAMIKO_CLASSES}
    private = _private_names_used(INTERNALS)
    assert {"_send_user_message", "_event_pending", "_request_auth"} <= private
    missing = sorted(
        name for name in private if not any(_has(cls, name) for cls in classes.values())
    )
    assert missing == [], f"paramiko {paramiko.__version__} lacks {missing}"
    missing = sorted(
        f"{owner}.{name}"
        for owner, names in UNDOCUMENTED.items()
        for name in names
        if not _has(classes[owner], name)
    )
    assert missing == [], f"paramiko {paramiko.__version__} lacks {missing}"
