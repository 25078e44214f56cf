"""``RampGroup``: the same slot of several cards of one kind, as 64 x N arrays.

Column ``j`` of ``values``/``times`` is the table of ``devices[j]``; ``group[device]``
gives that column as a Ramp whose arrays are views, so edits write through.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import numpy as np

from pacsys.ramp.addressing import POINTS_PER_SLOT, bare_name, check_slot, slot_drf
from pacsys.ramp.cards import (
    CARD_CLASSES,
    BoosterHVRamp,
    BoosterQRamp,
    BoosterSQRamp,
    RecyclerHVSQRamp,
    RecyclerQRamp,
    RecyclerSCRamp,
    RecyclerSRamp,
)
from pacsys.ramp.table import Ramp, numeric_points

if TYPE_CHECKING:
    from pacsys.backends import Backend
    from pacsys.types import WriteResult
    from pacsys.verify import Verify

__all__ = [
    "GROUP_CLASSES",
    "BoosterHVRampGroup",
    "BoosterQRampGroup",
    "BoosterSQRampGroup",
    "RampGroup",
    "RecyclerHVSQRampGroup",
    "RecyclerQRampGroup",
    "RecyclerSCRampGroup",
    "RecyclerSRampGroup",
]

G = TypeVar("G", bound="RampGroup")


def _names(devices: Sequence[str]) -> list[str]:
    if isinstance(devices, str):
        raise TypeError("devices must be a list of device names, not a single str")
    names = [bare_name(device) for device in devices]
    if len(set(names)) != len(names):
        raise ValueError("Duplicate device names in RampGroup")
    return names


class RampGroup:
    """One slot of several devices with the same card type (``base``)."""

    base: ClassVar[type[Ramp]] = Ramp

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __init__(self, devices: Sequence[str], values: Any, times: Any, slot: int = 0) -> None:
        self.devices = _names(devices)
        self.slot = check_slot(slot)
        self.values = values
        self.times = times

    @property
    def _shape(self) -> tuple[int, int]:
        return (POINTS_PER_SLOT, len(self.devices))

    @property
    def values(self) -> np.ndarray:
        """Engineering values, 64 rows (points) by one column per device."""
        return self._values

    @values.setter
    def values(self, data: Any) -> None:
        self._values = numeric_points("values", data, self._shape)

    @property
    def times(self) -> np.ndarray:
        """Delta times in microseconds, 64 rows by one column per device."""
        return self._times

    @times.setter
    def times(self, data: Any) -> None:
        self._times = numeric_points("times", data, self._shape)

    @property
    def cumtimes(self) -> np.ndarray:
        return np.cumsum(self._times, axis=0)

    @cumtimes.setter
    def cumtimes(self, data: Any) -> None:
        absolute = numeric_points("cumtimes", data, self._shape)
        self._times = np.diff(absolute, axis=0, prepend=np.zeros((1, len(self.devices))))

    def __getitem__(self, device: str) -> Ramp:
        j = self.devices.index(bare_name(device)) if device in self else -1
        if j < 0:
            raise KeyError(device)
        return self.base._viewing(self._values[:, j], self._times[:, j], self.devices[j], self.slot)

    def columns(self, slot: int | None = None) -> list[Ramp]:
        """One base-class Ramp per device (in ``slot`` when given, else the group's)."""
        chosen = self.slot if slot is None else check_slot(slot)
        return [
            self.base._viewing(self._values[:, j], self._times[:, j], name, chosen)
            for j, name in enumerate(self.devices)
        ]

    def __len__(self) -> int:
        return len(self.devices)

    def __iter__(self) -> Iterator[str]:
        return iter(self.devices)

    def __contains__(self, device: object) -> bool:
        try:
            return isinstance(device, str) and bare_name(device) in self.devices
        except ValueError:
            return False

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, RampGroup)
        return (
            self.devices == other.devices
            and self.slot == other.slot
            and bool(np.array_equal(self._values, other._values, equal_nan=True))
            and bool(np.array_equal(self._times, other._times, equal_nan=True))
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.devices}, slot={self.slot})"

    # --- I/O -------------------------------------------------------------------------------

    @classmethod
    def read(
        cls: type[G], devices: Sequence[str], slot: int = 0, backend: Backend | None = None
    ) -> G:
        """The slot of every device, in one batched read."""
        from pacsys.ramp import io

        ramps = io.read_ramps(cls.base, _names(devices), slot=slot, backend=backend)
        values = np.column_stack([ramp.values for ramp in ramps])
        times = np.column_stack([ramp.times for ramp in ramps])
        return cls([ramp.device for ramp in ramps], values, times, slot)  # type: ignore[misc]

    def write(
        self,
        *,
        devices: Sequence[str] | None = None,
        slot: int | None = None,
        backend: Backend | None = None,
        write_mode: str = "full",
        verify: bool | Verify | None = True,
    ) -> list[WriteResult]:
        """Write every column (to ``devices`` instead, when given) in one batch; see
        :func:`~pacsys.ramp.write_ramps` for the results."""
        from pacsys.ramp import io

        columns = self.columns(slot)
        if devices is not None:
            names = _names(devices)
            if len(names) != len(columns):
                raise ValueError(
                    f"devices must name one device per column ({len(columns)}), got {len(names)}"
                )
            for column, name in zip(columns, names, strict=True):
                column.device = name
        return io.write_ramps(
            columns, slot=slot, backend=backend, write_mode=write_mode, verify=verify
        )

    @classmethod
    def modify(
        cls: type[G],
        devices: Sequence[str],
        slot: int = 0,
        backend: Backend | None = None,
        *,
        verify: bool | Verify | None = True,
    ) -> AbstractContextManager[G]:
        """Read the group, let the body edit it, then write the changed columns in one batch.

        RuntimeError("Partial write failure: ...") when any of them is refused or reads
        back different; nothing is written when the body raises.
        """
        return _modifying(cls, _names(devices), check_slot(slot), backend, verify)

    # --- conversions -----------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": type(self).__name__,
            "devices": list(self.devices),
            "values": self._values.tolist(),
            "times": self._times.tolist(),
            "slot": self.slot,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RampGroup:
        """The group of :meth:`to_dict`; on ``RampGroup`` itself ``type`` picks the class."""
        target: type[RampGroup] = cls
        if cls is RampGroup:
            kind = data.get("type")
            if kind not in GROUP_CLASSES:
                known = ", ".join(GROUP_CLASSES)
                raise ValueError(f"Unknown or missing group type {kind!r}; expected one of {known}")
            target = GROUP_CLASSES[kind]
        return target(data["devices"], data["values"], data["times"], data.get("slot", 0))


