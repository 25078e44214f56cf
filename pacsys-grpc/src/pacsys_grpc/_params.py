"""Argument checks shared by the gRPC clients and servers: the core ones, plus client_host.

The checks live in :mod:`pacsys.backends.params` (one wording for every transport).
"""

from __future__ import annotations

from pacsys.backends.params import check_host, check_port, check_positive_int, env_int

__all__ = [
    "check_host",
    "check_port",
    "check_positive_int",
    "client_host",
    "env_int",
]


def client_host(host: str) -> str:
    """The address a local client should dial for a server bound to ``host``."""
    if host in ("[::]", "::", "0.0.0.0", ""):
        return "127.0.0.1"
    return host
