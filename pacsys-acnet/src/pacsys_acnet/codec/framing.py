"""The TCP bridge envelope: ``u32 size (BE) | u16 type (BE) | payload``, size = type + payload.

``docs/protocols/acnet.md`` §1.3. On UDP there is no envelope: a datagram is the payload.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

from pacsys_acnet.constants import MAX_FRAME_SIZE

__all__ = ["FrameDecoder", "StreamDesynchronized", "frame", "frames"]

_HEAD = struct.Struct(">IH")


class StreamDesynchronized(ValueError):
    """A frame size outside 2..65535: the byte stream can no longer be trusted."""

    def __init__(self, size: int) -> None:
        super().__init__(f"Invalid packet length: {size}, stream desynchronized")
        self.size = size


def frame(kind: int, payload: bytes = b"") -> bytes:
    """One frame of type ``kind`` around ``payload``."""
    return _HEAD.pack(len(payload) + 2, kind) + payload


def frames(kind: int, payloads: Iterable[bytes]) -> bytes:
    """Several frames of one type, concatenated."""
    return b"".join(_HEAD.pack(len(p) + 2, kind) + p for p in payloads)


class FrameDecoder:
    """Splits a byte stream into ``(type, payload)`` frames, however the bytes were cut.

    A size below 2 or above 65535 desynchronizes the stream: :meth:`feed` still returns
    the frames before it, then :attr:`error` holds a :class:`StreamDesynchronized` and
    every later byte is ignored.
    """

    def __init__(self, max_size: int = MAX_FRAME_SIZE) -> None:
        self._buffer = bytearray()
        self._max = max_size
        self.error: StreamDesynchronized | None = None

    @property
    def buffered(self) -> int:
        """Bytes held back as the start of an incomplete frame."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        if self.error is not None:
            return []
        buf = self._buffer
        buf += data
        out: list[tuple[int, bytes]] = []
        pos, end = 0, len(buf)
        while end - pos >= 4:
            size = int.from_bytes(buf[pos : pos + 4], "big")
            if size < 2 or size > self._max:
                del buf[:]
                self.error = StreamDesynchronized(size)
                return out
            if end - pos < 4 + size:
                break
            kind = buf[pos + 4] << 8 | buf[pos + 5]
            out.append((kind, bytes(buf[pos + 6 : pos + 4 + size])))
            pos += 4 + size
        if pos:
            del buf[:pos]
        return out