@contextmanager
def _modifying(
    cls: type[G], names: list[str], slot: int, backend: Backend | None, verify: bool | Verify | None
) -> Iterator[G]:
    from pacsys.ramp import io

    group = cls.read(names, slot, backend)
    before = [column.to_bytes() for column in group.columns()]  # an unencodable column fails here
    yield group  # an exception in the body propagates from here: nothing is written
    after = [column.to_bytes() for column in group.columns()]
    settings = [
        (slot_drf(name, slot), data)
        for name, old, data in zip(group.devices, before, after, strict=True)
        if data != old
    ]
    if not settings:
        return
    results = io.write_checked(
        io.resolve_backend(backend), settings, list(range(len(settings))), verify
    )
    failed = [r for r in results if not r.ok or r.verified is False]
    if failed:
        details = ", ".join(f"{r.drf}: {r.message}" for r in failed)
        raise RuntimeError(f"Partial write failure: {len(failed)}/{len(results)} failed: {details}")


class RecyclerQRampGroup(RampGroup):
    base = RecyclerQRamp


class RecyclerSRampGroup(RampGroup):
    base = RecyclerSRamp


class RecyclerSCRampGroup(RampGroup):
    base = RecyclerSCRamp


class RecyclerHVSQRampGroup(RampGroup):
    base = RecyclerHVSQRamp


class BoosterHVRampGroup(RampGroup):
    base = BoosterHVRamp


class BoosterQRampGroup(RampGroup):
    base = BoosterQRamp


class BoosterSQRampGroup(RampGroup):
    base = BoosterSQRamp


GROUP_CLASSES: dict[str, type[RampGroup]] = {
    f"{name}Group": group
    for name, group in zip(
        CARD_CLASSES,
        (
            RecyclerQRampGroup,
            RecyclerSRampGroup,
            RecyclerSCRampGroup,
            RecyclerHVSQRampGroup,
            BoosterHVRampGroup,
            BoosterQRampGroup,
            BoosterSQRampGroup,
        ),
        strict=True,
    )
}
