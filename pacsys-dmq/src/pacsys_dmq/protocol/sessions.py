"""Write sessions of the DMQ client: the four-step write dance, and the calls they serve.

A session belongs to one init DRF: it waits for its signed INIT, opens its mailbox, holds
settings until the server's PENDING, then publishes each as a signed SETTING and matches
one reply to each: by correlation id when the server sets one, else first-in-first-out.
"""

from __future__ import annotations

import collections
import logging
from collections.abc import Callable, Hashable, Sequence

import attrs

from pacsys.acnet import status_message
from pacsys.acnet.status import ERR_RETRY, ERR_TIMEOUT, FACILITY_ACNET
from pacsys.errors import AuthenticationError
from pacsys.types import WriteResult
from pacsys_dmq.codec.codec import decode_reply
from pacsys_dmq.codec.errors import DMQProtocolError
from pacsys_dmq.codec.mapping import is_pending
from pacsys_dmq.codec.messages import ErrorSample
from pacsys_dmq.codec.routing import JOB_STATUS_KEY
from pacsys_dmq.protocol.client_jobs import ClientJob, JobTable
from pacsys_dmq.protocol.events import AmqpMessage, Publish, WritesDone
from pacsys_dmq.protocol.liveness import Timing
from pacsys_dmq.protocol.signing import Signer, build_setting

__all__ = ["TIMEOUT_MESSAGE", "PendingWrite", "WriteCall", "WriteSession"]

log = logging.getLogger("pacsys_dmq.protocol")

TIMEOUT_MESSAGE = "Request timeout"


class WriteCall:
    """The result slots of one write call; :class:`WritesDone` once all are filled."""

    def __init__(self, key: Hashable, drfs: Sequence[str], table: JobTable) -> None:
        self.key = key
        self.drfs = drfs
        self.table = table
        self.results: list[WriteResult | None] = [None] * len(drfs)
        self.missing = len(drfs)
        self.expired = False
        self.held = False
        """True while new sessions of the call wait for their signed INITs: nothing of the
        call is sent before all are signed (a signing failure then loses nothing)."""
        self.sessions: list[WriteSession] = []

    def complete(self, index: int, result: WriteResult) -> None:
        """Fill a slot, unless it is filled or the call is over."""
        if self.expired or self.results[index] is not None:
            return
        self.results[index] = result
        self.missing -= 1
        if self.missing == 0:
            self.table.calls.pop(self.key, None)
            results = tuple(r for r in self.results if r is not None)
            self.table.out.append(WritesDone(self.key, results))

    def expire(self) -> None:
        """The caller stopped waiting: unanswered slots become (1, -6, "Request timeout")."""
        if self.expired:
            return
        if self.missing:
            for i, result in enumerate(self.results):
                if result is None:
                    timeout = WriteResult(
                        self.drfs[i], FACILITY_ACNET, ERR_TIMEOUT, TIMEOUT_MESSAGE
                    )
                    self.complete(i, timeout)
        self.expired = True


@attrs.define(eq=False)
class PendingWrite:
    """One setting on its way: slot ``index`` of ``call``, with its SDD body."""

    call: WriteCall
    index: int
    body: bytes
    message_id: str | None = None

    @property
    def drf(self) -> str:
        return self.call.drfs[self.index]

    def complete(self, result: WriteResult) -> None:
        self.call.complete(self.index, result)

    def fail(self, message: str, facility: int = FACILITY_ACNET, error: int = ERR_RETRY) -> None:
        self.complete(WriteResult(self.drf, facility, error, message))


