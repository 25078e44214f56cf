"""Settings over DPM: Kerberos authentication, EnableSettings, the write cycle (spec §4.7).

Authentication belongs to the list, i.e. to the TCP connection, so an
authenticated connection is kept (up to 2 idle, 60 s) and reused by later
writes. Values are mapped to Raw/Scaled/Text settings here, before any I/O,
so bad values fail fast with ValueError/TypeError.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from numbers import Real
from typing import Any

from pacsys._arrays import is_ndarray, loaded_numpy
from pacsys.errors import AuthenticationError
from pacsys_dpm.client.connection import DPMConnection, DPMConnectionError
from pacsys_dpm.client.values import ERR_RETRY, ERR_TIMEOUT, FACILITY_ACNET, split_status
from pacsys_dpm.codec import (
    AddToListReply,
    AddToListRequest,
    ApplySettingsReply,
    ApplySettingsRequest,
    AuthenticateReply,
    AuthenticateRequest,
    ClearListRequest,
    DeviceInfoReply,
    DPMProtocolError,
    EnableSettingsRequest,
    ListStatusReply,
    RawSetting,
    ScaledSetting,
    StartListReply,
    StartListRequest,
    StatusReply,
    StopListRequest,
    TextSetting,
)
from pacsys_dpm.principal import REALM, service_principal

__all__ = [
    "MIC_MESSAGE",
    "REALM",
    "SetupFailed",
    "WriteConnections",
    "authenticate",
    "make_setting",
    "run_write",
    "service_principal",
]

log = logging.getLogger("pacsys_dpm.writes")

MIC_MESSAGE = b"1234"
"""What both reference clients sign in EnableSettings."""

Outcome = tuple[int, int, str | None]
"""(facility, error, message) of one setting; (0, 0, None) is success."""

TIMEOUT_OUTCOME: Outcome = (FACILITY_ACNET, ERR_TIMEOUT, "Request timeout")
NO_REPLY_OUTCOME: Outcome = (FACILITY_ACNET, ERR_TIMEOUT, "No reply from server")


class SetupFailed(Exception):
    """A transport error before ApplySettings was sent: safe to retry on a fresh connection."""


# --- values -> setting structs -------------------------------------------------------------


def _latin1(text: str) -> str:
    text.encode("latin-1")  # UnicodeEncodeError (a ValueError) names the bad character
    return text


def _is_numpy_number(value: Any) -> bool:
    np = loaded_numpy()
    return np is not None and isinstance(value, np.number)


def make_setting(ref_id: int, value: Any) -> RawSetting | ScaledSetting | TextSetting:
    """The setting struct for ``value`` (bytes -> raw, text -> text, numbers -> scaled)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return RawSetting(ref_id, bytes(value))
    if isinstance(value, str):
        return TextSetting(ref_id, (_latin1(value),))
    if isinstance(value, dict):
        raise TypeError("alarm dicts are written field by field; pass them to write()")
    if is_ndarray(value):
        if value.ndim != 1:
            raise ValueError(f"array settings must be 1-D, got shape {value.shape}")
        items: list[Any] = value.tolist()
    elif isinstance(value, (list, tuple)):
        items = list(value)
    elif isinstance(value, Real) or _is_numpy_number(value):
        return ScaledSetting(ref_id, [float(value)])  # type: ignore[arg-type]
    else:
        raise TypeError(f"Cannot write a value of type {type(value).__name__} over DPM")
    strings = [isinstance(item, str) for item in items]
    if items and all(strings):
        return TextSetting(ref_id, tuple(_latin1(s) for s in items))
    if any(strings):
        raise ValueError("Cannot mix strings and numbers in one setting")
    try:
        return ScaledSetting(ref_id, [float(item) for item in items])
    except (TypeError, ValueError) as exc:
        raise TypeError(f"Array setting must hold numbers: {exc}") from None


# --- authentication ------------------------------------------------------------------------


def _auth_reply(conn: DPMConnection, deadline: float) -> AuthenticateReply:
    while True:
        try:
            reply = conn.recv(deadline)
        except TimeoutError:
            raise AuthenticationError("DPM did not answer Authenticate in time") from None
        if isinstance(reply, ListStatusReply):
            continue
        if isinstance(reply, AuthenticateReply):
            return reply
        if isinstance(reply, StatusReply):
            _, _, message = split_status(reply.status)
            raise AuthenticationError(f"DPM rejected authentication: {message or reply.status}")
        raise AuthenticationError(f"Unexpected {type(reply).__name__} reply during authentication")


