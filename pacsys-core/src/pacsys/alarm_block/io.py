"""Reading and writing alarm blocks through any backend.

``read`` fetches the raw block and the structured (engineering-unit) reading in one batch.
``write`` sends the raw block. ``modify`` reads, lets the caller edit, and on a clean exit
sends what changed, once: the structured form for engineering limits and the
alarm_enable/abort_inhibit/tries_needed fields, the raw block for everything else, and
both (structured first, then the re-read raw block patched with the raw-only edits) when
an edit touches both. Nothing is sent when the body raises or nothing changed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from pacsys.alarm_block.ftd import FTD
from pacsys.errors import DeviceError

if TYPE_CHECKING:
    from pacsys.alarm_block.block import _Stored
    from pacsys.backends import Backend
    from pacsys.types import WriteResult

__all__ = ["modify", "read", "write"]

B = TypeVar("B", bound="_Stored")

SEGMENT_MESSAGE = (
    "Structured alarm access supports only segment=0; use raw alarm-block access for other segments"
)
_ENABLE, _ABORT_INHIBIT = 0x0001, 0x0008
_Q_BITS, _K_BITS = 0x0060, 0x0300


def _target(device: Any, backend: Backend | None) -> tuple[str, Backend]:
    """Canonical device name and the backend to use (explicit, the Device's, or global)."""
    from pacsys import _simple
    from pacsys.device import Device
    from pacsys.drf_utils import get_device_name

    if isinstance(device, Device):
        name, bound = device.name, device.backend
    elif isinstance(device, str):
        name, bound = get_device_name(device), None
    else:
        raise TypeError(f"device must be a DRF string or a Device, got {type(device).__name__}")
    chosen = backend if backend is not None else bound
    return name, chosen if chosen is not None else _simple.get_global_backend()


def _raw_drf(name: str, prop: str, segment: int, event: str) -> str:
    return f"{name}.{prop}{{{segment * 20}:20}}.RAW@{event}"


def _check_segment(segment: int) -> None:
    if isinstance(segment, bool) or not isinstance(segment, int) or segment < 0:
        raise ValueError(f"segment must be a non-negative int, got {segment!r}")


def read(cls: type[B], device: Any, backend: Backend | None, segment: int) -> B:
    _check_segment(segment)
    if segment != 0:
        raise ValueError(SEGMENT_MESSAGE)
    return _read(cls, *_target(device, backend))


def _read(cls: type[B], name: str, backend: Backend) -> B:
    prop = cls._PROPERTY
    raw_drf = _raw_drf(name, prop, 0, "I")
    raw, structured = backend.get_many([raw_drf, f"{name}.{prop}@I"])
    if not raw.ok:
        raise DeviceError(raw_drf, raw.facility_code, raw.error_code, raw.message)
    if not isinstance(raw.value, bytes | bytearray):
        raise TypeError(f"Expected bytes, got {type(raw.value).__name__}")
    block = cls.from_bytes(raw.value)
    if structured.ok and isinstance(structured.value, dict):
        block._structured = dict(structured.value)
        block._snapshot = dict(structured.value)
    return block


def _send(backend: Backend, drf: str, value: Any, what: str) -> WriteResult:
    result = backend.write(drf, value)
    if not result.ok:
        raise RuntimeError(f"Failed to write alarm{what}: {result.message}")
    return result


def write(block: _Stored, device: Any, backend: Backend | None, segment: int) -> WriteResult:
    _check_segment(segment)
    s, snapshot = block._structured, block._snapshot
    if block._PROPERTY == "ANALOG" and s is not None and snapshot is not None:
        for key in ("minimum", "maximum"):
            now, then = s.get(key), snapshot.get(key)
            if now is not then and now != then:
                raise ValueError(
                    "minimum/maximum edits need AnalogAlarm.modify(); write() sends the raw "
                    "block only"
                )
    data = block.to_bytes()  # validates everything before any I/O
    name, backend = _target(device, backend)
    return _send(backend, _raw_drf(name, block._PROPERTY, segment, "N"), data, "")


def modify(cls: type[B], device: Any, backend: Backend | None, segment: int) -> Any:
    _check_segment(segment)
    if segment != 0:
        raise ValueError(SEGMENT_MESSAGE)
    return _modifying(cls, *_target(device, backend))


@contextmanager
def _modifying(cls: type[B], name: str, backend: Backend) -> Iterator[B]:
    block = _read(cls, name, backend)
    initial = block.to_bytes()
    yield block  # an exception in the body propagates from here: nothing is written
    _apply(block, cls.from_bytes(initial), initial, name, backend)


def _structured_payload(block: _Stored) -> dict[str, Any]:
    s = block._structured
    assert s is not None
    limits: dict[str, Any]
    if block._PROPERTY == "ANALOG":
        limits = {"minimum": s.get("minimum"), "maximum": s.get("maximum")}
    else:
        limits = {"nominal": block.nominal, "mask": block.mask}  # type: ignore[attr-defined]
    return {
        **limits,
        "alarm_enable": s.get("alarm_enable"),
        "abort_inhibit": s.get("abort_inhibit"),
        "tries_needed": block.tries_needed,
    }


def _apply(block: _Stored, init: _Stored, initial: bytes, name: str, backend: Backend) -> None:
    """Send what the edits of ``block`` (read as ``init``) changed; see the module doc."""
    prop = block._PROPERTY
    current = block.to_bytes()
    raw_drf = _raw_drf(name, prop, 0, "N")
    s, snap = block._structured, block._snapshot
    if s is None or snap is None:
        if current != initial:
            _send(backend, raw_drf, current, " (raw)")
        return
    analog = prop == "ANALOG"
    v1 = current[2:6] != initial[2:6]
    v2 = current[6:10] != initial[6:10]
    low = s.get("minimum") != snap.get("minimum")
    high = s.get("maximum") != snap.get("maximum")
    enable = s.get("alarm_enable") != snap.get("alarm_enable")
    inhibit = s.get("abort_inhibit") != snap.get("abort_inhibit")
    eng = (low or high) if analog else (v1 or v2)
    struct = block.tries_needed != init.tries_needed or enable or inhibit
    changed_flags = block.flags ^ init.flags
    if analog:
        _check_analog(block, init, current, initial, v1, v2, low, high, changed_flags)
    explained = (_ENABLE if enable else 0) | (_ABORT_INHIBIT if inhibit else 0)
    raw_flags = changed_flags & ~explained
    raw_only = bool(
        raw_flags
        or current[12:14] != initial[12:14]  # FTD
        or current[14:20] != initial[14:20]  # front-end data
        or block.tries_now != init.tries_now
        or (analog and (v1 or v2))
    )
    struct_drf = f"{name}.{prop}@N"
    if raw_only and (eng or struct):
        _send(backend, struct_drf, _structured_payload(block), " (structured)")
        try:
            patched = _patched(block, backend, name, raw_flags, analog, v1, v2)
        except (DeviceError, TypeError) as exc:
            _roll_back(backend, struct_drf, block, snap, f"re-reading the block failed: {exc}")
        result = backend.write(raw_drf, patched)
        if not result.ok:
            _roll_back(backend, struct_drf, block, snap, result.message)
    elif raw_only:
        _send(backend, raw_drf, current, " (raw)")
    elif eng or struct or current != initial:
        _send(backend, struct_drf, _structured_payload(block), " (structured)")


def _check_analog(
    block: _Stored,
    init: _Stored,
    current: bytes,
    initial: bytes,
    v1: bool,
    v2: bool,
    low: bool,
    high: bool,
    changed_flags: int,
) -> None:
    """Refuse edit combinations whose meaning would depend on the order of two writes."""
    if v1 and low:
        raise ValueError("Cannot change both raw value1 and engineering minimum")
    if v2 and high:
        raise ValueError("Cannot change both raw value2 and engineering maximum")
    eng = low or high
    if eng and (v1 or v2) and (init.flags & _K_BITS) >> 8 != 2:
        raise ValueError(
            "Cannot change raw value1/value2 with engineering limits unless limit_type is MIN_MAX"
        )
    type_changed = (current[16] & 3) != (initial[16] & 3)
    if eng and (changed_flags & (_Q_BITS | _K_BITS) or type_changed):
        raise ValueError(
            "Cannot change engineering limits with data_length, data_type, or limit_type"
        )


def _patched(
    block: _Stored,
    backend: Backend,
    name: str,
    raw_flags: int,
    analog: bool,
    v1: bool,
    v2: bool,
) -> bytes:
    """The block as the server now holds it (after the structured write) + the raw edits."""
    fresh_drf = _raw_drf(name, block._PROPERTY, 0, "I")
    data = backend.read(fresh_drf)
    if not isinstance(data, bytes | bytearray):
        raise TypeError(f"Expected bytes from {fresh_drf}, got {type(data).__name__}")
    fresh = type(block).from_bytes(data)
    fresh.flags = (fresh.flags & ~raw_flags) | (block.flags & raw_flags)
    fresh.ftd = FTD.from_word(block.ftd.to_word())
    fresh.fe_data = block.fe_data
    fresh.tries_now = block.tries_now
    fresh.tries_needed = block.tries_needed
    if analog:
        if v1:
            fresh.value1_raw = block.value1_raw
        if v2:
            fresh.value2_raw = block.value2_raw
    else:
        if v1:
            fresh.nominal = block.nominal  # type: ignore[attr-defined]
        if v2:
            fresh.mask = block.mask  # type: ignore[attr-defined]
    return fresh.to_bytes()


def _roll_back(
    backend: Backend, struct_drf: str, block: _Stored, snap: dict[str, Any], message: Any
) -> None:
    """The raw step was refused: put back the structured fields written just before."""
    restore = {key: snap.get(key) for key in _structured_payload(block)}
    undone = backend.write(struct_drf, restore)
    outcome = "restored" if undone.ok else f"NOT restored ({undone.message})"
    raise RuntimeError(
        f"Failed to write alarm (raw): {message}; the structured fields were {outcome}"
    )
