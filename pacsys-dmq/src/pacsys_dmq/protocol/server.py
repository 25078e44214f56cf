"""The server role of the DMQ protocol, free of I/O: :class:`ServerProtocol`.

It takes INITs (from a queue bound to ``amq.topic`` with ``I``), turns each into a job
wired to the client's exchange, and runs the jobs: PENDING, replies, ``Q`` heartbeats,
disposal on ``D`` or after the client's ``H`` stops. The served backend's work goes out
as events and comes back through ``devices_read``, ``stream_reading`` and
``setting_applied``. ``now`` is the driver's monotonic clock; ``time_ms`` the wall-clock
milliseconds stamped into the samples a call publishes. Not thread-safe.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Hashable, Sequence

from pacsys.errors import AuthenticationError
from pacsys.types import Reading, WriteResult
from pacsys_dmq.codec.codec import decode_request, encode_message
from pacsys_dmq.codec.errors import DMQProtocolError
from pacsys_dmq.codec.messages import ReadingRequest, Request, SettingRequest
from pacsys_dmq.codec.routing import (
    DROP_KEY,
    HEARTBEAT_KEY,
    JOB_STATUS_KEY,
    SERVER_HEARTBEAT_KEY,
    SETTING_BINDING,
    setting_drf,
)
from pacsys_dmq.codec.status import (
    DMQ_INVALID_REQUEST,
    DMQ_PENDING,
    DMQ_SECURITY_VIOLATION,
    DMQ_SYSTEM_ERROR,
)
from pacsys_dmq.protocol.events import AmqpMessage, Open, Output, Publish
from pacsys_dmq.protocol.liveness import Liveness, Timing
from pacsys_dmq.protocol.server_jobs import ServerJob, status_sample
from pacsys_dmq.protocol.signing import Acceptor, Verifier, verify_init

__all__ = ["ServerProtocol"]

log = logging.getLogger("pacsys_dmq.protocol")


def _unservable(request: Request) -> str | None:
    """Why a decoded INIT request cannot become a job (None when it can)."""
    if not isinstance(request, ReadingRequest | SettingRequest) or not request.data_request:
        return f"Unsupported INIT {type(request).__name__}"
    if isinstance(request, SettingRequest) and len(request.data_request) != 1:
        return "A SettingRequest takes one DRF"
    return None


class ServerProtocol:
    """Every server job of one DMQ service; inputs in, outputs (actions and events) out.

    ``accept``: strict mode, each INIT's token is accepted by it and every INIT and
    SETTING MIC checked (None: both taken as opaque bytes). ``read_only``: every SETTING
    is refused with DMQ_SETTING_DISABLED. ``timing``: the ``Q`` period and the ``H``
    silence after which a job is disposed.
    """

    def __init__(
        self,
        *,
        accept: Acceptor | None = None,
        read_only: bool = False,
        timing: Timing | None = None,
    ) -> None:
        self.accept = accept
        self.read_only = read_only
        self.timing = timing or Timing()
        self.send_heartbeats = True
        """False stops ``Q``: lets tests play a server whose jobs died."""
        self.jobs: dict[Hashable, ServerJob] = {}
        self.out: list[Output] = []
        self._ids = itertools.count(1)

    def _take(self) -> list[Output]:
        out = self.out[:]
        self.out.clear()
        return out

    def _status(self, exchange: str, error: int, text: str, init_id: str, time_ms: int) -> None:
        """A job-level status to a client whose INIT is not served."""
        body = encode_message(status_sample(error, text, time_ms))
        reply = AmqpMessage(exchange, JOB_STATUS_KEY, body, correlation_id=init_id or None)
        self.out.append(Publish(None, reply))

    def receive_init(self, message: AmqpMessage, now: float, time_ms: int) -> list[Output]:
        """An INIT: refused with a status on ``R``, or a new job (wiring, then PENDING)."""
        exchange = message.reply_to
        if not exchange:
            log.warning("INIT without reply_to dropped")
            return self._take()
        init_id = message.message_id or ""
        try:
            request = decode_request(message.body)
            refusal = _unservable(request)
        except DMQProtocolError as exc:
            refusal = f"Bad INIT: {exc}"
        if refusal is not None:
            self._status(exchange, DMQ_INVALID_REQUEST, refusal, init_id, time_ms)
            return self._take()
        assert isinstance(request, ReadingRequest | SettingRequest)
        verifier: Verifier | None = None
        if self.accept is not None:
            try:
                verifier = verify_init(message, self.accept)
            except (AuthenticationError, ValueError) as exc:
                log.warning("INIT from %s rejected: %s", exchange, exc)
                self._status(exchange, DMQ_SECURITY_VIOLATION, str(exc), init_id, time_ms)
                return self._take()
        write = isinstance(request, SettingRequest)
        job = ServerJob(
            next(self._ids),
            write=write,
            exchange=exchange,
            init_message_id=init_id,
            entries=list(request.data_request),
            verifier=verifier,
            liveness=Liveness(self.timing.heartbeat_interval, now),
            table=self,
        )
        self.jobs[job.id] = job
        bindings = (HEARTBEAT_KEY, DROP_KEY, *((SETTING_BINDING,) if write else ()))
        self.out.append(Open(job.id, exchange, bindings, declare_exchange=False, ack=False))
        job.publish(JOB_STATUS_KEY, status_sample(DMQ_PENDING, None, time_ms), init_id)
        return self._take()

    # --- what the driver reports ---------------------------------------------------------------

    def ready(self, job_id: Hashable, time_ms: int) -> list[Output]:
        """The broker confirmed the job's bindings and consumer: reads start now."""
        job = self.jobs.get(job_id)
        if job is not None and not job.ready:
            job.ready = True
            if not job.write:
                job.start_read(time_ms)
        return self._take()

    def receive(
        self, job_id: Hashable, message: AmqpMessage, now: float, time_ms: int
    ) -> list[Output]:
        """``H``, ``D`` or a SETTING from the client of ``job``."""
        job = self.jobs.get(job_id)
        if job is None:
            return self._take()
        key = message.routing_key
        if key == HEARTBEAT_KEY:
            job.liveness.heard(now)
        elif key == DROP_KEY:
            job.dispose()
        elif job.write and setting_drf(key) is not None:
            job.liveness.heard(now)
            job.receive_setting(message, read_only=self.read_only, time_ms=time_ms)
        return self._take()

    def lost(self, job_id: Hashable) -> list[Output]:
        """The job's channel is gone (e.g. the client's exchange vanished): dispose it."""
        job = self.jobs.get(job_id)
        if job is not None:
            job.dispose()
        return self._take()

    def devices_read(
        self,
        job_id: Hashable,
        indexes: Sequence[int],
        outcome: Sequence[Reading] | BaseException,
        time_ms: int,
    ) -> list[Output]:
        """The readings :class:`ReadDevices` asked for (or what the backend raised)."""
        job = self.jobs.get(job_id)
        if job is not None:
            job.devices_read(indexes, outcome, time_ms)
        return self._take()

    def stream_reading(self, job_id: Hashable, reading: Reading, time_ms: int) -> list[Output]:
        job = self.jobs.get(job_id)
        if job is not None:
            job.stream_reading(reading, time_ms)
        return self._take()

    def stream_lost(self, job_id: Hashable, count: int, time_ms: int) -> list[Output]:
        """``count`` stream readings of the job were dropped: tell the client, per entry."""
        job = self.jobs.get(job_id)
        if job is not None:
            job.announce_loss(count, time_ms)
        return self._take()

    def stream_failed(self, job_id: Hashable, error: BaseException, time_ms: int) -> list[Output]:
        """The backend subscription failed: the whole job fails."""
        job = self.jobs.get(job_id)
        if job is not None:
            job.fail(DMQ_SYSTEM_ERROR, f"Backend subscription failed: {error}", time_ms)
        return self._take()

    def setting_applied(
        self, job_id: Hashable, seq: int, outcome: WriteResult | BaseException, time_ms: int
    ) -> list[Output]:
        """The result of :class:`ApplySetting` ``seq`` (or what the backend raised)."""
        job = self.jobs.get(job_id)
        if job is not None:
            job.setting_applied(seq, outcome, time_ms)
        return self._take()

    def tick(self, now: float) -> list[Output]:
        """``Q`` heartbeats and disposal of jobs whose client went quiet: every ~0.1 s."""
        limit = self.timing.peer_timeout
        for job in list(self.jobs.values()):
            if not job.ready:
                continue
            if job.liveness.silent_for(now) > limit:
                log.info("job %s: no client heartbeat for %.1f s; disposing", job.exchange, limit)
                job.dispose()
            elif job.liveness.due(now) and self.send_heartbeats:
                job.publish(SERVER_HEARTBEAT_KEY, None)
        return self._take()

    def close(self) -> list[Output]:
        """Dispose every job."""
        for job in list(self.jobs.values()):
            job.dispose()
        return self._take()

    def forget(self, job: ServerJob) -> None:
        """A job was disposed (called by the job itself)."""
        if self.jobs.get(job.id) is job:
            del self.jobs[job.id]
