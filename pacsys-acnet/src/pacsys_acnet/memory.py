"""The sync connection API with an in-memory peer: no sockets, no threads.

For tests of everything above the wire (RETDAT, GETS32, FTPMAN, DPM over ACNET, the
``acnet`` backend) against a scripted daemon or the emulator's daemon engine. Each command
goes to ``peer.command(connection, raw)`` at once; the peer answers, then or later, with
:meth:`MemoryConnection.feed_ack`, :meth:`~MemoryConnection.feed_data` and
:meth:`~MemoryConnection.feed_lost`. Handlers run on the caller's thread, inside those calls.
"""

from __future__ import annotations

from typing import Protocol

from pacsys_acnet.base import SyncConnection
from pacsys_acnet.protocol import Event, Pending

__all__ = ["MemoryConnection", "Peer"]


class Peer(Protocol):
    """The daemon side of a :class:`MemoryConnection`."""

    def open(self, connection: MemoryConnection) -> tuple[int, int]:
        """The connection starts: ``(pid, data port)`` for its CONNECT."""
        ...

    def command(self, connection: MemoryConnection, raw: bytes) -> None:
        """One command (a UDP datagram; a TCP frame's payload)."""
        ...

    def close(self, connection: MemoryConnection) -> None:
        """The connection's transport is gone."""
        ...


class MemoryConnection(SyncConnection):
    """``AcnetConnectionTCP``'s API (``udp=True``: UDP's reply ordering) over a :class:`Peer`.

    A command whose ACK the peer did not give by the time it returns counts as unanswered:
    the connection is lost, as a real one is after the ACK timeout.
    """

    def __init__(self, peer: Peer, name: str = "", *, vnode: str = "", udp: bool = False) -> None:
        self._udp = udp
        super().__init__("memory", 0, name, vnode=vnode)
        self._peer = peer
        self._open = False
        self._depth = 0  # handlers running

    def _handle(self, events: list[Event]) -> None:
        self._depth += 1
        try:
            super()._handle(events)
        finally:
            self._depth -= 1

    def _in_handler(self) -> bool:
        return self._depth > 0

    def _start(self) -> tuple[int, int]:
        self._open = True
        return self._peer.open(self)

    def _stop(self) -> None:
        if self._open:
            self._open = False
            self._peer.close(self)

    def _send(self, raw: bytes) -> None:
        if not self._open:
            raise OSError("not connected")
        self._peer.command(self, raw)

    def _wait(self, pending: Pending, timeout: float) -> bool:
        return pending.finished

    def feed_ack(self, payload: bytes) -> None:
        """The peer answers the command in flight."""
        self._received(self._engine.receive_ack(payload))

    def feed_data(self, payload: bytes) -> None:
        """The peer sends a DATA unit (packets back to back)."""
        self._received(self._engine.receive_data(payload))

    def feed_lost(self) -> None:
        """The peer dropped the connection."""
        self._lose()
