"""GETS32: raw property reads on a named event (``docs/protocols/acnet.md`` §7.3)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pacsys_acnet.codec.gets32 import (
    HEADER_SIZE,
    Gets32Event,
    Gets32Header,
    Gets32Reply,
    build_request,
    parse_reply,
)
from pacsys_acnet.codec.reads import ReadDevice, ReplyLayout
from pacsys_acnet.codec.retdat import check_limits
from pacsys_acnet.constants import MAX_ACNET_MESSAGE_SIZE
from pacsys_acnet.stream import ReadStream

__all__ = [
    "Gets32Client",
    "Gets32Event",
    "Gets32Header",
    "Gets32Reply",
    "build_request",
    "parse_reply",
]


class Gets32Client:
    """GETS32 over a connected sync connection (TCP or UDP)."""

    def __init__(
        self,
        connection: Any,
        *,
        max_request_size: int = MAX_ACNET_MESSAGE_SIZE,
        max_reply_size: int = MAX_ACNET_MESSAGE_SIZE,
    ) -> None:
        check_limits(max_request_size, max_reply_size)
        self._connection = connection
        self._limits = {"max_request_size": max_request_size, "max_reply_size": max_reply_size}

    def _open(
        self,
        node: int,
        devices: Sequence[ReadDevice],
        event: str | Gets32Event,
        priority: int,
        repetitive: bool | None,
        buffer_size: int,
        wait: bool,
    ) -> ReadStream[Gets32Reply]:
        items = list(devices)
        wire = event if isinstance(event, Gets32Event) else Gets32Event.from_string(event)
        rep = wire.repetitive if repetitive is None else repetitive
        payload = build_request(
            node, items, wire, priority=priority, repetitive=rep, **self._limits
        )

        layout = ReplyLayout(items, HEADER_SIZE)

        def decode(data: bytes, status: int, received: int) -> Gets32Reply:
            return parse_reply(
                data, items, acnet_status=status, received_at_ns=received, layout=layout
            )

        return ReadStream(
            self._connection,
            node,
            "GETS32",
            payload,
            decode,
            repetitive=rep,
            buffer_size=buffer_size,
            wait_ack=wait,
        )

    def read(
        self,
        node: int,
        devices: Sequence[ReadDevice],
        *,
        event: str | Gets32Event = "I",
        priority: int = 1,
        timeout: float = 1.0,
    ) -> Gets32Reply:
        with self._open(node, devices, event, priority, False, 256, False) as stream:
            return stream.first(timeout)

    def stream(
        self,
        node: int,
        devices: Sequence[ReadDevice],
        *,
        event: str | Gets32Event,
        priority: int = 1,
        buffer_size: int = 256,
    ) -> ReadStream[Gets32Reply]:
        return self._open(node, devices, event, priority, None, buffer_size, True)
