"""The ramp cards pacsys knows: scaling, clock rate and limits of each.

Every card scales ``engineering = (C1 * (raw / 3276.8)) / C2`` (DevDB p_index 2, c_index 6)
and counts delta times in ticks of its update clock.
"""

from __future__ import annotations

from pacsys.ramp.table import Ramp
from pacsys.scaling import Scaler

__all__ = [
    "CARD_CLASSES",
    "BoosterHVRamp",
    "BoosterQRamp",
    "BoosterSQRamp",
    "RecyclerHVSQRamp",
    "RecyclerQRamp",
    "RecyclerSCRamp",
    "RecyclerSRamp",
]

_BOOSTER_CYCLE_US = 66660.0  # one 15 Hz Booster cycle: the longest a Booster ramp may run


def _card_scaler(c1: float, c2: float) -> Scaler:
    return Scaler(p_index=2, c_index=6, constants=(c1, c2), input_len=2)


class RecyclerQRamp(Ramp):
    """Recycler quadrupoles on 453 CAMAC cards (R:QT309T, R:QT601T-609T): ±20 A, 720 Hz."""

    update_rate_hz = 720
    scaler = _card_scaler(2.0, 1.0)


class RecyclerSRamp(Ramp):
    """Recycler sextupoles on 453 CAMAC cards: ±12 A, 720 Hz."""

    update_rate_hz = 720
    scaler = _card_scaler(12.0, 10.0)


class RecyclerSCRamp(Ramp):
    """Recycler correctors on C475 cards: ±12 A, 100 kHz."""

    update_rate_hz = 100_000
    scaler = _card_scaler(1.2000000477, 1.0)


class RecyclerHVSQRamp(Ramp):
    """Recycler H/V and skew-quad correctors (and R:QT301T-308T) on 453 cards: ±12 A, 720 Hz."""

    update_rate_hz = 720
    scaler = _card_scaler(12.0, 10.0)


class BoosterHVRamp(Ramp):
    """Booster correctors on 473 cards (B:HS/VS/HL/VL/SXS/SXL/SSS/SSL...T): ±40 A, 100 kHz."""

    update_rate_hz = 100_000
    scaler = _card_scaler(4.0, 1.0)
    max_value = 1000.0
    max_time = _BOOSTER_CYCLE_US


class BoosterQRamp(Ramp):
    """Booster quadrupole correctors on C473 cards (B:Q...T): ±65 A, 100 kHz."""

    update_rate_hz = 100_000
    scaler = _card_scaler(6.5, 1.0)
    max_time = _BOOSTER_CYCLE_US


class BoosterSQRamp(Ramp):
    """Booster skew-quad correctors on C473 cards (B:SQS/SQL...T): ±5 A, 100 kHz."""

    update_rate_hz = 100_000
    scaler = _card_scaler(0.5, 1.0)
    max_time = _BOOSTER_CYCLE_US


CARD_CLASSES: dict[str, type[Ramp]] = {
    cls.__name__: cls
    for cls in (
        RecyclerQRamp,
        RecyclerSRamp,
        RecyclerSCRamp,
        RecyclerHVSQRamp,
        BoosterHVRamp,
        BoosterQRamp,
        BoosterSQRamp,
    )
}
