"""DPM over ACNET: DPM lists served by task DPMD, reached through acnetd.

``docs/protocols/acnet.md`` §10. :class:`DPMList` is one list on any connected sync
connection (its OpenList request stays open and carries every asynchronous reply of the
list); :class:`DPMAcnet` is the reference's client: its own anonymous TCP connection, one
list, and a queue of :class:`DPMReading`.
"""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

from pacsys.acnet.status import ACNET_CANCELLED
from pacsys.deadline import Deadline
from pacsys_acnet import constants as c
from pacsys_acnet.codec.dpm import (
    DEFAULT_DPM_NODE,
    DPM_TASK,
    DPMError,
    DPMReading,
    read_drf,
    reading_from_reply,
)
from pacsys_dpm.codec import (
    AddToListReply,
    AddToListRequest,
    ClearListRequest,
    DPMProtocolError,
    ListStatusReply,
    OpenListReply,
    OpenListRequest,
    RemoveFromListReply,
    RemoveFromListRequest,
    StartListReply,
    StartListRequest,
    StatusReply,
    StopListRequest,
    decode_reply,
    encode_message,
)

__all__ = ["DPMAcnet", "DPMError", "DPMList", "DPMReading"]

log = logging.getLogger("pacsys_acnet.dpm_acnet")
MAX_QUEUED = 10000
REQUEST_TIMEOUT = 5.0  # s, each single request (the wait adds one second)


def _decode(data: bytes) -> Any:
    try:
        return decode_reply(data)
    except (DPMProtocolError, ValueError) as exc:
        raise DPMError(-1, f"undecodable DPM reply: {exc}") from None


