"""What both roles of a DPM connection share: frames in and out, the list id, tracing.

A connection carries one list for its whole life. Either side turns received bytes into
frame bodies and queues framed messages for the driver to write; any fault the peer causes
leaves the endpoint failed, and every later call raises that fault again.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterator, Sequence
from typing import NoReturn

from pacsys_dpm.codec import DPMProtocolError, FrameDecoder, Message, encode_message, frame_many

__all__ = ["Endpoint", "trace_log"]

trace_log = logging.getLogger("pacsys_dpm.connection")
"""Where ``PACSYS_DPM_TRACE`` logs every message (DEBUG)."""


class Endpoint:
    """Frame decoding, the outgoing queue and the failure state of one connection."""

    def __init__(self, *, trace: bool = False, detect_http_rejection: bool = False) -> None:
        self.list_id: int | None = None
        self.trace = trace
        """True: every message is logged and the fast lanes (which skip decoding) are off."""
        self._decoder = FrameDecoder(detect_http_rejection=detect_http_rejection)
        self._outgoing: deque[bytes | Iterator[bytes]] = deque()
        self._error: BaseException | None = None
        self._bad_frame: DPMProtocolError | None = None

    @property
    def failed(self) -> bool:
        """True once a fault (from the peer or an injected call) made the connection unusable."""
        return self._error is not None

    def data_to_send(self) -> bytes:
        """The next bytes to write, in order; ``b""`` when nothing is waiting.

        Call it until it returns ``b""``: long answers come in several pieces, each
        encoded only when asked for, so the peer can work on one while the next is built.
        """
        outgoing = self._outgoing
        while outgoing:
            head = outgoing[0]
            if isinstance(head, bytes):
                outgoing.popleft()
                return head
            chunk = next(head, None)
            if chunk is not None:
                return chunk
            outgoing.popleft()
        return b""

    # --- for the roles -------------------------------------------------------------------

    def _queue(self, data: bytes | Iterator[bytes]) -> None:
        self._outgoing.append(data)

    def _queue_messages(self, messages: Sequence[Message]) -> None:
        if self.trace:
            for message in messages:
                trace_log.debug("list %s -> %r", self.list_id, message)
        self._outgoing.append(frame_many([encode_message(m) for m in messages]))

    def _bodies(self, data: bytes) -> list[bytes]:
        """Feed received bytes; every complete frame body before any bad frame.

        A bad frame fails the connection: at once when it comes first, else once the
        role has taken the good bodies before it (:meth:`_check_frames`).
        """
        self._check()
        decoder = self._decoder
        try:
            decoder.feed(data)
            bodies = decoder.drain()
        except DPMProtocolError as exc:
            self._fail(exc)
        if bodies and decoder.buffered >= 4:
            try:
                decoder.next_frame()  # None for a partial frame; raises for a bad length
            except DPMProtocolError as exc:
                self._bad_frame = exc
        return bodies

    def _check_frames(self) -> None:
        """Fail for a bad frame that followed the bodies already taken."""
        if self._bad_frame is not None:
            self._fail(self._bad_frame)

    def _check(self) -> None:
        if self._error is not None:
            raise self._error

    def _fail(self, exc: BaseException) -> NoReturn:
        self._error = exc
        raise exc
