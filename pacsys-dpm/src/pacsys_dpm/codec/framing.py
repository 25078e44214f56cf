"""Length-prefixed framing of DPM messages on a byte stream (docs/protocols/dpm.md §1.4).

Each frame is a big-endian uint32 body length followed by the body. The
:class:`FrameDecoder` is sans-I/O: feed it whatever the socket returned and
take complete bodies out; it copes with partial frames and many frames per
chunk. A length of 0 or above the limit is fatal because the stream cannot be
resynchronised; the decoder then stays failed.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from typing import Final

from .errors import DPMHTTPRejected, DPMProtocolError
from .handshake import HTTP_PREFIX

MAX_FRAME_SIZE: Final = 1 << 20
"""Largest body a client accepts (1 MiB); larger or empty frames are fatal."""

SERVER_FRAME_SIZE: Final = 128 * 1024
"""Largest body the production server buffers; a server should stay at or below it."""

_LENGTH: Final = struct.Struct(">I")
_MAX_STATUS_LINE: Final = 1024


def frame(body: bytes | bytearray | memoryview, max_size: int = MAX_FRAME_SIZE) -> bytes:
    """Length prefix + ``body``; raises ``ValueError`` for an empty or oversized body."""
    return frame_many((body,), max_size)


def frame_many(
    bodies: Iterable[bytes | bytearray | memoryview], max_size: int = MAX_FRAME_SIZE
) -> bytes:
    """Several frames back to back, ready for one ``send``."""
    parts: list[bytes | bytearray | memoryview] = []
    pack = _LENGTH.pack
    for body in bodies:
        size = len(body)
        if not 0 < size <= max_size:
            raise ValueError(f"frame body of {size} bytes is outside 1..{max_size}")
        parts.append(pack(size))
        parts.append(body)
    return b"".join(parts)


class FrameDecoder:
    """Incremental frame splitter.

    ``detect_http_rejection`` is for the client's receive stream: if the
    stream starts with ``HTTP`` instead of a length, the proxy refused the
    handshake, and :class:`DPMHTTPRejected` is raised with its status line
    once that line is complete.
    """

    __slots__ = ("_buffer", "_detect_http", "_error", "_frames", "_max_size", "_pos")

    def __init__(
        self, max_frame_size: int = MAX_FRAME_SIZE, *, detect_http_rejection: bool = False
    ) -> None:
        if max_frame_size < 1:
            raise ValueError("max_frame_size must be positive")
        self._max_size = max_frame_size
        self._detect_http = detect_http_rejection
        self._buffer = bytearray()
        self._pos = 0
        self._frames = 0
        self._error: DPMProtocolError | None = None

    @property
    def buffered(self) -> int:
        """Bytes received but not yet returned as a frame."""
        return len(self._buffer) - self._pos

    @property
    def frames_decoded(self) -> int:
        """How many frames :meth:`next_frame` has returned."""
        return self._frames

    @property
    def failed(self) -> bool:
        """True once an invalid frame length was seen; the stream is then unusable."""
        return self._error is not None

    def pending(self) -> bytes:
        """Copy of the unconsumed bytes (e.g. to report a partial HTTP reply at EOF)."""
        return bytes(self._buffer[self._pos :])

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        """Append received bytes."""
        if self._error is not None:
            raise self._error
        self._buffer += data

    def next_frame(self) -> bytes | None:
        """The next complete body, or None when more bytes are needed."""
        if self._error is not None:
            raise self._error
        buffer = self._buffer
        pos = self._pos
        if len(buffer) - pos < 4:
            self._compact()
            return None
        (size,) = _LENGTH.unpack_from(buffer, pos)
        if size == 0 or size > self._max_size:
            if self._detect_http and self._frames == 0 and buffer[pos : pos + 4] == HTTP_PREFIX:
                self._http_rejection()  # raises once the status line is complete
                return None
            self._error = DPMProtocolError(
                f"invalid frame length {size} (allowed 1..{self._max_size})"
            )
            raise self._error
        end = pos + 4 + size
        if end > len(buffer):
            self._compact()
            return None
        with memoryview(buffer) as view:
            body = view[pos + 4 : end].tobytes()
        self._pos = end
        self._frames += 1
        return body

    def drain(self) -> list[bytes]:
        """Every complete body now buffered, in one call (what iterating would yield).

        A bad length after good frames ends the list; the next call raises for it,
        so the caller still sees every good frame first, as with :meth:`next_frame`.
        """
        if self._error is not None:
            raise self._error
        bodies: list[bytes] = []
        if self._frames == 0 and self._detect_http:  # it may be an HTTP status line
            first = self.next_frame()
            if first is None:
                return bodies
            bodies.append(first)
        buffer, pos, limit = self._buffer, self._pos, self._max_size
        available = len(buffer)
        unpack = _LENGTH.unpack_from
        already = len(bodies)  # counted by next_frame
        with memoryview(buffer) as view:
            while available - pos >= 4:
                (size,) = unpack(buffer, pos)
                end = pos + 4 + size
                if size == 0 or size > limit or end > available:
                    break
                bodies.append(view[pos + 4 : end].tobytes())
                pos = end
        if not bodies:
            return list(self)  # raises for a bad length; compacts when incomplete
        self._frames += len(bodies) - already
        self._pos = pos
        self._compact()
        return bodies

    def __iter__(self) -> Iterator[bytes]:
        """Every complete body currently buffered."""
        while (body := self.next_frame()) is not None:
            yield body

    def _compact(self) -> None:
        if self._pos:
            del self._buffer[: self._pos]
            self._pos = 0

    def _http_rejection(self) -> None:
        text = self._buffer[self._pos : self._pos + _MAX_STATUS_LINE]
        line_end = text.find(b"\n")
        if line_end < 0 and len(text) < _MAX_STATUS_LINE:
            return None  # wait for the whole status line
        line = bytes(text if line_end < 0 else text[:line_end]).decode("latin-1").strip()
        self._error = DPMHTTPRejected(line)
        raise self._error
