"""Core value types: what a read returns, what a write reports, and the enums around them."""

from __future__ import annotations

import abc
import base64
import enum
import math
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeAlias

import attrs
import numpy as np

if TYPE_CHECKING:
    from pacsys.device import Device

__all__ = [
    "BackendCapability",
    "BasicControl",
    "DeviceMeta",
    "DeviceSpec",
    "DispatchMode",
    "ErrorCallback",
    "Reading",
    "ReadingCallback",
    "ReadingStream",
    "SubscriptionHandle",
    "Value",
    "ValueType",
    "WriteResult",
    "WriteSettings",
]


class ValueType(enum.Enum):
    """Kind of value a Reading carries; the values are the serialisation strings."""

    SCALAR = "scalar"
    SCALAR_ARRAY = "scalarArr"
    TIMED_SCALAR_ARRAY = "timedScalarArr"
    RAW = "raw"
    TEXT = "text"
    TEXT_ARRAY = "textArr"
    ANALOG_ALARM = "anaAlarm"
    DIGITAL_ALARM = "digAlarm"
    BASIC_STATUS = "basicStatus"


class BasicControl(enum.IntEnum):
    """Commands written to a device's CONTROL property."""

    RESET = 0
    ON = 1
    OFF = 2
    POSITIVE = 3
    NEGATIVE = 4
    RAMP = 5
    DC = 6
    LOCAL = 7
    REMOTE = 8
    TRIP = 9


class BackendCapability(enum.Flag):
    """What a backend can do."""

    READ = 1
    WRITE = 2
    STREAM = 4
    AUTH_KERBEROS = 8
    AUTH_JWT = 16
    BATCH = 32


class DispatchMode(enum.Enum):
    """Where subscription callbacks run: one worker thread per backend, or inline."""

    WORKER = "worker"
    DIRECT = "direct"


Value: TypeAlias = float | int | str | bytes | np.ndarray | list | dict
DeviceSpec: TypeAlias = "str | Device"
WriteSettings: TypeAlias = "list[tuple[DeviceSpec, Value]] | dict[DeviceSpec, Value]"
ReadingCallback: TypeAlias = "Callable[[Reading, SubscriptionHandle], None]"
ErrorCallback: TypeAlias = "Callable[[BaseException, SubscriptionHandle], None]"
ReadingStream: TypeAlias = "Iterator[tuple[Reading, SubscriptionHandle]]"


# --- array-aware value helpers ------------------------------------------------------------


def freeze_value(value: Any) -> Any:
    """Make ndarray values (also inside dicts) read-only, copying views."""
    if isinstance(value, np.ndarray):
        if value.flags.writeable:
            if value.base is None:
                value.flags.writeable = False
            else:
                value = value.copy()
                value.flags.writeable = False
        return value
    if isinstance(value, dict) and any(isinstance(v, np.ndarray) for v in value.values()):
        return {k: freeze_value(v) for k, v in value.items()}
    return value


