"""Simulated ramp cards: the SETTING holds the 15 ramp slots; the READING plays slot 0.

Each machine cycle the card starts at 0 and moves linearly to each point's value over the
point's delta time, then holds the last value until the cycle ends. So a table written to
slot 0 shows in the reading at the matching time of every cycle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs
import numpy as np

from pacsys.ramp.cards import CARD_CLASSES

if TYPE_CHECKING:
    from pacsys.sim.devices import DeviceState

__all__ = ["Playback", "output"]


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
