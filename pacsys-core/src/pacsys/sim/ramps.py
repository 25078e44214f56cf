"""Simulated ramp cards: the SETTING holds the 15 ramp slots; the READING plays slot 0.

Each machine cycle the card starts at 0 and moves linearly to each point's value over the
point's delta time, then holds the last value until the cycle ends. So a table written to
slot 0 shows in the reading at the matching time of every cycle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs
import numpy as np

from pacsys.ramp import Ramp
from pacsys.ramp.cards import CARD_CLASSES
from pacsys.sim.catalogue_parse import _Reader
from pacsys.sim.catalogue_records import CatalogueError, PropertyDef, ScalingDef

if TYPE_CHECKING:
    from pacsys.sim.devices import DeviceState

__all__ = ["Playback", "RampDef", "output", "parse_ramp"]


@attrs.frozen
class RampDef:
    """A ramp card: its class (``pacsys.ramp`` card name) and the cycle its slot 0 plays in."""

    card: str
    period_us: float


def parse_ramp(r: _Reader, cycle_us: float) -> tuple[RampDef, PropertyDef, PropertyDef]:
    """A ramp card: (definition, SETTING = 15 raw slots, default READING = the output)."""
    r.check_keys({"card", "period_us", "slot0"})
    card = r.require("card", str)
    cls = CARD_CLASSES.get(card)
    if cls is None:
        raise CatalogueError(f"{r.where}: card must be one of {', '.join(CARD_CLASSES)}")
    period = r.get("period_us", float, cycle_us)
    if period <= 0:
        raise CatalogueError(f"{r.where}: period_us must be positive")
    points = r.get("slot0", list, [])
    if len(points) > Ramp.POINTS_PER_SLOT or not all(
        isinstance(p, list) and len(p) == 2 and all(isinstance(x, int | float) for x in p)
        for p in points
    ):
        raise CatalogueError(f"{r.where}: slot0 must be at most 64 [value, delta_us] pairs")
    values, times = np.zeros(Ramp.POINTS_PER_SLOT), np.zeros(Ramp.POINTS_PER_SLOT)
    for i, (value, delta) in enumerate(points):
        values[i], times[i] = value, delta
    try:
        slot0 = cls(values, times).to_bytes()
    except ValueError as exc:
        raise CatalogueError(f"{r.where}: slot0: {exc}") from None
    assert cls.scaler is not None
    scaling = ScalingDef(2, 6, cls.scaler.constants, 2)
    low, high = (float(v) for v in cls.scaler.scale(np.array([-32768, 32767])))
    tables = slot0 + bytes(Ramp.MAX_SLOTS * len(slot0) - len(slot0))
    setting = PropertyDef(
        kind="raw", units="A", length=len(tables), initial=tables, scaling=scaling
    )
    reading = PropertyDef(
        kind="scalar", units="A", primary_units="Volts", min=low, max=high, scaling=scaling
    )
    return RampDef(card, period), setting, reading


@attrs.frozen
class Playback:
    """Slot 0 of a table, decoded once: the breakpoints of the card's output."""

    table: bytes
    times_us: np.ndarray
    values: np.ndarray

    @classmethod
    def of(cls, card: str, setting: bytes) -> Playback:
        slot = CARD_CLASSES[card].from_bytes(setting[:256])
        # Negative delta times step back; the card's output still moves forward in time.
        times = np.maximum.accumulate(np.concatenate(([0.0], slot.cumtimes)))
        return cls(setting[:256], times, np.concatenate(([0.0], slot.values)))


def output(state: DeviceState, t: float) -> float:
    """The card's output at time ``t`` (engineering units)."""
    ramp = state.device.ramp
    assert ramp is not None
    playback = state.ramp_cache
    if playback is None or playback.table != state.setting[:256]:
        playback = state.ramp_cache = Playback.of(ramp.card, state.setting)
    phase_us = (t * 1e6) % ramp.period_us
    return float(np.interp(phase_us, playback.times_us, playback.values))
