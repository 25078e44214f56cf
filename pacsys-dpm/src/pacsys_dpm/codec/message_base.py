"""Bases, registries and field converters of the DPM messages (docs/protocols/dpm.md §3).

:class:`Message`/:class:`Request`/:class:`Reply`, the name -> class tables the codec looks
messages up in, and the converters that make decoded and constructed field values alike
(read-only ndarrays, bytes, tuples). numpy is imported when the first array is built.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

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


def arrays_equal(a: npt.NDArray[Any], b: npt.NDArray[Any]) -> bool:
    """Same shape and values; NaN equals NaN."""
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

REQUEST_TYPES: dict[str, type[Request]] = {}
"""Schema name -> request class."""
REPLY_TYPES: dict[str, type[Reply]] = {}
"""Schema name -> reply class."""


def _registrar(
    direction: Direction, ids: dict[str, int], types: dict[str, Any]
) -> Callable[[str], Callable[[_M], _M]]:
    """Class decorator factory: ``@_request("OpenList")`` names, numbers and registers a class."""

    def named(name: str) -> Callable[[_M], _M]:
        def register(cls: _M) -> _M:
            cls.NAME, cls.MESSAGE_ID, cls.DIRECTION = name, ids[name], direction
            types[name] = cls
            return cls

        return register

    return named


register_request = _registrar(REQUEST, REQUEST_IDS, REQUEST_TYPES)
register_reply = _registrar(REPLY, REPLY_IDS, REPLY_TYPES)