def values_equal(a: Any, b: Any) -> bool:
    """Equality that understands arrays (same dtype, NaN == NaN) and nested dicts."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)):
            return False
        if a.dtype != b.dtype or a.shape != b.shape:
            return False
        return bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fcmM"))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(values_equal(a[k], b[k]) for k in a)
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return type(a) is type(b) and len(a) == len(b) and all(map(values_equal, a, b))
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


_ARRAY_HASH_MARKER = hash("pacsys.ndarray")


def _value_hash(value: Any) -> int:
    if isinstance(value, np.ndarray):
        return _ARRAY_HASH_MARKER
    if isinstance(value, list | dict):
        raise TypeError(f"unhashable value of type {type(value).__name__}")
    return hash(value)


def _plain(value: Any) -> Any:
    """numpy scalars -> Python scalars."""
    return value.item() if isinstance(value, np.generic) else value


def _encode_value(value: Any) -> tuple[Any, Any]:
    """Value -> (JSON-able value, dtype record or None)."""
    if isinstance(value, np.ndarray):
        return value.tolist(), value.dtype.str
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value], "list"
    if isinstance(value, dict) and any(isinstance(v, np.ndarray) for v in value.values()):
        encoded = {k: _encode_value(v) for k, v in value.items()}
        return {k: e[0] for k, e in encoded.items()}, {k: e[1] for k, e in encoded.items()}
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii"), None
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}, None
    return _plain(value), None


def _decode_value(value: Any, dtype: Any, is_raw: bool) -> Any:
    if is_raw and isinstance(value, str):
        return base64.b64decode(value)
    if dtype == "list":
        return list(value)
    if isinstance(dtype, str):
        return np.asarray(value, dtype=np.dtype(dtype))
    if isinstance(dtype, dict):
        return {k: _decode_value(v, dtype.get(k), False) for k, v in value.items()}
    return value


# --- DeviceMeta ---------------------------------------------------------------------------


@attrs.frozen
class DeviceMeta:
    """Static facts about a device that travel with its readings."""

    device_index: int
    name: str
    description: str
    units: str | None = None
    format_hint: int | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "device_index": self.device_index,
            "name": self.name,
            "description": self.description,
        }
        if self.units is not None:
            out["units"] = self.units
        if self.format_hint is not None:
            out["format_hint"] = self.format_hint
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DeviceMeta:
        return cls(
            device_index=data["device_index"],
            name=data["name"],
            description=data["description"],
            units=data.get("units"),
            format_hint=data.get("format_hint"),
        )


# --- Reading ------------------------------------------------------------------------------


@attrs.frozen(eq=False)
class Reading:
    """One device reading: a value (or none) with its ACNET status, time and metadata.

    ``error_code`` is 0 for success, > 0 for a warning (data may still be usable) and < 0
    for an error; ``ok`` tells whether the value can be used.
    """

    drf: str
    value_type: ValueType | None = None
    facility_code: int = 0
    error_code: int = 0
    value: Value | None = None
    message: str | None = None
    timestamp: datetime | None = None
    cycle: int | None = None
    meta: DeviceMeta | None = None

    def __attrs_post_init__(self) -> None:
        if self.value is not None and self.value_type is None:
            raise ValueError("value_type is required when value is set")
        frozen = freeze_value(self.value)
        if frozen is not self.value:
            object.__setattr__(self, "value", frozen)

    @property
    def is_success(self) -> bool:
        return self.error_code == 0

    @property
    def is_warning(self) -> bool:
        return self.error_code > 0

    @property
    def is_error(self) -> bool:
        return self.error_code < 0

    @property
    def ok(self) -> bool:
        """True when the value is usable: success or warning, with a value."""
        return self.error_code >= 0 and self.value is not None

    @property
    def name(self) -> str:
        if self.meta is not None:
            return self.meta.name
        from pacsys.drf_utils import get_device_name

        return get_device_name(self.drf)

    @property
    def units(self) -> str | None:
        return self.meta.units if self.meta is not None else None

    def _key(self) -> tuple[Any, ...]:
        return (
            self.drf,
            self.value_type,
            self.facility_code,
            self.error_code,
            self.message,
            self.timestamp,
            self.cycle,
            self.meta,
        )

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Reading)
        return self._key() == other._key() and values_equal(self.value, other.value)

    def __hash__(self) -> int:
        return hash((self._key(), _value_hash(self.value)))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "drf": self.drf,
            "facility_code": self.facility_code,
            "error_code": self.error_code,
        }
        if self.value_type is not None:
            out["value_type"] = self.value_type.value
        if self.value is not None:
            out["value"], dtype = _encode_value(self.value)
            if dtype is not None:
                out["value_dtype"] = dtype
        if self.message is not None:
            out["message"] = self.message
        if self.timestamp is not None:
            out["timestamp"] = self.timestamp.isoformat()
        if self.cycle is not None:
            out["cycle"] = self.cycle
        if self.meta is not None:
            out["meta"] = self.meta.to_dict()
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Reading:
        value_type = ValueType(data["value_type"]) if "value_type" in data else None
        value = data.get("value")
        if value is not None:
            value = _decode_value(value, data.get("value_dtype"), value_type is ValueType.RAW)
        timestamp = data.get("timestamp")
        return cls(
            drf=data["drf"],
            value_type=value_type,
            facility_code=data.get("facility_code", 0),
            error_code=data.get("error_code", 0),
            value=value,
            message=data.get("message"),
            timestamp=datetime.fromisoformat(timestamp) if timestamp else None,
            cycle=data.get("cycle"),
            meta=DeviceMeta.from_dict(data["meta"]) if data.get("meta") else None,
        )


# --- WriteResult --------------------------------------------------------------------------

_READBACK_TYPES = {"scalarArr", "timedScalarArr", "raw"}


@attrs.frozen(eq=False)
class WriteResult:
    """Outcome of one write; ``verified``/``readback`` are filled by verified writes."""

    drf: str
    facility_code: int = 0
    error_code: int = 0
    message: str | None = None
    verified: bool | None = None
    readback: Value | None = None
    skipped: bool = False
    attempts: int = 0

    def __attrs_post_init__(self) -> None:
        frozen = freeze_value(self.readback)
        if frozen is not self.readback:
            object.__setattr__(self, "readback", frozen)

    @property
    def ok(self) -> bool:
        """True only for a clean success (a warning is not ok for a write)."""
        return self.error_code == 0

    @property
    def success(self) -> bool:
        return self.ok

    @property
    def confirmed(self) -> bool:
        return self.ok and self.verified is not False

    def _key(self) -> tuple[Any, ...]:
        return (
            self.drf,
            self.facility_code,
            self.error_code,
            self.message,
            self.verified,
            self.skipped,
            self.attempts,
        )

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, WriteResult)
        return self._key() == other._key() and values_equal(self.readback, other.readback)

    def __hash__(self) -> int:
        return hash((self._key(), _value_hash(self.readback)))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "drf": self.drf,
            "facility_code": self.facility_code,
            "error_code": self.error_code,
        }
        if self.message is not None:
            out["message"] = self.message
        if self.verified is not None:
            out["verified"] = self.verified
        if self.readback is not None:
            out["readback"], dtype = _encode_value(self.readback)
            readback_type = _readback_type(self.readback)
            if readback_type is not None:
                out["readback_type"] = readback_type
            if dtype is not None:
                out["readback_dtype"] = dtype
        if self.skipped:
            out["skipped"] = True
        if self.attempts:
            out["attempts"] = self.attempts
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WriteResult:
        readback = data.get("readback")
        if readback is not None:
            readback_type = data.get("readback_type")
            readback = _decode_value(readback, data.get("readback_dtype"), readback_type == "raw")
        return cls(
            drf=data["drf"],
            facility_code=data.get("facility_code", 0),
            error_code=data.get("error_code", 0),
            message=data.get("message"),
            verified=data.get("verified"),
            readback=readback,
            skipped=data.get("skipped", False),
            attempts=data.get("attempts", 0),
        )


def _readback_type(value: Any) -> str | None:
    if isinstance(value, np.ndarray):
        return "scalarArr"
    if isinstance(value, dict) and any(isinstance(v, np.ndarray) for v in value.values()):
        return "timedScalarArr"
    if isinstance(value, bytes | bytearray):
        return "raw"
    return None


# --- SubscriptionHandle -------------------------------------------------------------------


def check_count(count: int | None) -> int | None:
    """``count`` of ``readings(count=...)``: None or an int >= 0 (bools refused)."""
    if count is None:
        return None
    if isinstance(count, bool) or not isinstance(count, int | np.integer):
        raise TypeError(f"count must be an int or None, got {type(count).__name__}")
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    return int(count)


class SubscriptionHandle(abc.ABC):
    """A running subscription: iterate its readings, or stop it.

    Each handle has its own buffer, so :meth:`readings` yields only this subscription's
    data.  Use it as a context manager to stop it on exit.
    """

    @property
    @abc.abstractmethod
    def ref_ids(self) -> list[int]: ...

    @property
    @abc.abstractmethod
    def stopped(self) -> bool: ...

    @property
    @abc.abstractmethod
    def exc(self) -> BaseException | None: ...

    @property
    def dropped(self) -> int:
        return 0

    @abc.abstractmethod
    def readings(
        self, timeout: float | None = None, *, count: int | None = None
    ) -> Iterator[tuple[Reading, SubscriptionHandle]]:
        """Yield ``(reading, handle)``; None blocks, 0 drains, > 0 is a total window.

        ``count`` stops after that many readings (fewer if the window ends first).
        """

    @abc.abstractmethod
    def stop(self) -> None: ...

    def __enter__(self) -> SubscriptionHandle:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def __getattr__(name: str) -> Any:
    """``CombinedStream`` lives in pacsys.exp; loaded on first use, as the old path promises."""
    if name == "CombinedStream":
        from pacsys.exp.combined import CombinedStream

        return CombinedStream
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
