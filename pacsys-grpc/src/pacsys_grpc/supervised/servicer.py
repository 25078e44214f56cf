"""The supervised DAQ servicer: DRF gate, policies, audit, then the backend (spec §7.2-7.4).

Runs on a grpc.aio event loop.  A sync Backend is called in a named worker pool; an async
backend (awaitable ``get_many``/``write_many``) is awaited on the loop.  Set RPCs are
serialized under one lock from the policy check to the backend write.
"""

from __future__ import annotations

import asyncio
import collections
import hmac
import inspect
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc

from pacsys.backends import Backend
from pacsys.backends.dispatch import RateLimitedLogger
from pacsys.drf3 import parse_request
from pacsys.drf3.extras import HISTORICAL_EXTRAS
from pacsys.drf_utils import is_chunked_historical_drf
from pacsys.policies import Policy, PolicyDecision, RequestContext, authorize
from pacsys.types import Reading
from pacsys_grpc import mapping
from pacsys_grpc._proto.services import daq_pb2, daq_pb2_grpc
from pacsys_grpc.supervised.audit import AuditLog

__all__ = ["STREAM_QUEUE_LIMIT", "DAQServicer", "is_one_shot"]

log = logging.getLogger("pacsys_grpc.supervised")

STREAM_QUEUE_LIMIT = 100_000
_STOP_POLL_SECONDS = 0.5
_TOKEN_MESSAGE = "Invalid or missing bearer token"


def is_one_shot(drf: str) -> bool:
    """``@I``/``@N`` events and LOGGER-family sources end; everything else streams."""
    request = parse_request(drf)
    return request.event.mode in ("I", "N") or request.extra in HISTORICAL_EXTRAS


def _is_async_backend(backend: Any) -> bool:
    return inspect.iscoroutinefunction(getattr(backend, "get_many", None))


def check_backend(backend: Any) -> Any:
    if isinstance(backend, Backend) or _is_async_backend(backend):
        return backend
    raise TypeError(f"backend must be a pacsys Backend or async backend, got {type(backend)}")


_STOPPED = object()


class _Failed:
    """A subscription error handed from the backend's thread to the stream."""

    __slots__ = ("exc",)

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def _metadata(context: Any) -> tuple[dict[str, str], list[str]]:
    """(last value per key, every ``authorization`` value) of the call's metadata."""
    latest: dict[str, str] = {}
    authorizations: list[str] = []
    for key, value in context.invocation_metadata() or ():
        if isinstance(value, bytes):
            continue
        latest[key] = value
        if key == "authorization":
            authorizations.append(value)
    return latest, authorizations