class DPMList:
    """One DPM list at ``node`` on a connected sync connection.

    Every decoded message of the list's stream (data, Status, DeviceInfo, ...) goes to
    ``on_message`` on the connection's thread; ``on_end`` gets the status that ended the
    stream (a final reply, a lost connection).
    """

    def __init__(
        self,
        connection: Any,
        node: int,
        on_message: Callable[[Any], None],
        on_end: Callable[[int], None] | None = None,
    ) -> None:
        self._connection = connection
        self._node = node
        self._on_message = on_message
        self._on_end = on_end
        self._opened = threading.Event()
        self._open_error: str | None = None
        self._list_id: int | None = None
        self._context: Any = None
        self.ended: int | None = None  # the status that ended the stream

    @property
    def list_id(self) -> int:
        if self._list_id is None:
            raise DPMError(-1, "DPM list is not open")
        return self._list_id

    def open(self, timeout: float = 5.0) -> int:
        """OpenList as a kept-open multiple-reply request; the list id."""
        self._context = self._connection.request_multiple(
            self._node, DPM_TASK, encode_message(OpenListRequest()), self._on_reply, timeout=0
        )
        if not self._opened.wait(timeout):
            self.close()
            raise DPMError(-1, "Timeout waiting for OpenList reply")
        if self._open_error is not None:
            self.close()
            status = self.ended if self.ended is not None else -1
            raise DPMError(status, f"OpenList failed: {self._open_error}")
        return self.list_id

    def _on_reply(self, reply: Any) -> None:
        if reply.last:
            status = reply.status
            if reply.data:
                try:
                    message = decode_reply(reply.data)
                except (DPMProtocolError, ValueError):
                    message = None
                if isinstance(message, StatusReply) and message.status != 0:
                    status = message.status
            self._end(status)
            return
        try:
            message = _decode(reply.data)
        except DPMError as exc:
            if not self._opened.is_set():
                self._fail_open(str(exc))
            else:
                log.warning("list %s: %s", self._list_id, exc)
            return
        if isinstance(message, OpenListReply) and self._list_id is None:
            self._list_id = message.list_id
            self._opened.set()
        elif not self._opened.is_set():
            self._fail_open(f"expected OpenList, got {type(message).__name__}")
        else:
            self._on_message(message)

    def _fail_open(self, error: str) -> None:
        self._open_error = error
        self._opened.set()

    def _end(self, status: int) -> None:
        if self.ended is not None:
            return
        self.ended = status
        if not self._opened.is_set():
            self._fail_open(f"stream ended with status {status}")
        if self._on_end is not None:
            self._on_end(status)

    def request(self, message: Any, expect: type | None = None) -> Any:
        """One single request; its decoded reply (``expect`` checks the reply's type)."""
        return self.requests([message], expect)[0]

    def requests(self, messages: list[Any], expect: type | None = None) -> list[Any]:
        """Single requests sent back to back (none waits for the previous one's ACK), then
        their decoded replies, in order.

        A refused request raises its AcnetError; a negative ACNET status, an undecodable
        reply, an unexpected type or a negative ``status`` field raises DPMError.
        """
        done = threading.Semaphore(0)
        replies: dict[int, Any] = {}
        refused: list[BaseException] = []

        def handler(index: int) -> Callable[[Any], None]:
            def on_reply(reply: Any) -> None:
                replies[index] = reply
                done.release()

            return on_reply

        def acked(pending: Any) -> None:
            if pending.error is not None:
                refused.append(pending.error)
                done.release()

        contexts = [
            self._connection.start_request(
                self._node,
                DPM_TASK,
                encode_message(message),
                handler(i),
                False,
                int(REQUEST_TIMEOUT * 1000),
                on_ack=acked,
            )
            for i, message in enumerate(messages)
        ]
        deadline = Deadline.after(REQUEST_TIMEOUT + 1.0)
        for _ in messages:
            if not done.acquire(timeout=deadline.remaining()) or refused:
                for context in contexts:
                    context.cancel()
                if refused:
                    raise refused[0]
                name = type(messages[len(replies)]).__name__
                raise DPMError(-1, f"Timeout waiting for the {name} reply")
        return [self._check(message, replies[i], expect) for i, message in enumerate(messages)]

    @staticmethod
    def _check(message: Any, reply: Any, expect: type | None) -> Any:
        if reply.status < 0:
            raise DPMError(reply.status, f"DPM request failed with status {reply.status}")
        decoded = _decode(reply.data)
        if expect is not None and not isinstance(decoded, expect):
            raise DPMError(-1, f"Expected {expect.__name__}, got {type(decoded).__name__}")
        status = getattr(decoded, "status", 0)
        if status < 0:
            raise DPMError(status, f"{type(message).__name__} failed")
        return decoded

    def add_entry(self, tag: int, drf: str) -> None:
        self.add_entries([(tag, drf)])

    def add_entries(self, entries: list[tuple[int, str]]) -> None:
        """AddToList for each ``(tag, drf)``, pipelined."""
        for tag, drf in entries:
            if isinstance(tag, bool) or not isinstance(tag, int):
                raise TypeError("tag must be an integer")
            if not isinstance(drf, str):
                raise TypeError("drf must be a string")
        list_id = self.list_id
        self.requests([AddToListRequest(list_id, t, d) for t, d in entries], AddToListReply)

    def remove_entry(self, tag: int) -> None:
        self.request(RemoveFromListRequest(self.list_id, tag), RemoveFromListReply)

    def start(self, model: str | None = None) -> None:
        self.request(StartListRequest(self.list_id, model or None), StartListReply)

    def stop(self) -> None:
        self.request(StopListRequest(self.list_id), StatusReply)

    def clear(self) -> None:
        self.request(ClearListRequest(self.list_id), ListStatusReply)

    def close(self) -> None:
        """Cancel the OpenList request: DPM drops the list."""
        if self._context is not None:
            self._context.cancel()


