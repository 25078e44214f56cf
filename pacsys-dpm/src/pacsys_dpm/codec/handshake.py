"""The HTTP-style handshake that opens a DPM connection (docs/protocols/dpm.md §1.2).

The client sends :data:`HANDSHAKE` and then reads frames; no HTTP response
follows on success. A server reads the request head up to the first empty
line with :class:`HeadReader` (sans-I/O), checks it, and either starts sending
frames or refuses with :func:`http_error_response`.
"""

from __future__ import annotations

import dataclasses
from typing import Final

from .errors import DPMProtocolError

HANDSHAKE: Final = b"GET /dpm HTTP/1.1\r\nContent-Type: application/pc\r\n\r\n"
"""The exact 51 bytes the client sends right after connecting."""

HTTP_PREFIX: Final = b"HTTP"
"""What the client reads instead of a frame length when the proxy refuses."""

PC_CONTENT_TYPE: Final = "application/pc"
MAX_HEAD_SIZE: Final = 8192
"""Longest request head a server accepts."""

_HEAD_END: Final = b"\r\n\r\n"


def is_http_response(first_bytes: bytes) -> bool:
    """True when the first 4 bytes from the server start an HTTP reply, not a frame."""
    return first_bytes[:4] == HTTP_PREFIX


def http_error_response(code: int, reason: str) -> bytes:
    """A complete HTTP response head for refusing a connection (send it, then close)."""
    return (f"HTTP/1.1 {code} {reason}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").encode(
        "latin-1"
    )


@dataclasses.dataclass(frozen=True)
class RequestHead:
    """A parsed handshake head; header names are lower-cased."""

    method: str
    target: str
    version: str
    headers: tuple[tuple[str, str], ...]

    def header(self, name: str) -> str | None:
        """Value of the first header called ``name`` (case-insensitive), or None."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key == wanted), None)

    @property
    def wants_pc(self) -> bool:
        """True when the head selects the binary PC protocol (also the default)."""
        content_type = self.header("content-type")
        if content_type is None:
            return True
        return content_type.split(";", 1)[0].strip().lower() == PC_CONTENT_TYPE

    @property
    def is_dpm(self) -> bool:
        """True for ``GET /dpm`` asking for the PC protocol."""
        return self.method == "GET" and self.target == "/dpm" and self.wants_pc


def parse_request_head(head: bytes) -> RequestHead:
    """Parse a request head (without the final empty line)."""
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split()
    if len(parts) != 3 or not parts[2].startswith("HTTP/"):
        raise DPMProtocolError(f"malformed handshake request line {lines[0]!r}")
    headers = []
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep or not name.strip():
            raise DPMProtocolError(f"malformed handshake header {line!r}")
        headers.append((name.strip().lower(), value.strip()))
    return RequestHead(parts[0], parts[1], parts[2], tuple(headers))


class HeadReader:
    """Sans-I/O reader of the handshake head on the server side.

    Feed received bytes until :meth:`feed` returns the head; bytes after the
    head (frames pipelined behind it) are then in :attr:`remainder`.
    """

    __slots__ = ("_buffer", "head", "remainder")

    def __init__(self) -> None:
        self._buffer = bytearray()
        self.head: RequestHead | None = None
        self.remainder = b""

    def feed(self, data: bytes | bytearray | memoryview) -> RequestHead | None:
        """Add bytes; returns the head once the empty line has arrived."""
        if self.head is not None:
            raise RuntimeError("handshake head already complete")
        search_from = max(0, len(self._buffer) - 3)
        self._buffer += data
        end = self._buffer.find(_HEAD_END, search_from)
        if end < 0:
            if len(self._buffer) > MAX_HEAD_SIZE:
                raise DPMProtocolError(f"handshake head longer than {MAX_HEAD_SIZE} bytes")
            return None
        if end > MAX_HEAD_SIZE:
            raise DPMProtocolError(f"handshake head longer than {MAX_HEAD_SIZE} bytes")
        self.head = parse_request_head(bytes(self._buffer[:end]))
        self.remainder = bytes(self._buffer[end + len(_HEAD_END) :])
        self._buffer = bytearray()
        return self.head