def authenticate(
    conn: DPMConnection,
    auth: Any,
    deadline: float,
    context_factory: Callable[[str, Any], Any] | None = None,
) -> str:
    """Authenticate the connection's list and enable settings; returns the target principal.

    Raises AuthenticationError for every refusal (no ticket, GSS failure, DPM_PRIV).
    """
    if context_factory is None:
        from pacsys.gss import ClientContext

        def context_factory(target: str, creds: Any) -> Any:
            return ClientContext(target, creds, mutual=False)

    conn.send([AuthenticateRequest(conn.list_id, b"")])
    first = _auth_reply(conn, deadline)
    if not first.service_name:
        raise AuthenticationError("DPM sent no service name in its Authenticate reply")
    target = service_principal(first.service_name)
    context = context_factory(target, auth)
    token = context.step(None)
    conn.send([AuthenticateRequest(conn.list_id, token)])
    reply = _auth_reply(conn, deadline)
    if reply.token and not context.complete:
        token = context.step(reply.token)
        if token:
            conn.send([AuthenticateRequest(conn.list_id, token)])
            _auth_reply(conn, deadline)
    if not context.complete:
        raise AuthenticationError(f"Kerberos context with {target} was not established")
    mic = context.get_mic(MIC_MESSAGE)
    conn.send([EnableSettingsRequest(conn.list_id, mic, MIC_MESSAGE)])
    while True:
        try:
            answer = conn.recv(deadline)
        except TimeoutError:
            raise AuthenticationError("DPM did not answer EnableSettings in time") from None
        if isinstance(answer, ListStatusReply):
            continue
        if isinstance(answer, StatusReply):
            if answer.status == 0:
                return target
            _, _, message = split_status(answer.status)
            raise AuthenticationError(f"EnableSettings failed: {message or answer.status}")
        raise AuthenticationError(f"Unexpected {type(answer).__name__} reply to EnableSettings")


# --- the write cycle -----------------------------------------------------------------------


def _wait_setup(
    conn: DPMConnection, count: int, deadline: float
) -> tuple[list[Outcome | None], Outcome | None]:
    """Wait for DeviceInfo/Status of every ref and the StartList reply (§4.7.3 step 3).

    Returns per-ref setup errors and an abort outcome (job failure or timeout).
    """
    ready = [False] * count
    errors: list[Outcome | None] = [None] * count
    pending = count
    started = False
    while pending or not started:
        try:
            reply = conn.recv(deadline)
        except TimeoutError:
            return errors, TIMEOUT_OUTCOME
        kind = type(reply)
        if kind is ListStatusReply:
            continue
        if kind is StartListReply:
            if reply.status != 0:  # type: ignore[attr-defined]
                return errors, split_status(reply.status)  # type: ignore[attr-defined]
            started = True
            continue
        ref = getattr(reply, "ref_id", None)
        if ref is None:
            continue
        if kind is StatusReply and ref == 0:
            if reply.status != 0:  # type: ignore[attr-defined]
                return errors, split_status(reply.status)  # type: ignore[attr-defined]
            continue
        index = ref - 1
        if not 0 <= index < count or kind not in (DeviceInfoReply, StatusReply, AddToListReply):
            continue
        status = getattr(reply, "status", 0)
        if kind is AddToListReply and status == 0:
            continue
        if status != 0 and errors[index] is None:
            errors[index] = split_status(status)
        if not ready[index]:
            ready[index] = True
            pending -= 1
    return errors, None


def _apply_request(
    user_name: str, list_id: int, settings: Sequence[RawSetting | ScaledSetting | TextSetting]
) -> ApplySettingsRequest:
    raw = tuple(s for s in settings if isinstance(s, RawSetting))
    scaled = tuple(s for s in settings if isinstance(s, ScaledSetting))
    text = tuple(s for s in settings if isinstance(s, TextSetting))
    return ApplySettingsRequest(user_name, list_id, raw or None, scaled or None, text or None)


