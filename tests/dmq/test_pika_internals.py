"""pika's internals stay in pacsys_dmq/amqp.py, and each one it uses is in the installed pika.

The installed pika's place inside pacsys-dmq's bounds is checked by test_amqp_pipeline.py.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pika
import pika.channel
from pika.adapters.blocking_connection import BlockingConnection
from pika.adapters.select_connection import SelectConnection

import pacsys_dmq

PACKAGE = Path(pacsys_dmq.__file__).resolve().parent
INTERNALS = PACKAGE / "amqp.py"
PIKA_CLASSES: tuple[type, ...] = (pika.channel.Channel, BlockingConnection, SelectConnection)
#: What pika itself calls on the channel cookie amqp.py installs (``_AsyncChannelCookie``).
CALLED_BY_PIKA = {"_dispatch_events", "_get_cookie"}


def _private_uses(path: Path) -> list[tuple[int, str]]:
    """(line, name) of each ``obj._name`` in ``path`` on anything but self/cls/super()."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if not isinstance(node, ast.Attribute) or not node.attr.startswith("_"):
            continue
        owner = node.value
        if node.attr.startswith("__") or (
            isinstance(owner, ast.Name) and owner.id in {"self", "cls"}
        ):
            continue
        if isinstance(owner, ast.Call) and getattr(owner.func, "id", "") == "super":
            continue
        found.append((node.lineno, node.attr))
    return sorted(found)


def _has(cls: type, name: str) -> bool:
    """A class attribute or method of ``cls``, or an attribute its ``__init__`` sets."""
    return hasattr(cls, name) or any(
        name in vars(klass)["__init__"].__code__.co_names
        for klass in cls.__mro__
        if hasattr(vars(klass).get("__init__"), "__code__")
    )


def _names_in_methods(cls: type) -> set[str]:
    return {
        name
        for value in vars(cls).values()
        if hasattr(value, "__code__")
        for name in value.__code__.co_names
    }


def test_pika_internals_are_used_only_in_amqp_py() -> None:
    modules = sorted(set(PACKAGE.rglob("*.py")) - {INTERNALS})
    assert len(modules) > 5, PACKAGE
    uses = [
        f"{module.relative_to(PACKAGE)}:{line} .{name}"
        for module in modules
        for line, name in _private_uses(module)
    ]
    assert uses == []
    assert _private_uses(INTERNALS)  # the check does see them where they are


def test_each_pika_internal_amqp_py_uses_exists() -> None:
    used = {name for _, name in _private_uses(INTERNALS)}
    assert {"_impl", "_set_cookie", "_send_method"} <= used
    missing = sorted(name for name in used if not any(_has(c, name) for c in PIKA_CLASSES))
    assert missing == [], f"pika {pika.__version__} lacks {missing}"


def test_pika_still_calls_what_the_channel_cookie_provides() -> None:
    assert _names_in_methods(BlockingConnection) >= CALLED_BY_PIKA, pika.__version__
    source = INTERNALS.read_text(encoding="utf-8")
    assert "def _dispatch_events(self)" in source
    assert _has(pika.channel.Channel, "_get_cookie")
