"""Reading and writing ramp tables through any backend, one at a time or in batches.

Every setting is built and validated (the whole table encoded) before anything is sent.
Writes are read back and compared byte for byte unless ``verify=False``.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from pacsys.errors import DeviceError
from pacsys.ramp.addressing import BYTES_PER_POINT, bare_name, check_slot, slot_drf
from pacsys.types import BasicControl, WriteResult
from pacsys.verify import Verify, get_active_verify, resolve_verify

if TYPE_CHECKING:
    from pacsys.backends import Backend
    from pacsys.ramp.group import RampGroup
    from pacsys.ramp.table import Ramp

__all__ = ["read_ramps", "setting", "slot_drf", "write_checked", "write_one", "write_ramps"]

R = TypeVar("R", bound="Ramp")

#: Verification when ``verify=True`` and no ``with Verify(...)`` is active: the card holds the
#: table as soon as the setting is acknowledged, so read back at once.
RAMP_VERIFY = Verify(initial_delay=0.0, retry_delay=0.1, max_attempts=3)
WRITE_MODES = ("full", "active")


def resolve_backend(backend: Backend | None) -> Backend:
    """``backend``, or the global one when None."""
    from pacsys import _simple

    return backend if backend is not None else _simple.get_global_backend()


def _policy(verify: bool | Verify | None) -> Verify | None:
    if verify is True and get_active_verify() is None:
        return RAMP_VERIFY
    return resolve_verify(verify)


def read_ramps(
    cls: type[R],
    devices: Iterable[str],
    slot: int = 0,
    backend: Backend | None = None,
    *,
    single: bool = False,
) -> list[R]:
    """One slot of each device as ``cls`` tables, read in one batch (``single``: one get)."""
    if isinstance(devices, str):
        raise TypeError("devices must be a list of device names, not a single str")
    names = [bare_name(device) for device in devices]
    if not names:
        raise ValueError("devices list must not be empty")
    slot = check_slot(slot)
    drfs = [slot_drf(name, slot) for name in names]
    backend = resolve_backend(backend)
    readings = [backend.get(drfs[0])] if single else backend.get_many(drfs)
    ramps = []
    for name, reading in zip(names, readings, strict=True):
        if not reading.ok:
            raise DeviceError(
                reading.drf, reading.facility_code, reading.error_code, reading.message
            )
        if not isinstance(reading.value, bytes | bytearray):
            raise TypeError(f"Expected bytes for {name}, got {type(reading.value).__name__}")
        ramp = cls.from_bytes(reading.value)
        ramp.device, ramp.slot = name, slot
        ramps.append(ramp)
    return ramps


def setting(ramp: Ramp, device: Any, slot: Any, write_mode: str) -> tuple[str, bytes]:
    """The (DRF, bytes) a write of ``ramp`` sends; the whole table is validated first."""
    if write_mode not in WRITE_MODES:
        raise ValueError(f"Unknown write_mode {write_mode!r}; expected 'full' or 'active'")
    name = bare_name(device)
    slot = check_slot(slot)
    data = ramp.to_bytes()
    if write_mode == "full":
        return slot_drf(name, slot), data
    active = ramp.active_points()
    if not len(active):
        raise ValueError(f"Empty active ramp for {name}; use write_mode='full' to clear the slot")
    first, last = int(active[0]), int(active[-1])
    span = data[first * BYTES_PER_POINT : (last + 1) * BYTES_PER_POINT]
    return slot_drf(name, slot, first, last - first + 1), span


def write_one(
    drf: str, data: bytes, backend: Backend | None, verify: bool | Verify | None
) -> WriteResult:
    """Write one table (or span) and read it back; RuntimeError when refused or different."""
    backend = resolve_backend(backend)
    results = _verified(backend, [(drf, data)], [backend.write(drf, data)], [0], _policy(verify))
    result = results[0]
    if not result.ok:
        raise RuntimeError(f"Failed to write ramp table: {result.message}")
    if result.verified is False:
        raise RuntimeError(f"Ramp table write to {drf} not verified: {result.message}")
    return result


def write_ramps(
    ramps: Ramp | RampGroup | Sequence[Ramp | RampGroup | tuple[str, Any]],
    *,
    slot: int | None = None,
    backend: Backend | None = None,
    write_mode: str = "full",
    verify: bool | Verify | None = True,
) -> list[WriteResult]:
    """Write many tables (and plain ``(drf, value)`` settings) in one ``write_many``.

    RampGroups expand into one table per device; ``slot`` overrides every table's slot.
    Everything is validated before anything is sent; results come back per setting, in
    input order, and failures are reported there (with ``verified`` set for the tables),
    not raised. The batch is not atomic.
    """
    from pacsys.drf_utils import prepare_for_control, prepare_for_write
    from pacsys.ramp.group import RampGroup
    from pacsys.ramp.table import Ramp

    items = [ramps] if isinstance(ramps, Ramp | RampGroup) else list(ramps)
    settings: list[tuple[str, Any]] = []
    tables: list[int] = []
    for item in items:
        columns = item.columns(slot) if isinstance(item, RampGroup) else [item]
        for entry in columns:
            if isinstance(entry, Ramp):
                if entry.device is None:
                    raise ValueError("Ramp has no device set - read() first or set .device")
                chosen = slot if slot is not None else entry.slot
                if chosen is None:
                    raise ValueError(
                        f"No slot for device {entry.device} - read() first or set .slot"
                    )
                tables.append(len(settings))
                settings.append(setting(entry, entry.device, chosen, write_mode))
            elif isinstance(entry, tuple | list) and len(entry) == 2 and isinstance(entry[0], str):
                drf, value = entry
                if isinstance(value, BasicControl):
                    drf = prepare_for_control(drf)
                settings.append((prepare_for_write(drf), value))
            else:
                raise TypeError("Expected a Ramp, RampGroup, or (drf, value) setting")
    return write_checked(resolve_backend(backend), settings, tables, verify)


def write_checked(
    backend: Backend,
    settings: list[tuple[str, Any]],
    tables: list[int],
    verify: bool | Verify | None,
) -> list[WriteResult]:
    """One ``write_many``, then the tables at indices ``tables`` read back and compared."""
    results = backend.write_many(settings)
    return _verified(backend, settings, results, tables, _policy(verify))


def _verified(
    backend: Backend,
    settings: list[tuple[str, Any]],
    results: list[WriteResult],
    tables: list[int],
    policy: Verify | None,
) -> list[WriteResult]:
    """``results`` with the tables at ``tables`` read back under ``policy`` (None: as is)."""
    results = list(results)
    if policy is None:
        return results
    pending = [i for i in tables if results[i].ok]
    if pending and policy.initial_delay:
        time.sleep(policy.initial_delay)
    for attempt in range(1, policy.max_attempts + 1):
        if not pending:
            break
        readings = backend.get_many([settings[i][0] for i in pending])
        missed = []
        for i, reading in zip(pending, readings, strict=True):
            same = reading.ok and reading.value == settings[i][1]
            message = results[i].message if same else _mismatch(reading, settings[i][1])
            results[i] = dataclasses.replace(
                results[i], verified=same, readback=reading.value, attempts=attempt, message=message
            )
            if not same:
                missed.append(i)
        pending = missed
        if pending and attempt < policy.max_attempts and policy.retry_delay:
            time.sleep(policy.retry_delay)
    return results


def _mismatch(reading: Any, expected: bytes) -> str:
    if not reading.ok:
        return f"readback failed: {reading.message}"
    got = reading.value
    if not isinstance(got, bytes | bytearray) or len(got) != len(expected):
        return f"readback is not the {len(expected)} bytes written"
    points = sorted(
        {i // BYTES_PER_POINT for i, (a, b) in enumerate(zip(got, expected, strict=True)) if a != b}
    )
    return f"readback differs at point(s) {points[:5]}{' ...' if len(points) > 5 else ''}"
