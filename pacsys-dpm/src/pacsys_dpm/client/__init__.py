"""The DPM client backend: connections, pool, reads, streams and writes over TCP."""

from __future__ import annotations

from pacsys_dpm.client.backend import DPMHTTPBackend
from pacsys_dpm.client.connection import DPMConnection, DPMConnectionError
from pacsys_dpm.client.pool import ConnectionPool, PoolClosedError, PoolExhaustedError

__all__ = [
    "ConnectionPool",
    "DPMConnection",
    "DPMConnectionError",
    "DPMHTTPBackend",
    "PoolClosedError",
    "PoolExhaustedError",
]
