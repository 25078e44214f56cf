"""RETDAT: raw property reads of a list of devices (``docs/protocols/acnet.md`` §7.2)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pacsys_acnet.codec.reads import ReadDevice, ReadValue, ReplyLayout
from pacsys_acnet.codec.retdat import (
    RetdatReply,
    build_request,
    check_limits,
    parse_reply,
)
from pacsys_acnet.constants import MAX_ACNET_MESSAGE_SIZE
from pacsys_acnet.stream import ReadStream

__all__ = ["ReadDevice", "ReadValue", "RetdatClient", "RetdatReply", "build_request", "parse_reply"]


class RetdatClient:
    """RETDAT over a connected sync connection (TCP or UDP)."""

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
        self, node: int, devices: Sequence[ReadDevice], ftd: int, buffer_size: int, wait: bool
    ) -> ReadStream[RetdatReply]:
        items = list(devices)
        payload = build_request(items, ftd, **self._limits)
        layout = ReplyLayout(items)

        def decode(data: bytes, status: int, received: int) -> RetdatReply:
            return parse_reply(
                data, items, acnet_status=status, received_at_ns=received, layout=layout
            )

        return ReadStream(
            self._connection,
            node,
            "RETDAT",
            payload,
            decode,
            repetitive=True,
            buffer_size=buffer_size,
            wait_ack=wait,
        )

    def read(
        self, node: int, devices: Sequence[ReadDevice], *, ftd: int = 0, timeout: float = 1.0
    ) -> RetdatReply:
        """One answer for ``devices`` (RETDAT is always a multiple-reply request)."""
        with self._open(node, devices, ftd, 256, False) as stream:
            return stream.first(timeout)

    def stream(
        self, node: int, devices: Sequence[ReadDevice], *, ftd: int, buffer_size: int = 256
    ) -> ReadStream[RetdatReply]:
        return self._open(node, devices, ftd, buffer_size, True)
