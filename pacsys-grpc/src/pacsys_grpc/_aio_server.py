"""A grpc.aio server running on its own event loop in a named thread.

Shared by the supervised DAQ server and the DevDB server: ``start()`` waits for the bind
(RuntimeError on failure), ``stop()`` cancels every RPC, waits briefly for pending tasks
and joins the thread.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable

import grpc

from pacsys_grpc._params import check_host, check_port

log = logging.getLogger("pacsys_grpc.server")

BIND_TIMEOUT = 10.0
PENDING_TASKS_TIMEOUT = 4.0
JOIN_TIMEOUT = 5.0

Registrar = Callable[[grpc.aio.Server, asyncio.AbstractEventLoop], None]


class AioServerThread:
    """Runs one grpc.aio server; ``register(server, loop)`` adds the servicers."""

    def __init__(self, name: str, host: str, port: int, register: Registrar) -> None:
        self._name = name
        self._host = check_host(host)
        self._requested_port = check_port(port, lowest=0)
        self._register = register
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._error: BaseException | None = None
        self.port: int | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and self.port is not None

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        return self._loop

    def start(self) -> None:
        """Start the loop thread and wait for the bind; RuntimeError when it fails."""
        if self._thread is not None:
            raise RuntimeError(f"{self._name} server already started")
        self._thread = threading.Thread(target=self._run, name=f"pacsys-{self._name}", daemon=True)
        self._thread.start()
        if not self._ready.wait(BIND_TIMEOUT):
            self.stop()
            raise RuntimeError(f"{self._name} server did not start within {BIND_TIMEOUT:.0f} s")
        if self._error is not None:
            self._thread.join(JOIN_TIMEOUT)
            raise RuntimeError(
                f"{self._name} server could not bind {self._host}:{self._requested_port}: "
                f"{self._error}"
            ) from self._error

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
            pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
            if pending:
                for task in pending:
                    task.cancel()
                loop.run_until_complete(asyncio.wait(pending, timeout=PENDING_TASKS_TIMEOUT))
        except BaseException as exc:  # keep the error for start(); never kill silently
            if not self._ready.is_set():
                self._error = exc
            else:
                log.exception("%s server loop failed", self._name)
        finally:
            self._ready.set()
            try:
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                loop.close()

    async def _serve(self) -> None:
        # No SO_REUSEPORT: a second server on a busy port must fail, not share it.
        server = grpc.aio.server(options=(("grpc.so_reuseport", 0),))
        self._register(server, asyncio.get_running_loop())
        try:
            port = server.add_insecure_port(f"{self._host}:{self._requested_port}")
        except RuntimeError as exc:
            self._error = exc
            return
        if port == 0:
            self._error = RuntimeError("address unavailable")
            return
        self._stop_event = asyncio.Event()
        await server.start()
        self.port = port
        self._ready.set()
        await self._stop_event.wait()
        await server.stop(0)

    def stop(self) -> None:
        """Stop serving (zero grace) and join the thread; idempotent."""
        thread, loop, event = self._thread, self._loop, self._stop_event
        if thread is None:
            return
        if loop is not None and event is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # the loop closed meanwhile
                pass
        if thread is not threading.current_thread():
            thread.join(JOIN_TIMEOUT)
            if thread.is_alive():
                log.warning("%s server thread did not stop within %.0f s", self._name, JOIN_TIMEOUT)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the server thread ends; True if it has."""
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()
