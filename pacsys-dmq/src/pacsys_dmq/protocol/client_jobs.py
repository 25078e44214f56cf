"""Client jobs of the DMQ protocol: what every job shares, one-shot reads, subscriptions.

A job is one conversation with one server job, on its own exchange (whose name is the
job's id): it opens its mailbox with its INIT, answers the driver's reports and the
engine's ticks with outputs appended to the engine's list, and ends with ``D`` (DROP)
and :class:`~pacsys_dmq.protocol.events.Close`.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, Protocol

from pacsys.errors import DeviceError
from pacsys.types import Reading
from pacsys_dmq.codec.messages import ErrorSample
from pacsys_dmq.codec.routing import DROP_KEY, HEARTBEAT_KEY, REPLY_BINDING, SERVER_HEARTBEAT_KEY
from pacsys_dmq.protocol.events import (
    AmqpMessage,
    Close,
    Open,
    Output,
    Publish,
    ReadDone,
    StreamData,
    StreamEnded,
    StreamReady,
)
from pacsys_dmq.protocol.liveness import Liveness, Timing
from pacsys_dmq.protocol.resolve import DataReply, JobFailure, Requested, resolve_reply

__all__ = ["ClientJob", "JobTable", "ReadJob", "StreamJob", "heartbeat_lost"]


class JobTable(Protocol):
    """The engine, as its jobs see it: where outputs go and who forgets ended jobs."""

    out: list[Output]
    calls: dict[Hashable, Any]

    def forget(self, job: ClientJob) -> None: ...


def heartbeat_lost(limit: float) -> ConnectionError:
    return ConnectionError(f"DMQ server heartbeat lost for {limit:g}s (server job disposed)")


class ClientJob:
    """One job's mailbox on the broker: INIT, heartbeats, DROP; its id is its exchange."""

    def __init__(self, table: JobTable, timing: Timing, now: float) -> None:
        self.table = table
        self.timing = timing
        self.init: AmqpMessage | None = None
        self.id = ""
        self.liveness = Liveness(timing.heartbeat_interval, now)
        self.closed = False

    @property
    def opened(self) -> bool:
        return self.init is not None

    def open(self, init: AmqpMessage, now: float) -> None:
        """Ask for the mailbox and publish the INIT into it as soon as it exists."""
        if not init.reply_to:
            raise ValueError("an INIT must name its job's exchange in reply_to")
        self.init = init
        self.id = init.reply_to
        self.liveness = Liveness(self.timing.heartbeat_interval, now)
        bindings = (REPLY_BINDING, SERVER_HEARTBEAT_KEY)
        out = self.table.out
        out.append(Open(self.id, self.id, bindings, declare_exchange=True, ack=True))
        out.append(Publish(self.id, init))

    def publish(self, routing_key: str) -> None:
        """An empty control message (``H`` or ``D``) on the job's exchange."""
        self.table.out.append(Publish(self.id, AmqpMessage(self.id, routing_key)))

    def ready(self, now: float) -> None:
        """The mailbox is consumed; the server's silence is counted from here."""
        self.liveness.heard(now)

    def receive(self, message: AmqpMessage, now: float) -> None:
        if message.routing_key == SERVER_HEARTBEAT_KEY:
            self.liveness.heard(now)
            return
        self.handle(message, now)

    def handle(self, message: AmqpMessage, now: float) -> None:
        raise NotImplementedError

    def beat(self, now: float) -> bool:
        """Send ``H`` when due; True when the server has been silent for too long."""
        if not self.opened or not self.liveness.due(now):
            return False
        self.publish(HEARTBEAT_KEY)
        return self.liveness.silent_for(now) > self.timing.peer_timeout

    def tick(self, now: float) -> None:
        raise NotImplementedError

    def lost(self, error: BaseException, *, drop: bool = False) -> None:
        """The job fails with ``error`` (channel or connection gone: no ``D`` by default)."""
        raise NotImplementedError

    def shut(self, *, drop: bool) -> None:
        """``D`` (optional) and Close; the engine forgets the job. Idempotent."""
        if self.closed:
            return
        self.closed = True
        if self.opened:
            if drop:
                self.publish(DROP_KEY)
            self.table.out.append(Close(self.id))
        self.table.forget(self)


class ReadJob(ClientJob):
    """A one-shot read: one reading per requested index, then DROP."""

    def __init__(
        self,
        table: JobTable,
        timing: Timing,
        now: float,
        drfs: list[str],
        prepared: list[str],
    ) -> None:
        super().__init__(table, timing, now)
        self.drfs = drfs
        self.requested = Requested(prepared)
        self.readings: list[Reading | None] = [None] * len(drfs)
        self.missing = len(drfs)

    def handle(self, message: AmqpMessage, now: float) -> None:
        assert self.init is not None
        outcome = resolve_reply(message, self.requested, self.init.message_id)
        if isinstance(outcome, DataReply):
            self._store(outcome)
            if self.missing == 0:
                self.finish()
        elif isinstance(outcome, JobFailure):
            self.finish(failure=outcome.error)

    def _store(self, outcome: DataReply) -> None:
        """The reply fills its index and every unfilled index asking for the same string."""
        requested = self.requested
        readings = self.readings
        for i in requested.copies[requested.drfs[outcome.index]]:
            if readings[i] is None:
                readings[i] = outcome.reading(self.drfs[i])
                self.missing -= 1

    def tick(self, now: float) -> None:
        self.beat(now)  # one-shot reads do not watch the server's heartbeat

    def lost(self, error: BaseException, *, drop: bool = False) -> None:
        self.finish(error=error, drop=drop)

    def finish(
        self,
        *,
        failure: ErrorSample | None = None,
        error: BaseException | None = None,
        drop: bool = True,
    ) -> None:
        """Report the readings (complete or not) and end the job; idempotent."""
        if self.closed:
            return
        self.table.out.append(ReadDone(self.id, tuple(self.readings), failure, error))
        self.shut(drop=drop)


class StreamJob(ClientJob):
    """A subscription: every resolved reply goes to each index asking for its DRF."""

    def __init__(self, table: JobTable, timing: Timing, now: float, drfs: list[str]) -> None:
        super().__init__(table, timing, now)
        self.drfs = drfs
        self.requested = Requested(drfs)
        self.started = False

    def ready(self, now: float) -> None:
        super().ready(now)
        self.started = True
        self.table.out.append(StreamReady(self.id))

    def handle(self, message: AmqpMessage, now: float) -> None:
        assert self.init is not None
        outcome = resolve_reply(message, self.requested, self.init.message_id)
        if isinstance(outcome, DataReply):
            target = self.drfs[outcome.index]
            reading = outcome.reading(target)
            event = StreamData(self.id, reading)
            self.table.out.extend([event] * len(self.requested.copies[target]))
        elif isinstance(outcome, JobFailure):
            e = outcome.error
            drfs = ", ".join(self.drfs)
            self.end(DeviceError(drfs, e.facility_code, e.error_number, e.message))

    def tick(self, now: float) -> None:
        if self.beat(now):
            self.end(heartbeat_lost(self.timing.peer_timeout))

    def lost(self, error: BaseException, *, drop: bool = False) -> None:
        self.end(error, drop=drop)

    def end(self, error: BaseException | None, *, drop: bool = True) -> None:
        """Stop (``error`` None) or fail the subscription; idempotent."""
        if self.closed:
            return
        self.table.out.append(StreamEnded(self.id, error, self.started))
        self.shut(drop=drop)
