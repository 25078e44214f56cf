"""Bases, registries and field converters of the DPM messages (docs/protocols/dpm.md §3).

:class:`Message`/:class:`Request`/:class:`Reply`, the name -> class tables the codec looks
messages up in, and the converters that make decoded and constructed field values alike
(read-only ndarrays, bytes, tuples). numpy is imported when the first array is built;
until something has imported numpy, doubles given as a list or tuple (a setting being
written) stay a tuple of floats, so a scalar write never loads numpy.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from pacsys._arrays import loaded_numpy
from pacsys.wire import MessageTable

from .errors import DPMEncodeError
from .frozen import Struct
from .ids import REPLY, REPLY_IDS, REQUEST, REQUEST_IDS, Direction

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


f64_array = _as_array("float64")
i64_array = _as_array("int64")


def _float_tuple(value: list[Any] | tuple[Any, ...]) -> tuple[float, ...]:
    """A setting's doubles while numpy is not loaded: a write never imports it to encode."""
    try:
        return tuple(float(item) for item in value)
    except (TypeError, ValueError) as exc:
        raise DPMEncodeError(f"expected a 1-D sequence of float64: {exc}") from exc


def arrays_equal(a: npt.NDArray[Any], b: npt.NDArray[Any]) -> bool:
    """Same shape and values; NaN equals NaN."""
    if isinstance(a, tuple) or isinstance(b, tuple):  # doubles kept before numpy was loaded
        return len(a) == len(b) and all(
            x == y or (math.isnan(x) and math.isnan(y)) for x, y in zip(a, b, strict=True)
        )
    import numpy as np

    return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=a.dtype.kind == "f"))


def as_bytes(value: Any) -> bytes:
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise DPMEncodeError(f"expected bytes, got {type(value).__name__}")
    return bytes(value)


def as_tuple(value: Any) -> tuple[Any, ...]:
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

REQUESTS: MessageTable[type[Request]] = MessageTable("DPM request")
REPLIES: MessageTable[type[Reply]] = MessageTable("DPM reply")
REQUEST_TYPES: dict[str, type[Request]] = REQUESTS.by_name
"""Schema name -> request class."""
REPLY_TYPES: dict[str, type[Reply]] = REPLIES.by_name
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


register_request = _registrar(REQUEST, REQUEST_IDS, REQUESTS)
register_reply = _registrar(REPLY, REPLY_IDS, REPLIES)
