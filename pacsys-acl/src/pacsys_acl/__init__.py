"""pacsys-acl: the ACL CGI client backend, an ACL interpreter and an emulated ACL CGI.

* :class:`ACLBackend` (``pacsys.acl()``): read-only Backend over HTTP(S).
* :class:`ACLInterpreter`: runs ACL scripts (``read``, ``set``, ...) over any Backend.
* :class:`ACLServer`: serves any Backend as an ACL CGI on loopback HTTP.

Names load lazily so that plugin discovery (which imports this package) stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pacsys_acl.backend import ACLBackend
    from pacsys_acl.interpreter import ACLInterpreter, ACLOutcome, ACLScope
    from pacsys_acl.script import ACLSyntaxError
    from pacsys_acl.server import ACLServer

__all__ = [
    "ACLBackend",
    "ACLInterpreter",
    "ACLOutcome",
    "ACLScope",
    "ACLServer",
    "ACLSyntaxError",
]

_WHERE = {
    "ACLBackend": "pacsys_acl.backend",
    "ACLInterpreter": "pacsys_acl.interpreter",
    "ACLOutcome": "pacsys_acl.interpreter",
    "ACLScope": "pacsys_acl.interpreter",
    "ACLSyntaxError": "pacsys_acl.script",
    "ACLServer": "pacsys_acl.server",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
