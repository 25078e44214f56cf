"""``Ramp``: one 64-point ramp table of a card, in engineering units and microseconds.

Values are scaled with the card's Scaler (raw int16 -> engineering, truncated toward zero
on the way back, as ACNET does); times are the *delta* since the previous point, counted
on the card in ticks of ``1e6 / update_rate_hz`` microseconds and rounded half to even.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import numpy as np

from pacsys.errors import ScalingError
from pacsys.ramp.addressing import (
    BYTES_PER_POINT,
    MAX_SLOTS,
    POINTS_PER_SLOT,
    SLOT_BYTES,
    bare_name,
    check_slot,
)
from pacsys.scaling import Scaler

if TYPE_CHECKING:
    from pacsys.backends import Backend
    from pacsys.types import WriteResult
    from pacsys.verify import Verify

__all__ = ["Ramp"]

R = TypeVar("R", bound="Ramp")
_INT16 = (-32768, 32767)
_WIRE = np.dtype("<i2")


def numeric_points(name: str, data: Any, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """``data`` as a float64 array of ``POINTS_PER_SLOT`` points (a copy); refuses non-numbers."""
    array = np.asarray(data)
    if array.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be a numeric array (int or float), got dtype '{array.dtype}'")
    if shape is None:
        if array.ndim != 1:
            raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
        if len(array) != POINTS_PER_SLOT:
            raise ValueError(f"Expected {POINTS_PER_SLOT} values, got {len(array)}")
    elif array.shape != shape:
        raise ValueError(f"{name} must have shape {shape} (points x devices), got {array.shape}")
    return array.astype(np.float64)


def listed(points: np.ndarray) -> list[Any]:
    """At most five point indices, then ``'...'`` (for error messages)."""
    indices: list[Any] = [int(i) for i in points[:5]]
    return [*indices, "..."] if len(points) > 5 else indices


class Ramp:
    """A 64-point ramp table: ``values`` (engineering units) and delta ``times`` (µs).

    Card classes fix the scaling and tick rate (``BoosterHVRamp``, ``RecyclerQRamp``...);
    the base class can be subclassed for other cards by setting ``update_rate_hz`` and
    ``scaler``, or the four transform hooks.
    """

    POINTS_PER_SLOT: ClassVar[int] = POINTS_PER_SLOT
    BYTES_PER_POINT: ClassVar[int] = BYTES_PER_POINT
    MAX_SLOTS: ClassVar[int] = MAX_SLOTS
    update_rate_hz: ClassVar[float] = 10_000
    max_value: ClassVar[float | None] = None
    max_time: ClassVar[float | None] = None
    scaler: ClassVar[Scaler | None] = None

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __init__(
        self, values: Any, times: Any, device: str | None = None, slot: int | None = None
    ) -> None:
        self.values = values
        self.times = times
        self.device = None if device is None else bare_name(device)
        self.slot = None if slot is None else check_slot(slot)

    @classmethod
    def _viewing(cls: type[R], values: np.ndarray, times: np.ndarray, device: str, slot: int) -> R:
        """A ramp whose arrays are ``values``/``times`` themselves (a RampGroup column)."""
        ramp = cls.__new__(cls)
        ramp._values, ramp._times, ramp.device, ramp.slot = values, times, device, slot
        return ramp

    # --- the points ------------------------------------------------------------------------

    @property
    def values(self) -> np.ndarray:
        return self._values

    @values.setter
    def values(self, data: Any) -> None:
        self._values = numeric_points("values", data)

    @property
    def times(self) -> np.ndarray:
        """Delta times in microseconds (each point's time since the previous one)."""
        return self._times

    @times.setter
    def times(self, data: Any) -> None:
        self._times = numeric_points("times", data)

    @property
    def cumtimes(self) -> np.ndarray:
        """Absolute times in microseconds (the running sum of ``times``)."""
        return np.cumsum(self._times)

    @cumtimes.setter
    def cumtimes(self, data: Any) -> None:
        self._times = np.diff(numeric_points("cumtimes", data), prepend=0.0)

    @classmethod
    def tick_us(cls) -> float:
        """One card clock tick in microseconds."""
        return 1_000_000.0 / cls.update_rate_hz

    # --- transform hooks (for cards without a Scaler) ----------------------------------------

    @classmethod
    def primary_transform(cls, raw: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{cls.__name__} defines neither a scaler nor transforms")

    @classmethod
    def common_transform(cls, primary: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{cls.__name__} defines neither a scaler nor transforms")

    @classmethod
    def inverse_common_transform(cls, common: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{cls.__name__} defines neither a scaler nor transforms")

    @classmethod
    def inverse_primary_transform(cls, primary: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{cls.__name__} defines neither a scaler nor transforms")

    @classmethod
    def _scale(cls, raw: np.ndarray) -> np.ndarray:
        if cls.scaler is not None:
            return cls.scaler.scale(raw)
        return np.asarray(cls.common_transform(cls.primary_transform(raw)), dtype=np.float64)

    # --- bytes -----------------------------------------------------------------------------

    @classmethod
    def from_bytes(cls: type[R], data: bytes) -> R:
        """Decode one slot (exactly 256 bytes)."""
        if len(data) != SLOT_BYTES:
            raise ValueError(f"Ramp table requires {SLOT_BYTES} bytes, got {len(data)}")
        points = np.frombuffer(bytes(data), dtype=_WIRE).reshape(POINTS_PER_SLOT, 2)
        raw_values = points[:, 0].astype(np.int64)
        return cls(cls._scale(raw_values), points[:, 1] * cls.tick_us())

    def to_bytes(self) -> bytes:
        """Encode the slot; ValueError naming the offending points when it cannot be."""
        values, times = self._values, self._times
        with np.errstate(invalid="ignore"):
            if self.max_value is not None and np.any(np.abs(values) > self.max_value):
                raise ValueError(
                    f"Ramp values exceed max {self.max_value}: "
                    f"max(|values|) = {np.max(np.abs(values)):.4f}"
                )
            cumulative = np.abs(np.cumsum(times))
            if self.max_time is not None and np.any(cumulative > self.max_time):
                raise ValueError(
                    f"Ramp cumulative times exceed max {self.max_time} us: "
                    f"max(|cumtimes|) = {np.max(cumulative):.1f} us"
                )
        points = np.empty((POINTS_PER_SLOT, 2), dtype=_WIRE)
        points[:, 0] = self._raw_values()
        points[:, 1] = self._raw_times()
        return points.tobytes()

    def _raw_values(self) -> np.ndarray:
        values = self._values
        if self.scaler is not None:
            if not np.all(np.isfinite(values)):
                raise ValueError("Raw values contain NaN or Inf")
            try:
                return self.scaler.unscale(values)
            except ScalingError:
                bad = np.array([i for i, v in enumerate(values) if not self._fits(v)])
        else:
            raw = np.round(self.inverse_primary_transform(self.inverse_common_transform(values)))
            with np.errstate(invalid="ignore"):
                bad = np.flatnonzero(~((raw >= _INT16[0]) & (raw <= _INT16[1])))
            if not len(bad):
                return raw.astype(np.int64)
        low, high = self._scale(np.array(_INT16, dtype=np.int64))
        where = f" for {self.device}" if self.device else ""
        first = int(bad[0])
        raise ValueError(
            f"Ramp value overflow{where}: value {values[first]:.6g} at point {first} exceeds "
            f"int16 range, representable range [{low:.6g}, {high:.6g}] (points: {listed(bad)})"
        )

    def _fits(self, value: float) -> bool:
        assert self.scaler is not None
        try:
            self.scaler.unscale(float(value))
        except ScalingError:
            return False
        return True

    def _raw_times(self) -> np.ndarray:
        tick = self.tick_us()
        with np.errstate(invalid="ignore", over="ignore"):
            ticks = np.round(self._times / tick)
        if not np.all(np.isfinite(ticks)):
            raise ValueError("Raw times contain NaN or Inf after time conversion")
        bad = np.flatnonzero((ticks < _INT16[0]) | (ticks > _INT16[1]))
        if len(bad):
            longest = _INT16[1] * tick
            raise ValueError(
                f"Ramp time overflow at point(s) {listed(bad)}: max delta time is "
                f"{longest:.0f} us ({longest / 1e6:.6g} s) at {type(self).__name__} tick rate, "
                f"got {self._times[bad[0]]:.0f} us"
            )
        return ticks.astype(np.int64)

    # --- I/O -------------------------------------------------------------------------------

    @classmethod
    def read(cls: type[R], device: str, slot: int = 0, backend: Backend | None = None) -> R:
        """Read one slot of ``device`` (DeviceError when it cannot be read)."""
        from pacsys.ramp import io

        return io.read_ramps(cls, [device], slot=slot, backend=backend, single=True)[0]

    @classmethod
    def read_many(
        cls: type[R], devices: list[str], slot: int = 0, backend: Backend | None = None
    ) -> list[R]:
        """One slot of each device, in one batched read."""
        from pacsys.ramp import io

        return io.read_ramps(cls, devices, slot=slot, backend=backend)

    def write(
        self,
        device: str | None = None,
        slot: int | None = None,
        backend: Backend | None = None,
        *,
        write_mode: str = "full",
        verify: bool | Verify | None = True,
    ) -> WriteResult:
        """Write this table to ``device``/``slot`` (default: where it was read from).

        ``write_mode="active"`` sends only the span from the first to the last nonzero
        point. The written bytes are read back and compared (``verify=False`` skips it);
        RuntimeError when the server refuses the write or the readback differs.
        """
        from pacsys.ramp import io

        if device is None and self.device is None:
            raise ValueError("No device specified and none stored from read()")
        if slot is None and self.slot is None:
            raise ValueError("No slot specified and none stored from read()")
        target = self.device if device is None else device
        chosen = self.slot if slot is None else slot
        drf, data = io.setting(self, target, chosen, write_mode)
        return io.write_one(drf, data, backend, verify)

    @classmethod
    def modify(
        cls: type[R],
        device: str,
        slot: int = 0,
        backend: Backend | None = None,
        *,
        verify: bool | Verify | None = True,
    ) -> AbstractContextManager[R]:
        """``with BoosterHVRamp.modify("B:HS23T", slot=1) as ramp:`` edit, then one write.

        The whole slot is written back on a clean exit, only when its bytes changed (and
        read back, unless ``verify=False``); nothing is written when the body raises.
        RuntimeError when the write is refused or not verified.
        """
        return _modifying(cls, bare_name(device), check_slot(slot), backend, verify)

    # --- conversions and comparison ------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": type(self).__name__,
            "values": self._values.tolist(),
            "times": self._times.tolist(),
            "device": self.device,
            "slot": self.slot,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Ramp:
        """The ramp of :meth:`to_dict`; on ``Ramp`` itself the ``type`` picks the card class."""
        from pacsys.ramp.cards import CARD_CLASSES

        target: type[Ramp] = cls
        if cls is Ramp:
            kind = data.get("type")
            if kind not in CARD_CLASSES:
                known = ", ".join(CARD_CLASSES)
                raise ValueError(f"Unknown or missing ramp type {kind!r}; expected one of {known}")
            target = CARD_CLASSES[kind]
        return target(data["values"], data["times"], data.get("device"), data.get("slot"))

    def active_points(self) -> np.ndarray:
        """Indices of the points with a nonzero value or time."""
        return np.flatnonzero((self._values != 0) | (self._times != 0))

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Ramp)
        return (
            self.device == other.device
            and self.slot == other.slot
            and bool(np.array_equal(self._values, other._values, equal_nan=True))
            and bool(np.array_equal(self._times, other._times, equal_nan=True))
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self.active_points())}/{POINTS_PER_SLOT} active points)"

    def __str__(self) -> str:
        lines = [f"{type(self).__name__} ({POINTS_PER_SLOT} points):"]
        active = self.active_points()
        for i in active:
            lines.append(f"  [{i:2d}] t={self._times[i]:8.1f}us  value={self._values[i]:.4f}")
        if not len(active):
            lines.append("  (all zeros)")
        return "\n".join(lines)


@contextmanager
def _modifying(
    cls: type[R], name: str, slot: int, backend: Backend | None, verify: bool | Verify | None
) -> Iterator[R]:
    from pacsys.ramp import io

    ramp = io.read_ramps(cls, [name], slot=slot, backend=backend, single=True)[0]
    before = ramp.to_bytes()
    yield ramp  # an exception in the body propagates from here: nothing is written
    after = ramp.to_bytes()
    if after != before:
        io.write_one(io.slot_drf(name, slot), after, backend, verify)
