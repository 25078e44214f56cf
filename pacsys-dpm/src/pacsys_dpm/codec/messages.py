"""DPM messages (docs/protocols/dpm.md §3) as frozen structs (:mod:`.frozen`).

Every request class ends in ``Request`` and every reply class in ``Reply``,
because requests and replies with the same name have different ids and
layouts. Attributes are the schema's field names in snake case (``mic`` for
``MIC``, ``service_name`` for ``serviceName``) and appear in wire order.
Optional fields default to ``None`` and are then left out of the struct.

Values are not range-checked on construction (that happens on encoding) so
that decoding stays cheap. Double arrays are read-only float64 ndarrays,
int64 arrays read-only int64 ndarrays, other sequences tuples; numpy is
imported when the first array message is built, not with this module. Until
something has imported numpy, doubles given as a list or tuple (a setting being
written) stay a tuple of floats, so a scalar write never loads numpy.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from pacsys._arrays import loaded_numpy
from pacsys.wire import MessageTable

from .errors import DPMEncodeError
from .frozen import Struct, struct
from .ids import REPLY, REPLY_IDS, REQUEST, REQUEST_IDS, Direction
from .schema import (
    BINARY,
    BOOL,
    DOUBLE,
    DOUBLE_ARRAY,
    INT16,
    INT32,
    INT64,
    INT64_ARRAY,
    STRING,
    STRING_ARRAY,
    struct_array,
    wire_field,
)

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Float64Array = npt.NDArray[np.float64]
    Int64Array = npt.NDArray[np.int64]

# --------------------------------------------------------------------------- converters


def _read_only(array: npt.NDArray[Any]) -> npt.NDArray[Any]:
    if array.flags.writeable:
        array = array.view()
        array.flags.writeable = False
    return array


def _as_array(dtype: str) -> Callable[[Any], npt.NDArray[Any]]:
    def convert(value: Any) -> npt.NDArray[Any]:
        if dtype == "float64" and isinstance(value, (list, tuple)) and loaded_numpy() is None:
            return _float_tuple(value)  # type: ignore[return-value]
        import numpy as np

        try:
            array = np.asarray(value, dtype=dtype)
        except (TypeError, ValueError, OverflowError) as exc:
            raise DPMEncodeError(f"expected a 1-D sequence of {dtype}: {exc}") from exc
        if array.ndim != 1:
            raise DPMEncodeError(f"expected a 1-D sequence, got shape {array.shape}")
        return _read_only(array)

    return convert


_f64_array = _as_array("float64")
_i64_array = _as_array("int64")


def _float_tuple(value: list[Any] | tuple[Any, ...]) -> tuple[float, ...]:
    """A setting's doubles while numpy is not loaded: a write never imports it to encode."""
    try:
        return tuple(float(item) for item in value)
    except (TypeError, ValueError) as exc:
        raise DPMEncodeError(f"expected a 1-D sequence of float64: {exc}") from exc


def _arrays_equal(a: npt.NDArray[Any], b: npt.NDArray[Any]) -> bool:
    """Same shape and values; NaN equals NaN."""
    if isinstance(a, tuple) or isinstance(b, tuple):  # doubles kept before numpy was loaded
        return len(a) == len(b) and all(
            x == y or (math.isnan(x) and math.isnan(y)) for x, y in zip(a, b, strict=True)
        )
    import numpy as np

    return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=a.dtype.kind == "f"))


def _as_bytes(value: Any) -> bytes:
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise DPMEncodeError(f"expected bytes, got {type(value).__name__}")
    return bytes(value)


def _as_tuple(value: Any) -> tuple[Any, ...]:
    if isinstance(value, (str, bytes)):
        raise DPMEncodeError("expected a sequence, got a single str/bytes value")
    return tuple(value)


# --------------------------------------------------------------------------- bases


class Message(Struct):
    """Base of every DPM message; ``NAME``/``MESSAGE_ID``/``DIRECTION`` identify it."""

    __slots__ = ()
    NAME: ClassVar[str]
    MESSAGE_ID: ClassVar[int]
    DIRECTION: ClassVar[Direction]


