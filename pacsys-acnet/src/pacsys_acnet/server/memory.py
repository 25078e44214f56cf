"""The emulator in memory: the daemon engine, its services and a virtual clock as the peer
of :class:`~pacsys_acnet.memory.MemoryConnection` clients. No sockets, no threads.

Everything the daemon queues is delivered at once, in order, through one FIFO (a client
handler that answers inside a delivery has its bytes queued behind what was already due).
Time moves only in :meth:`MemoryDaemon.advance`: request timeouts, PEND heartbeats and the
services' timers (fast time plot data, snapshot completion) fire there in time order.
"""

from __future__ import annotations

import collections
import heapq
import itertools
from collections.abc import Callable, Mapping
from typing import Any

from pacsys_acnet.memory import MemoryConnection
from pacsys_acnet.protocol.daemon import DaemonEngine, DaemonRequest, Out
from pacsys_acnet.server.host import Service

__all__ = ["MemoryDaemon"]


class _Timer:
    __slots__ = ("action", "cancelled")

    def __init__(self, action: Callable[[], None]) -> None:
        self.action = action
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class MemoryDaemon:
    """A daemon for in-memory clients; ``backend`` (optional) gets the emulated tasks.

    ``start`` is the virtual clock's epoch time; the other arguments are
    :class:`~pacsys_acnet.server.AcnetServer`'s.
    """

    def __init__(
        self,
        backend: Any = None,
        *,
        start: float = 1_700_000_000.0,
        devices: Mapping[int, str] | None = None,
        speed: float = 1.0,
    ) -> None:
        from pacsys_acnet.server.server import LOCAL_NAME, NODES, install_services

        self.engine = DaemonEngine(NODES, LOCAL_NAME)
        self._clock = start
        self._timers: list[tuple[float, int, _Timer]] = []
        self._order = itertools.count()
        self._fifo: collections.deque[Out] = collections.deque()
        self._flushing = False
        self._ports = itertools.count(50001)
        self.services: dict[str, Service] = {}
        if backend is not None:
            self.services = install_services(self.engine, self, backend, devices, speed)

    def connection(self, name: str = "", *, udp: bool = False) -> MemoryConnection:
        """A new client of this daemon (not yet connected)."""
        return MemoryConnection(self, name, udp=udp)

    # --- Peer (the clients' side) ---------------------------------------------------------

    def open(self, connection: MemoryConnection) -> tuple[int, int]:
        port = next(self._ports)
        self.engine.attach(connection, port)
        return 0, port

    def command(self, connection: MemoryConnection, raw: bytes) -> None:
        self.engine.receive_command(connection, raw, self._clock)
        self._flush()

    def close(self, connection: MemoryConnection) -> None:
        self.engine.detach(connection)
        self._flush()

    # --- Host (the services' side) --------------------------------------------------------

    def now(self) -> float:
        return self._clock

    def reply(
        self, request: DaemonRequest, status: int, data: bytes = b"", last: bool = True
    ) -> None:
        self.engine.reply(request, status, data, last, self._clock)
        self._flush()

    def schedule(self, delay: float, action: Callable[[], None]) -> _Timer:
        timer = _Timer(action)
        heapq.heappush(self._timers, (self._clock + max(0.0, delay), next(self._order), timer))
        return timer

    # --- time ------------------------------------------------------------------------------

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` of virtual time pass, firing everything that falls due, in order."""
        end = self._clock + seconds
        while True:
            due = self.engine.poll(self._clock)
            self._flush()
            while self._timers and self._timers[0][2].cancelled:
                heapq.heappop(self._timers)
            timer_at = self._timers[0][0] if self._timers else None
            candidates = [t for t in (due, timer_at) if t is not None and t <= end]
            if not candidates:
                break
            self._clock = max(self._clock, min(candidates))
            if timer_at is not None and timer_at <= self._clock:
                _, _, timer = heapq.heappop(self._timers)
                timer.action()
                self._flush()
        self._clock = end

    def _flush(self) -> None:
        self._fifo.extend(self.engine.take())
        if self._flushing:
            return  # the outer call delivers it, behind what is already queued
        self._flushing = True
        try:
            while self._fifo:
                out = self._fifo.popleft()
                if out.kind == "ack":
                    out.target.feed_ack(out.payload)
                elif out.kind == "data":
                    out.target.feed_data(out.payload)
                else:
                    service = self.services[out.target.task_name]
                    (service.request if out.kind == "serve" else service.cancel)(out.target)
                self._fifo.extend(self.engine.take())
        finally:
            self._flushing = False
