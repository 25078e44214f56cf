"""Argument checks and environment lookups shared by every transport's clients and servers.

One wording for every transport: each check raises ValueError naming the argument (or the
environment variable) and the bad value.  The variables themselves are listed in
docs/protocols/semantics.md §7.3.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, TypeVar

T = TypeVar("T")

__all__ = [
    "check_host",
    "check_port",
    "check_positive_int",
    "env_choice",
    "env_flag",
    "env_int",
    "env_str",
]


def check_host(host: Any, name: str = "host") -> str:
    """A non-empty host name or address."""
    if not isinstance(host, str) or not host.strip():
        raise ValueError(f"{name} must be a non-empty string, got {host!r}")
    return host


def check_port(port: Any, name: str = "port", *, lowest: int = 1) -> int:
    """A port number from ``lowest`` to 65535 (``lowest=0``: let the OS pick, for servers)."""
    if isinstance(port, bool) or not isinstance(port, int) or not lowest <= port <= 65535:
        raise ValueError(f"{name} must be an integer from {lowest} to 65535, got {port!r}")
    return port


def check_positive_int(value: Any, name: str) -> int:
    """A positive int (bools refused)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


def env_str(variable: str, default: str) -> str:
    """The text of environment ``variable``, or ``default`` when unset or empty."""
    return os.environ.get(variable, "").strip() or default


def env_int(variable: str, default: int) -> int:
    """The integer in environment ``variable``, or ``default`` when unset or empty."""
    raw = os.environ.get(variable, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(
            f"Environment variable {variable} must be an integer, got {raw!r}"
        ) from None


_TRUE = frozenset({"1", "true", "yes", "on"})


def env_flag(variable: str) -> bool:
    """A debugging switch: on when ``variable`` is 1/true/yes/on (any case), else off."""
    return os.environ.get(variable, "").strip().lower() in _TRUE


def env_choice(variable: str, choices: Mapping[str, T], default: T) -> T:
    """The value ``choices`` maps the text of ``variable`` to; ``default`` when unset or empty.

    Any other text is a ValueError listing the accepted ones.
    """
    raw = os.environ.get(variable, "").strip()
    if not raw:
        return default
    if raw not in choices:
        accepted = ", ".join(repr(k) for k in choices)
        raise ValueError(f"Environment variable {variable} must be one of {accepted}, got {raw!r}")
    return choices[raw]