class Request(Message):
    """A client -> server message."""

    __slots__ = ()


class Reply(Message):
    """A server -> client message."""

    __slots__ = ()


_M = TypeVar("_M", bound=type[Message])

_REQUESTS: MessageTable[type[Request]] = MessageTable("DPM request")
_REPLIES: MessageTable[type[Reply]] = MessageTable("DPM reply")
REQUEST_TYPES: dict[str, type[Request]] = _REQUESTS.by_name
"""Schema name -> request class."""
REPLY_TYPES: dict[str, type[Reply]] = _REPLIES.by_name
"""Schema name -> reply class."""


def _registrar(
    direction: Direction, ids: dict[str, int], table: MessageTable[Any]
) -> Callable[[str], Callable[[_M], _M]]:
    """Class decorator factory: ``@_request("OpenList")`` names, numbers and registers a class."""

    def named(name: str) -> Callable[[_M], _M]:
        def register(cls: _M) -> _M:
            cls.NAME, cls.MESSAGE_ID, cls.DIRECTION = name, ids[name], direction
            return table.add(cls, name, ids[name])

        return register

    return named


_request = _registrar(REQUEST, REQUEST_IDS, _REQUESTS)
_reply = _registrar(REPLY, REPLY_IDS, _REPLIES)


# --------------------------------------------------------------------------- setting structs


@struct
class RawSetting(Struct):
    """Raw bytes to write to entry ``ref_id``."""

    ref_id: int = wire_field(INT64)
    data: bytes = wire_field(BINARY, converter=_as_bytes)


@struct
class ScaledSetting(Struct):
    """Engineering-unit values to write (one element for a scalar)."""

    ref_id: int = wire_field(INT64)
    data: Float64Array = wire_field(DOUBLE_ARRAY, converter=_f64_array, eq=_arrays_equal)


@struct
class TextSetting(Struct):
    """Text values to write (one element for a text scalar)."""

    ref_id: int = wire_field(INT64)
    data: tuple[str, ...] = wire_field(STRING_ARRAY, converter=_as_tuple)


@struct
class SettingStatus(Struct):
    """Outcome of one setting in the ApplySettings reply (0 = success)."""

    ref_id: int = wire_field(INT64)
    status: int = wire_field(INT16)


# --------------------------------------------------------------------------- requests


@_request("ServiceDiscovery")
@struct
class ServiceDiscoveryRequest(Request):
    """Ask which DPMs exist (ACNET only; ignored over TCP)."""


@_request("OpenList")
@struct
class OpenListRequest(Request):
    """Open a list (ACNET only; over TCP the list is opened implicitly)."""

    location: str | None = wire_field(STRING, optional=True)


@_request("AddToList")
@struct
class AddToListRequest(Request):
    """Add or replace entry ``ref_id`` with a DRF request or a ``#KEY:VALUE`` property."""

    list_id: int = wire_field(INT32)
    ref_id: int = wire_field(INT64)
    drf_request: str = wire_field(STRING)


@_request("RemoveFromList")
@struct
class RemoveFromListRequest(Request):
    """Remove one entry (effective at the next StartList)."""

    list_id: int = wire_field(INT32)
    ref_id: int = wire_field(INT64)


@_request("StartList")
@struct
class StartListRequest(Request):
    """Start or restart acquisition of every entry."""

    list_id: int = wire_field(INT32)
    model: str | None = wire_field(STRING, optional=True)


@_request("StopList")
@struct
class StopListRequest(Request):
    """Stop acquisition; entries are kept."""

    list_id: int = wire_field(INT32)


@_request("ClearList")
@struct
class ClearListRequest(Request):
    """Remove all entries."""

    list_id: int = wire_field(INT32)


@_request("Authenticate")
@struct
class AuthenticateRequest(Request):
    """A GSS-API token round; an empty token asks for the service name."""

    list_id: int = wire_field(INT32)
    token: bytes = wire_field(BINARY, converter=_as_bytes)


@_request("EnableSettings")
@struct
class EnableSettingsRequest(Request):
    """Prove the GSS context with a MIC over ``message``."""

    list_id: int = wire_field(INT32)
    mic: bytes = wire_field(BINARY, wire_name="MIC", converter=_as_bytes)
    message: bytes = wire_field(BINARY, converter=_as_bytes)