class DPMAcnet:
    """DPM through acnetd: an anonymous TCP connection, a list at ``dpm_node`` (DPM06).

    ``connection`` (not connected) replaces the TCP connection, e.g. an in-memory one;
    it is connected and closed with this object.
    """

    def __init__(
        self,
        host: str = c.ACSYS_PROXY_HOST,
        port: int = c.ACNET_TCP_PORT,
        dpm_node: str | None = None,
        *,
        trace: bool = False,
        connection: Any = None,
    ) -> None:
        self._host, self._port, self._trace = host, port, trace
        self._dpm_node = dpm_node or DEFAULT_DPM_NODE
        self._given = connection
        self._connection: Any = None
        self._list: DPMList | None = None
        self._cond = threading.Condition()
        self._queue: collections.deque[DPMReading] = collections.deque()
        self._ended: int | None = None
        self._active = False
        self._tags: set[int] = set()
        self._meta: dict[int, dict[str, Any]] = {}

    @property
    def list_id(self) -> int:
        if self._list is None:
            raise DPMError(-1, "DPM list is not open")
        return self._list.list_id

    @property
    def handle(self) -> str:
        return self._connection.handle if self._connection is not None else ""

    def _dpm(self) -> DPMList:
        if self._list is None:
            raise DPMError(-1, "DPM list is not open")
        return self._list

    def connect(self) -> None:
        if self._connection is not None:
            raise RuntimeError("DPMAcnet is already connected; close() it first")
        with self._cond:
            self._queue.clear()
            self._ended = None
        self._tags.clear()
        self._meta.clear()
        if self._given is not None:
            self._connection = self._given
        else:
            from pacsys_acnet.connection import AcnetConnectionTCP

            self._connection = AcnetConnectionTCP(self._host, self._port, trace=self._trace)
        try:
            self._connection.connect()
            node = self._connection.get_node(self._dpm_node)
            self._list = DPMList(self._connection, node, self._on_message, self._terminate)
            self._list.open()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Wake readers, cancel the list's OpenList request, close the connection."""
        self._terminate(ACNET_CANCELLED)
        dpm, self._list = self._list, None
        connection, self._connection = self._connection, None
        if dpm is not None:
            dpm.close()
        if connection is not None:
            connection.close()
        self._active = False

    def _on_message(self, message: Any) -> None:
        reading = reading_from_reply(message, self._meta)
        if reading is None:
            return
        with self._cond:
            if self._ended is None and len(self._queue) < MAX_QUEUED:
                self._queue.append(reading)
                self._cond.notify_all()

    def _terminate(self, status: int) -> None:
        with self._cond:
            if self._ended is None:
                self._ended = status
            self._cond.notify_all()

    def add_entry(self, tag: int, drf: str) -> None:
        self._dpm().add_entry(tag, drf)
        if not drf.startswith("#"):
            self._tags.add(tag)

    def remove_entry(self, tag: int) -> None:
        self._dpm().remove_entry(tag)
        self._tags.discard(tag)
        self._meta.pop(tag, None)

    def start(self, model: str | None = None) -> None:
        self._dpm().start(model)
        self._active = True

    def stop(self) -> None:
        if not self._active:
            return
        self._active = False
        if self._ended is None:  # a dead stream took the list with it
            self._dpm().stop()

    def clear_list(self) -> None:
        self._dpm().clear()
        self._tags.clear()
        self._meta.clear()

    def _next(self, timeout: float | None) -> DPMReading | None:
        with self._cond:
            if not self._queue and self._ended is None:
                self._cond.wait(timeout)
            return self._queue.popleft() if self._queue else None

    def readings(self, timeout: float | None = None) -> Iterator[DPMReading]:
        """Readings until the stream ends or none arrives within ``timeout`` (None: forever)."""
        while (reading := self._next(timeout)) is not None:
            yield reading

    def read(self, drf: str, timeout: float = 5.0) -> DPMReading:
        """One reading of ``drf`` (an immediate read unless it names an event)."""
        wire = read_drf(drf)
        tag = hash(wire) & 0x7FFFFFFF
        owned = tag not in self._tags
        self.add_entry(tag, wire)
        started = not self._active
        try:
            if started:
                with self._cond:
                    self._queue.clear()  # left over from an earlier acquisition
                self.start()
            deadline = Deadline.after(timeout)
            while not deadline.expired:
                reading = self._next(deadline.remaining())
                if reading is None:
                    break
                if reading.ref_id == tag:
                    if reading.status < 0:
                        raise DPMError(reading.status, f"Error reading {drf}")
                    return reading
            if self._ended is not None:
                raise DPMError(self._ended, f"DPM stream ended while reading {drf}")
            raise TimeoutError(f"Timeout reading {drf}")
        finally:
            if self._list is not None and self._ended is None:
                if started:
                    self.stop()
                if owned:
                    self.remove_entry(tag)

    def __enter__(self) -> DPMAcnet:
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
