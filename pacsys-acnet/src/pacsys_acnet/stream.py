"""One RETDAT/GETS32 request as a stream of decoded batches (``docs/protocols/acnet.md`` §7.5)."""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

from pacsys.acnet.errors import AcnetError, AcnetTimeoutError
from pacsys.acnet.status import ACNET_ENDMULT, ACNET_PEND
from pacsys.deadline import Deadline

__all__ = ["ReadStream"]

T = TypeVar("T")


class ReadStream(Generic[T]):
    """Replies of one request, decoded by ``decode(data, status, received_at_ns)``.

    ``readings(timeout)`` bounds the whole iteration; queued batches come before a terminal
    error; ``close()`` (also on context exit) discards what is queued and cancels. Without
    ``wait_ack`` the request goes out without waiting for its ACK (a one-shot read).
    """

    def __init__(
        self,
        connection: Any,
        node: int,
        task: str,
        payload: bytes,
        decode: Callable[[bytes, int, int], T],
        *,
        repetitive: bool,
        buffer_size: int = 256,
        wait_ack: bool = True,
    ) -> None:
        if not connection.connected:
            raise RuntimeError("connection is not connected")
        self._decode = decode
        self._task = task
        self._node = node
        self._buffer_size = buffer_size
        self._queue: collections.deque[Any] = collections.deque()
        self._cond = threading.Condition()
        self._error: BaseException | None = None
        self._ended = False
        self._iterating = False
        if wait_ack:  # a refused request raises here
            self._context = connection.send_request(
                node, task, payload, self._on_reply, repetitive, 0
            )
        else:  # it ends the stream with the error
            self._context = connection.start_request(
                node, task, payload, self._on_reply, repetitive, 0, on_ack=self._on_ack
            )

    def _on_ack(self, pending: Any) -> None:
        if pending.error is not None:  # refused or unanswered: nothing will come
            with self._cond:
                if not self._ended:
                    self._error, self._ended = pending.error, True
                    self._cond.notify_all()

    def _on_reply(self, reply: Any) -> None:
        status, data, last = reply.status, reply.data, reply.last
        with self._cond:
            if self._ended:
                return
            if status < 0:
                self._fail(AcnetError(status, f"{self._task} read from node {self._node} failed"))
            elif data:
                if len(self._queue) >= self._buffer_size:
                    self._fail(
                        BufferError(f"{self._task} stream: {self._buffer_size} batches unread")
                    )
                else:
                    self._queue.append((bytes(data), status, time.time_ns()))
                    if last:
                        self._ended = True
            elif status == ACNET_PEND and not last:
                return  # heartbeat
            elif not last:
                self._fail(AcnetError(status, f"{self._task} returned an empty reply"))
            else:
                self._ended = True
            self._cond.notify_all()

    def _fail(self, exc: BaseException) -> None:
        self._error = exc
        self._ended = True
        self._context.cancel()

    def readings(self, timeout: float = 1.0) -> Iterator[T]:
        """Decoded batches until the request ends; AcnetTimeoutError once ``timeout`` is spent."""
        with self._cond:
            if self._iterating:
                raise RuntimeError("only one iterator at a time")
            self._iterating = True
        deadline = Deadline.after(timeout)
        try:
            while True:
                with self._cond:
                    while not self._queue and not self._ended:
                        if deadline.expired:
                            raise AcnetTimeoutError(int(timeout * 1000))
                        self._cond.wait(deadline.remaining())
                    if not self._queue:
                        if self._error is not None:
                            raise self._error
                        return
                    data, status, received = self._queue.popleft()
                try:
                    yield self._decode(data, status, received)
                except ValueError:
                    self.close()
                    raise
        finally:
            self._iterating = False

    def first(self, timeout: float) -> T:
        for batch in self.readings(timeout):
            return batch
        raise AcnetError(ACNET_ENDMULT, "Read request ended without data")

    def close(self) -> None:
        with self._cond:
            self._queue.clear()
            self._ended = True
            self._cond.notify_all()
        self._context.cancel()

    def __enter__(self) -> ReadStream[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
