"""The DMQ engines stay free of I/O: no pika, sockets, threads, event loops or clocks."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import pacsys_dmq

PACKAGE = Path(pacsys_dmq.__file__).resolve().parent
PURE = [*sorted((PACKAGE / "protocol").glob("*.py")), PACKAGE / "testing.py"]
FORBIDDEN = {
    "asyncio",
    "concurrent",
    "datetime",
    "gssapi",
    "multiprocessing",
    "pika",
    "select",
    "selectors",
    "socket",
    "subprocess",
    "threading",
    "time",
}
DRIVERS = {"amqp", "client", "driver", "loop", "server"}  # pacsys_dmq's I/O side


def imported(path: Path) -> set[str]:
    """Every module ``path`` imports, absolute names."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_pure_modules_are_found() -> None:
    assert {p.name for p in PURE} >= {"client.py", "server.py", "sessions.py", "testing.py"}


@pytest.mark.parametrize("path", PURE, ids=[p.name for p in PURE])
def test_engine_imports_no_io(path: Path) -> None:
    bad = set()
    for name in imported(path):
        root, _, rest = name.partition(".")
        if root in FORBIDDEN:
            bad.add(name)
        if root == "pacsys_dmq" and rest.partition(".")[0] in DRIVERS:
            bad.add(name)
    assert not bad, f"{path.name} imports {sorted(bad)}"
