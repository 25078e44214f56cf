"""Write sessions of the DMQ client: the four-step write dance (docs/protocols/dmq.md §9).

A session belongs to one init DRF: it sets up a mailbox, sends a SettingRequest INIT,
waits for PENDING, then publishes signed SETTINGs and matches one reply to each, by
correlation id when possible and first-in-first-out otherwise. Sessions live on the
AMQP I/O thread; callers only wait on their :class:`WriteCall`.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
import uuid
from typing import Any, Protocol

import attrs
import pika

from pacsys.errors import AuthenticationError
from pacsys.types import WriteResult
from pacsys_dmq.client.channel import Delivery, InitMessage, JobChannel, JobTiming
from pacsys_dmq.client.jobs import JobRegistry
from pacsys_dmq.client.security import JobSigner
from pacsys_dmq.codec.codec import decode_reply
from pacsys_dmq.codec.errors import DMQProtocolError
from pacsys_dmq.codec.mapping import is_pending
from pacsys_dmq.codec.messages import ErrorSample
from pacsys_dmq.codec.routing import (
    HEADER_HOST_ADDRESS,
    HEADER_SIGNATURE,
    JOB_STATUS_KEY,
    SERVER_HEARTBEAT_KEY,
    setting_key,
)
from pacsys_dmq.codec.signing import setting_signing_body
from pacsys_dmq.codec.status import ACNET_REQTMO, ACNET_RETRY, FACILITY_ACNET

__all__ = ["PendingWrite", "SessionHost", "WriteCall", "WriteSession"]

log = logging.getLogger("pacsys_dmq.client")

TIMEOUT_MESSAGE = "Request timeout"


class WriteCall:
    """The result slots of one ``write_many`` call, filled from the I/O thread."""

    def __init__(self, drfs: list[str]) -> None:
        self.drfs = drfs
        self._results: list[WriteResult | None] = [None] * len(drfs)
        self._missing = len(drfs)
        self._lock = threading.Lock()
        self.expired = False
        self.done = threading.Event()
        if not drfs:
            self.done.set()

    def complete(self, index: int, result: WriteResult) -> bool:
        """Store a result unless the slot is filled or the call has timed out."""
        with self._lock:
            if self.expired or self._results[index] is not None:
                return False
            self._results[index] = result
            self._missing -= 1
            if self._missing == 0:
                self.done.set()
            return True

    def fail(self, index: int, message: str, error: int = ACNET_RETRY) -> None:
        self.complete(index, WriteResult(self.drfs[index], FACILITY_ACNET, error, message))

    def expire(self) -> None:
        """Time out: every unanswered slot becomes (1, -6, "Request timeout")."""
        with self._lock:
            self.expired = True
            for i, result in enumerate(self._results):
                if result is None:
                    self._results[i] = WriteResult(
                        self.drfs[i], FACILITY_ACNET, ACNET_REQTMO, TIMEOUT_MESSAGE
                    )
            self._missing = 0
        self.done.set()

    @property
    def results(self) -> list[WriteResult]:
        with self._lock:
            assert all(r is not None for r in self._results)
            return list(self._results)  # type: ignore[arg-type]


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

    def fail(self, message: str, facility: int = FACILITY_ACNET, error: int = ACNET_RETRY) -> None:
        self.complete(WriteResult(self.drf, facility, error, message))


class SessionHost(JobRegistry, Protocol):
    """What a session needs from its backend (called on the I/O thread)."""

    def retire_if_idle(
        self, session: WriteSession, now: float, ttl: float | None = None
    ) -> bool: ...

    def forget(self, session: WriteSession) -> None: ...


class WriteSession:
    """One init DRF's session: INIT, PENDING, then SETTINGs matched to replies."""

    def __init__(
        self,
        init_drf: str,
        signer: JobSigner,
        init: InitMessage,
        host_address: bytes,
        timing: JobTiming,
        host: SessionHost,
    ) -> None:
        self.init_drf = init_drf
        self._signer = signer
        self._host_address = host_address
        self._host = host
        self.mailbox = JobChannel(init, timing)
        self.state = "new"  # new -> unconfirmed -> confirmed -> closed
        self.queued: collections.deque[PendingWrite] = collections.deque()
        self.inflight: collections.deque[PendingWrite] = collections.deque()
        self.reserved = 0  # guarded by the backend's lock
        self.last_used = time.monotonic()
        self.close_message: str | None = None

    def __repr__(self) -> str:
        return f"<WriteSession {self.init_drf} {self.state}>"

    @property
    def closed(self) -> bool:
        return self.state == "closed"

    @property
    def busy(self) -> bool:
        """True while a live call still waits on a queued or sent setting."""
        return any(not w.call.expired for w in (*self.queued, *self.inflight))

    # --- I/O thread -------------------------------------------------------------------------

    def enqueue(self, connection: Any, writes: list[PendingWrite]) -> None:
        """Add settings; opens the session on first use, sends at once when confirmed."""
        self.last_used = time.monotonic()
        if self.closed:
            for w in writes:
                w.fail(self.close_message or "Session closed")
            return
        self.queued.extend(writes)
        if self.state == "new":
            self.state = "unconfirmed"
            self._host.register(self)
            try:
                self.mailbox.open(connection, self._on_delivery, self._on_channel_error)
            except Exception as exc:
                self._on_channel_error(exc)
        elif self.state == "confirmed":
            self._flush()

    def _on_channel_error(self, exc: BaseException) -> None:
        reason = "by the broker" if self.mailbox.published else str(exc)
        self.close(f"Channel closed: {reason}", drop=False)

    def _flush(self) -> None:
        while self.queued and not self.closed:
            write = self.queued.popleft()
            if write.call.expired:
                continue
            self._send(write)

    def _send(self, write: PendingWrite) -> None:
        message_id = str(uuid.uuid4())
        signing = setting_signing_body(
            write.body, message_id=message_id, host_address=self._host_address
        )
        try:
            signature = self._signer.sign(signing)
        except AuthenticationError as exc:
            write.fail(str(exc))
            return
        properties = pika.BasicProperties(
            message_id=message_id,
            headers={HEADER_SIGNATURE: bytes(signature), HEADER_HOST_ADDRESS: self._host_address},
        )
        write.message_id = message_id
        self.inflight.append(write)
        try:
            self.mailbox.publish(setting_key(self.init_drf), write.body, properties)
        except Exception as exc:
            self.close(f"Channel closed: {exc}", drop=False)

    def _match(self, correlation_id: str | None) -> PendingWrite | None:
        if correlation_id:
            for write in self.inflight:
                if write.message_id == correlation_id:
                    self.inflight.remove(write)
                    return write
        if self.inflight:
            return self.inflight.popleft()
        return None

    def _on_delivery(self, delivery: Delivery) -> None:
        if self.closed or delivery.routing_key == SERVER_HEARTBEAT_KEY:
            return
        self.last_used = time.monotonic()
        corr = delivery.correlation_id
        try:
            reply = decode_reply(delivery.body)
        except DMQProtocolError as exc:
            target = self._match(corr)
            if target is not None:
                target.fail(f"Unmarshal error: {exc}")
            return
        if is_pending(reply):
            if self.state == "unconfirmed":
                self.state = "confirmed"
                self._flush()
            return
        if (
            delivery.routing_key == JOB_STATUS_KEY
            and isinstance(reply, ErrorSample)
            and (corr == self.mailbox.init.message_id or (not corr and self.state == "unconfirmed"))
        ):
            from pacsys.acnet import status_message

            text = reply.message or status_message(reply.facility_code, reply.error_number)
            self.close(
                text or "INIT failed", facility=reply.facility_code, error=reply.error_number
            )
            return
        target = self._match(corr)
        if target is None:
            log.debug("write reply on %s with nothing pending (dropped)", self.init_drf)
            return
        if isinstance(reply, ErrorSample):
            target.complete(
                WriteResult(target.drf, reply.facility_code, reply.error_number, reply.message)
            )
        else:
            target.complete(WriteResult(target.drf))

    def tick(self, now: float) -> None:
        if self.closed:
            return
        if self.mailbox.broken:
            self.close("Channel closed: by the broker", drop=False)
            return
        if self.mailbox.heartbeat_due(now):
            self.mailbox.send_heartbeat()
            if self.mailbox.server_silent_for(now) > self.mailbox.timing.server_timeout:
                self.close("Session closed: DMQ server heartbeat lost")
                return
        if not self.busy and self._host.retire_if_idle(self, now):
            self.close("Session closed: idle timeout")

    def connection_lost(self, exc: BaseException) -> None:
        self.close(f"Connection closed: {exc}", drop=False)

    def close(
        self,
        message: str,
        *,
        facility: int = FACILITY_ACNET,
        error: int = ACNET_RETRY,
        drop: bool = True,
    ) -> None:
        """End the session: unfinished writes get (facility, error, message); idempotent."""
        if self.closed:
            return
        self.state = "closed"
        self.close_message = message
        self._host.forget(self)
        pending = [*self.inflight, *self.queued]
        self.inflight.clear()
        self.queued.clear()
        for write in pending:
            write.fail(message, facility, error)
        self.mailbox.close(drop=drop)
        self._host.unregister(self)

    def abort_call(self, call: WriteCall) -> None:
        """After ``call`` timed out: drop its unsent settings; close if nothing else is left."""
        self.queued = collections.deque(w for w in self.queued if w.call is not call)
        if (
            not self.busy
            and not self.closed
            and self._host.retire_if_idle(self, time.monotonic(), ttl=0.0)
        ):
            self.close("Session closed: request timeout")
