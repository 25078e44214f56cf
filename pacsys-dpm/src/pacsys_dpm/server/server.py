"""DPMServer: serve any pacsys Backend to DPM clients over TCP.

One accept thread plus one thread per connection; every connection is one DPM list.
``pacsys serve --dpm-port`` builds it through ``ServerSpec("dpm", "pacsys_dpm.server:DPMServer")``.
"""

from __future__ import annotations

import functools
import logging
import selectors
import socket
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Final

from pacsys.backends import Backend
from pacsys.backends.dispatch import RateLimitedLogger
from pacsys.backends.params import check_port
from pacsys.backends.server_args import check_server_args
from pacsys_dpm.principal import service_principal
from pacsys_dpm.protocol import ListAuth, RolePolicy, ServerProtocol

from .auth import gss_context_factory
from .connection import Connection
from .outbox import MAX_PENDING
from .session import ListSession

__all__ = ["DPMServer"]

log = logging.getLogger("pacsys_dpm.server")

LIST_ID_FIRST: Final = 4096
LIST_ID_LAST: Final = 6143
"""List ids are allocated in production's range and are unique among open connections."""


class DPMServer:
    """A DPM protocol endpoint in front of ``backend``.

    >>> with DPMServer(backend, port=0) as server:   # doctest: +SKIP
    ...     os.environ.update(server.client_env())

    ``keytab`` enables Kerberos-authenticated settings for ``service_name`` (Java
    ``service@host`` form); ``roles`` maps a role (``#ROLE:<role>``) to the device names it
    may set (``"*"`` for all). Without a keytab every setting is refused with DPM_PRIV.
    ``stream_buffer`` is how many bytes of stream data a client may fall behind before its
    readings are dropped (counted in ``dropped_readings``; the client is told).
    """

    def __init__(
        self,
        backend: Backend,
        host: str = "127.0.0.1",
        port: int = 6802,
        *,
        keytab: str | Path | None = None,
        service_name: str = "daeset/bd@localhost",
        roles: Mapping[str, Iterable[str]] | None = None,
        heartbeat_interval: float = 2.0,
        io_timeout: float = 5.0,
        handshake_timeout: float = 5.0,
        send_timeout: float = 10.0,
        max_connections: int = LIST_ID_LAST - LIST_ID_FIRST + 1,
        stream_buffer: int = MAX_PENDING,
    ) -> None:
        self._keytab = check_server_args(
            backend,
            keytab,
            stream_buffer,
            heartbeat_interval=heartbeat_interval,
            io_timeout=io_timeout,
            handshake_timeout=handshake_timeout,
            send_timeout=send_timeout,
        )
        check_port(port, lowest=0)
        self._stream_buffer = stream_buffer
        if not 1 <= max_connections <= LIST_ID_LAST - LIST_ID_FIRST + 1:
            raise ValueError(f"max_connections must be 1..2048, got {max_connections!r}")
        self.backend = backend
        self.host = host
        self.port = port
        self.service_name = service_name
        self._policy = RolePolicy(roles)
        self._heartbeat = float(heartbeat_interval)
        self._io_timeout = float(io_timeout)
        self._handshake_timeout = float(handshake_timeout)
        self._send_timeout = float(send_timeout)
        self._max_connections = max_connections
        self._context_factory = (
            None
            if self._keytab is None
            else gss_context_factory(self._keytab, service_principal(service_name))
        )
        self._lock = threading.Lock()
        self._connections_changed = threading.Condition(self._lock)
        self._connections: dict[int, Connection] = {}
        self._next_list_id = LIST_ID_FIRST
        self._listener: socket.socket | None = None
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self._accept_thread: threading.Thread | None = None
        self._stopped = threading.Event()
        self._stopped.set()
        self._dropped = 0
        self._drop_warning = RateLimitedLogger(log, 10.0)

    # --- public API ---------------------------------------------------------------------

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def client_env(self) -> dict[str, str]:
        """Environment that points pacsys DPM clients at this server."""
        return {"PACSYS_DPM_HOST": self.host, "PACSYS_DPM_PORT": str(self.port)}

    @property
    def dropped_readings(self) -> int:
        """Stream readings dropped for clients too slow to take them (each was told)."""
        with self._lock:
            return self._dropped

    def _count_loss(self, list_id: int, count: int) -> None:
        with self._lock:
            self._dropped += count
        self._drop_warning.warning(
            "list %d: client too slow, %d stream readings dropped (client told)", list_id, count
        )

    @property
    def connection_count(self) -> int:
        with self._lock:
            return len(self._connections)

    def wait_for_connections(self, count: int, timeout: float | None = None) -> bool:
        """Block until exactly ``count`` clients are connected; False on timeout."""
        with self._connections_changed:
            return self._connections_changed.wait_for(
                lambda: len(self._connections) == count, timeout
            )

    def start(self) -> DPMServer:
        """Bind, listen and start accepting; ``port=0`` picks a free port."""
        if self._accept_thread is not None:
            raise RuntimeError("DPMServer already started")
        listener = socket.create_server((self.host, self.port), backlog=64)
        self._listener = listener
        self.port = listener.getsockname()[1]
        self._wake_r, self._wake_w = socket.socketpair()
        self._stopped.clear()
        self._accept_thread = threading.Thread(
            target=self._accept_loop, name=f"pacsys-dpm-accept-{self.port}", daemon=True
        )
        self._accept_thread.start()
        log.info("DPM server on %s (settings %s)", self.address, self._settings_mode())
        return self

    def stop(self) -> None:
        """Stop accepting, drop every client and join every thread; idempotent."""
        thread, self._accept_thread = self._accept_thread, None
        if thread is None:
            return
        assert self._wake_w is not None
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass
        thread.join(10.0)
        with self._lock:
            connections = list(self._connections.values())
        for connection in connections:
            connection.close()
        for sock in (self._listener, self._wake_r, self._wake_w):
            if sock is not None:
                sock.close()
        self._listener = self._wake_r = self._wake_w = None
        self._stopped.set()
        log.info("DPM server on %s stopped", self.address)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the server is stopped; False on timeout."""
        return self._stopped.wait(timeout)

    def __enter__(self) -> DPMServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "stopped" if self._stopped.is_set() else "running"
        return f"<DPMServer {self.address} {state}>"

    # --- internals ----------------------------------------------------------------------

    def _settings_mode(self) -> str:
        if self._keytab is None:
            return "refused: no keytab"
        return f"Kerberos as {service_principal(self.service_name)}"

    def _accept_loop(self) -> None:
        assert self._listener is not None and self._wake_r is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self._listener, selectors.EVENT_READ)
            selector.register(self._wake_r, selectors.EVENT_READ)
            while True:
                ready = selector.select()
                if any(key.fileobj is self._wake_r for key, _ in ready):
                    return
                try:
                    sock, peer = self._listener.accept()
                except OSError as exc:
                    log.warning("accept failed: %s", exc)
                    continue
                self._admit(sock, f"{peer[0]}:{peer[1]}")

    def _admit(self, sock: socket.socket, peer: str) -> None:
        with self._lock:
            list_id = self._allocate_list_id()
            if list_id is None:
                connection = None
            else:
                auth = ListAuth(self.service_name, self._context_factory)
                protocol = ServerProtocol(list_id, auth, self._policy, _wall_ms)
                connection = Connection(
                    sock,
                    peer,
                    protocol,
                    self._new_session,
                    heartbeat_interval=self._heartbeat,
                    handshake_timeout=self._handshake_timeout,
                    send_timeout=self._send_timeout,
                    stream_buffer=self._stream_buffer,
                    on_closed=self._forget,
                )
                self._connections[list_id] = connection
                self._connections_changed.notify_all()
        if connection is None:
            log.warning("refusing %s: %d connections open", peer, self._max_connections)
            sock.close()
            return
        log.debug("DPM client %s -> list %d", peer, list_id)
        connection.start()

    def _allocate_list_id(self) -> int | None:
        if len(self._connections) >= self._max_connections:
            return None
        span = LIST_ID_LAST - LIST_ID_FIRST + 1
        for _ in range(span):
            candidate = self._next_list_id
            self._next_list_id = LIST_ID_FIRST + (candidate - LIST_ID_FIRST + 1) % span
            if candidate not in self._connections:
                return candidate
        return None

    def _forget(self, connection: Connection) -> None:
        with self._lock:
            if self._connections.get(connection.list_id) is connection:
                del self._connections[connection.list_id]
                self._connections_changed.notify_all()

    def _new_session(self, connection: Connection) -> ListSession:
        return ListSession(
            connection.protocol,
            self.backend,
            flush=connection.flush,
            send=connection.send,
            offer=connection.offer,
            on_loss=functools.partial(self._count_loss, connection.list_id),
            clock=_wall_ms,
            io_timeout=self._io_timeout,
        )


def _wall_ms() -> int:
    """Wall-clock milliseconds since the Unix epoch (the timestamp of Status replies)."""
    return time.time_ns() // 1_000_000
