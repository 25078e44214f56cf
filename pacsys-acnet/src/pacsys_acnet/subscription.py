"""One subscription of the ``acnet`` backend: a started DPM list, and what happens when it ends.

Without a reconnect policy the list's end (acnetd gone, DPM dropped the list) fails the
handle at once, on the connection's thread.  With one, a named thread runs the core
stream-failure loop (docs/protocols/semantics.md §6.4): on_error hears the end and a new
list is opened, filled and started after the backoff, on a new connection if need be.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from typing import Any

from pacsys.acnet.errors import AcnetError
from pacsys.backends import summarize_drfs
from pacsys.backends.reconnect import ReconnectPolicy, run_stream
from pacsys.backends.subscription import BufferedSubscriptionHandle
from pacsys.types import Reading

__all__ = ["AcnetStream"]

_counter = itertools.count(1)

#: Turns one list's messages into (ref, Reading); a new one per list (metadata is per list).
Decoder = Callable[[Any], "tuple[int, Reading] | None"]


class AcnetStream:
    """Keeps one subscription's DPM list started until stopped or failed."""

    def __init__(
        self,
        handle: BufferedSubscriptionHandle,
        open_list: Callable[[Callable[[Any], None], Callable[[int], None]], Any],
        new_decoder: Callable[[], Decoder],
        reconnect: ReconnectPolicy | None,
    ) -> None:
        self.handle = handle
        self._open_list = open_list
        self._new_decoder = new_decoder
        self._reconnect = reconnect
        self._stopping = threading.Event()
        self._cond = threading.Condition()
        self._list: Any = None
        self._token: object = None
        self._ended: int | None = None
        self._thread: threading.Thread | None = None

    @property
    def list_id(self) -> int:
        return -1 if self._list is None else int(self._list.list_id)

    def open(self) -> None:
        """Open, fill and start a new list (raises what any of those raises)."""
        decode = self._new_decoder()
        token = object()
        deliver = self.handle.deliver

        def on_message(message: Any) -> None:
            found = decode(message)
            if found is not None:
                deliver(found[1])

        def on_end(status: int) -> None:
            self._list_ended(token, status)

        dpm_list = self._open_list(on_message, on_end)
        try:
            drfs = self.handle.drfs
            dpm_list.add_entries([(i + 1, drf) for i, drf in enumerate(drfs)])
            dpm_list.start()
        except BaseException:
            dpm_list.close()
            raise
        with self._cond:
            self._list, self._token, self._ended = dpm_list, token, None
            stopping = self._stopping.is_set()
        if stopping:
            self._close_list()

    def start(self) -> None:
        """Watch the list (a thread only under a reconnect policy)."""
        if self._reconnect is None:
            return
        self._thread = threading.Thread(
            target=self._run, name=f"pacsys-acnet-stream-{next(_counter)}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Close the list and wait for the thread (unless called from it)."""
        self._stopping.set()
        with self._cond:
            self._cond.notify_all()
        self._close_list()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _ended_error(self, status: int) -> AcnetError:
        return AcnetError(status, f"DPM list of {summarize_drfs(self.handle.drfs)} ended")

    def _list_ended(self, token: object, status: int) -> None:
        if self._reconnect is None:
            if not self.handle.stopped:
                self.handle.fail(self._ended_error(status))
            return
        with self._cond:
            if token is self._token:
                self._ended = status
                self._cond.notify_all()

    def _close_list(self) -> None:
        with self._cond:
            dpm_list, self._list, self._token = self._list, None, None
        if dpm_list is not None:
            dpm_list.close()  # cancelling the OpenList request ends the list

    def _run(self) -> None:
        first = True

        def attempt() -> None:
            nonlocal first
            if not first:
                self.open()
            first = False
            with self._cond:
                while self._ended is None and not self._stopping.is_set():
                    self._cond.wait()
                status = self._ended
            if status is None:  # stopping
                return
            self._close_list()
            raise self._ended_error(status)

        run_stream(
            self.handle,
            self._reconnect,
            self._stopping,
            attempt,
            recoverable=lambda exc: isinstance(exc, AcnetError | OSError),
            on_end=self._close_list,
        )
