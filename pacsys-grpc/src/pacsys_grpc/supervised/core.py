"""Transport-free protocol logic of the supervised DAQ server, shared by both drivers.

They follow docs/protocols/grpc.md §7.2-§7.4.

The grpc.aio servicer (:mod:`.servicer`) and the threaded one (:mod:`.threaded`) differ
only in how they wait, queue and abort; everything that decides an RPC lives here: request
validation, the token, policies and audit (:class:`DAQCore`), one-shot replies, and the
state of a streaming Read (:class:`StreamSession`: slots, slow-client loss accounting and
notices, reply building).  A step that ends the RPC returns an :class:`Abort` (status and
details) instead of raising, so each transport aborts in its own way.
"""

from __future__ import annotations

import dataclasses
import functools
import hmac
import inspect
import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple

import grpc

from pacsys.backends import Backend
from pacsys.backends.dispatch import RateLimitedLogger
from pacsys.drf3 import parse_request
from pacsys.drf3.extras import HISTORICAL_EXTRAS
from pacsys.drf_utils import is_chunked_historical_drf
from pacsys.policies import Policy, PolicyDecision, RequestContext, authorize
from pacsys.types import Reading, WriteResult
from pacsys_grpc import codec, rpc_status
from pacsys_grpc.rpc_status import Abort
from pacsys_grpc.supervised.audit import AuditLog

__all__ = [
    "STOPPED",
    "STREAM_QUEUE_LIMIT",
    "Abort",
    "DAQCore",
    "Failed",
    "ReadPlan",
    "SetJob",
    "StreamSession",
    "check_backend",
    "is_async_backend",
    "is_one_shot",
]

log = logging.getLogger("pacsys_grpc.supervised")

STREAM_QUEUE_LIMIT = 100_000
"""Readings a stream holds for a slow client; newer ones are dropped, counted and announced."""

STOP_POLL_SECONDS = 0.5
"""How often a quiet stream checks whether the backend ended its subscription."""
STOPPED = object()
"""Queued by a servicer when the backend ended a subscription without an error callback."""

TOKEN_MESSAGE = "Invalid or missing bearer token"
_PARSE_CACHE_SIZE = 4096


@functools.lru_cache(maxsize=_PARSE_CACHE_SIZE)
def is_one_shot(drf: str) -> bool:
    """``@I``/``@N`` events and LOGGER-family sources end; everything else streams."""
    request = parse_request(drf)
    return request.event.mode in ("I", "N") or request.extra in HISTORICAL_EXTRAS


_chunked_history = functools.lru_cache(maxsize=_PARSE_CACHE_SIZE)(is_chunked_historical_drf)


def is_async_backend(backend: Any) -> bool:
    """True when ``backend.get_many`` is a coroutine function (served by awaiting it)."""
    return inspect.iscoroutinefunction(getattr(backend, "get_many", None))


def check_backend(backend: Any) -> Any:
    """``backend`` if it is a Backend or an async backend, else TypeError."""
    if isinstance(backend, Backend) or is_async_backend(backend):
        return backend
    raise TypeError(f"backend must be a pacsys Backend or async backend, got {type(backend)}")


class Failed:
    """A subscription error handed from the backend's thread to the stream."""

    __slots__ = ("exc",)

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def subscription_callbacks(push: Callable[[Any], None]) -> tuple[Any, Any]:
    """``(callback, on_error)`` for ``backend.subscribe`` that queue with ``push``."""

    def on_reading(reading: Reading, handle: Any) -> None:
        push(reading)

    def on_error(exc: BaseException, handle: Any) -> None:
        push(Failed(exc))

    return on_reading, on_error


class ReadPlan(NamedTuple):
    """An allowed Read: its DRFs, audit sequence number, peer and routing."""

    drfs: list[str]
    seq: int
    peer: str
    one_shot: bool


@dataclasses.dataclass(frozen=True)
class SetJob:
    """A Set past its checks: metadata, peer, the (device, value) pairs, later the audit seq."""

    request: Any
    latest: dict[str, str]
    peer: str
    values: list[tuple[str, Any]]
    seq: int = 0


def abort_for(exc: BaseException) -> Abort:
    """The status a backend exception ends the RPC with (docs/protocols/grpc.md §7.2 step 8)."""
    return Abort(*rpc_status.exception_to_rpc_status(exc))


def one_shot_replies(drfs: Sequence[str], readings: Iterable[Reading]) -> list[Any]:
    """Every ReadingReply of a one-shot request, in slot order."""
    replies: list[Any] = []
    for index, reading in enumerate(list(readings)[: len(drfs)]):
        history = _chunked_history(drfs[index])
        replies.extend(codec.reading_to_replies(index, reading, complete_history=history))
    return replies


