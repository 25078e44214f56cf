"""Where a ramp table lives: bare device names, slots, and the DRF of a slot or span.

A card's ramp tables are raw bytes of its SETTING property: 15 slots of 64 points, 4 bytes
each (int16 value, int16 delta time, little-endian), so slot ``s`` starts at byte
``s * 256``. The DRF is ``DEV.SETTING{offset:length}.RAW@I``; backends turn it into ``@N``
for a write.
"""

from __future__ import annotations

import numbers
from typing import Any

__all__ = ["BYTES_PER_POINT", "MAX_SLOTS", "POINTS_PER_SLOT", "bare_name", "check_slot", "slot_drf"]

POINTS_PER_SLOT = 64
BYTES_PER_POINT = 4
MAX_SLOTS = 15
SLOT_BYTES = POINTS_PER_SLOT * BYTES_PER_POINT


def bare_name(device: Any) -> str:
    """The canonical name of a bare device (``b_hs23t`` -> ``B:HS23T``), else ValueError.

    A property, field, range, event (other than ``@U``) or ``<-extra`` is refused: a ramp
    always addresses the raw SETTING bytes itself.
    """
    from pacsys.device import Device
    from pacsys.drf3 import parse_request

    if isinstance(device, Device):
        return device.name
    if not isinstance(device, str):
        raise TypeError(f"device must be a device name, got {type(device).__name__}")
    request = parse_request(device)
    problem = None
    if request.property_explicit:
        problem = "explicit property"
    elif request.field_explicit:
        problem = "explicit field"
    elif request.range is not None:
        problem = "range"
    elif request.event.mode != "U":
        problem = "event"
    elif request.extra_raw is not None:
        problem = "extra"
    if problem is not None:
        raise ValueError(
            f"Expected bare device name, got {problem} in '{device}'. "
            "Pass only the device name (e.g. 'B:HS23T')."
        )
    return request.device


def check_slot(slot: Any) -> int:
    """``slot`` as an int in 0..14 (numpy integers accepted; bools refused)."""
    if isinstance(slot, bool):
        raise TypeError("slot must be an int, got bool")
    if not isinstance(slot, numbers.Integral):
        raise TypeError(f"slot must be an int, got {type(slot).__name__}")
    slot = int(slot)
    if not 0 <= slot < MAX_SLOTS:
        raise ValueError(f"slot must be 0..{MAX_SLOTS - 1}, got {slot}")
    return slot


def slot_drf(device: str, slot: int, first: int = 0, count: int = POINTS_PER_SLOT) -> str:
    """DRF of points ``first .. first+count-1`` of ``slot`` (the whole slot by default)."""
    slot = check_slot(slot)
    offset = slot * SLOT_BYTES + first * BYTES_PER_POINT
    return f"{device}.SETTING{{{offset}:{count * BYTES_PER_POINT}}}.RAW@I"
