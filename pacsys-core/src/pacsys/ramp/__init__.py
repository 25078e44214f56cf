"""Ramp tables: the 64-point waveforms that ramp-card power supplies play each cycle.

    >>> from pacsys.ramp import BoosterHVRamp
    >>> with BoosterHVRamp.modify("B:HS23T", slot=0) as ramp:      # doctest: +SKIP
    ...     ramp.values[1] = 2.5          # amps
    ...     ramp.times[1] = 100.0         # microseconds after the previous point

A card's SETTING property holds 15 slots of 64 (value, delta-time) int16 pairs. Each card
class knows its scaling and clock; values truncate toward zero and times round half to
even, as the cards store them. Writes are validated in full before anything is sent, and
read back (``verify=False`` skips that).
"""

from pacsys.ramp.cards import (
    BoosterHVRamp,
    BoosterQRamp,
    BoosterSQRamp,
    RecyclerHVSQRamp,
    RecyclerQRamp,
    RecyclerSCRamp,
    RecyclerSRamp,
)
from pacsys.ramp.group import (
    BoosterHVRampGroup,
    BoosterQRampGroup,
    BoosterSQRampGroup,
    RampGroup,
    RecyclerHVSQRampGroup,
    RecyclerQRampGroup,
    RecyclerSCRampGroup,
    RecyclerSRampGroup,
)
from pacsys.ramp.io import read_ramps, write_ramps
from pacsys.ramp.table import Ramp

__all__ = [
    "BoosterHVRamp",
    "BoosterHVRampGroup",
    "BoosterQRamp",
    "BoosterQRampGroup",
    "BoosterSQRamp",
    "BoosterSQRampGroup",
    "Ramp",
    "RampGroup",
    "RecyclerHVSQRamp",
    "RecyclerHVSQRampGroup",
    "RecyclerQRamp",
    "RecyclerQRampGroup",
    "RecyclerSCRamp",
    "RecyclerSCRampGroup",
    "RecyclerSRamp",
    "RecyclerSRampGroup",
    "read_ramps",
    "write_ramps",
]
