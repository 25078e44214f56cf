"""A threaded (sync grpcio) server with the same life cycle as :class:`AioServerThread`.

Each RPC runs on one worker of a named pool, so a sync backend is called on the RPC's own
thread (no hop to another pool and back) and every streamed message is one blocking send.
A stream holds its worker for its lifetime: at most ``max_rpcs`` RPCs run at once, and
further ones are refused with RESOURCE_EXHAUSTED instead of queueing without limit.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import grpc

from pacsys_grpc._params import check_host, check_port, check_positive_int

__all__ = ["MAX_RPCS", "ThreadedServer"]

log = logging.getLogger("pacsys_grpc.server")

MAX_RPCS = 1024
STOP_TIMEOUT = 5.0

Registrar = Callable[[grpc.Server], None]


class ThreadedServer:
    """Runs one sync grpc server; ``register(server)`` adds the servicers."""

    def __init__(
        self, name: str, host: str, port: int, register: Registrar, max_rpcs: int = MAX_RPCS
    ) -> None:
        self._max_rpcs = check_positive_int(max_rpcs, "max_rpcs")
        self._name = name
        self._host = check_host(host)
        self._requested_port = check_port(port, lowest=0)
        self._register = register
        self._lock = threading.Lock()
        self._server: grpc.Server | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._stopped = threading.Event()
        self.port: int | None = None

    @property
    def running(self) -> bool:
        return self._server is not None and not self._stopped.is_set()

    def start(self) -> None:
        """Bind and serve; RuntimeError when the address cannot be bound."""
        with self._lock:
            if self._server is not None or self._stopped.is_set():
                raise RuntimeError(f"{self._name} server already started")
            pool = ThreadPoolExecutor(self._max_rpcs, thread_name_prefix=f"pacsys-{self._name}")
            # No SO_REUSEPORT: a second server on a busy port must fail, not share it.
            server = grpc.server(
                pool,
                options=(("grpc.so_reuseport", 0),),
                maximum_concurrent_rpcs=self._max_rpcs,
            )
            self._register(server)
            address = f"{self._host}:{self._requested_port}"
            try:
                port = server.add_insecure_port(address)
            except RuntimeError as exc:
                pool.shutdown(wait=False)
                raise RuntimeError(f"{self._name} server could not bind {address}: {exc}") from exc
            if port == 0:
                pool.shutdown(wait=False)
                raise RuntimeError(
                    f"{self._name} server could not bind {address}: address unavailable"
                )
            server.start()
            self._server, self._pool, self.port = server, pool, port

    def stop(self) -> None:
        """Cancel every RPC (zero grace), then stop the workers; idempotent."""
        with self._lock:
            server, pool = self._server, self._pool
            self._pool = None
        if server is None or self._stopped.is_set():
            return
        if not server.stop(0).wait(STOP_TIMEOUT):
            log.warning("%s server did not stop within %.0f s", self._name, STOP_TIMEOUT)
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        self._stopped.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the server has stopped; True if it has."""
        if self._server is None:
            return True
        return self._stopped.wait(timeout)
