"""Layers hold: the import-linter contracts of the root pyproject, and core's acyclic imports.

The contracts (docs/architecture.md): codecs and protocol engines do no I/O, core imports no
transport, transports do not import each other.  Core's module-level imports form a DAG.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "pacsys-core" / "src" / "pacsys"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_imports(cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_import_contracts_hold() -> None:
    declared = (ROOT / "pyproject.toml").read_text().count("[[tool.importlinter.contracts]]")
    done = _lint_imports(ROOT)
    report = done.stdout + done.stderr
    assert done.returncode == 0, report
    assert f"Contracts: {declared} kept, 0 broken." in report, report


def test_a_forbidden_import_is_reported(tmp_path: Path) -> None:
    """The checker is live: a codec that imports socket (even through a helper) breaks it."""
    (tmp_path / "fakecodec").mkdir()
    (tmp_path / "fakecodec" / "__init__.py").write_text("from fakecodec import frames\n")
    (tmp_path / "fakecodec" / "frames.py").write_text("def parse(): import socket\n")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.importlinter]\nroot_packages = ["fakecodec"]\ninclude_external_packages = true\n'
        '[[tool.importlinter.contracts]]\nname = "pure"\ntype = "forbidden"\n'
        'source_modules = ["fakecodec"]\nforbidden_modules = ["socket"]\n'
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    done = _lint_imports(tmp_path, env)
    assert done.returncode != 0
    assert "fakecodec is not allowed to import socket" in done.stdout + done.stderr


# --- core's module-level import graph --------------------------------------------------


def _modules(package: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every module of ``package``."""
    found = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _module_level_imports(
    body: Iterable[ast.stmt], type_checking: bool
) -> Iterable[ast.Import | ast.ImportFrom]:
    """Imports run when the module is imported (function and class bodies left out).

    ``type_checking`` also yields those under ``if TYPE_CHECKING:``.
    """
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If):
            if not _is_type_checking(node.test) or type_checking:
                yield from _module_level_imports(node.body, type_checking)
            yield from _module_level_imports(node.orelse, type_checking)
        elif isinstance(node, ast.Try):
            for block in (node.body, *(h.body for h in node.handlers), node.orelse):
                yield from _module_level_imports(block, type_checking)
            yield from _module_level_imports(node.finalbody, type_checking)
        elif isinstance(node, ast.With):
            yield from _module_level_imports(node.body, type_checking)


def import_graph(package: Path, type_checking: bool = False) -> dict[str, set[str]]:
    """Module -> the modules of ``package`` it imports at module level.

    ``from pkg import sub`` counts as importing ``pkg.sub`` when that is a module, else ``pkg``.
    """
    modules = _modules(package)
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        targets: set[str] = set()
        tree = ast.parse(path.read_text(), str(path))
        for node in _module_level_imports(tree.body, type_checking):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
                continue
            base = node.module or ""
            if node.level:
                anchor = name.split(".")[: None if is_package else -1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            subs = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in modules]
            targets.update(subs)
            if len(subs) < len(node.names):
                targets.add(base)
        graph[name] = {t for t in targets if t in modules and t != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _describe(graph: dict[str, set[str]], component: list[str]) -> str:
    members = set(component)
    return "; ".join(f"{m} -> {sorted(graph[m] & members)}" for m in component)


def test_cycle_finder_sees_a_cycle_through_a_package(tmp_path: Path) -> None:
    package = tmp_path / "demo"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("from demo.a import A\n")
    (package / "a.py").write_text("from .sub import b\nA = 1\n")
    (package / "sub" / "__init__.py").write_text("")
    (package / "sub" / "b.py").write_text(
        "from typing import TYPE_CHECKING\nimport json\nif TYPE_CHECKING:\n    from demo import c\n"
        "def later():\n    from demo import a\n"
    )
    (package / "c.py").write_text("from demo.sub import b\n")
    assert cycles(import_graph(package)) == []
    graph = import_graph(package, type_checking=True)
    assert graph["demo.sub.b"] == {"demo.c"}
    assert cycles(graph) == [["demo.c", "demo.sub.b"]]


def test_core_module_level_imports_form_a_dag() -> None:
    graph = import_graph(CORE)
    assert len(graph) > 100  # the whole of core was read
    found = cycles(graph)
    assert found == [], "\n".join(_describe(graph, c) for c in found)


def _unit(module: str) -> str:
    """The subpackage a module belongs to (``pacsys.sim`` for ``pacsys.sim.devices``)."""
    parts = module.split(".")
    return ".".join(parts[:2]) if (CORE.parent / Path(*parts[:2])).is_dir() else module


def test_type_only_cycles_stay_inside_one_subpackage() -> None:
    """Counting ``if TYPE_CHECKING:`` imports too, no cycle crosses a subpackage's border."""
    graph = import_graph(CORE, type_checking=True)
    crossing = [c for c in cycles(graph) if len({_unit(m) for m in c}) > 1]
    assert crossing == [], "\n".join(_describe(graph, c) for c in crossing)


def test_core_imports_no_transport_by_name_in_source() -> None:
    """Belt and braces for the contract: no core file names a transport package in an import."""
    pattern = re.compile(r"^\s*(from|import)\s+pacsys_(dpm|grpc|dmq|acl|ssh|acnet)\b", re.M)
    offenders = [
        str(path.relative_to(ROOT))
        for path in CORE.rglob("*.py")
        if pattern.search(path.read_text())
    ]
    assert offenders == []
