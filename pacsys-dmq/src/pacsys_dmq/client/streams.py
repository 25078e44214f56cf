"""One subscription of the DMQ backend: its current job, and what happens when that job dies.

Without a reconnect policy the driver ends the handle itself (a lost connection or server
heartbeat fails it).  With one, a named thread runs the core stream-failure loop
(docs/protocols/semantics.md §6.4): on_error hears the loss and a new, newly signed job is
started after the backoff, on a new broker connection if need be.  A job failure (the
server refused the request) always ends the subscription.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable

from pacsys.backends.reconnect import ReconnectPolicy, run_stream
from pacsys.backends.subscription import BufferedSubscriptionHandle
from pacsys_dmq.client.driver import LostCallback, SubscriptionSetupTimeout

__all__ = ["DMQStream"]

_counter = itertools.count(1)

#: Starts one job for the handle and returns its id; raises when it cannot.
StartJob = Callable[[BufferedSubscriptionHandle, "LostCallback | None"], str]


class DMQStream:
    """Keeps one subscription's job running until stopped or failed."""

    def __init__(
        self,
        start_job: StartJob,
        drop_job: Callable[[str], None],
        reconnect: ReconnectPolicy | None,
    ) -> None:
        self.handle: BufferedSubscriptionHandle | None = None
        self._start_job = start_job
        self._drop_job = drop_job
        self._reconnect = reconnect
        self._stopping = threading.Event()
        self._cond = threading.Condition()
        self._job: str | None = None
        self._ended = False
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None

    def open(self, handle: BufferedSubscriptionHandle) -> None:
        """Start the first job (raises, and stops the handle, when it cannot)."""
        self.handle = handle
        if self._reconnect is None:
            self._job = self._start_job(handle, None)
            return
        try:
            self._open_job()
        except BaseException:
            handle.mark_stopped()
            raise
        self._thread = threading.Thread(
            target=self._run, name=f"pacsys-dmq-stream-{next(_counter)}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """DROP the current job and wait for the thread (unless called from it)."""
        self._stopping.set()
        with self._cond:
            job, self._job = self._job, None
            self._cond.notify_all()
        if job is not None:
            self._drop_job(job)
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _open_job(self) -> None:
        assert self.handle is not None
        with self._cond:
            self._ended, self._error = False, None
        job = self._start_job(self.handle, self._job_ended)
        with self._cond:
            self._job = job
            stopping = self._stopping.is_set()
        if stopping:
            self._drop_job(job)

    def _job_ended(self, error: BaseException | None) -> None:
        """The driver's word on the current job (on the loop thread)."""
        if error is None:  # stopped for good (the backend closed): the driver stops the handle
            self._stopping.set()
            if self.handle is not None:
                self.handle.mark_stopped()
        with self._cond:
            self._ended, self._error = True, error
            self._cond.notify_all()

    def _run(self) -> None:
        first = True

        def attempt() -> None:
            nonlocal first
            if not first:
                self._open_job()
            first = False
            with self._cond:
                while not self._ended and not self._stopping.is_set():
                    self._cond.wait()
                error, self._job = self._error, None
            if error is not None and not self._stopping.is_set():
                raise error

        assert self.handle is not None
        run_stream(
            self.handle,
            self._reconnect,
            self._stopping,
            attempt,
            recoverable=lambda exc: isinstance(exc, ConnectionError | SubscriptionSetupTimeout),
        )