@_request("ApplySettings")
@struct
class ApplySettingsRequest(Request):
    """Write settings to entries of the list; absent arrays are ``None``."""

    user_name: str = wire_field(STRING)
    list_id: int = wire_field(INT32)
    raw_array: tuple[RawSetting, ...] | None = wire_field(
        struct_array(RawSetting), optional=True, converter=_as_tuple
    )
    scaled_array: tuple[ScaledSetting, ...] | None = wire_field(
        struct_array(ScaledSetting), optional=True, converter=_as_tuple
    )
    text_array: tuple[TextSetting, ...] | None = wire_field(
        struct_array(TextSetting), optional=True, converter=_as_tuple
    )


# --------------------------------------------------------------------------- replies


@_reply("ServiceDiscovery")
@struct
class ServiceDiscoveryReply(Reply):
    """One DPM answering discovery (ACNET only)."""

    load: int = wire_field(INT16)
    service_location: str = wire_field(STRING, wire_name="serviceLocation")


@_reply("OpenList")
@struct
class OpenListReply(Reply):
    """The list of this connection; always the first frame over TCP."""

    list_id: int = wire_field(INT32)


@_reply("AddToList")
@struct
class AddToListReply(Reply):
    """Acknowledgement of one AddToList (non-zero status: that entry failed)."""

    list_id: int = wire_field(INT32)
    ref_id: int = wire_field(INT64)
    status: int = wire_field(INT16)


@_reply("RemoveFromList")
@struct
class RemoveFromListReply(Reply):
    """Acknowledgement of one RemoveFromList (ACNET only)."""

    list_id: int = wire_field(INT32)
    ref_id: int = wire_field(INT64)
    status: int = wire_field(INT16)


@_reply("StartList")
@struct
class StartListReply(Reply):
    """Answer to StartList."""

    list_id: int = wire_field(INT32)
    status: int = wire_field(INT16)


@_reply("ListStatus")
@struct
class ListStatusReply(Reply):
    """Heartbeat of an idle list."""

    list_id: int = wire_field(INT32)
    status: int = wire_field(INT16)


@_reply("Status")
@struct
class StatusReply(Reply):
    """Error or warning in place of data (``ref_id`` 0: the whole list or job)."""

    ref_id: int = wire_field(INT64)
    timestamp: int = wire_field(INT64)
    cycle: int = wire_field(INT64)
    status: int = wire_field(INT16)


@_reply("DeviceInfo")
@struct
class DeviceInfoReply(Reply):
    """Metadata of an entry, sent before its data."""

    ref_id: int = wire_field(INT64)
    di: int = wire_field(INT32)
    name: str = wire_field(STRING)
    description: str = wire_field(STRING)
    units: str | None = wire_field(STRING, optional=True)
    format_hint: int | None = wire_field(INT16, optional=True)


@_reply("Scalar")
@struct
class ScalarReply(Reply):
    """One double value."""

    ref_id: int = wire_field(INT64)
    timestamp: int = wire_field(INT64)
    cycle: int = wire_field(INT64)
    status: int = wire_field(INT16)
    data: float = wire_field(DOUBLE)


@_reply("ScalarArray")
@struct
class ScalarArrayReply(Reply):
    """An array of doubles."""

    ref_id: int = wire_field(INT64)
    timestamp: int = wire_field(INT64)
    cycle: int = wire_field(INT64)
    status: int = wire_field(INT16)
    data: Float64Array = wire_field(DOUBLE_ARRAY, converter=_f64_array, eq=_arrays_equal)


@_reply("Raw")
@struct
class RawReply(Reply):
    """Raw bytes."""

    ref_id: int = wire_field(INT64)
    timestamp: int = wire_field(INT64)
    cycle: int = wire_field(INT64)
    status: int = wire_field(INT16)
    data: bytes = wire_field(BINARY, converter=_as_bytes)


