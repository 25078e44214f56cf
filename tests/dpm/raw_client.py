"""A DPM client made of a socket and the codec, shared by the DPM server tests."""

from __future__ import annotations

import socket
import time
from typing import Any

from pacsys_dpm.codec import (
    HANDSHAKE,
    AddToListRequest,
    AuthenticateReply,
    AuthenticateRequest,
    ClearListRequest,
    DeviceInfoReply,
    EnableSettingsRequest,
    FrameDecoder,
    ListStatusReply,
    OpenListReply,
    Reply,
    StartListReply,
    StartListRequest,
    StatusReply,
    StopListRequest,
    decode_reply,
    encode_message,
    frame_many,
)

WAIT = 5.0


class RawClient:
    """A DPM client made of a socket and the codec, for driving the server frame by frame."""

    def __init__(self, port: int, *, handshake: bytes = HANDSHAKE, rcvbuf: int = 0) -> None:
        self.sock = socket.socket()
        if rcvbuf:  # before connecting, so the TCP window stays that small
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(WAIT)
        self.sock.connect(("127.0.0.1", port))
        self.decoder = FrameDecoder()
        self.raw = bytearray()
        self.sock.sendall(handshake)
        self.list_id = -1

    def open(self) -> RawClient:
        first = self.recv(skip_heartbeats=False)
        assert isinstance(first, OpenListReply)
        self.list_id = first.list_id
        return self

    def send(self, *requests: Any) -> None:
        self.sock.sendall(frame_many([encode_message(r) for r in requests]))

    def recv(self, timeout: float = WAIT, *, skip_heartbeats: bool = True) -> Reply:
        deadline = time.monotonic() + timeout
        while True:
            for body in self.decoder:
                reply = decode_reply(body)
                if skip_heartbeats and isinstance(reply, ListStatusReply):
                    continue
                return reply
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no reply from the server")
            self.sock.settimeout(remaining)
            data = self.sock.recv(65536)
            if not data:
                raise EOFError("server closed the connection")
            self.raw += data
            self.decoder.feed(data)

    def recv_n(self, n: int, timeout: float = WAIT) -> list[Reply]:
        return [self.recv(timeout) for _ in range(n)]

    def read_list(self, drfs: list[str], failing: int = 0) -> list[Reply]:
        """AddToList refs 1..n, StartList, and every reply (``failing`` refs get one Status)."""
        self.send(*(AddToListRequest(self.list_id, i + 1, d) for i, d in enumerate(drfs)))
        self.send(StartListRequest(self.list_id))
        replies = self.recv_n(2 * len(drfs) + 1 - failing)
        self.send(StopListRequest(self.list_id), ClearListRequest(self.list_id))
        return replies

    def sync(self) -> None:
        """Round trip: every request sent before has been processed once this returns."""
        self.send(AuthenticateRequest(self.list_id, b""))
        reply = self.recv()
        assert isinstance(reply, AuthenticateReply), reply

    def wait_eof(self, timeout: float = WAIT) -> bytes:
        """Read until the server closes; returns what arrived meanwhile."""
        self.sock.settimeout(timeout)
        got = bytearray()
        while True:
            data = self.sock.recv(65536)
            if not data:
                return bytes(got)
            got += data

    def close(self) -> None:
        self.sock.close()


def write_setup(c: RawClient, *drfs: str, role: str | None = "ops") -> None:
    """Restart ``c``'s list with ``role`` (a ``#ROLE:`` entry) and ``drfs``; read the replies."""
    c.send(StopListRequest(c.list_id), ClearListRequest(c.list_id))
    if role is not None:
        c.send(AddToListRequest(c.list_id, 0, f"#ROLE:{role}"))
    c.send(*(AddToListRequest(c.list_id, i + 1, d) for i, d in enumerate(drfs)))
    c.send(StartListRequest(c.list_id))
    got = c.recv_n(len(drfs) + 1)
    assert [type(r) for r in got] == [DeviceInfoReply] * len(drfs) + [StartListReply]


def authenticate(c: RawClient, service: str = "daeset/bd@localhost") -> Any:
    """The reference's Authenticate + EnableSettings (docs/protocols/dpm.md §4.7.1-§4.7.2)."""
    from pacsys.auth import KerberosAuth
    from pacsys.gss import ClientContext

    c.send(AuthenticateRequest(c.list_id, b""))
    first = c.recv()
    assert first == AuthenticateReply(service)
    target = first.service_name.replace("@", "/").replace("\\", "") + "@FNAL.GOV"
    context = ClientContext(target, KerberosAuth())
    c.send(AuthenticateRequest(c.list_id, context.step()))
    second = c.recv()
    assert isinstance(second, AuthenticateReply) and second.service_name == service
    assert second.token is None and context.complete
    c.send(EnableSettingsRequest(c.list_id, context.get_mic(b"1234"), b"1234"))
    assert c.recv() == StatusReply(0, 0, -1, 0)
    return context