class WriteSession(ClientJob):
    """One init DRF's session: signed INIT, PENDING, then SETTINGs matched to replies."""

    def __init__(
        self,
        table: JobTable,
        timing: Timing,
        now: float,
        init_drf: str,
        ttl: float,
        host_address: bytes,
        new_id: Callable[[], str],
    ) -> None:
        super().__init__(table, timing, now)
        self.init_drf = init_drf
        self.ttl = ttl
        self.host_address = host_address
        self.new_id = new_id
        self.signer: Signer | None = None
        self.confirmed = False
        self.queued: collections.deque[PendingWrite] = collections.deque()
        self.inflight: collections.deque[PendingWrite] = collections.deque()
        self.last_used = now

    def __repr__(self) -> str:
        return f"<WriteSession {self.init_drf} {self.state}>"

    @property
    def state(self) -> str:
        """unsigned -> unconfirmed -> confirmed -> closed."""
        if self.closed:
            return "closed"
        if self.confirmed:
            return "confirmed"
        return "unconfirmed" if self.opened else "unsigned"

    @property
    def busy(self) -> bool:
        """True while a live call still waits on a queued or sent setting."""
        return any(not w.call.expired for w in (*self.queued, *self.inflight))

    def enqueue(self, writes: list[PendingWrite], now: float) -> None:
        """Add settings: sent at once when confirmed, else when PENDING comes."""
        self.last_used = now
        self.queued.extend(writes)
        self.flush()

    def flush(self) -> None:
        """Send what may go now (once confirmed: every setting of a call not held)."""
        if not self.confirmed or self.closed:
            return
        live = [w for w in self.queued if not w.call.expired]
        self.queued = collections.deque(w for w in live if w.call.held)
        for write in live:
            if not write.call.held:
                self._send(write)

    def _send(self, write: PendingWrite) -> None:
        assert self.signer is not None
        message_id = self.new_id()
        try:
            message = build_setting(
                self.id, self.init_drf, write.body, self.signer, self.host_address, message_id
            )
        except AuthenticationError as exc:
            write.fail(str(exc))
            return
        write.message_id = message_id
        self.inflight.append(write)
        self.table.out.append(Publish(self.id, message))

    def _match(self, correlation_id: str | None) -> PendingWrite | None:
        """The setting a reply answers: the one it correlates to, else the oldest."""
        if correlation_id:
            for write in self.inflight:
                if write.message_id == correlation_id:
                    self.inflight.remove(write)
                    return write
        return self.inflight.popleft() if self.inflight else None

    def handle(self, message: AmqpMessage, now: float) -> None:
        self.last_used = now
        corr = message.correlation_id
        try:
            reply = decode_reply(message.body)
        except DMQProtocolError as exc:
            target = self._match(corr)
            if target is not None:
                target.fail(f"Unmarshal error: {exc}")
            return
        if is_pending(reply):
            if not self.confirmed:
                self.confirmed = True
                self.flush()
            return
        assert self.init is not None
        if (
            message.routing_key == JOB_STATUS_KEY
            and isinstance(reply, ErrorSample)
            and (corr == self.init.message_id or (not corr and not self.confirmed))
        ):
            text = reply.message or status_message(reply.facility_code, reply.error_number)
            self.close(
                text or "INIT failed", facility=reply.facility_code, error=reply.error_number
            )
            return
        target = self._match(corr)
        if target is None:
            log.debug("write reply on %s with nothing pending (dropped)", self.init_drf)
        elif isinstance(reply, ErrorSample):
            error = WriteResult(target.drf, reply.facility_code, reply.error_number, reply.message)
            target.complete(error)
        else:
            target.complete(WriteResult(target.drf))

    def tick(self, now: float) -> None:
        if self.beat(now):
            self.close("Session closed: DMQ server heartbeat lost")
        elif not self.busy and now - self.last_used >= self.ttl:
            self.close("Session closed: idle timeout")

    def lost(self, error: BaseException, *, drop: bool = False) -> None:
        self.close(str(error), drop=drop)

    def abort(self, call: WriteCall, *, close_idle: bool = True) -> None:
        """``call`` is over: drop its unsent settings; close if nothing else is left.

        Sent ones stay in flight as placeholders so that FIFO matching stays aligned.
        """
        self.queued = collections.deque(w for w in self.queued if w.call is not call)
        if close_idle and not self.busy:
            self.close("Session closed: request timeout")

    def close(
        self,
        message: str,
        *,
        facility: int = FACILITY_ACNET,
        error: int = ERR_RETRY,
        drop: bool = True,
    ) -> None:
        """End the session: unfinished settings get (facility, error, message); idempotent."""
        if self.closed:
            return
        pending = [*self.inflight, *self.queued]
        self.inflight.clear()
        self.queued.clear()
        self.shut(drop=drop)
        for write in pending:
            write.fail(message, facility, error)
