"""Entry point of pacsys-acl: declares what this distribution offers to pacsys.

Imported during plugin discovery, so it must stay light: factories are named by
import path and loaded only when used.

* backend ``acl``: :class:`pacsys_acl.backend.ACLBackend` (read-only, batch; no stream/auth)
* server ``acl``: :class:`pacsys_acl.server.ACLServer` for ``pacsys serve --acl-port``
  (default port 10080: plain-HTTP sibling of the 10443 TLS port of the reference tests).
"""

from __future__ import annotations

from pacsys.hookspecs import BackendSpec, ServerSpec, hookimpl
from pacsys_acl.defaults import DEFAULT_PORT


@hookimpl
def pacsys_backends() -> list[BackendSpec]:
    """The ``acl`` backend."""
    return [
        BackendSpec(
            "acl",
            "pacsys_acl.backend:ACLBackend",
            "ACL CGI over HTTP(S): read-only, no streaming, no auth ($PACSYS_ACL_URL)",
            settings={"timeout": "default_timeout"},
            label="ACL",
        )
    ]


@hookimpl
def pacsys_servers() -> list[ServerSpec]:
    """The ``acl`` server adapter for ``pacsys serve``."""
    return [
        ServerSpec(
            "acl",
            "pacsys_acl.server:ACLServer",
            "ACL CGI emulator on HTTP (GET /cgi-bin/acl.pl?acl=<script>)",
            option="--acl-port",
            option_kwarg="port",
            option_type=int,
            default=DEFAULT_PORT,
        )
    ]