def run_write(
    conn: DPMConnection,
    wire_drfs: Sequence[str],
    settings: Sequence[RawSetting | ScaledSetting | TextSetting],
    *,
    user_name: str,
    role: str | None,
    deadline: float,
) -> tuple[list[Outcome], bool]:
    """One write cycle on an authenticated connection: outcomes and whether it is reusable.

    Transport errors before ApplySettings raise :class:`SetupFailed` (retry is safe);
    after it, outcomes become 1/-1 (or 1/-6 on timeout) since the result is unknown.
    """
    count = len(wire_drfs)
    list_id = conn.list_id
    setup: list = [StopListRequest(list_id), ClearListRequest(list_id)]
    if role:
        setup.append(AddToListRequest(list_id, 0, f"#ROLE:{role}"))
    setup += [AddToListRequest(list_id, i + 1, drf) for i, drf in enumerate(wire_drfs)]
    setup.append(StartListRequest(list_id))
    try:
        conn.send(setup)
        errors, abort = _wait_setup(conn, count, deadline)
    except (DPMConnectionError, DPMProtocolError) as exc:
        raise SetupFailed(str(exc)) from exc
    if abort is not None:
        return [errors[i] or abort for i in range(count)], False
    try:
        conn.send([_apply_request(user_name, list_id, settings)])
        while True:
            reply = conn.recv(deadline)
            if isinstance(reply, ApplySettingsReply):
                break
    except TimeoutError:
        return [errors[i] or TIMEOUT_OUTCOME for i in range(count)], False
    except (DPMConnectionError, DPMProtocolError) as exc:
        unknown: Outcome = (FACILITY_ACNET, ERR_RETRY, f"Write outcome unknown: {exc}")
        return [errors[i] or unknown for i in range(count)], False
    by_ref = {s.ref_id: s.status for s in reply.status}
    fallback = by_ref.get(0, 0)
    outcomes: list[Outcome] = []
    for i in range(count):
        if errors[i] is not None:
            outcomes.append(errors[i])  # type: ignore[arg-type]
        elif i + 1 in by_ref:
            outcomes.append(split_status(by_ref[i + 1]))
        elif fallback != 0:
            outcomes.append(split_status(fallback))
        else:
            outcomes.append(NO_REPLY_OUTCOME)
    try:
        conn.send([StopListRequest(list_id)])
    except DPMConnectionError:
        return outcomes, False
    return outcomes, True


# --- authenticated connections -------------------------------------------------------------


class WriteConnections:
    """Authenticated connections for writes: at most ``max_in_use`` busy, ``max_idle`` kept."""

    def __init__(
        self,
        host: str,
        port: int,
        connect_timeout: float,
        *,
        max_idle: int = 2,
        max_in_use: int = 4,
        idle_ttl: float = 60.0,
    ) -> None:
        self._host = host
        self._port = port
        self._connect_timeout = connect_timeout
        self._max_idle = max_idle
        self._idle_ttl = idle_ttl
        self._idle: list[tuple[DPMConnection, str]] = []
        self._slots = threading.BoundedSemaphore(max_in_use)
        self._lock = threading.Lock()
        self._busy: set[DPMConnection] = set()
        self._closed = False

    def acquire(
        self, auth: Any, deadline: float, *, fresh: bool = False
    ) -> tuple[DPMConnection, str]:
        """An authenticated connection and its service principal.

        TimeoutError when no slot frees up before ``deadline``; AuthenticationError,
        DPMConnectionError or DPMProtocolError when a new connection cannot be set up.
        """
        if not self._slots.acquire(timeout=max(deadline - time.monotonic(), 0)):
            raise TimeoutError("all DPM write connections are busy")
        try:
            if not fresh:
                found = self._take_idle()
                if found is not None:
                    return found
            remaining = max(deadline - time.monotonic(), 0.001)
            conn = DPMConnection.open(self._host, self._port, min(self._connect_timeout, remaining))
            with self._lock:
                self._busy.add(conn)
            try:
                target = authenticate(conn, auth, deadline)
            except BaseException:
                self._drop(conn)
                raise
            return conn, target
        except BaseException:
            self._slots.release()
            raise

    def _take_idle(self) -> tuple[DPMConnection, str] | None:
        now = time.monotonic()
        with self._lock:
            while self._idle:
                conn, target = self._idle.pop()
                if now - conn.last_used > self._idle_ttl or conn.peer_closed():
                    conn.close()
                    continue
                self._busy.add(conn)
                return conn, target
        return None

    def _drop(self, conn: DPMConnection) -> None:
        with self._lock:
            self._busy.discard(conn)
        conn.close()

    def release(self, conn: DPMConnection, target: str, reusable: bool) -> None:
        """Return a connection: kept for reuse when ``reusable`` and room is left."""
        keep = False
        with self._lock:
            self._busy.discard(conn)
            if reusable and conn.alive and not self._closed and len(self._idle) < self._max_idle:
                self._idle.append((conn, target))
                keep = True
        if not keep:
            conn.close()
        self._slots.release()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
            busy = list(self._busy)
        for conn, _ in idle:
            conn.close()
        for conn in busy:
            conn.interrupt()
