"""Argument checks and environment lookups shared by the gRPC clients and servers.

Each raises ValueError naming the argument (or variable) and the bad value.
"""

from __future__ import annotations

import os
from typing import Any

__all__ = [
    "check_host",
    "check_port",
    "check_positive_int",
    "client_host",
    "env_port",
]


def check_host(host: Any) -> str:
    """A non-empty host name or address."""
    if not isinstance(host, str) or not host.strip():
        raise ValueError(f"host must be a non-empty string, got {host!r}")
    return host


def check_port(port: Any, *, lowest: int = 0) -> int:
    """A port number from ``lowest`` (0: let the OS pick, for servers) to 65535."""
    if isinstance(port, bool) or not isinstance(port, int) or not lowest <= port <= 65535:
        raise ValueError(f"port must be an integer from {lowest} to 65535, got {port!r}")
    return port


def check_positive_int(value: Any, what: str) -> int:
    """A positive int (bools refused)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{what} must be a positive integer, got {value!r}")
    return value


def env_port(variable: str, default: int) -> int:
    """The integer in environment ``variable``, or ``default`` when unset or empty."""
    raw = os.environ.get(variable, "")
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{variable} must be an integer, got {raw!r}") from None


def client_host(host: str) -> str:
    """The address a local client should dial for a server bound to ``host``."""
    if host in ("[::]", "::", "0.0.0.0", ""):
        return "127.0.0.1"
    return host
