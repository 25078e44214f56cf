"""Entry point of pacsys-ssh: declares what this distribution offers to pacsys.

Imported during plugin discovery, so it must stay light: factories are named by
import path and loaded only when used.
"""

from __future__ import annotations

from pacsys.hookspecs import BackendSpec, hookimpl


@hookimpl
def pacsys_backends() -> list[BackendSpec]:
    """None: SSH is used through ``pacsys.ssh``, not as a Backend."""
    return []
