"""AuditLog: JSON-lines records of supervised-server RPCs plus optional raw protobuf capture.

Record and frame layouts follow docs/protocols/grpc.md §7.7.  The frame codec is pure
(:func:`frame`, :func:`read_frames`); :class:`AuditLog` owns the files.
"""

from __future__ import annotations

import base64
import io
import json
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

import numpy as np
from google.protobuf.message import Message

from pacsys_grpc._proto.services import daq_pb2

__all__ = ["FRAME_TAGS", "AuditLog", "frame", "json_safe", "read_frames"]

FRAME_TAGS: Mapping[str, int] = {
    "services.daq.ReadingList": 0x00,
    "services.daq.ReadingReply": 0x01,
    "services.daq.SettingList": 0x02,
    "services.daq.SettingReply": 0x03,
}
_FRAME_CLASSES: dict[int, type[Message]] = {
    0x00: daq_pb2.ReadingList,
    0x01: daq_pb2.ReadingReply,
    0x02: daq_pb2.SettingList,
    0x03: daq_pb2.SettingReply,
}


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def frame(message: Message) -> bytes:
    """``tag | varint length | serialized message`` for one DAQ message."""
    tag = FRAME_TAGS.get(message.DESCRIPTOR.full_name)
    if tag is None:
        raise ValueError(f"No capture tag for {message.DESCRIPTOR.full_name}")
    payload = message.SerializeToString()
    return bytes([tag]) + _varint(len(payload)) + payload


def read_frames(data: bytes) -> Iterator[tuple[int, Message]]:
    """Decode a capture file's frames; ValueError on a truncated or unknown frame."""
    position = 0
    while position < len(data):
        tag = data[position]
        if tag not in _FRAME_CLASSES:
            raise ValueError(f"Unknown capture tag 0x{tag:02x} at offset {position}")
        position += 1
        length, shift = 0, 0
        while True:
            if position >= len(data):
                raise ValueError("Truncated length in capture frame")
            byte = data[position]
            position += 1
            length |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
            if shift > 63:
                raise ValueError("Capture frame length varint too long")
        end = position + length
        if end > len(data):
            raise ValueError("Truncated capture frame payload")
        yield tag, _FRAME_CLASSES[tag].FromString(data[position:end])
        position = end


def json_safe(value: Any) -> Any:
    """A value as JSON data: arrays to lists, numpy scalars to numbers, bytes to base64."""
    if isinstance(value, np.ndarray):
        return [json_safe(item) for item in value.tolist()]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, Mapping):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    if isinstance(value, float | int | str | bool) or value is None:
        return value
    return str(value)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


class AuditLog:
    """Structured audit log with optional raw protobuf capture.

    ``path``: JSON-lines file (opened for append now).  ``proto_path``: binary capture
    (opened on first write).  ``log_responses``: also record replies.  Both files are
    flushed every ``flush_interval`` JSON lines.  Thread-safe; ``close()`` may be followed
    by more writes, which reopen the files.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        proto_path: str | os.PathLike[str] | None = None,
        log_responses: bool = False,
        flush_interval: int = 1,
    ) -> None:
        if (
            isinstance(flush_interval, bool)
            or not isinstance(flush_interval, int)
            or flush_interval < 1
        ):
            raise ValueError(f"flush_interval must be an integer >= 1, got {flush_interval!r}")
        self.path = os.fspath(path)
        self.proto_path = os.fspath(proto_path) if proto_path is not None else None
        self.log_responses = bool(log_responses)
        self.flush_interval = flush_interval
        self._lock = threading.Lock()
        self._seq = 0
        self._unflushed = 0
        self._json: io.TextIOWrapper | None = open(self.path, "a", encoding="utf-8")  # noqa: SIM115
        self._proto: io.BufferedWriter | None = None

    def __repr__(self) -> str:
        return f"AuditLog({self.path!r}, proto_path={self.proto_path!r})"

    def _write(self, record: dict[str, Any], message: Message | None) -> None:
        """Append one record (and frame) under the lock held by the caller."""
        if self._json is None:
            self._json = open(self.path, "a", encoding="utf-8")  # noqa: SIM115
        line = json.dumps(record, separators=(",", ":"), ensure_ascii=False)
        self._json.write(line + "\n")
        if message is not None and self.proto_path is not None:
            if self._proto is None:
                self._proto = open(self.proto_path, "ab")  # noqa: SIM115
            self._proto.write(frame(message))
        self._unflushed += 1
        if self._unflushed >= self.flush_interval:
            self._flush()

    def _flush(self) -> None:
        self._unflushed = 0
        if self._json is not None:
            self._json.flush()
        if self._proto is not None:
            self._proto.flush()

    def log_request(
        self,
        *,
        peer: str,
        method: str,
        drfs: Sequence[str],
        allowed: bool,
        reason: str | None,
        request: Message | None = None,
        values: Sequence[tuple[str, Any]] | None = None,
    ) -> int:
        """Write the "in" record (and the request frame); returns its sequence number."""
        with self._lock:
            self._seq += 1
            record: dict[str, Any] = {
                "ts": _now(),
                "seq": self._seq,
                "dir": "in",
                "peer": peer,
                "method": method,
                "drfs": list(drfs),
                "allowed": allowed,
                "reason": reason,
            }
            if values:
                record["values"] = [{"drf": drf, "value": json_safe(v)} for drf, v in values]
            self._write(record, request)
            return self._seq

    def log_response(self, *, seq: int, peer: str, method: str, reply: Message | None) -> None:
        """Write an "out" record (and reply frame) when ``log_responses`` is on."""
        if not self.log_responses:
            return
        with self._lock:
            record = {"ts": _now(), "seq": seq, "dir": "out", "peer": peer, "method": method}
            self._write(record, reply)

    def flush(self) -> None:
        """Flush both files now."""
        with self._lock:
            self._flush()

    def close(self) -> None:
        """Flush and close both files; idempotent."""
        with self._lock:
            self._flush()
            for handle in (self._json, self._proto):
                if handle is not None:
                    handle.close()
            self._json = None
            self._proto = None
