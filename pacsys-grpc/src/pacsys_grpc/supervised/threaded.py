"""The threaded DAQ servicer: the supervised pipeline for a sync Backend on a sync grpc server.

Same decisions as the grpc.aio servicer (:mod:`.core`), but each RPC runs on its own
worker thread and calls the backend there: a one-shot Read costs no thread hop, and a
stream waits on a condition that the backend's callbacks fill, sending readings in
batches as they queue up.  Set RPCs are serialized under one lock.
"""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from pacsys.policies import Policy
from pacsys_grpc._proto.services import daq_pb2_grpc
from pacsys_grpc.supervised.audit import AuditLog
from pacsys_grpc.supervised.core import (
    STOP_POLL_SECONDS,
    STOPPED,
    Abort,
    DAQCore,
    abort_for,
    one_shot_replies,
    stop_quietly,
    subscription_callbacks,
)

__all__ = ["ThreadedDAQServicer"]

log = logging.getLogger("pacsys_grpc.supervised")

_ENDED = object()  # the RPC is over (client cancelled, deadline, server stopping)


class ThreadedDAQServicer(DAQCore, daq_pb2_grpc.DAQServicer):
    """Read and Set handlers for a sync ``backend``, run on the grpc server's workers."""

    def __init__(
        self,
        backend: Any,
        policies: Sequence[Policy],
        token: str | None,
        audit_log: AuditLog | None,
        **stream_options: Any,
    ) -> None:
        super().__init__(backend, policies, token, audit_log, **stream_options)
        if self._async:
            raise TypeError("ThreadedDAQServicer needs a sync Backend; use DAQServicer")
        self._set_lock = threading.Lock()

    # --- Read ----------------------------------------------------------------------------

    def Read(self, request: Any, context: Any) -> Iterator[Any]:
        plan = self.plan_read(request, context.invocation_metadata(), context.peer())
        if isinstance(plan, Abort):
            context.abort(plan.code, plan.details)
            return
        if plan.one_shot:
            replies = self._one_shot(plan.drfs, context)
        else:
            replies = self._stream(plan.drfs, context)
        if not self.logs_responses:
            yield from replies
            return
        for reply in replies:
            self.audit_out(plan.seq, plan.peer, "Read", reply)
            yield reply

    def _one_shot(self, drfs: list[str], context: Any) -> Iterator[Any]:
        try:
            readings = self._backend.get_many(drfs, context.time_remaining())
        except Exception as exc:
            context.abort(*self.read_failed(exc))
            return
        yield from one_shot_replies(drfs, readings)

    def _stream(self, drfs: list[str], context: Any) -> Iterator[Any]:
        session = self.new_stream(drfs)
        items: collections.deque[Any] = collections.deque()
        ready = threading.Condition()

        def push(item: Any) -> None:  # called on the backend's thread
            with ready:
                if not session.admit(item, len(items)):
                    return
                items.append(item)
                if len(items) == 1:  # the consumer waits only on an empty queue
                    ready.notify()

        on_reading, on_error = subscription_callbacks(push)
        try:
            handle = self._backend.subscribe(
                session.distinct, callback=on_reading, on_error=on_error
            )
        except Exception as exc:
            context.abort(*abort_for(exc))
            return
        try:
            if not context.add_callback(lambda: push(_ENDED)):
                return  # the RPC ended before the subscription existed
            while True:
                for item in self._next_batch(items, ready, handle):
                    if item is _ENDED:
                        return
                    replies = session.replies(item, handle)
                    if replies is None:
                        return
                    if isinstance(replies, Abort):
                        context.abort(replies.code, replies.details)
                        return
                    yield from replies
        finally:
            stop_quietly(handle)

    @staticmethod
    def _next_batch(
        items: collections.deque[Any], ready: threading.Condition, handle: Any
    ) -> list[Any]:
        """Everything queued so far; ``[STOPPED]`` once the backend ended a quiet stream."""
        with ready:
            while not items:
                if getattr(handle, "stopped", False):
                    return [STOPPED]
                ready.wait(STOP_POLL_SECONDS)
            batch = list(items)
            items.clear()
            return batch

    # --- Set -----------------------------------------------------------------------------

    def Set(self, request: Any, context: Any) -> Any:
        job = self.begin_set(request, context.invocation_metadata(), context.peer())
        if isinstance(job, Abort):
            context.abort(job.code, job.details)
            return None
        with self._set_lock:
            decided = self.decide_set(job)
            if isinstance(decided, Abort):
                context.abort(decided.code, decided.details)
                return None
            try:
                results = self._backend.write_many(decided.values, None)
            except Exception as exc:
                context.abort(*self.set_failed(decided, exc))
                return None
        return self.set_done(decided, results)
