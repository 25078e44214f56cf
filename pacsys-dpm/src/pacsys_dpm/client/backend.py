"""DPMHTTPBackend: read, write and stream through DPM over TCP (acsys-proxy port 6802).

One-shot reads use a lazy pool of connections; each subscription has its own
connection and reader thread; writes use Kerberos-authenticated connections.
Every call takes one overall timeout (default 5 s).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from pacsys.acnet.status import ERR_RETRY, FACILITY_ACNET
from pacsys.auth import Auth, KerberosAuth
from pacsys.backends import (
    check_positive,
    drf_list,
    summarize_drfs,
    validate_alarm_dict,
)
from pacsys.backends.reconnect import ReconnectPolicy, check_reconnect
from pacsys.backends.streams import NetworkBackend, StreamTable
from pacsys.config import DEFAULTS, read_environment
from pacsys.deadline import Deadline, checked_timeout
from pacsys.drf3 import parse_request
from pacsys.drf3.properties import DRF_PROPERTY
from pacsys.drf_utils import prepare_for_write
from pacsys.errors import AuthenticationError
from pacsys.types import (
    BackendCapability,
    BasicControl,
    DispatchMode,
    ErrorCallback,
    Reading,
    ReadingCallback,
    SubscriptionHandle,
    WriteResult,
)
from pacsys_dpm.client.connection import DPMConnection
from pacsys_dpm.client.pool import ConnectionPool, PoolClosedError, PoolExhaustedError
from pacsys_dpm.client.stream import DEFAULT_HEARTBEAT_TIMEOUT, StreamWorker
from pacsys_dpm.client.writes import WriteConnections, run_write
from pacsys_dpm.principal import REALM
from pacsys_dpm.protocol import (
    DPMConnectionError,
    DPMProtocolError,
    Outcome,
    ReadOp,
    ReadPlan,
    SetupFailed,
    make_setting,
)
from pacsys_dpm.protocol.settings import TIMEOUT_OUTCOME

if TYPE_CHECKING:
    from pacsys.types import Value

__all__ = ["DPMHTTPBackend"]

log = logging.getLogger("pacsys_dpm.backend")

_TRANSPORT_ERRORS = (DPMConnectionError, DPMProtocolError)
_ALARM_FIELDS = {
    "minimum": "MIN",
    "maximum": "MAX",
    "nominal": "NOM",
    "mask": "MASK",
    "alarm_enable": "ALARM_ENABLE",
    "abort_inhibit": "ABORT_INHIBIT",
    "tries_needed": "TRIES_NEEDED",
}


class _LazyKerberos:
    """Marker: acquire Kerberos credentials at the first write, not at construction."""

    def __repr__(self) -> str:
        return "<lazy Kerberos>"


LAZY_KERBEROS: Any = _LazyKerberos()


class DPMHTTPBackend(NetworkBackend):
    """DPM over TCP ("DPM/HTTP", PC encoding).

    Arguments left as None come from ``PACSYS_DPM_HOST``/``PACSYS_DPM_PORT``/
    ``PACSYS_POOL_SIZE``/``PACSYS_TIMEOUT``, then the defaults (acsys-proxy.fnal.gov,
    6802, 4, 5.0 s). ``auth=None`` makes the backend read-only; leaving ``auth`` out
    (as the global backend does) acquires Kerberos credentials at the first write.
    ``role`` is sent as ``#ROLE:<role>`` with every write.  ``reconnect`` decides what a
    subscription does when its connection drops: stop (None, the default) or resubscribe
    under the :class:`~pacsys.backends.reconnect.ReconnectPolicy`.
    """

    _streams: StreamTable[StreamWorker]

    CAPABILITIES: ClassVar[BackendCapability] = (
        BackendCapability.READ
        | BackendCapability.BATCH
        | BackendCapability.STREAM
        | BackendCapability.WRITE
        | BackendCapability.AUTH_KERBEROS
    )

    def __init__(
        self,
        host: str | None = None,
        port: int | None = None,
        pool_size: int | None = None,
        timeout: float | None = None,
        auth: Auth | None = LAZY_KERBEROS,
        role: str | None = None,
        dispatch_mode: DispatchMode | str = DispatchMode.WORKER,
        *,
        heartbeat_timeout: float = DEFAULT_HEARTBEAT_TIMEOUT,
        reconnect: ReconnectPolicy | None = None,
    ) -> None:
        env = read_environment()
        self._host = host if host is not None else env.get("dpm_host", DEFAULTS["dpm_host"])
        self._port = port if port is not None else env.get("dpm_port", DEFAULTS["dpm_port"])
        pool_size = pool_size if pool_size is not None else env.get("pool_size", 4)
        timeout = timeout if timeout is not None else env.get("default_timeout", 5.0)
        self._timeout = check_positive(timeout)
        self._heartbeat_timeout = check_positive(heartbeat_timeout, "heartbeat_timeout")
        self._reconnect = check_reconnect(reconnect)
        if role is not None and (not isinstance(role, str) or not role.strip()):
            raise ValueError("role must be a non-empty string or None")
        if (auth is not None and auth is not LAZY_KERBEROS) and (
            not isinstance(auth, Auth) or auth.kind != "kerberos"
        ):
            raise ValueError(
                f"DPM backend auth must be KerberosAuth or None, got {type(auth).__name__}"
            )
        self._pool = ConnectionPool(self._host, self._port, pool_size)
        self._auth: Any = auth
        self._auth_lock = threading.Lock()
        self._role = role
        self._writes = WriteConnections(self._host, self._port)
        self._init_streaming(dispatch_mode)
        self._closed = False

    # --- properties ------------------------------------------------------------------------

    @property
    def pool_size(self) -> int:
        return self._pool.pool_size

    @property
    def role(self) -> str | None:
        return self._role

    @property
    def capabilities(self) -> BackendCapability:
        if self._auth is None:  # no Kerberos: no writes
            return self.CAPABILITIES & ~(BackendCapability.WRITE | BackendCapability.AUTH_KERBEROS)
        return self.CAPABILITIES

    @property
    def authenticated(self) -> bool:
        return self._auth is not None and self._auth is not LAZY_KERBEROS

    @property
    def principal(self) -> str | None:
        if self._auth is None or self._auth is LAZY_KERBEROS:
            return None
        return str(self._auth.principal)

    def __repr__(self) -> str:
        state = " closed" if self._closed else ""
        return f"<DPMHTTPBackend {self._host}:{self._port}{state}>"

    # --- reads -----------------------------------------------------------------------------

    def get_many(self, drfs: list[str], timeout: float | None = None) -> list[Reading]:
        self._check_open()
        drfs = drf_list(drfs)
        plan = ReadPlan(drfs)  # ValueError before any I/O
        if not drfs:
            return []
        budget = checked_timeout(timeout, self._timeout)
        deadline = Deadline.after(budget)  # bounds every step, connecting included
        retried = False
        while True:
            try:
                conn, reused = self._pool.borrow(deadline)
            except PoolExhaustedError as exc:
                raise plan.failure("Request timeout", timed_out=True) from exc
            except PoolClosedError:
                raise RuntimeError("Backend is closed") from None
            except _TRANSPORT_ERRORS as exc:
                raise plan.failure(f"DPM connection failed: {exc}") from exc
            read: ReadOp | None = None
            try:
                read = conn.protocol.read(plan)
                conn.flush(deadline)
                conn.run(read, deadline)
            except DPMConnectionError as exc:
                self._pool.discard(conn)
                nothing_yet = read is None or all(r is None for r in read.readings)
                if reused and nothing_yet and not retried and not deadline.expired:
                    log.debug("Pooled DPM connection failed (%s); retrying on a new one", exc)
                    retried = True
                    continue
                got = None if read is None else read.readings
                raise plan.failure(f"DPM connection failed: {exc}", readings=got) from exc
            except DPMProtocolError as exc:
                self._pool.discard(conn)
                got = None if read is None else read.readings
                raise plan.failure(f"DPM protocol error: {exc}", readings=got) from exc
            except BaseException:
                self._pool.discard(conn)
                raise
            break
        self._return(conn, read, deadline)
        return read.result(budget)

    def _return(self, conn: DPMConnection, read: ReadOp, deadline: Deadline) -> None:
        """After a clean read the list is cleared, and the connection pooled if reusable."""
        if not read.clean:
            self._pool.discard(conn)
            return
        try:
            conn.protocol.clear_list()
            conn.flush(deadline)
        except DPMConnectionError:
            self._pool.discard(conn)
        else:
            if read.plan.reusable:
                self._pool.release(conn)
            else:
                self._pool.discard(conn)

    # --- streaming -------------------------------------------------------------------------

    def subscribe(
        self,
        drfs: list[str],
        callback: ReadingCallback | None = None,
        on_error: ErrorCallback | None = None,
    ) -> SubscriptionHandle:
        handle = self._new_subscription(drfs, callback, on_error)
        drfs = handle.drfs
        worker = StreamWorker(
            handle,
            self._host,
            self._port,
            connect_timeout=self._timeout,
            heartbeat_timeout=self._heartbeat_timeout,
            on_exit=self._stream_ended,
            reconnect=self._reconnect,
        )
        self._check_open()
        self._streams.add(handle, worker)
        worker.start()
        log.debug("Subscribed to %s on %s", summarize_drfs(drfs), worker.thread.name)
        return handle

    def _stream_ended(self, worker: StreamWorker) -> None:
        self._streams.discard(worker.handle, worker)

    @property
    def active_subscriptions(self) -> int:
        return len(self._streams)

    # --- writes ----------------------------------------------------------------------------

    def _credentials(self) -> tuple[Any, str]:
        """The Kerberos auth and principal for a write; AuthenticationError when unusable."""
        auth = self._auth
        if auth is None:
            raise AuthenticationError(
                "DPM writes need Kerberos: create the backend with auth=KerberosAuth()"
            )
        if auth is LAZY_KERBEROS:
            with self._auth_lock:
                if self._auth is LAZY_KERBEROS:
                    self._auth = KerberosAuth()
                auth = self._auth
        auth.credentials  # noqa: B018 - re-checks the ticket: AuthenticationError if expired
        principal = str(auth.principal)
        if not principal.endswith("@" + REALM):
            raise AuthenticationError(
                f"Kerberos principal {principal} is not in realm {REALM}; DPM only accepts {REALM}"
            )
        return auth, principal

    def write(self, drf: str, value: Value, timeout: float | None = None) -> WriteResult:
        if isinstance(value, dict):
            return self._write_alarm(drf, value, timeout)
        return self.write_many([(drf, value)], timeout=timeout)[0]

    def write_many(
        self, settings: list[tuple[str, Value]] | Mapping[str, Value], timeout: float | None = None
    ) -> list[WriteResult]:
        self._check_open()
        pairs = list(settings.items()) if isinstance(settings, Mapping) else list(settings)
        if any(isinstance(value, dict) for _, value in pairs):
            return [self.write(drf, value, timeout=timeout) for drf, value in pairs]
        if not pairs:
            return []
        drfs = [drf for drf, _ in pairs]
        drf_list(drfs)
        wire = [prepare_for_write(drf) for drf in drfs]
        structs = [make_setting(i + 1, value) for i, (_, value) in enumerate(pairs)]
        deadline = Deadline.after(checked_timeout(timeout, self._timeout))
        auth, principal = self._credentials()
        outcomes = self._run_write(auth, principal, wire, structs, deadline)
        return [
            WriteResult(drf=drf, facility_code=f, error_code=e, message=m)
            for drf, (f, e, m) in zip(drfs, outcomes, strict=True)
        ]

    def _run_write(
        self, auth: Any, principal: str, wire: list[str], structs: list[Any], deadline: Deadline
    ) -> list[Outcome]:
        count = len(wire)
        for attempt in (0, 1):
            try:
                conn, target = self._writes.acquire(auth, deadline, fresh=attempt > 0)
            except TimeoutError:
                return [TIMEOUT_OUTCOME] * count
            except _TRANSPORT_ERRORS as exc:
                if attempt == 0 and not deadline.expired:
                    continue
                return [(FACILITY_ACNET, ERR_RETRY, f"DPM connection failed: {exc}")] * count
            try:
                outcomes, reusable = run_write(
                    conn, wire, structs, user_name=principal, role=self._role, deadline=deadline
                )
            except SetupFailed as exc:
                self._writes.release(conn, target, False)
                if attempt == 0 and not deadline.expired:
                    log.debug("DPM write setup failed (%s); retrying on a new connection", exc)
                    continue
                return [(FACILITY_ACNET, ERR_RETRY, f"DPM connection failed: {exc}")] * count
            except BaseException:
                self._writes.release(conn, target, False)
                raise
            self._writes.release(conn, target, reusable)
            return outcomes
        raise AssertionError("unreachable")  # pragma: no cover

    def _write_alarm(
        self, drf: str, settings: dict[str, Any], timeout: float | None
    ) -> WriteResult:
        """An alarm-block dict becomes one write per field, in order."""
        request = parse_request(drf)
        if request.property in (DRF_PROPERTY.STATUS, DRF_PROPERTY.CONTROL):
            commands = ", ".join(member.name for member in BasicControl)
            raise ValueError(
                f"Cannot write a dict to {request.property.name} property. "
                f"Use BasicControl enum values instead: {commands}"
            )
        block = "ANALOG" if validate_alarm_dict(settings) == "analog" else "DIGITAL"
        for key, value in settings.items():
            field_drf = f"{request.device}.{block}.{_ALARM_FIELDS[key]}"
            number = int(value) if isinstance(value, bool) else value
            result = self.write_many([(field_drf, number)], timeout=timeout)[0]
            if not result.ok:
                return WriteResult(
                    drf=drf,
                    facility_code=result.facility_code,
                    error_code=result.error_code,
                    message=f"{field_drf}: {result.message}",
                )
        return WriteResult(drf=drf)

    # --- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._streams.close()
        self._pool.close()
        self._writes.close()
        self._dispatcher.close()

    def __enter__(self) -> DPMHTTPBackend:
        return self
