"""The settings conversations of the client: Kerberos authentication and the write cycle.

Authentication belongs to the list: ``Authenticate`` rounds (service name, then GSS
tokens) and ``EnableSettings`` signed with the established context. The GSS context is
made by an injected factory, so the engine never calls Kerberos itself. A write cycle then
sets the list up (``#ROLE``, one ``@N`` entry per setting), waits for every entry's
DeviceInfo (or Status) and the StartList reply, sends ``ApplySettings`` and takes the one
reply. Values become Raw/Scaled/Text settings before any I/O (:func:`make_setting`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from numbers import Real
from typing import TYPE_CHECKING, Any, Final, Protocol

from pacsys._arrays import is_ndarray, loaded_numpy
from pacsys.acnet.status import ERR_RETRY, ERR_TIMEOUT, FACILITY_ACNET
from pacsys.errors import AuthenticationError
from pacsys_dpm.codec import (
    AddToListReply,
    AddToListRequest,
    ApplySettingsReply,
    ApplySettingsRequest,
    AuthenticateReply,
    AuthenticateRequest,
    ClearListRequest,
    DeviceInfoReply,
    EnableSettingsRequest,
    ListStatusReply,
    RawSetting,
    Reply,
    ScaledSetting,
    StartListReply,
    StartListRequest,
    StatusReply,
    StopListRequest,
    TextSetting,
)
from pacsys_dpm.principal import service_principal

from .values import split_status

if TYPE_CHECKING:
    from .client import ClientProtocol

__all__ = [
    "MIC_MESSAGE",
    "NO_REPLY_OUTCOME",
    "TIMEOUT_OUTCOME",
    "AuthOp",
    "ContextFactory",
    "InitiatorContext",
    "Outcome",
    "Setting",
    "SetupFailed",
    "WriteOp",
    "make_setting",
]

MIC_MESSAGE: Final = b"1234"
"""What both reference clients sign in EnableSettings."""

Outcome = tuple[int, int, "str | None"]
"""(facility, error, message) of one setting; (0, 0, None) is success."""

TIMEOUT_OUTCOME: Final[Outcome] = (FACILITY_ACNET, ERR_TIMEOUT, "Request timeout")
NO_REPLY_OUTCOME: Final[Outcome] = (FACILITY_ACNET, ERR_TIMEOUT, "No reply from server")

Setting = RawSetting | ScaledSetting | TextSetting


class InitiatorContext(Protocol):
    """What the client needs from a GSS initiator (``pacsys.gss.ClientContext``)."""

    @property
    def complete(self) -> bool: ...

    def step(self, token: bytes | None) -> bytes: ...

    def get_mic(self, message: bytes) -> bytes: ...


ContextFactory = Callable[[str], InitiatorContext]
"""Target principal -> a fresh initiator context for it."""


class SetupFailed(Exception):
    """A transport error before ApplySettings was sent: safe to retry on a fresh connection."""


# --- values -> setting structs -------------------------------------------------------------


def _latin1(text: str) -> str:
    text.encode("latin-1")  # UnicodeEncodeError (a ValueError) names the bad character
    return text


def _is_numpy_number(value: Any) -> bool:
    """``isinstance(value, numpy.number)`` without importing numpy (no numpy, no such value)."""
    np = loaded_numpy()
    return np is not None and isinstance(value, np.number)


def make_setting(ref_id: int, value: Any) -> Setting:
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
        return ScaledSetting(ref_id, [float(value)])
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

_SERVICE, _TOKEN, _LAST_TOKEN, _ENABLE, _DONE = range(5)


class AuthOp:
    """Authenticate rounds, then EnableSettings; :meth:`result` is the service principal.

    Every refusal (DPM_PRIV, an unexpected reply, a context that does not complete)
    ends it with an :class:`AuthenticationError`; what the injected context raises
    propagates from ``receive_data``.
    """

    def __init__(self, protocol: ClientProtocol, context_factory: ContextFactory) -> None:
        self._protocol = protocol
        self._factory = context_factory
        self._context: InitiatorContext | None = None
        self._stage = _SERVICE
        self.target = ""
        """The service principal, known after the first round."""
        self.error: AuthenticationError | None = None
        self._send(b"")

    @property
    def done(self) -> bool:
        return self._stage == _DONE

    def result(self) -> str:
        """The service principal; raises the AuthenticationError that ended the exchange."""
        if self.error is not None:
            raise self.error
        if self._stage != _DONE:
            raise RuntimeError("authentication has not finished")
        return self.target

    def timeout_error(self) -> AuthenticationError:
        """The error for a peer that stopped answering."""
        step = "EnableSettings" if self._stage == _ENABLE else "Authenticate"
        return AuthenticationError(f"DPM did not answer {step} in time")

    def _send(self, token: bytes) -> None:
        self._protocol._queue_messages([AuthenticateRequest(self._protocol.list_id, token)])

    def _fail(self, message: str) -> None:
        self.error = AuthenticationError(message)
        self._stage = _DONE

    def _feed(self, bodies: list[bytes]) -> int:
        for position, body in enumerate(bodies):
            reply = self._protocol._decode(body)
            if type(reply) is not ListStatusReply:
                self._take(reply)
                if self._stage == _DONE:
                    return position + 1
        return len(bodies)

    def _take(self, reply: Reply) -> None:
        if self._stage == _ENABLE:
            if not isinstance(reply, StatusReply):
                self._fail(f"Unexpected {type(reply).__name__} reply to EnableSettings")
            elif reply.status != 0:
                message = split_status(reply.status)[2]
                self._fail(f"EnableSettings failed: {message or reply.status}")
            else:
                self._stage = _DONE
            return
        if isinstance(reply, StatusReply):
            message = split_status(reply.status)[2]
            self._fail(f"DPM rejected authentication: {message or reply.status}")
            return
        if not isinstance(reply, AuthenticateReply):
            self._fail(f"Unexpected {type(reply).__name__} reply during authentication")
            return
        if self._stage == _SERVICE:
            if not reply.service_name:
                self._fail("DPM sent no service name in its Authenticate reply")
                return
            self.target = service_principal(reply.service_name)
            self._context = self._factory(self.target)
            self._send(self._context.step(None))
            self._stage = _TOKEN
            return
        context = self._context
        assert context is not None
        if self._stage == _TOKEN and reply.token and not context.complete:
            token = context.step(reply.token)
            if token:
                self._send(token)
                self._stage = _LAST_TOKEN
                return
        if not context.complete:
            self._fail(f"Kerberos context with {self.target} was not established")
            return
        mic = context.get_mic(MIC_MESSAGE)
        self._protocol._queue_messages(
            [EnableSettingsRequest(self._protocol.list_id, mic, MIC_MESSAGE)]
        )
        self._stage = _ENABLE


# --- the write cycle -----------------------------------------------------------------------


class WriteOp:
    """One write cycle: set the list up, then ApplySettings and its one reply.

    ``outcomes`` (one per setting) and ``reusable`` are set once ``done``. A driver whose
    deadline passes asks :meth:`timed_out`; one whose connection fails asks :meth:`failed`.
    """

    def __init__(
        self,
        protocol: ClientProtocol,
        wire_drfs: Sequence[str],
        settings: Sequence[Setting],
        user_name: str,
        role: str | None,
    ) -> None:
        if len(wire_drfs) != len(settings):
            raise ValueError(f"{len(wire_drfs)} DRFs for {len(settings)} settings")
        list_id = protocol.list_id
        count = len(wire_drfs)
        self._protocol = protocol
        self._settings = list(settings)
        self._user_name = user_name
        self._ready = [False] * count
        self._errors: list[Outcome | None] = [None] * count
        self._waiting = count
        self._started = False
        self._applying = False
        self.outcomes: list[Outcome] | None = None
        self.reusable = False
        setup: list[Any] = [StopListRequest(list_id), ClearListRequest(list_id)]
        if role:
            setup.append(AddToListRequest(list_id, 0, f"#ROLE:{role}"))
        setup += [AddToListRequest(list_id, i + 1, drf) for i, drf in enumerate(wire_drfs)]
        setup.append(StartListRequest(list_id))
        protocol._queue_messages(setup)

    @property
    def done(self) -> bool:
        return self.outcomes is not None

    def timed_out(self) -> list[Outcome]:
        """Outcomes when the deadline passed first (setup errors kept, the rest 1/-6)."""
        return self._fill(TIMEOUT_OUTCOME)

    def failed(self, exc: BaseException) -> list[Outcome]:
        """Outcomes after a transport error; :class:`SetupFailed` before ApplySettings went out."""
        if self.outcomes is not None:  # the reply was in: only the closing StopList failed
            return self.outcomes
        if not self._applying:
            raise SetupFailed(str(exc)) from exc
        return self._fill((FACILITY_ACNET, ERR_RETRY, f"Write outcome unknown: {exc}"))

    def _fill(self, outcome: Outcome) -> list[Outcome]:
        return [error or outcome for error in self._errors]

    def _feed(self, bodies: list[bytes]) -> int:
        for position, body in enumerate(bodies):
            reply = self._protocol._decode(body)
            if self._applying:
                if isinstance(reply, ApplySettingsReply):
                    self._finish(reply)
                    return position + 1
            elif self._setup(reply):
                return position + 1
        return len(bodies)

    def _setup(self, reply: Reply) -> bool:
        """One reply while waiting for the entries and StartList; True once the cycle ended."""
        kind = type(reply)
        abort: Outcome | None = None
        if kind is StartListReply:
            if reply.list_id != self._protocol.list_id:  # type: ignore[attr-defined]
                return False
            if reply.status != 0:  # type: ignore[attr-defined]
                abort = split_status(reply.status)  # type: ignore[attr-defined]
            self._started = True
        elif kind is StatusReply and reply.ref_id == 0:  # type: ignore[attr-defined]
            if reply.status != 0:  # type: ignore[attr-defined]
                abort = split_status(reply.status)  # type: ignore[attr-defined]
        elif kind in (DeviceInfoReply, StatusReply, AddToListReply):
            self._entry(reply)
        if abort is not None:
            self.outcomes = self._fill(abort)
            return True
        if self._waiting or not self._started:
            return False
        self._protocol._queue_messages([self._apply_request()])
        self._applying = True
        return False

    def _entry(self, reply: Any) -> None:
        index = reply.ref_id - 1
        if not 0 <= index < len(self._ready):
            return
        status = getattr(reply, "status", 0)
        if type(reply) is AddToListReply and (
            status == 0 or reply.list_id != self._protocol.list_id
        ):
            return
        if status != 0 and self._errors[index] is None:
            self._errors[index] = split_status(status)
        if not self._ready[index]:
            self._ready[index] = True
            self._waiting -= 1

    def _apply_request(self) -> ApplySettingsRequest:
        settings = self._settings
        raw = tuple(s for s in settings if isinstance(s, RawSetting))
        scaled = tuple(s for s in settings if isinstance(s, ScaledSetting))
        text = tuple(s for s in settings if isinstance(s, TextSetting))
        return ApplySettingsRequest(
            self._user_name, self._protocol.list_id, raw or None, scaled or None, text or None
        )

    def _finish(self, reply: ApplySettingsReply) -> None:
        by_ref = {s.ref_id: s.status for s in reply.status}
        fallback = by_ref.get(0, 0)
        outcomes: list[Outcome] = []
        for i, error in enumerate(self._errors):
            if error is not None:
                outcomes.append(error)
            elif i + 1 in by_ref:
                outcomes.append(split_status(by_ref[i + 1]))
            elif fallback != 0:
                outcomes.append(split_status(fallback))
            else:
                outcomes.append(NO_REPLY_OUTCOME)
        list_id = self._protocol.list_id
        self._protocol._queue_messages([StopListRequest(list_id)])
        self.outcomes = outcomes
        self.reusable = True