class DAQServicer(daq_pb2_grpc.DAQServicer):
    """Read and Set handlers that forward to ``backend`` after the policy decision."""

    def __init__(
        self,
        backend: Any,
        policies: Sequence[Policy],
        token: str | None,
        audit_log: AuditLog | None,
        executor: ThreadPoolExecutor,
    ) -> None:
        self._backend = check_backend(backend)
        self._async = _is_async_backend(backend)
        self._policies = list(policies)
        self._expected_auth = None if token is None else f"Bearer {token}".encode()
        self._audit = audit_log
        self._executor = executor
        self._set_lock: asyncio.Lock | None = None
        self._drop_warning = RateLimitedLogger(log, 5.0)

    # --- helpers -------------------------------------------------------------------------

    async def _backend_call(self, name: str, *args: Any) -> Any:
        method = getattr(self._backend, name)
        if self._async:
            result = method(*args)
            return await result if inspect.isawaitable(result) else result
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: method(*args))

    def _decide(self, ctx: RequestContext) -> PolicyDecision | str:
        """The decision, or the INTERNAL details when a policy failed."""
        try:
            return authorize(self._policies, ctx)
        except Exception as exc:
            log.exception("Policy evaluation failed")
            return f"Policy error: {exc}"

    def _audit_in(
        self, ctx: RequestContext, decision: PolicyDecision, values: list[tuple[str, Any]] | None
    ) -> int:
        if self._audit is None:
            return 0
        return self._audit.log_request(
            peer=ctx.peer,
            method=ctx.rpc_method,
            drfs=ctx.drfs,
            allowed=decision.allowed,
            reason=decision.reason,
            request=ctx.raw_request,  # type: ignore[arg-type]
            values=values,
        )

    def _audit_out(self, seq: int, peer: str, method: str, reply: Any) -> None:
        if self._audit is not None and self._audit.log_responses:
            try:
                self._audit.log_response(seq=seq, peer=peer, method=method, reply=reply)
            except Exception:
                log.exception("Audit log failed for a %s reply", method)

    def _authorized(self, authorizations: list[str]) -> bool:
        expected = self._expected_auth
        if expected is None:
            return True
        matched = False
        for value in authorizations:  # compare all: constant time regardless of position
            matched |= hmac.compare_digest(value.encode(), expected)
        return matched

    # --- Read ----------------------------------------------------------------------------

    async def Read(self, request: Any, context: Any) -> AsyncIterator[Any]:
        drfs = list(request.drf)
        if not drfs:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "Empty DRF list")
        metadata, _ = _metadata(context)
        ctx = RequestContext(
            drfs=drfs,
            rpc_method="Read",
            peer=context.peer() or "unknown",
            metadata=metadata,
            raw_request=request,
            allowed=frozenset(range(len(drfs))),
        )
        decision = self._decide(ctx)
        if isinstance(decision, str):
            await context.abort(grpc.StatusCode.INTERNAL, decision)
        seq = 0
        try:
            seq = self._audit_in(ctx, decision, None)
        except Exception:
            log.exception("Audit log failed for a Read request")
        if not decision.allowed:
            await context.abort(grpc.StatusCode.PERMISSION_DENIED, decision.reason or "Denied")
        if all(is_one_shot(drf) for drf in drfs):
            replies = self._one_shot(drfs, context)
        else:
            replies = self._stream(drfs, context)
        async for reply in replies:
            self._audit_out(seq, ctx.peer, "Read", reply)
            yield reply

    async def _abort_for(self, context: Any, exc: BaseException) -> None:
        code, details = mapping.exception_to_rpc_status(exc)
        await context.abort(code, details)

    async def _one_shot(self, drfs: list[str], context: Any) -> AsyncIterator[Any]:
        remaining = context.time_remaining()
        try:
            readings = await self._backend_call("get_many", drfs, remaining)
        except Exception as exc:
            log.info("Backend get_many failed: %s", exc)
            await self._abort_for(context, exc)
        for index, reading in enumerate(list(readings)[: len(drfs)]):
            history = is_chunked_historical_drf(drfs[index])
            for reply in mapping.reading_to_replies(index, reading, complete_history=history):
                yield reply

    async def _subscribe(self, distinct: list[str], push: Callable[[Any], None]) -> Any:
        def on_reading(reading: Reading, handle: Any) -> None:
            push(reading)

        def on_error(exc: BaseException, handle: Any) -> None:
            push(_Failed(exc))

        if self._async:
            result = self._backend.subscribe(distinct, callback=on_reading, on_error=on_error)
            return await result if inspect.isawaitable(result) else result
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor,
            lambda: self._backend.subscribe(distinct, callback=on_reading, on_error=on_error),
        )

    async def _stream(self, drfs: list[str], context: Any) -> AsyncIterator[Any]:
        positions: dict[str, list[int]] = collections.defaultdict(list)
        for index, drf in enumerate(drfs):
            positions[drf].append(index)
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()

        def put(item: Any) -> None:
            if isinstance(item, Reading) and queue.qsize() >= STREAM_QUEUE_LIMIT:
                self._drop_warning.warning("Stream queue full: dropping readings")
                return
            queue.put_nowait(item)

        def push(item: Any) -> None:  # called on the backend's thread
            try:
                loop.call_soon_threadsafe(put, item)
            except RuntimeError:  # loop closed: the server is gone
                pass

        try:
            handle = await self._subscribe(list(positions), push)
        except Exception as exc:
            await self._abort_for(context, exc)
        watcher = asyncio.ensure_future(_watch_stopped(handle, put))
        try:
            while True:
                item = queue.get_nowait() if not queue.empty() else await queue.get()
                if item is _STOPPED:
                    failure = getattr(handle, "exc", None)
                    if failure is not None:
                        await self._abort_for(context, failure)
                    return
                if isinstance(item, _Failed):
                    await self._abort_for(context, item.exc)
                slots = positions.get(item.drf)
                if slots is None:
                    await context.abort(
                        grpc.StatusCode.INVALID_ARGUMENT,
                        f"Backend returned unexpected DRF '{item.drf}'",
                    )
                for slot in slots:
                    for reply in mapping.reading_to_replies(slot, item):
                        yield reply
        finally:
            watcher.cancel()
            try:
                self._executor.submit(_stop_quietly, handle)
            except RuntimeError:  # the pool is shut down: the server is stopping
                _stop_quietly(handle)

    # --- Set -----------------------------------------------------------------------------

    async def Set(self, request: Any, context: Any) -> Any:
        metadata, authorizations = _metadata(context)
        if not self._authorized(authorizations):
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, _TOKEN_MESSAGE)
        if not request.setting:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "Empty settings list")
        drfs = [setting.device for setting in request.setting]
        values: list[tuple[str, Any]] = []
        for setting in request.setting:
            try:
                value, _ = mapping.value_from_proto(setting.value)
            except mapping.EmptyValueError as exc:
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
            values.append((setting.device, value))
        if self._set_lock is None:
            self._set_lock = asyncio.Lock()
        peer = context.peer() or "unknown"
        async with self._set_lock:
            ctx = RequestContext(
                drfs=drfs,
                rpc_method="Set",
                peer=peer,
                metadata=metadata,
                values=list(values),
                raw_request=request,
                allowed=frozenset(),
            )
            decision = self._decide(ctx)
            if isinstance(decision, str):
                await context.abort(grpc.StatusCode.INTERNAL, decision)
            seq = 0
            try:
                seq = self._audit_in(ctx, decision, values)
            except Exception as exc:
                log.exception("Audit log failed for a Set request")
                if decision.allowed:
                    await context.abort(
                        grpc.StatusCode.INTERNAL, f"Audit log failed; write blocked: {exc}"
                    )
            if not decision.allowed:
                await context.abort(grpc.StatusCode.PERMISSION_DENIED, decision.reason or "Denied")
            final = decision.ctx if decision.ctx is not None else ctx
            try:
                results = await self._backend_call("write_many", list(final.values), None)
            except Exception as exc:
                log.info("Backend write_many failed: %s", exc)
                self._audit_out(seq, peer, "Set", daq_pb2.SettingReply())
                await self._abort_for(context, exc)
        reply = daq_pb2.SettingReply(status=[mapping.write_result_to_status(r) for r in results])
        self._audit_out(seq, peer, "Set", reply)
        return reply


async def _watch_stopped(handle: Any, put: Callable[[Any], None]) -> None:
    """Tell the stream when the backend ends the subscription without an error callback."""
    while not getattr(handle, "stopped", False):
        await asyncio.sleep(_STOP_POLL_SECONDS)
    put(_STOPPED)


def _stop_quietly(handle: Any) -> None:
    try:
        handle.stop()
    except Exception:
        log.debug("Error stopping a backend subscription", exc_info=True)