def stop_quietly(handle: Any) -> None:
    """Stop a backend subscription; a failure is only logged (the RPC is over anyway)."""
    try:
        handle.stop()
    except Exception:
        log.debug("Error stopping a backend subscription", exc_info=True)


_drop_warning = RateLimitedLogger(log, 5.0)


class StreamSession:
    """One streaming Read (docs/protocols/grpc.md §7.2 step 7): slots, losses, replies.

    A client too slow for its stream never blocks the backend: past ``limit`` queued
    readings, ``admit`` drops new ones and counts them; readings the backend's own
    subscription handle dropped (``handle.dropped``) count the same way.  Before the next
    reading it sends, the stream tells the client with a status reply (1, -7 ACNET_QUEFULL)
    on every slot.  ``admit`` runs where the driver queues (the backend's thread or the
    event loop), ``replies`` on the RPC's side; ``on_loss(n)`` hears of every loss.
    """

    def __init__(
        self,
        drfs: Sequence[str],
        *,
        limit: int = STREAM_QUEUE_LIMIT,
        on_loss: Callable[[int], None] | None = None,
    ) -> None:
        self.positions: dict[str, list[int]] = {}
        for index, drf in enumerate(drfs):
            self.positions.setdefault(drf, []).append(index)
        self._slots = range(len(drfs))
        self._limit = limit
        self._on_loss = on_loss
        self._lock = threading.Lock()
        self._lost = 0  # readings lost since the last notice
        self._backend_dropped = 0  # the backend handle's count when last looked at

    @property
    def distinct(self) -> list[str]:
        """The DRFs to subscribe: each once, in first-seen order."""
        return list(self.positions)

    def admit(self, item: Any, queued: int) -> bool:
        """Whether to queue ``item``; a reading past the limit is dropped and counted."""
        if isinstance(item, Reading) and queued >= self._limit:
            _drop_warning.warning("Stream queue full: dropping readings for a slow client")
            self._lose(1)
            return False
        return True

    def _lose(self, count: int) -> None:
        with self._lock:
            self._lost += count
        if self._on_loss is not None:
            self._on_loss(count)

    def _loss_notice(self, handle: Any) -> list[Any]:
        dropped = getattr(handle, "dropped", 0)
        if isinstance(dropped, int) and dropped > self._backend_dropped:
            self._lose(dropped - self._backend_dropped)
            self._backend_dropped = dropped
        if not self._lost:
            return []
        with self._lock:
            lost, self._lost = self._lost, 0
        return codec.loss_notice_replies(self._slots, lost)

    def replies(self, item: Any, handle: Any) -> list[Any] | Abort | None:
        """The replies for one queued item, or how the stream ends (None: cleanly).

        ``item`` is a Reading, a :class:`Failed` or :data:`STOPPED` (``handle`` tells
        whether the subscription stopped on an error).
        """
        if item is STOPPED:
            failure = getattr(handle, "exc", None)
            return None if failure is None else abort_for(failure)
        if isinstance(item, Failed):
            return abort_for(item.exc)
        slots = self.positions.get(item.drf)
        if slots is None:
            return Abort(
                grpc.StatusCode.INVALID_ARGUMENT, f"Backend returned unexpected DRF '{item.drf}'"
            )
        notice = self._loss_notice(handle)
        if len(slots) == 1 and not notice:
            return codec.reading_to_replies(slots[0], item)
        return notice + [reply for slot in slots for reply in codec.reading_to_replies(slot, item)]


