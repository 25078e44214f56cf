"""DPM test fixtures: client and server protocol engines joined in memory (no sockets)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import pytest

from pacsys_dpm.protocol import (
    ClientProtocol,
    ListAuth,
    RolePolicy,
    ServerEvent,
    ServerProtocol,
)
from pacsys_dpm.protocol.access import ContextFactory

TS = 1704067200000  # 2024-01-01T00:00:00Z in ms: the vectors' timestamp


class ProtocolPair:
    """A client and a server engine joined in memory, like h11's ``ConnectionPair``.

    :meth:`to_server` / :meth:`to_client` move whatever one side queued to the other and
    record it, so a test can compare each direction's whole byte stream with a vector.
    Between the two the test plays the server's backend: it answers the events.
    """

    def __init__(
        self,
        list_id: int = 4096,
        *,
        service_name: str = "daeset/bd@localhost",
        acceptor: ContextFactory | None = None,
        roles: Mapping[str, Iterable[str]] | None = None,
        clock: Callable[[], int] = lambda: TS,
        frames_per_write: int = 256,
    ) -> None:
        self.client = ClientProtocol()
        self.server = ServerProtocol(
            list_id,
            ListAuth(service_name, acceptor),
            RolePolicy(roles),
            clock,
            frames_per_write=frames_per_write,
        )
        self.client_sent = bytearray()
        self.server_sent = bytearray()

    @staticmethod
    def drain(endpoint: ClientProtocol | ServerProtocol) -> list[bytes]:
        """Every piece ``endpoint`` has queued for writing, in order."""
        chunks = []
        while data := endpoint.data_to_send():
            chunks.append(data)
        return chunks

    def to_server(self) -> list[ServerEvent]:
        """Deliver what the client queued; the server's events (unanswered ones last)."""
        data = b"".join(self.drain(self.client))
        self.client_sent += data
        if data:
            self.server.receive_data(data)
        return self.server_events()

    def server_events(self) -> list[ServerEvent]:
        events = []
        while (event := self.server.next_event()) is not None:
            events.append(event)
            if type(event).__name__ in ("ListStarted", "SettingsRequested"):
                break  # the test answers it before the server goes on
        return events

    def to_client(self, chunks: list[bytes] | None = None) -> None:
        """Deliver ``chunks`` (default: what the server queued) to the client."""
        for data in self.drain(self.server) if chunks is None else chunks:
            self.server_sent += data
            self.client.receive_data(data)

    def open(self) -> None:
        """Handshake and OpenList."""
        events = self.to_server()
        assert [type(e).__name__ for e in events] == ["ListOpened"]
        self.to_client()
        assert self.client.is_open and self.client.list_id == self.server.list_id


@pytest.fixture
def protocol_pair() -> type[ProtocolPair]:
    """The :class:`ProtocolPair` class: ``protocol_pair(list_id, **options)`` makes one."""
    return ProtocolPair
