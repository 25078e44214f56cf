"""The gRPC codec is pure: no transport, threads, event loops or clocks.

Checked on the source (every import statement and every clock call in
``pacsys_grpc/codec``) and at run time (importing the codec loads no grpc).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import pacsys_grpc.codec

FORBIDDEN = frozenset({"grpc", "socket", "threading", "asyncio", "time"})
CLOCK_CALLS = frozenset({"now", "utcnow", "today", "time", "monotonic", "perf_counter"})
CODEC_DIR = Path(pacsys_grpc.codec.__file__).parent
MODULES = sorted(CODEC_DIR.glob("*.py"))


def _imported_roots(tree: ast.AST) -> set[str]:
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_the_codec_has_modules() -> None:
    assert {path.stem for path in MODULES} >= {"values", "readings", "statuses", "devdb"}


@pytest.mark.parametrize("path", MODULES, ids=lambda path: path.name)
def test_codec_module_imports_nothing_impure(path: Path) -> None:
    tree = ast.parse(path.read_text(), filename=str(path))
    assert not _imported_roots(tree) & FORBIDDEN


@pytest.mark.parametrize("path", MODULES, ids=lambda path: path.name)
def test_codec_module_reads_no_clock(path: Path) -> None:
    tree = ast.parse(path.read_text(), filename=str(path))
    calls = [
        node.func.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in CLOCK_CALLS
    ]
    assert calls == []


def test_checks_catch_an_impure_module() -> None:
    tree = ast.parse("import grpc\nfrom time import monotonic\nimport os.path\n")
    assert _imported_roots(tree) & FORBIDDEN == {"grpc", "time"}


def test_importing_the_codec_loads_no_grpc() -> None:
    code = "import sys, pacsys_grpc.codec; print('grpc' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "False"
