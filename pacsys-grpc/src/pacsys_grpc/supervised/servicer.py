"""The grpc.aio DAQ servicer: DRF gate, policies, audit, backend (docs/protocols/grpc.md §7.2-§7.4).

Runs on a grpc.aio event loop.  A sync Backend is called in a named worker pool; an async
backend (awaitable ``get_many``/``write_many``) is awaited on the loop.  Set RPCs are
serialized under one lock from the policy check to the backend write.  Every backend
subscription a stream holds is tracked, so :meth:`DAQServicer.close` (server stop) ends the
ones whose stream handler never got to run its own clean-up.  The decisions
themselves live in :mod:`.core`; the threaded server (:mod:`.threaded`) shares them.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import logging
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pacsys.policies import Policy
from pacsys_grpc._proto.services import daq_pb2_grpc
from pacsys_grpc.supervised.audit import AuditLog
from pacsys_grpc.supervised.core import (
    STOP_POLL_SECONDS,
    STOPPED,
    STREAM_QUEUE_LIMIT,
    Abort,
    DAQCore,
    abort_for,
    check_backend,
    is_one_shot,
    one_shot_replies,
    stop_quietly,
    subscription_callbacks,
)

__all__ = ["STREAM_QUEUE_LIMIT", "DAQServicer", "check_backend", "is_one_shot"]

log = logging.getLogger("pacsys_grpc.supervised")


class LiveSubscriptions:
    """Backend subscriptions of running streams; each is stopped exactly once.

    A stream releases its own when it ends; :meth:`close` stops whatever is left (a handler
    cancelled by the server stop whose clean-up never ran) and every one added later.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._handles: dict[int, Any] = {}
        self._closed = False

    def add(self, handle: Any) -> Any:
        """Track ``handle`` (stopped at once when already closed); returns it."""
        with self._lock:
            if not self._closed:
                self._handles[id(handle)] = handle
                return handle
        stop_quietly(handle)
        return handle

    def release(self, handle: Any) -> None:
        """Stop ``handle`` unless it was already stopped here."""
        with self._lock:
            if self._handles.pop(id(handle), None) is None:
                return
        stop_quietly(handle)

    def close(self) -> None:
        """Stop every tracked subscription, and any added from now on."""
        with self._lock:
            self._closed = True
            handles = list(self._handles.values())
            self._handles.clear()
        for handle in handles:
            stop_quietly(handle)

    def __len__(self) -> int:
        with self._lock:
            return len(self._handles)


class DAQServicer(DAQCore, daq_pb2_grpc.DAQServicer):
    """Read and Set handlers that forward to ``backend`` after the policy decision."""

    def __init__(
        self,
        backend: Any,
        policies: Sequence[Policy],
        token: str | None,
        audit_log: AuditLog | None,
        executor: ThreadPoolExecutor,
        **stream_options: Any,
    ) -> None:
        super().__init__(backend, policies, token, audit_log, **stream_options)
        self._executor = executor
        self._set_lock: asyncio.Lock | None = None
        self._live = LiveSubscriptions()

    def close(self) -> None:
        """Stop every backend subscription still open (the server has stopped); idempotent."""
        self._live.close()

    async def _backend_call(self, name: str, *args: Any) -> Any:
        method = getattr(self._backend, name)
        if self._async:
            result = method(*args)
            return await result if inspect.isawaitable(result) else result
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: method(*args))

    # --- Read ----------------------------------------------------------------------------

    async def Read(self, request: Any, context: Any) -> AsyncIterator[Any]:
        plan = self.plan_read(request, context.invocation_metadata(), context.peer())
        if isinstance(plan, Abort):
            await context.abort(plan.code, plan.details)
            return
        if plan.one_shot:
            replies = self._one_shot(plan.drfs, context)
        else:
            replies = self._stream(plan.drfs, context)
        if not self.logs_responses:
            async for reply in replies:
                yield reply
            return
        async for reply in replies:
            self.audit_out(plan.seq, plan.peer, "Read", reply)
            yield reply

    async def _one_shot(self, drfs: list[str], context: Any) -> AsyncIterator[Any]:
        remaining = context.time_remaining()
        try:
            readings = await self._backend_call("get_many", drfs, remaining)
        except Exception as exc:
            await context.abort(*self.read_failed(exc))
            return
        for reply in one_shot_replies(drfs, readings):
            yield reply

    async def _subscribe(self, distinct: list[str], push: Callable[[Any], None]) -> Any:
        on_reading, on_error = subscription_callbacks(push)
        if self._async:
            result = self._backend.subscribe(distinct, callback=on_reading, on_error=on_error)
            handle = await result if inspect.isawaitable(result) else result
            return self._live.add(handle)

        def subscribe() -> Any:
            handle = self._backend.subscribe(distinct, callback=on_reading, on_error=on_error)
            return self._live.add(handle)

        future = self._executor.submit(subscribe)
        try:
            return await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            # The RPC ended while the backend was subscribing: stop what it returns.
            future.add_done_callback(self._release_result)
            raise

    def _release_result(self, future: concurrent.futures.Future[Any]) -> None:
        if not future.cancelled() and future.exception() is None:
            self._live.release(future.result())

    async def _stream(self, drfs: list[str], context: Any) -> AsyncIterator[Any]:
        session = self.new_stream(drfs)
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()

        def put(item: Any) -> None:
            if session.admit(item, queue.qsize()):
                queue.put_nowait(item)

        def push(item: Any) -> None:  # called on the backend's thread
            try:
                loop.call_soon_threadsafe(put, item)
            except RuntimeError:  # loop closed: the server is gone
                pass

        try:
            handle = await self._subscribe(session.distinct, push)
        except Exception as exc:
            await context.abort(*abort_for(exc))
            return
        watcher = asyncio.ensure_future(_watch_stopped(handle, put))
        try:
            while True:
                item = queue.get_nowait() if not queue.empty() else await queue.get()
                replies = session.replies(item, handle)
                if replies is None:
                    return
                if isinstance(replies, Abort):
                    await context.abort(replies.code, replies.details)
                    return
                for reply in replies:
                    yield reply
        finally:
            watcher.cancel()
            try:
                self._executor.submit(self._live.release, handle)
            except RuntimeError:  # the pool is shut down: the server is stopping
                self._live.release(handle)

    # --- Set -----------------------------------------------------------------------------

    async def Set(self, request: Any, context: Any) -> Any:
        job = self.begin_set(request, context.invocation_metadata(), context.peer())
        if isinstance(job, Abort):
            await context.abort(job.code, job.details)
            return None
        if self._set_lock is None:
            self._set_lock = asyncio.Lock()
        async with self._set_lock:
            decided = self.decide_set(job)
            if isinstance(decided, Abort):
                await context.abort(decided.code, decided.details)
                return None
            try:
                results = await self._backend_call("write_many", decided.values, None)
            except Exception as exc:
                await context.abort(*self.set_failed(decided, exc))
                return None
        return self.set_done(decided, results)


async def _watch_stopped(handle: Any, put: Callable[[Any], None]) -> None:
    """Tell the stream when the backend ends the subscription without an error callback."""
    while not getattr(handle, "stopped", False):
        await asyncio.sleep(STOP_POLL_SECONDS)
    put(STOPPED)
