"""CombinedStream: several subscriptions read as one time-ordered stream."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from typing import Any

from pacsys.deadline import Deadline
from pacsys.types import Reading, SubscriptionHandle, check_count

__all__ = ["CombinedStream"]

QUEUE_SIZE = 10_000
#: Longest wait between two checks of the stop flag / errors, in seconds.
RECHECK = 0.5
_EPOCH = datetime.min.replace(tzinfo=timezone.utc)

Item = tuple[Reading, SubscriptionHandle]


def _order(item: Item) -> tuple[bool, datetime]:
    """Sort key: readings without timestamp first, naive timestamps taken as UTC."""
    ts = item[0].timestamp
    if ts is None:
        return (False, _EPOCH)
    return (True, ts.replace(tzinfo=timezone.utc) if ts.tzinfo is None else ts)


class _Done:
    """A feeder's last word: its handle ended (``error`` None) or failed."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException | None) -> None:
        self.error = error


class CombinedStream:
    """Merge readings of several subscription handles (any backends) into one iterator.

    Each batch of readings available at once is yielded sorted by timestamp; order across
    batches follows arrival. Delivery is at most once: readings taken from the handles but
    not yet yielded when the iteration is abandoned are lost.
    """

    def __init__(self, subscriptions: Sequence[SubscriptionHandle]) -> None:
        self._handles = list(subscriptions)
        if not self._handles:
            raise ValueError("subscriptions cannot be empty")

    @property
    def handles(self) -> list[SubscriptionHandle]:
        return list(self._handles)

    @property
    def stopped(self) -> bool:
        return all(h.stopped for h in self._handles)

    @property
    def exc(self) -> BaseException | None:
        return next((h.exc for h in self._handles if h.exc is not None), None)

    def stop(self) -> None:
        for handle in self._handles:
            handle.stop()

    def __enter__(self) -> CombinedStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def readings(self, timeout: float | None = None, *, count: int | None = None) -> Iterator[Item]:
        """Yield ``(reading, handle)``; None blocks, 0 drains, > 0 is a total window.

        ``count`` ends the iteration after that many readings. A handle's error is raised.
        """
        limit = check_count(count)
        if timeout is not None and timeout <= 0:
            return self._drain(limit)
        return self._stream(timeout, limit)

    def _drain(self, limit: int | None) -> Iterator[Item]:
        exc = self.exc
        if exc is not None:
            raise exc
        items: list[Item] = []
        for handle in self._handles:
            items.extend(handle.readings(timeout=0))
        items.sort(key=_order)
        yield from items if limit is None else items[:limit]

    def _stream(self, timeout: float | None, limit: int | None) -> Iterator[Item]:
        if limit == 0:
            return
        deadline = Deadline.after(timeout)
        shared: queue.Queue[Any] = queue.Queue(QUEUE_SIZE)
        quit_ = threading.Event()
        feeders = [
            threading.Thread(
                target=_feed, args=(h, shared, quit_), name="pacsys-combined", daemon=True
            )
            for h in self._handles
        ]
        for feeder in feeders:
            feeder.start()
        running = len(feeders)
        yielded = 0
        try:
            while running:
                if deadline.expired:
                    return
                wait = min(RECHECK, deadline.remaining())
                try:
                    batch = [shared.get(timeout=wait)]
                except queue.Empty:
                    continue
                while True:
                    try:
                        batch.append(shared.get_nowait())
                    except queue.Empty:
                        break
                items: list[Item] = []
                for entry in batch:
                    if isinstance(entry, _Done):
                        if entry.error is not None:
                            raise entry.error
                        running -= 1
                    else:
                        items.append(entry)
                items.sort(key=_order)
                for item in items:
                    yield item
                    yielded += 1
                    if limit is not None and yielded >= limit:
                        return
        finally:
            quit_.set()
            for feeder in feeders:
                feeder.join(2.0)

    def __repr__(self) -> str:
        return f"<CombinedStream of {len(self._handles)} subscriptions>"


def _feed(handle: SubscriptionHandle, shared: queue.Queue[Any], quit_: threading.Event) -> None:
    """Copy ``handle``'s readings into ``shared`` until it ends, fails or we are told to quit."""

    def put(entry: Any) -> bool:
        while not quit_.is_set():
            try:
                shared.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    try:
        while not quit_.is_set():
            for item in handle.readings(timeout=RECHECK):
                if not put(item):
                    return
            if handle.stopped:
                for item in handle.readings(timeout=0):  # what arrived while stopping
                    if not put(item):
                        return
                break
    except BaseException as exc:
        put(_Done(exc))
        return
    put(_Done(None))