@_reply("Text")
@struct
class TextReply(Reply):
    """A Latin-1 string."""

    ref_id: int = wire_field(INT64)
    timestamp: int = wire_field(INT64)
    cycle: int = wire_field(INT64)
    status: int = wire_field(INT16)
    data: str = wire_field(STRING)


@_reply("TextArray")
@struct
class TextArrayReply(Reply):
    """A list of Latin-1 strings."""

    ref_id: int = wire_field(INT64)
    timestamp: int = wire_field(INT64)
    cycle: int = wire_field(INT64)
    status: int = wire_field(INT16)
    data: tuple[str, ...] = wire_field(STRING_ARRAY, converter=_as_tuple)


@_reply("TimedScalarArray")
@struct
class TimedScalarArrayReply(Reply):
    """Doubles with a µs timestamp each (logger chunks; empty ``data`` ends the request)."""

    ref_id: int = wire_field(INT64)
    timestamp: int = wire_field(INT64)
    cycle: int = wire_field(INT64)
    status: int = wire_field(INT16)
    data: Float64Array = wire_field(DOUBLE_ARRAY, converter=_f64_array, eq=_arrays_equal)
    micros: Int64Array = wire_field(INT64_ARRAY, converter=_i64_array, eq=_arrays_equal)


@_reply("AnalogAlarm")
@struct
class AnalogAlarmReply(Reply):
    """Analog alarm block (no status field)."""

    ref_id: int = wire_field(INT64)
    timestamp: int = wire_field(INT64)
    cycle: int = wire_field(INT64)
    minimum: float = wire_field(DOUBLE)
    maximum: float = wire_field(DOUBLE)
    alarm_enable: bool = wire_field(BOOL)
    alarm_status: bool = wire_field(BOOL)
    abort: bool = wire_field(BOOL)
    abort_inhibit: bool = wire_field(BOOL)
    tries_needed: int = wire_field(INT32)
    tries_now: int = wire_field(INT32)


@_reply("DigitalAlarm")
@struct
class DigitalAlarmReply(Reply):
    """Digital alarm block (no status field)."""

    ref_id: int = wire_field(INT64)
    timestamp: int = wire_field(INT64)
    cycle: int = wire_field(INT64)
    nominal: int = wire_field(INT32)
    mask: int = wire_field(INT32)
    alarm_enable: bool = wire_field(BOOL)
    alarm_status: bool = wire_field(BOOL)
    abort: bool = wire_field(BOOL)
    abort_inhibit: bool = wire_field(BOOL)
    tries_needed: int = wire_field(INT32)
    tries_now: int = wire_field(INT32)


@_reply("BasicStatus")
@struct
class BasicStatusReply(Reply):
    """Basic status bits; an attribute the device does not define is ``None``."""

    ref_id: int = wire_field(INT64)
    timestamp: int = wire_field(INT64)
    cycle: int = wire_field(INT64)
    on: bool | None = wire_field(BOOL, optional=True)
    ready: bool | None = wire_field(BOOL, optional=True)
    remote: bool | None = wire_field(BOOL, optional=True)
    positive: bool | None = wire_field(BOOL, optional=True)
    ramp: bool | None = wire_field(BOOL, optional=True)


BASIC_STATUS_BITS: tuple[str, ...] = ("on", "ready", "remote", "positive", "ramp")
"""The optional bit attributes of :class:`BasicStatusReply`, in wire order."""


@_reply("ApplySettings")
@struct
class ApplySettingsReply(Reply):
    """One result per setting of the ApplySettings request."""

    status: tuple[SettingStatus, ...] = wire_field(struct_array(SettingStatus), converter=_as_tuple)


@_reply("Authenticate")
@struct
class AuthenticateReply(Reply):
    """Service name and, while the GSS context is incomplete, a continuation token."""

    service_name: str | None = wire_field(STRING, wire_name="serviceName", optional=True)
    token: bytes | None = wire_field(BINARY, optional=True, converter=_as_bytes)


def message_type(direction: Direction, name: str) -> type[Message]:
    """The class of the ``direction`` message named ``name`` (e.g. ``("reply", "Scalar")``)."""
    table: MessageTable[Any] = _REQUESTS if direction == REQUEST else _REPLIES
    return table.named(name)