class DAQCore:
    """Token check, DRF gate, policies, audit and streams: the decisions both servicers share.

    ``stream_buffer`` is how many readings a stream may hold for a slow client before it
    drops them; ``on_loss(n)`` hears of every ``n`` dropped (``dropped_readings``).
    """

    def __init__(
        self,
        backend: Any,
        policies: Sequence[Policy],
        token: str | None,
        audit_log: AuditLog | None,
        *,
        stream_buffer: int = STREAM_QUEUE_LIMIT,
        on_loss: Callable[[int], None] | None = None,
    ) -> None:
        self._backend = check_backend(backend)
        self._async = is_async_backend(backend)
        self._policies = list(policies)
        self._expected_auth = None if token is None else f"Bearer {token}".encode()
        self._audit = audit_log
        self._stream_buffer = stream_buffer
        self._on_loss = on_loss

    def new_stream(self, drfs: Sequence[str]) -> StreamSession:
        """The session of one streaming Read of ``drfs`` (step 7 of docs/protocols/grpc.md §7.2)."""
        return StreamSession(drfs, limit=self._stream_buffer, on_loss=self._on_loss)

    def _judge(
        self, ctx: RequestContext, values: list[tuple[str, Any]] | None
    ) -> tuple[PolicyDecision, int] | Abort:
        """Policies, then the audit record: (decision, audit seq) of an allowed RPC, or an Abort.

        A failed policy ends the RPC with INTERNAL; a write that cannot be audited is blocked,
        a read is not.
        """
        try:
            decision = authorize(self._policies, ctx)
        except Exception as exc:
            log.exception("Policy evaluation failed")
            return Abort(grpc.StatusCode.INTERNAL, f"Policy error: {exc}")
        seq = 0
        try:
            seq = self._audit_in(ctx, decision, values)
        except Exception as exc:
            log.exception("Audit log failed for a %s request", ctx.rpc_method)
            if decision.allowed and ctx.rpc_method == "Set":
                return Abort(grpc.StatusCode.INTERNAL, f"Audit log failed; write blocked: {exc}")
        if not decision.allowed:
            return Abort(grpc.StatusCode.PERMISSION_DENIED, decision.reason or "Denied")
        return decision, seq

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

    @property
    def logs_responses(self) -> bool:
        return self._audit is not None and self._audit.log_responses

    def audit_out(self, seq: int, peer: str, method: str, reply: Any) -> None:
        """Audit one reply when responses are logged; a failing log never ends the RPC."""
        if self._audit is not None and self._audit.log_responses:
            try:
                self._audit.log_response(seq=seq, peer=peer, method=method, reply=reply)
            except Exception:
                log.exception("Audit log failed for a %s reply", method)

    def authorized(self, authorizations: list[str]) -> bool:
        """True when no token is required or some ``authorization`` value carries it."""
        expected = self._expected_auth
        if expected is None:
            return True
        matched = False
        for value in authorizations:  # compare all: constant time regardless of position
            matched |= hmac.compare_digest(value.encode(), expected)
        return matched

    # --- Read ----------------------------------------------------------------------------

    def plan_read(self, request: Any, metadata: Any, peer: str | None) -> ReadPlan | Abort:
        """Steps 1-6 of the Read pipeline: the allowed plan, or the status that ends it."""
        drfs = list(request.drf)
        if not drfs:
            return Abort(grpc.StatusCode.INVALID_ARGUMENT, "Empty DRF list")
        latest, _ = codec.split_metadata(metadata)
        ctx = RequestContext(
            drfs=drfs,
            rpc_method="Read",
            peer=peer or "unknown",
            metadata=latest,
            raw_request=request,
            allowed=frozenset(range(len(drfs))),
        )
        judged = self._judge(ctx, None)
        if isinstance(judged, Abort):
            return judged
        one_shot = all(is_one_shot(drf) for drf in drfs)
        return ReadPlan(drfs, judged[1], ctx.peer, one_shot)

    @staticmethod
    def read_failed(exc: BaseException) -> Abort:
        """Step 8 when the backend's ``get_many`` raised: logged, and the status to end with."""
        log.info("Backend get_many failed: %s", exc)
        return abort_for(exc)

    # --- Set -----------------------------------------------------------------------------

    def begin_set(self, request: Any, metadata: Any, peer: str | None) -> SetJob | Abort:
        """Steps 1-3 of the Set pipeline: token, non-empty list, decoded values; or an Abort."""
        latest, authorizations = codec.split_metadata(metadata)
        if not self.authorized(authorizations):
            return Abort(grpc.StatusCode.UNAUTHENTICATED, TOKEN_MESSAGE)
        if not request.setting:
            return Abort(grpc.StatusCode.INVALID_ARGUMENT, "Empty settings list")
        try:
            values = codec.settings_from_request(request)
        except codec.EmptyValueError as exc:
            return Abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        return SetJob(request, latest, peer or "unknown", values)

    def decide_set(self, job: SetJob) -> SetJob | Abort:
        """Steps 5-8 (run under the Set lock): the job with its audit seq and the values to
        write (policies may change them), or an Abort."""
        ctx = RequestContext(
            drfs=[setting.device for setting in job.request.setting],
            rpc_method="Set",
            peer=job.peer,
            metadata=job.latest,
            values=list(job.values),
            raw_request=job.request,
            allowed=frozenset(),
        )
        judged = self._judge(ctx, job.values)
        if isinstance(judged, Abort):
            return judged
        decision, seq = judged
        final = decision.ctx if decision.ctx is not None else ctx
        return dataclasses.replace(job, values=list(final.values), seq=seq)

    def set_failed(self, job: SetJob, exc: BaseException) -> Abort:
        """Step 9 when the backend write raised: audit an empty reply, end the RPC."""
        log.info("Backend write_many failed: %s", exc)
        self.audit_out(job.seq, job.peer, "Set", codec.setting_reply([]))
        return abort_for(exc)

    def set_done(self, job: SetJob, results: Iterable[WriteResult]) -> Any:
        """Step 9: the SettingReply of the backend's results, audited."""
        reply = codec.setting_reply(list(results))
        self.audit_out(job.seq, job.peer, "Set", reply)
        return reply
