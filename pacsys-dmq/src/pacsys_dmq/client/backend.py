"""DMQBackend: reads, streams and writes through the DMQ service on a RabbitMQ broker.

One AMQP connection per backend (opened lazily, on a background I/O thread) carries every
job; each one-shot read, subscription and write session has its own channel, exchange and
queue (docs/protocols/dmq.md §1-§11). Kerberos is required for everything: each job gets a fresh GSS
context whose token and MICs travel in AMQP headers.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from typing import Any

import pika

from pacsys.auth import KerberosAuth
from pacsys.backends import Backend, check_positive, drf_list, subscription_drfs
from pacsys.backends.dispatch import CallbackDispatcher
from pacsys.backends.subscription import BufferedSubscriptionHandle
from pacsys.drf3.parser import parse_request
from pacsys.drf_utils import ensure_immediate_event, prepare_for_write
from pacsys.errors import AuthenticationError, DeviceError, ReadError
from pacsys.types import (
    BackendCapability,
    DispatchMode,
    ErrorCallback,
    Reading,
    ReadingCallback,
    SubscriptionHandle,
    Value,
    WriteResult,
)
from pacsys_dmq.amqp import AmqpLoop
from pacsys_dmq.client.channel import InitMessage, JobTiming, build_init
from pacsys_dmq.client.jobs import ReadJob, StreamJob
from pacsys_dmq.client.security import (
    DEFAULT_SERVICE,
    JobSigner,
    check_credentials,
    local_host_address,
    new_context,
)
from pacsys_dmq.client.writes import PendingWrite, WriteCall, WriteSession
from pacsys_dmq.codec.codec import encode_message
from pacsys_dmq.codec.mapping import reply_to_reading, value_to_setting
from pacsys_dmq.codec.messages import ReadingRequest, SettingRequest
from pacsys_dmq.codec.status import ACNET_REQTMO, ACNET_RETRY, FACILITY_ACNET

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "DMQBackend"]

log = logging.getLogger("pacsys_dmq.client")

DEFAULT_HOST = "appsrv2.fnal.gov"
DEFAULT_PORT = 5672
DEFAULT_TIMEOUT = 10.0
DEFAULT_SESSION_TTL = 600.0
MAX_WRITE_SESSIONS = 1024
AMQP_HEARTBEAT = 15
ABORT_WAIT = 2.0
CLOSE_JOIN = 3.0


def _env_port() -> int | None:
    raw = os.environ.get("PACSYS_DMQ_PORT", "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise ValueError(
            f"Environment variable PACSYS_DMQ_PORT must be an integer, got {raw!r}"
        ) from None


class DMQBackend(Backend):
    """ACNET through DMQ: ``read``/``get``/``get_many``/``subscribe``/``write`` over AMQP.

    ``host``/``port`` default to ``PACSYS_DMQ_HOST``/``PACSYS_DMQ_PORT`` (then
    appsrv2.fnal.gov:5672); ``vhost`` to ``PACSYS_DMQ_VHOST`` (then ``/``). ``auth`` must be
    a :class:`~pacsys.auth.KerberosAuth`. ``heartbeat_interval``, ``server_timeout`` and
    ``max_write_sessions`` are the constants of docs/protocols/dmq.md §11, adjustable for tests.
    """

    def __init__(
        self,
        host: str | None = None,
        port: int | None = None,
        timeout: float | None = None,
        auth: Any = None,
        write_session_ttl: float | None = None,
        dispatch_mode: DispatchMode = DispatchMode.WORKER,
        *,
        vhost: str | None = None,
        service: str = DEFAULT_SERVICE,
        heartbeat_interval: float = 5.0,
        server_timeout: float = 30.0,
        max_write_sessions: int = MAX_WRITE_SESSIONS,
    ) -> None:
        if auth is None or not isinstance(auth, KerberosAuth):
            got = "no auth" if auth is None else type(auth).__name__
            raise AuthenticationError(
                f"DMQ backend requires KerberosAuth for all operations (got {got})"
            )
        host = host if host is not None else os.environ.get("PACSYS_DMQ_HOST") or DEFAULT_HOST
        if not isinstance(host, str) or not host.strip():
            raise ValueError("host cannot be empty")
        port = port if port is not None else (_env_port() or DEFAULT_PORT)
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            raise ValueError(f"port must be between 1 and 65535, got {port}")
        self._timeout = check_positive(DEFAULT_TIMEOUT if timeout is None else timeout, "timeout")
        ttl = DEFAULT_SESSION_TTL if write_session_ttl is None else write_session_ttl
        self._session_ttl = check_positive(ttl, "write_session_ttl")
        self._host = host
        self._port = port
        self._vhost = vhost if vhost is not None else os.environ.get("PACSYS_DMQ_VHOST") or "/"
        self._auth = auth
        self._service = service
        self._timing = JobTiming(
            check_positive(heartbeat_interval, "heartbeat_interval"),
            check_positive(server_timeout, "server_timeout"),
        )
        if (
            isinstance(max_write_sessions, bool)
            or not isinstance(max_write_sessions, int)
            or max_write_sessions <= 0
        ):
            raise ValueError(
                f"max_write_sessions must be a positive integer, got {max_write_sessions}"
            )
        self._max_sessions = max_write_sessions
        self._dispatch_mode = DispatchMode(dispatch_mode)
        self._dispatcher = CallbackDispatcher(self._dispatch_mode)
        self._host_address = local_host_address()
        self._name = f"pacsys-dmq-{uuid.uuid4().hex[:8]}"
        self._lock = threading.RLock()
        self._connect_lock = threading.Lock()
        self._loop: AmqpLoop | None = None
        self._jobs: set[Any] = set()  # I/O thread only
        self._streams: dict[BufferedSubscriptionHandle, StreamJob] = {}
        self._sessions: dict[str, WriteSession] = {}
        self._closed = False

    # --- properties -----------------------------------------------------------------------

    @property
    def capabilities(self) -> BackendCapability:
        return (
            BackendCapability.READ
            | BackendCapability.WRITE
            | BackendCapability.STREAM
            | BackendCapability.BATCH
        )

    @property
    def authenticated(self) -> bool:
        return True

    @property
    def principal(self) -> str | None:
        return self._auth.principal

    @property
    def host(self) -> str:
        return self._host

    @property
    def port(self) -> int:
        return self._port

    @property
    def vhost(self) -> str:
        return self._vhost

    @property
    def timeout(self) -> float:
        return self._timeout

    @property
    def connection_name(self) -> str:
        """The AMQP ``connection_name`` client property (as the broker lists it)."""
        return self._name

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"DMQBackend(host={self._host!r}, port={self._port}, vhost={self._vhost!r}, {state})"

    # --- connection -------------------------------------------------------------------------

    def _call_timeout(self, timeout: float | None) -> float:
        return self._timeout if timeout is None else check_positive(timeout, "timeout")

    def _ensure_loop(self, deadline: float) -> AmqpLoop:
        with self._connect_lock:
            self._check_open()
            loop = self._loop
            if loop is not None and loop.alive:
                return loop
            remaining = max(deadline - time.monotonic(), 0.05)
            parameters = pika.ConnectionParameters(
                host=self._host,
                port=self._port,
                virtual_host=self._vhost,
                heartbeat=AMQP_HEARTBEAT,
                blocked_connection_timeout=self._timeout,
                connection_attempts=1,
                socket_timeout=min(10.0, remaining),
                stack_timeout=min(15.0, remaining),
                client_properties={"connection_name": self._name},
            )
            loop = AmqpLoop(
                parameters, name=f"{self._name}-io", tick=self._tick, on_lost=self._on_lost
            )
            try:
                loop.start(remaining)
            except Exception as exc:
                detail = str(exc) or type(exc).__name__
                raise ConnectionError(
                    f"Failed to connect to RabbitMQ at {self._host}:{self._port}: {detail}"
                ) from exc
            self._loop = loop
            return loop

    # I/O-thread callbacks (JobRegistry / SessionHost) ----------------------------------------

    def register(self, job: Any) -> None:
        self._jobs.add(job)

    def unregister(self, job: Any) -> None:
        self._jobs.discard(job)
        if isinstance(job, StreamJob):
            with self._lock:
                self._streams.pop(job.handle, None)

    def retire_if_idle(self, session: WriteSession, now: float, ttl: float | None = None) -> bool:
        limit = self._session_ttl if ttl is None else ttl
        with self._lock:
            if session.reserved or now - session.last_used < limit:
                return False
            if self._sessions.get(session.init_drf) is session:
                del self._sessions[session.init_drf]
            return True

    def forget(self, session: WriteSession) -> None:
        with self._lock:
            if self._sessions.get(session.init_drf) is session:
                del self._sessions[session.init_drf]

    def _tick(self, now: float) -> None:
        for job in list(self._jobs):
            job.tick(now)

    def _on_lost(self, exc: BaseException) -> None:
        log.warning("DMQ connection to %s:%d lost: %s", self._host, self._port, exc)
        for job in list(self._jobs):
            try:
                job.connection_lost(exc)
            except Exception:
                log.exception("Error while failing a DMQ job (ignored)")
        self._jobs.clear()

    # --- reads ------------------------------------------------------------------------------

    def get_many(self, drfs: list[str], timeout: float | None = None) -> list[Reading]:
        self._check_open()
        drfs = drf_list(drfs)
        if not drfs:
            return []
        prepared = [ensure_immediate_event(drf) for drf in drfs]
        wait = self._call_timeout(timeout)
        deadline = time.monotonic() + wait
        loop = self._ensure_loop(deadline)
        try:
            init = self._signed_init(encode_message(ReadingRequest(tuple(prepared))))
        except AuthenticationError as exc:
            readings = [_failed(drf, str(exc)) for drf in drfs]
            raise ReadError(readings, f"DMQ read failed: {exc}") from exc
        job = ReadJob(drfs, prepared, init, self._timing, self)

        def never_started(exc: BaseException) -> None:
            job.error = exc
            job.done.set()
            job.closed.set()

        loop.submit(lambda: job.start(loop.connection), never_started)
        if not job.done.wait(max(deadline - time.monotonic(), 0)):
            if loop.alive:
                loop.submit(job.finish, lambda exc: None)
            job.closed.wait(ABORT_WAIT)
            raise ReadError(job.readings(_timeout_reading), "Request timeout")
        if job.failure is not None:
            error = job.failure.error
            readings = job.readings(lambda drf: reply_to_reading(error, drf))
            cause = DeviceError(
                ", ".join(drfs), error.facility_code, error.error_number, error.message
            )
            raise ReadError(readings, f"DMQ read failed: {job.failure.detail}") from cause
        if job.error is not None and not job.complete:
            text = str(job.error) or type(job.error).__name__
            readings = job.readings(lambda drf: _failed(drf, text))
            raise ReadError(readings, f"DMQ read failed: {text}") from job.error
        return job.readings(_timeout_reading)

    def _signed_init(self, body: bytes) -> InitMessage:
        """New GSS context, token and INIT MIC (AuthenticationError on any GSS failure)."""
        signer = JobSigner(new_context(self._auth, self._service))
        return build_init(body, signer, self._host_address)

    # --- streaming ----------------------------------------------------------------------------

    def subscribe(
        self,
        drfs: list[str],
        callback: ReadingCallback | None = None,
        on_error: ErrorCallback | None = None,
    ) -> SubscriptionHandle:
        self._check_open()
        drfs = subscription_drfs(drfs, callback, on_error)
        for drf in drfs:
            parse_request(drf)
        deadline = time.monotonic() + self._timeout
        loop = self._ensure_loop(deadline)
        init = self._signed_init(encode_message(ReadingRequest(tuple(drfs))))
        handle = BufferedSubscriptionHandle(
            drfs,
            range(1, len(drfs) + 1),
            dispatcher=self._dispatcher,
            callback=callback,
            on_error=on_error,
            on_stop=self._on_handle_stop,
        )
        job = StreamJob(drfs, init, self._timing, self, handle)
        with self._lock:
            self._streams[handle] = job
        loop.submit(lambda: job.start(loop.connection), job.setup_failed)
        if not job.setup_done.wait(max(deadline - time.monotonic(), 0)):
            handle.stop()
            raise RuntimeError("Timeout waiting for subscription setup")
        if job.setup_error is not None:
            with self._lock:
                self._streams.pop(handle, None)
            handle.mark_stopped()
            raise ConnectionError(f"Subscription setup failed: {job.setup_error}") from (
                job.setup_error
            )
        return handle

    def _on_handle_stop(self, handle: BufferedSubscriptionHandle) -> None:
        with self._lock:
            job = self._streams.pop(handle, None)
        loop = self._loop
        if job is not None and loop is not None and loop.alive:
            loop.submit(job.finish, lambda exc: None)

    def remove(self, handle: SubscriptionHandle) -> None:
        handle.stop()

    def stop_streaming(self) -> None:
        with self._lock:
            handles = list(self._streams)
        for handle in handles:
            handle.stop()

    # --- writes -----------------------------------------------------------------------------

    def write(self, drf: str, value: Value, timeout: float | None = None) -> WriteResult:
        return self.write_many([(drf, value)], timeout=timeout)[0]

    def write_many(
        self, settings: list[tuple[str, Value]], timeout: float | None = None
    ) -> list[WriteResult]:
        self._check_open()
        pairs = list(settings)
        if not pairs:
            return []
        now_ms = int(time.time() * 1000)
        drfs: list[str] = []
        groups: dict[str, list[tuple[int, bytes]]] = {}
        for index, pair in enumerate(pairs):
            if not isinstance(pair, tuple) or len(pair) != 2:
                raise TypeError(f"write_many expects (drf, value) pairs, got {pair!r}")
            drf, value = pair
            init_drf = prepare_for_write(drf)
            body = encode_message(value_to_setting(value, time_ms=now_ms))
            drfs.append(drf)
            groups.setdefault(init_drf, []).append((index, body))
        check_credentials(self._auth)
        wait = self._call_timeout(timeout)
        deadline = time.monotonic() + wait
        loop = self._ensure_loop(deadline)
        call = WriteCall(drfs)
        work = {
            init_drf: [PendingWrite(call, index, body) for index, body in items]
            for init_drf, items in groups.items()
        }
        chosen = self._acquire_sessions(work, loop)

        def enqueue_all() -> None:
            for init_drf, session in chosen.items():
                session.enqueue(loop.connection, work[init_drf])
            self._release(chosen.values())

        def never_enqueued(exc: BaseException) -> None:
            self._release(chosen.values())
            for init_drf in chosen:
                for write in work[init_drf]:
                    write.fail(str(exc))

        if chosen:
            loop.submit(enqueue_all, never_enqueued)
        if not call.done.wait(max(deadline - time.monotonic(), 0)):
            call.expire()
            if loop.alive:
                try:
                    loop.call(lambda: [s.abort_call(call) for s in chosen.values()], ABORT_WAIT)
                except Exception as exc:
                    log.debug("abort of timed-out writes: %s", exc)
        return call.results

    def _release(self, sessions: Any) -> None:
        now = time.monotonic()
        with self._lock:
            for session in sessions:
                session.reserved -= 1
                session.last_used = now

    def _acquire_sessions(
        self, work: dict[str, list[PendingWrite]], loop: AmqpLoop
    ) -> dict[str, WriteSession]:
        """Reserve an open session per init DRF, creating (and signing) new ones as needed."""
        chosen: dict[str, WriteSession] = {}
        needed: list[str] = []
        with self._lock:
            for init_drf in work:
                session = self._sessions.get(init_drf)
                if session is not None and not session.closed:
                    session.reserved += 1
                    chosen[init_drf] = session
                else:
                    needed.append(init_drf)
        fresh: dict[str, WriteSession] = {}
        try:
            for init_drf in needed:
                context = new_context(self._auth, self._service)  # AuthenticationError raises
                try:
                    signer = JobSigner(context)
                except AuthenticationError as exc:
                    for write in work[init_drf]:
                        write.fail(f"GSS context creation failed: {exc.message}")
                    continue
                init = build_init(
                    encode_message(SettingRequest((init_drf,))), signer, self._host_address
                )
                fresh[init_drf] = WriteSession(
                    init_drf, signer, init, self._host_address, self._timing, self
                )
        except BaseException:
            self._release(chosen.values())
            raise
        evicted: list[WriteSession] = []
        with self._lock:
            for init_drf, session in fresh.items():
                existing = self._sessions.get(init_drf)
                if existing is not None and not existing.closed:
                    existing.reserved += 1
                    chosen[init_drf] = existing
                    continue
                if len(self._sessions) >= self._max_sessions:
                    victim = self._idle_victim()
                    if victim is None:
                        for write in work[init_drf]:
                            write.fail("Too many active write sessions")
                        continue
                    del self._sessions[victim.init_drf]
                    evicted.append(victim)
                session.reserved = 1
                self._sessions[init_drf] = session
                chosen[init_drf] = session
        for victim in evicted:
            loop.submit(
                lambda v=victim: v.close("Session closed: evicted (session limit)"),
                lambda exc: None,
            )
        return chosen

    def _idle_victim(self) -> WriteSession | None:
        """The least recently used session nobody is using (caller holds the lock)."""
        idle = []
        for session in self._sessions.values():
            try:
                busy = session.reserved > 0 or session.busy
            except RuntimeError:  # deque changed under us on the I/O thread
                busy = True
            if not busy:
                idle.append(session)
        return min(idle, key=lambda s: s.last_used, default=None)

    # --- lifecycle ----------------------------------------------------------------------------

    def close(self) -> None:
        """DROP every subscription and write session, close the connection, join the thread."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            streams = list(self._streams.items())
            self._streams.clear()
            sessions = list(self._sessions.values())
            self._sessions.clear()
        with self._connect_lock:
            loop = self._loop
        if loop is not None and loop.alive:
            # DROP write sessions too (unlike the reference client): the server then
            # releases its bindings at once and no client exchange lingers on the broker.
            def drop_all() -> None:
                for _, job in streams:
                    job.finish()
                for session in sessions:
                    session.close("Connection closed: backend closed")

            try:
                loop.call(drop_all, ABORT_WAIT)
            except Exception as exc:
                log.debug("dropping jobs on close: %s", exc)
        if loop is not None:
            loop.stop(CLOSE_JOIN)
        closed = ConnectionError("backend closed")
        for job in list(self._jobs):
            job.connection_lost(closed)
        self._jobs.clear()
        for session in sessions:
            session.close("Connection closed: backend closed", drop=False)
        for handle, _ in streams:
            handle.mark_stopped()
        self._dispatcher.close()


def _failed(drf: str, message: str) -> Reading:
    return Reading(drf=drf, facility_code=FACILITY_ACNET, error_code=ACNET_RETRY, message=message)


def _timeout_reading(drf: str) -> Reading:
    return Reading(
        drf=drf, facility_code=FACILITY_ACNET, error_code=ACNET_REQTMO, message="Request timeout"
    )
