"""What streaming backends share: the table of live streams, remove/stop_streaming, endpoints.

Every network backend keeps one stream (a thread, a list, a job) per subscription handle,
stops that stream when its handle stops, and ends them all on ``close``.  That bookkeeping
lives here once: :class:`StreamTable` and the :class:`StreamingBackend` base built on it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any, Generic, Protocol, TypeVar

from pacsys.backends import Backend
from pacsys.backends.dispatch import CallbackDispatcher
from pacsys.backends.subscription import BufferedSubscriptionHandle, parsed_subscription
from pacsys.types import DispatchMode, ErrorCallback, ReadingCallback, SubscriptionHandle

__all__ = ["NetworkBackend", "StreamTable", "StreamingBackend"]


class Stoppable(Protocol):
    """What a backend runs for one subscription: something it can stop."""

    def stop(self) -> None: ...


S = TypeVar("S", bound=Stoppable)


class StreamTable(Generic[S]):
    """The live streams of one backend, by handle; thread-safe.

    Give :meth:`on_stop` to each handle as its ``on_stop`` hook: stopping the handle then
    forgets it and stops its stream.  After :meth:`close` no stream can be added.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._streams: dict[BufferedSubscriptionHandle, S] = {}
        self._closed = False

    def add(self, handle: BufferedSubscriptionHandle, stream: S) -> None:
        """Record ``stream`` as serving ``handle``; RuntimeError once the table is closed."""
        with self._lock:
            if self._closed:
                raise RuntimeError("Backend is closed")
            self._streams[handle] = stream

    def pop(self, handle: BufferedSubscriptionHandle) -> S | None:
        """Forget ``handle``; its stream, if it had one."""
        with self._lock:
            return self._streams.pop(handle, None)

    def discard(self, handle: BufferedSubscriptionHandle, stream: S) -> None:
        """Forget ``handle`` if ``stream`` still serves it (a stream that ended by itself)."""
        with self._lock:
            if self._streams.get(handle) is stream:
                del self._streams[handle]

    def prune_stopped(self) -> None:
        """Forget the handles that have stopped without their hook (ended by a failure)."""
        with self._lock:
            for handle in [h for h in self._streams if h.stopped]:
                del self._streams[handle]

    def on_stop(self, handle: BufferedSubscriptionHandle) -> None:
        """The handle's ``on_stop`` hook: forget it and stop its stream."""
        stream = self.pop(handle)
        if stream is not None:
            stream.stop()

    def handles(self) -> list[BufferedSubscriptionHandle]:
        with self._lock:
            return list(self._streams)

    def __len__(self) -> int:
        with self._lock:
            return len(self._streams)

    def close(self) -> None:
        """Refuse new streams; mark every handle stopped and stop its stream."""
        with self._lock:
            self._closed = True
            items = list(self._streams.items())
            self._streams.clear()
        for handle, stream in items:
            handle.mark_stopped()
            stream.stop()


class StreamingBackend(Backend):
    """A Backend whose subscriptions are handles in ``self._streams`` (a StreamTable).

    ``remove`` stops the handle (its hook then stops the stream); ``stop_streaming`` stops
    every handle :meth:`_stream_handles` names (the table's, unless a subclass knows more).
    Subclasses call :meth:`_init_streaming` in ``__init__`` and close ``_streams`` and
    ``_dispatcher`` in ``close``.
    """

    _streams: StreamTable[Any]
    _dispatcher: CallbackDispatcher

    def _init_streaming(self, dispatch_mode: DispatchMode | str) -> None:
        """The dispatch mode, its callback dispatcher and an empty stream table."""
        self._dispatch_mode = DispatchMode(dispatch_mode)
        self._dispatcher = CallbackDispatcher(self._dispatch_mode)
        self._streams = StreamTable()

    def _new_subscription(
        self,
        drfs: Iterable[str],
        callback: ReadingCallback | None,
        on_error: ErrorCallback | None,
    ) -> BufferedSubscriptionHandle:
        """A checked ``subscribe``'s handle (refs 1..n); stopping it stops its stream."""
        self._check_open()
        return parsed_subscription(
            drfs, callback, on_error, dispatcher=self._dispatcher, on_stop=self._streams.on_stop
        )

    def remove(self, handle: SubscriptionHandle) -> None:
        handle.stop()

    def stop_streaming(self) -> None:
        for handle in self._stream_handles():
            handle.stop()

    def _stream_handles(self) -> list[SubscriptionHandle]:
        return list(self._streams.handles())


class NetworkBackend(StreamingBackend):
    """A StreamingBackend talking to one server: ``host``, ``port`` and default ``timeout``."""

    _host: str
    _port: int
    _timeout: float

    @property
    def host(self) -> str:
        return self._host

    @property
    def port(self) -> int:
        return self._port

    @property
    def timeout(self) -> float:
        """The default timeout of each call, in seconds."""
        return self._timeout
