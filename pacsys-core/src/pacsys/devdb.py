"""``pacsys.devdb``: the DevDB metadata client (provided by pacsys-grpc).

This module is both the seed import path (``from pacsys.devdb import DevDBClient``) and a
factory: ``with pacsys.devdb() as db: db.get_device_info(["M:OUTTMP"])``.  Calling the
module makes a DevDBClient whose host and port default to ``pacsys.configure()`` values
when those were set, else to the ``PACSYS_DEVDB_*`` environment, else to the defaults.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from pacsys._provided import reexport

reexport(globals(), "pacsys_grpc.devdb", "pacsys-grpc")


def _connect(
    host: str | None = None,
    port: int | None = None,
    timeout: float | None = None,
    cache_ttl: float | None = None,
    *,
    tls: bool | None = None,
) -> Any:
    """A new DevDBClient (close it, or use it as a context manager)."""
    from pacsys._simple import current_settings

    configured = current_settings().configured
    if host is None:
        host = configured.get("devdb_host")
    if port is None:
        port = configured.get("devdb_port")
    extra: dict[str, Any] = {} if cache_ttl is None else {"cache_ttl": cache_ttl}
    client_class = globals()["DevDBClient"]
    return client_class(host=host, port=port, timeout=timeout, tls=tls, **extra)


class _CallableModule(types.ModuleType):
    """Makes ``pacsys.devdb(...)`` create a client while staying an importable module."""

    def __call__(
        self,
        host: str | None = None,
        port: int | None = None,
        timeout: float | None = None,
        cache_ttl: float | None = None,
        *,
        tls: bool | None = None,
    ) -> Any:
        return _connect(host, port, timeout, cache_ttl, tls=tls)


sys.modules[__name__].__class__ = _CallableModule
