"""The subscription handle network backends return: buffered, stoppable, error-aware."""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

from pacsys.backends import subscription_drfs, summarize_drfs
from pacsys.backends.dispatch import CallbackDispatcher, RateLimitedLogger
from pacsys.deadline import Deadline
from pacsys.drf3 import parse_request
from pacsys.types import (
    ErrorCallback,
    Reading,
    ReadingCallback,
    ReadingStream,
    SubscriptionHandle,
    check_count,
)

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["CALLBACK_ITERATION_ERROR", "BufferedSubscriptionHandle", "parsed_subscription"]

log = logging.getLogger("pacsys.subscription")

MAX_BUFFERED = 10_000
CALLBACK_ITERATION_ERROR = (
    "Cannot iterate subscription with callback; readings are pushed to callback"
)


class BufferedSubscriptionHandle(SubscriptionHandle):
    """A subscription fed by a backend's I/O thread.

    Producers (the backend) call :meth:`deliver`, :meth:`fail`, :meth:`report` and
    :meth:`mark_stopped`; they never block.  Consumers either get callbacks (through the
    backend's dispatcher) or iterate :meth:`readings`.
    """

    def __init__(
        self,
        drfs: Sequence[str],
        ref_ids: Sequence[int],
        *,
        dispatcher: CallbackDispatcher,
        callback: ReadingCallback | None = None,
        on_error: ErrorCallback | None = None,
        on_stop: Callable[[Self], None] | None = None,  # called with this handle (a subclass's)
        max_buffered: int = MAX_BUFFERED,
    ) -> None:
        self.drfs = list(drfs)
        self._ref_ids = list(ref_ids)
        self._dispatcher = dispatcher
        self._callback = callback
        self._on_error = on_error
        self._on_stop = on_stop
        self._max_buffered = max_buffered
        self._buffer: collections.deque[Reading] = collections.deque()
        self._cond = threading.Condition()
        self._stop_requested = False
        self._stopped = False
        self._exc: BaseException | None = None
        self._dropped = 0
        self._drop_warning = RateLimitedLogger(log, 5.0)

    # --- state ---------------------------------------------------------------------------

    @property
    def ref_ids(self) -> list[int]:
        return list(self._ref_ids)

    @property
    def stopped(self) -> bool:
        return self._stopped

    @property
    def exc(self) -> BaseException | None:
        return self._exc

    @property
    def dropped(self) -> int:
        return self._dropped

    @property
    def has_callback(self) -> bool:
        return self._callback is not None

    def count_dropped(self, n: int) -> None:
        """Add ``n`` readings lost before they reached this handle (``dropped`` counts them)."""
        with self._cond:
            self._dropped += n

    # --- producer side ------------------------------------------------------------------

    def deliver(self, reading: Reading) -> None:
        """Hand one reading to the consumer (callback or buffer)."""
        if self._stop_requested:
            return
        if self._callback is not None:
            self._dispatcher.dispatch_reading(self, self._callback, reading)
            return
        with self._cond:
            if len(self._buffer) >= self._max_buffered:
                self._dropped += 1
                self._drop_warning.warning(
                    "Subscription buffer full (%d): dropping readings of %s",
                    self._max_buffered,
                    summarize_drfs(self.drfs),
                )
                return
            self._buffer.append(reading)
            self._cond.notify_all()

    def fail(self, exc: BaseException) -> None:
        """A terminal error: store it (first wins), stop, wake the consumer, tell on_error."""
        with self._cond:
            first = self._exc is None
            if first:
                self._exc = exc
            self._stopped = True
            self._cond.notify_all()
        if not first:
            return
        if self._on_error is not None:
            self._dispatcher.dispatch_error(self, self._on_error, exc)
        elif self._callback is not None:
            log.error("Subscription to %s failed: %s", summarize_drfs(self.drfs), exc)

    def report(self, exc: BaseException) -> None:
        """A recoverable error (e.g. reconnecting): tell on_error, keep running."""
        if self._on_error is not None and not self._stop_requested:
            self._dispatcher.dispatch_error(self, self._on_error, exc)
        else:
            log.warning("Subscription to %s: %s", summarize_drfs(self.drfs), exc)

    def mark_stopped(self) -> None:
        """The backend ended this subscription (remove/close); wake any consumer."""
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    # --- consumer side ------------------------------------------------------------------

    def stop(self: Self) -> None:
        """Stop delivery and remove the subscription from its backend; idempotent."""
        with self._cond:
            if self._stop_requested:
                return
            self._stop_requested = True
            self._stopped = True
            self._cond.notify_all()
        if self._on_stop is not None:
            try:
                self._on_stop(self)
            except Exception:
                log.exception("Error while removing subscription to %s", summarize_drfs(self.drfs))

    def readings(
        self, timeout: float | None = None, *, count: int | None = None
    ) -> Iterator[tuple[Reading, SubscriptionHandle]]:
        """Yield ``(reading, handle)`` pairs of this subscription.

        ``None`` blocks until stopped (then drains) or failed (drains, then raises); ``0``
        drains what is buffered now; ``> 0`` is a total window from the call.  ``count``
        ends the iteration after that many readings; the rest stay buffered.
        """
        if self._callback is not None:
            raise RuntimeError(CALLBACK_ITERATION_ERROR)
        return self._iterate(timeout, check_count(count))

    def _iterate(self, timeout: float | None, count: int | None) -> ReadingStream:
        if count == 0:
            return
        if timeout is not None and timeout <= 0:
            with self._cond:
                n = len(self._buffer) if count is None else min(count, len(self._buffer))
                pending = [self._buffer.popleft() for _ in range(n)]
            for buffered in pending:
                yield buffered, self
            if self._exc is not None and (count is None or n < count):
                raise self._exc
            return
        deadline = Deadline.after(timeout)
        remaining_count = count
        reading: Reading | None
        while remaining_count is None or remaining_count > 0:
            with self._cond:
                while not self._buffer and not self._stopped:
                    if deadline.expired:
                        break
                    self._cond.wait(deadline.wait_time())
                if deadline.expired:
                    reading = None
                elif self._buffer:
                    reading = self._buffer.popleft()
                else:
                    reading = None
            if reading is None:
                if self._exc is not None:
                    raise self._exc
                return
            if remaining_count is not None:
                remaining_count -= 1
            yield reading, self

    def __repr__(self) -> str:
        state = "stopped" if self._stopped else "active"
        return f"<{type(self).__name__} {state} {summarize_drfs(self.drfs)}>"


def parsed_subscription(
    drfs: Iterable[str],
    callback: ReadingCallback | None,
    on_error: ErrorCallback | None,
    *,
    dispatcher: CallbackDispatcher,
    on_stop: Callable[[BufferedSubscriptionHandle], None],
) -> BufferedSubscriptionHandle:
    """The handle of a ``subscribe`` call whose DRFs go out as given, one ref each (1..n).

    Every DRF is parsed first, so a malformed one is a ValueError before any I/O.
    """
    items = subscription_drfs(drfs, callback, on_error)
    for drf in items:
        parse_request(drf)
    return BufferedSubscriptionHandle(
        items,
        list(range(1, len(items) + 1)),
        dispatcher=dispatcher,
        callback=callback,
        on_error=on_error,
        on_stop=on_stop,
    )
