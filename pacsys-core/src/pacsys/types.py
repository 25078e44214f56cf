"""Core value types: what a read returns, what a write reports, and the enums around them."""

from __future__ import annotations

import abc
import dataclasses
import enum
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

from pacsys import _display
from pacsys._arrays import (
    decode_value,
    encode_value,
    freeze_value,
    loaded_numpy,
    readback_type,
    value_hash,
    values_equal,
)

if TYPE_CHECKING:
    import numpy as np

    Value: TypeAlias = float | int | str | bytes | np.ndarray | list | dict

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


class DeviceLike(Protocol):
    """A device object as the simple API takes it: a :class:`pacsys.device.Device`.

    Named by what it offers, not imported: pacsys.device sits above this module.
    """

    @property
    def drf(self) -> str: ...


DeviceSpec: TypeAlias = "str | DeviceLike"
WriteSettings: TypeAlias = "list[tuple[DeviceSpec, Value]] | dict[DeviceSpec, Value]"
ReadingCallback: TypeAlias = "Callable[[Reading, SubscriptionHandle], None]"
ErrorCallback: TypeAlias = "Callable[[BaseException, SubscriptionHandle], None]"
ReadingStream: TypeAlias = "Iterator[tuple[Reading, SubscriptionHandle]]"


def __getattr__(name: str) -> Any:
    # ``Value`` names numpy's ndarray, so it is built (and numpy imported) on first use;
    # ``CombinedStream`` lives in pacsys.exp, a layer above this one: a lazy name (looked up by
    # module name, like pacsys' own lazy names), so this module imports no threads or clocks.
    if name == "Value":
        import numpy as np

        value = float | int | str | bytes | np.ndarray | list | dict
        globals()["Value"] = value
        return value
    if name == "CombinedStream":
        import importlib

        return importlib.import_module("pacsys.exp.combined").CombinedStream
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --- DeviceMeta ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class DeviceMeta:
    """Static facts about a device that travel with its readings."""

    device_index: int
    name: str
    description: str
    units: str | None = None
    format_hint: int | None = None

    def __repr__(self) -> str:
        optional = "".join(
            f", {key}={value!r}"
            for key, value in (("units", self.units), ("format_hint", self.format_hint))
            if value is not None
        )
        return f"DeviceMeta({self.device_index!r}, {self.name!r}, {self.description!r}{optional})"

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


def _defaults(instance: Any) -> list[tuple[str, Any, Any]]:
    """(name, value, default) of every dataclass field, for the short reprs."""
    return [(f.name, getattr(instance, f.name), f.default) for f in dataclasses.fields(instance)]


# --- Reading ------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, eq=False, slots=True)
class Reading:
    """One device reading: a value (or none) with its ACNET status, time and metadata.

    ``error_code`` is 0 for success, > 0 for a warning (data may still be usable) and < 0
    for an error; ``ok`` tells whether the value can be used.  ``str()`` gives one short
    line (value, units, status, time), ``repr()`` every field that is set, with arrays
    summarised; notebooks show a table.
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

    def __post_init__(self) -> None:
        value = self.value
        if value is not None:
            if self.value_type is None:
                raise ValueError("value_type is required when value is set")
            frozen = freeze_value(value)
            if frozen is not value:
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
        return hash((self._key(), value_hash(self.value)))

    # --- display -------------------------------------------------------------------------

    def _status_text(self) -> str:
        status = _display.status_text(self.error_code, self.facility_code, self.message)
        return f"{status} (no value)" if self.value is None and self.error_code >= 0 else status

    def _value_with_units(self) -> str:
        units = self.units
        text = _display.value_text(self.value)
        return f"{text} {units}" if units else text

    def __str__(self) -> str:
        head = self.drf if self.value is None else f"{self.drf} = {self._value_with_units()}"
        text = f"{head}  {self._status_text()}"
        if self.timestamp is not None:
            text += f"  {_display.time_text(self.timestamp)}"
        return text

    def __repr__(self) -> str:
        return _display.field_repr("Reading", _defaults(self))

    def _repr_html_(self) -> str:
        """The reading as a small table (Jupyter and other notebook front ends)."""
        rows = [("value", self._value_with_units() if self.value is not None else "-")]
        rows.append(("status", self._status_text()))
        if self.timestamp is not None:
            rows.append(("timestamp", _display.time_text(self.timestamp)))
        if self.cycle is not None:
            rows.append(("cycle", str(self.cycle)))
        if self.value_type is not None:
            rows.append(("type", self.value_type.value))
        if self.meta is not None and self.meta.description:
            rows.append(("description", self.meta.description))
        return _display.html_table(f"Reading {self.drf}", rows)

    # --- serialisation -------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "drf": self.drf,
            "facility_code": self.facility_code,
            "error_code": self.error_code,
        }
        if self.value_type is not None:
            out["value_type"] = self.value_type.value
        if self.value is not None:
            out["value"], dtype = encode_value(self.value)
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
            value = decode_value(value, data.get("value_dtype"), value_type is ValueType.RAW)
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


@dataclasses.dataclass(frozen=True, eq=False, slots=True)
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

    def __post_init__(self) -> None:
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
        return hash((self._key(), value_hash(self.readback)))

    def __str__(self) -> str:
        text = (
            f"{self.drf}  {_display.status_text(self.error_code, self.facility_code, self.message)}"
        )
        if self.skipped:
            text += ", skipped (already set)"
        if self.verified is not None:
            text += ", verified" if self.verified else ", verification FAILED"
        if self.readback is not None:
            text += f", readback {_display.value_text(self.readback)}"
        return text

    def __repr__(self) -> str:
        return _display.field_repr("WriteResult", _defaults(self))

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
            out["readback"], dtype = encode_value(self.readback)
            kind = readback_type(self.readback)
            if kind is not None:
                out["readback_type"] = kind
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
            kind = data.get("readback_type")
            readback = decode_value(readback, data.get("readback_dtype"), kind == "raw")
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


# --- SubscriptionHandle -------------------------------------------------------------------


def check_count(count: int | None) -> int | None:
    """``count`` of ``readings(count=...)``: None or an int >= 0 (bools refused)."""
    if count is None:
        return None
    np = loaded_numpy()  # a numpy integer can only come from a numpy already imported
    integer = int if np is None else int | np.integer
    if isinstance(count, bool) or not isinstance(count, integer):
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
