"""DMQBackend: reads, streams and writes through the DMQ service on a RabbitMQ broker.

One AMQP connection per backend (opened lazily, on a background I/O thread) carries every
job; each one-shot read, subscription and write session has its own channel, exchange and
queue. Kerberos is required for everything: each job gets a fresh GSS
context whose token and MICs travel in AMQP headers.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any, ClassVar

import pika

from pacsys.acnet.status import ERR_RETRY, ERR_TIMEOUT, FACILITY_ACNET
from pacsys.auth import KerberosAuth
from pacsys.backends import check_positive, drf_list, fill_missing, setting_pairs
from pacsys.backends.params import (
    check_host,
    check_port,
    check_positive_int,
    env_int,
    env_str,
)
from pacsys.backends.reconnect import ReconnectPolicy, check_reconnect
from pacsys.backends.streams import NetworkBackend, StreamTable
from pacsys.backends.subscription import BufferedSubscriptionHandle
from pacsys.deadline import Deadline, checked_timeout
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
from pacsys_dmq.client.driver import ClientDriver, LostCallback, Signed
from pacsys_dmq.client.security import (
    DEFAULT_SERVICE,
    JobSigner,
    check_credentials,
    local_host_address,
    new_context,
)
from pacsys_dmq.client.streams import DMQStream
from pacsys_dmq.codec.codec import encode_message
from pacsys_dmq.codec.mapping import reply_to_reading, value_to_setting
from pacsys_dmq.codec.messages import ReadingRequest, SettingRequest
from pacsys_dmq.loop import AmqpLoop
from pacsys_dmq.protocol import AmqpMessage, ClientProtocol, Timing, build_init
from pacsys_dmq.protocol.resolve import JobFailure
from pacsys_dmq.protocol.sessions import TIMEOUT_MESSAGE

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "DMQBackend"]

log = logging.getLogger("pacsys_dmq.client")

DEFAULT_HOST = "appsrv2.fnal.gov"
DEFAULT_PORT = 5672
DEFAULT_TIMEOUT = 10.0
DEFAULT_SESSION_TTL = 600.0
MAX_WRITE_SESSIONS = 1024
AMQP_HEARTBEAT = 15


class DMQBackend(NetworkBackend):
    """ACNET through DMQ: ``read``/``get``/``get_many``/``subscribe``/``write`` over AMQP.

    ``host``/``port`` default to ``PACSYS_DMQ_HOST``/``PACSYS_DMQ_PORT`` (then
    appsrv2.fnal.gov:5672); ``vhost`` to ``PACSYS_DMQ_VHOST`` (then ``/``). ``auth`` must be
    a :class:`~pacsys.auth.KerberosAuth`. ``heartbeat_interval``, ``server_timeout`` and
    ``max_write_sessions`` are the protocol's constants, adjustable for tests.
    ``reconnect``: a subscription whose connection or server heartbeat is lost stops (None,
    the default) or starts a new job under the ReconnectPolicy
    (docs/protocols/semantics.md §6.4).
    """

    _streams: StreamTable[DMQStream]

    CAPABILITIES: ClassVar[BackendCapability] = (
        BackendCapability.READ
        | BackendCapability.WRITE
        | BackendCapability.STREAM
        | BackendCapability.BATCH
    )

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
        reconnect: ReconnectPolicy | None = None,
    ) -> None:
        if auth is None or not isinstance(auth, KerberosAuth):
            got = "no auth" if auth is None else type(auth).__name__
            raise AuthenticationError(
                f"DMQ backend requires KerberosAuth for all operations (got {got})"
            )
        host = check_host(host if host is not None else env_str("PACSYS_DMQ_HOST", DEFAULT_HOST))
        port = check_port(port if port is not None else env_int("PACSYS_DMQ_PORT", DEFAULT_PORT))
        self._timeout = checked_timeout(timeout, DEFAULT_TIMEOUT)
        ttl = DEFAULT_SESSION_TTL if write_session_ttl is None else write_session_ttl
        session_ttl = check_positive(ttl, "write_session_ttl")
        timing = Timing(
            check_positive(heartbeat_interval, "heartbeat_interval"),
            check_positive(server_timeout, "server_timeout"),
        )
        check_positive_int(max_write_sessions, "max_write_sessions")
        self._host = host
        self._port = port
        self._vhost = vhost if vhost is not None else env_str("PACSYS_DMQ_VHOST", "/")
        self._auth = auth
        self._service = service
        self._host_address = local_host_address()
        self._name = f"pacsys-dmq-{uuid.uuid4().hex[:8]}"
        engine = ClientProtocol(
            host_address=self._host_address,
            timing=timing,
            session_ttl=session_ttl,
            max_sessions=max_write_sessions,
        )
        self._driver = ClientDriver(engine, self._connection_parameters)
        self._reconnect = check_reconnect(reconnect)
        self._init_streaming(dispatch_mode)
        self._closed = False

    # --- properties -----------------------------------------------------------------------

    @property
    def authenticated(self) -> bool:
        return True

    @property
    def principal(self) -> str | None:
        return self._auth.principal

    @property
    def vhost(self) -> str:
        return self._vhost

    @property
    def connection_name(self) -> str:
        """The AMQP ``connection_name`` client property (as the broker lists it)."""
        return self._name

    @property
    def _loop(self) -> AmqpLoop | None:
        return self._driver.loop

    @property
    def _sessions(self) -> dict[str, Any]:
        """The write sessions by init DRF (a live view, for tests and debugging)."""
        return self._driver.engine.sessions

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"DMQBackend(host={self._host!r}, port={self._port}, vhost={self._vhost!r}, {state})"

    # --- connection -------------------------------------------------------------------------

    def _connection_parameters(self, remaining: float) -> pika.ConnectionParameters:
        return pika.ConnectionParameters(
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

    def _connect(self, deadline: Deadline) -> AmqpLoop:
        self._check_open()
        try:
            return self._driver.connect(deadline, f"{self._name}-io")
        except Exception as exc:
            detail = str(exc) or type(exc).__name__
            raise ConnectionError(
                f"Failed to connect to RabbitMQ at {self._host}:{self._port}: {detail}"
            ) from exc

    def _signed_init(self, body: bytes) -> AmqpMessage:
        """New GSS context, token and INIT MIC (AuthenticationError on any GSS failure)."""
        signer = JobSigner(new_context(self._auth, self._service))
        return build_init(body, signer, self._host_address)

    # --- reads ------------------------------------------------------------------------------

    def get_many(self, drfs: list[str], timeout: float | None = None) -> list[Reading]:
        self._check_open()
        drfs = drf_list(drfs)
        if not drfs:
            return []
        prepared = [ensure_immediate_event(drf) for drf in drfs]
        deadline = Deadline.after(checked_timeout(timeout, self._timeout))
        loop = self._connect(deadline)
        try:
            init = self._signed_init(encode_message(ReadingRequest(tuple(prepared))))
        except AuthenticationError as exc:
            readings = [_failed(drf, str(exc)) for drf in drfs]
            raise ReadError(readings, f"DMQ read failed: {exc}") from exc
        done, timed_out = self._driver.read(loop, init, drfs, prepared, deadline)
        got = done.readings
        if timed_out:
            raise ReadError(fill_missing(drfs, got, _timeout_reading), TIMEOUT_MESSAGE)
        if done.failure is not None:
            error = done.failure
            readings = fill_missing(drfs, got, lambda drf: reply_to_reading(error, drf))
            cause = DeviceError(
                ", ".join(drfs), error.facility_code, error.error_number, error.message
            )
            detail = JobFailure(error).detail
            raise ReadError(readings, f"DMQ read failed: {detail}") from cause
        if done.error is not None:
            text = str(done.error) or type(done.error).__name__
            readings = fill_missing(drfs, got, lambda drf: _failed(drf, text))
            raise ReadError(readings, f"DMQ read failed: {text}") from done.error
        return fill_missing(drfs, got, _timeout_reading)

    # --- streaming ----------------------------------------------------------------------------

    def subscribe(
        self,
        drfs: list[str],
        callback: ReadingCallback | None = None,
        on_error: ErrorCallback | None = None,
    ) -> SubscriptionHandle:
        handle = self._new_subscription(drfs, callback, on_error)
        stream = DMQStream(self._start_stream_job, self._driver.stop_stream, self._reconnect)
        stream.handle = handle
        self._streams.prune_stopped()
        self._streams.add(handle, stream)
        try:
            stream.open(handle)
        except BaseException:
            self._streams.pop(handle)
            raise
        return handle

    def _start_stream_job(
        self, handle: BufferedSubscriptionHandle, on_end: LostCallback | None
    ) -> str:
        """Connect, sign and start one job for ``handle``; its id (raises on failure)."""
        drfs = handle.drfs
        deadline = Deadline.after(self._timeout)
        loop = self._connect(deadline)
        init = self._signed_init(encode_message(ReadingRequest(tuple(drfs))))
        job = init.reply_to
        assert job is not None
        self._driver.subscribe(loop, init, drfs, handle, deadline, on_end)
        return job

    def _stream_handles(self) -> list[SubscriptionHandle]:
        """The table's handles and any the driver still serves."""
        handles: set[SubscriptionHandle] = set(self._driver.stream_handles())
        handles.update(self._streams.handles())
        return list(handles)

    # --- writes -----------------------------------------------------------------------------

    def write_many(
        self, settings: list[tuple[str, Value]], timeout: float | None = None
    ) -> list[WriteResult]:
        self._check_open()
        pairs = setting_pairs(settings)
        if not pairs:
            return []
        now_ms = int(time.time() * 1000)
        drfs: list[str] = []
        groups: dict[str, list[tuple[int, bytes]]] = {}
        for index, (drf, value) in enumerate(pairs):
            init_drf = prepare_for_write(drf)
            body = encode_message(value_to_setting(value, time_ms=now_ms))
            drfs.append(drf)
            groups.setdefault(init_drf, []).append((index, body))
        check_credentials(self._auth)
        deadline = Deadline.after(checked_timeout(timeout, self._timeout))
        loop = self._connect(deadline)
        return self._driver.write(loop, drfs, groups, self._sign_session, deadline)

    def _sign_session(self, init_drf: str) -> Signed:
        """A new write session's signed INIT; AuthenticationError raises, a failed GSS step
        fails only that session."""
        context = new_context(self._auth, self._service)
        try:
            signer = JobSigner(context)
        except AuthenticationError as exc:
            return f"GSS context creation failed: {exc.message}"
        body = encode_message(SettingRequest((init_drf,)))
        return build_init(body, signer, self._host_address), signer

    # --- lifecycle ----------------------------------------------------------------------------

    def close(self) -> None:
        """DROP every subscription and write session, close the connection, join the thread.

        Write sessions get a DROP too (unlike the reference client): the server then
        releases its bindings at once and no client exchange lingers on the broker.
        """
        if self._closed:
            return
        self._closed = True
        self._streams.close()  # reconnecting ones may have no job for the driver to end
        self._driver.close()
        self._dispatcher.close()


def _failed(drf: str, message: str) -> Reading:
    return Reading(drf=drf, facility_code=FACILITY_ACNET, error_code=ERR_RETRY, message=message)


def _timeout_reading(drf: str) -> Reading:
    return Reading(
        drf=drf, facility_code=FACILITY_ACNET, error_code=ERR_TIMEOUT, message=TIMEOUT_MESSAGE
    )
