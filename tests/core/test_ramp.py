"""pacsys.ramp beyond the conformance vectors: validation, groups, conversions, custom cards."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pacsys.ramp import (
    BoosterHVRamp,
    BoosterHVRampGroup,
    BoosterQRamp,
    Ramp,
    RampGroup,
    RecyclerQRamp,
    RecyclerQRampGroup,
)
from pacsys.ramp.cards import CARD_CLASSES
from pacsys.ramp.io import setting

ZEROS = np.zeros(64)


def table(**points: Any) -> BoosterHVRamp:
    ramp = BoosterHVRamp(ZEROS, ZEROS)
    for index, (value, time) in points.items():
        ramp.values[int(index[1:])], ramp.times[int(index[1:])] = value, time
    return ramp


@pytest.mark.parametrize("bad", [np.zeros(64, dtype=bool), ["a"] * 64, np.zeros(64, complex)])
def test_points_must_be_numbers(bad: Any) -> None:
    with pytest.raises(TypeError, match="values must be a numeric array"):
        BoosterHVRamp(bad, ZEROS)
    ramp = BoosterHVRamp(ZEROS, ZEROS)
    with pytest.raises(TypeError, match="times must be a numeric array"):
        ramp.times = bad


def test_points_are_copied_and_checked_on_assignment() -> None:
    values = np.arange(64.0)
    ramp = BoosterHVRamp(values, ZEROS)
    values[0] = 99.0
    assert ramp.values[0] == 0.0 and ramp.values.dtype == np.float64
    with pytest.raises(ValueError, match="Expected 64 values, got 3"):
        ramp.values = [1, 2, 3]
    with pytest.raises(ValueError, match="one-dimensional"):
        ramp.values = np.zeros((64, 1))


def test_cumtimes_round_trip() -> None:
    ramp = BoosterHVRamp(ZEROS, ZEROS)
    ramp.cumtimes = np.concatenate(([10.0, 30.0, 60.0], np.full(61, 60.0)))
    assert ramp.times[:4].tolist() == [10.0, 20.0, 30.0, 0.0]
    assert ramp.cumtimes[-1] == 60.0


def test_device_and_slot_are_checked_at_construction() -> None:
    assert BoosterHVRamp(ZEROS, ZEROS, "b_hs23t", np.int64(4)).device == "B:HS23T"
    assert type(BoosterHVRamp(ZEROS, ZEROS, "B:HS23T", np.int64(4)).slot) is int
    with pytest.raises(ValueError, match=r"got explicit field in 'B_HS23T\.RAW'"):
        BoosterHVRamp(ZEROS, ZEROS, "B_HS23T.RAW")
    with pytest.raises(ValueError, match="got event in 'B:HS23T@p,1000'"):
        BoosterHVRamp(ZEROS, ZEROS, "B:HS23T@p,1000")
    with pytest.raises(TypeError, match="slot must be an int, got float"):
        BoosterHVRamp(ZEROS, ZEROS, "B:HS23T", 1.0)  # type: ignore[arg-type]


def test_time_and_value_limits() -> None:
    ramp = RecyclerQRamp(ZEROS, ZEROS)
    ramp.times[[3, 9]] = [1e9, 5e10]
    with pytest.raises(ValueError, match=r"^Ramp time overflow at point\(s\) \[3, 9\]: max delta"):
        ramp.to_bytes()
    ramp.times[3] = np.inf
    with pytest.raises(ValueError, match="Raw times contain NaN or Inf"):
        ramp.to_bytes()
    big = BoosterQRamp(np.full(64, 70.0), ZEROS)
    with pytest.raises(ValueError, match=r"\(points: \[0, 1, 2, 3, 4, '...'\]\)$"):
        big.to_bytes()


def test_write_modes() -> None:
    ramp = table(p2=(1.0, 10.0), p5=(0.0, 20.0))
    assert setting(ramp, "B:HS23T", 3, "active")[0] == "B:HS23T.SETTING{776:16}.RAW@I"
    with pytest.raises(ValueError, match="Empty active ramp for B:HS23T"):
        setting(BoosterHVRamp(ZEROS, ZEROS), "B:HS23T", 0, "active")
    with pytest.raises(ValueError, match="No device specified and none stored"):
        ramp.write()


def test_dicts_equality_and_text() -> None:
    ramp = table(p1=(2.5, 100.0))
    ramp.device, ramp.slot = "B:HS23T", 1
    again = Ramp.from_dict(ramp.to_dict())
    assert type(again) is BoosterHVRamp and again == ramp
    assert BoosterHVRamp.from_dict({**ramp.to_dict(), "type": "ignored"}) == ramp
    with pytest.raises(ValueError, match="Unknown or missing ramp type 'Nope'"):
        Ramp.from_dict({**ramp.to_dict(), "type": "Nope"})
    nan = BoosterHVRamp(np.full(64, np.nan), ZEROS)
    assert nan == BoosterHVRamp(np.full(64, np.nan), ZEROS)
    assert ramp != RecyclerQRamp(ramp.values, ramp.times, "B:HS23T", 1)
    with pytest.raises(TypeError):
        hash(ramp)
    assert str(ramp).splitlines() == [
        "BoosterHVRamp (64 points):",
        "  [ 1] t=   100.0us  value=2.5000",
    ]
    assert str(BoosterHVRamp(ZEROS, ZEROS)).endswith("(all zeros)")


def test_a_custom_card_uses_its_transforms() -> None:
    class MilliampCard(Ramp):
        update_rate_hz = 1000

        @classmethod
        def primary_transform(cls, raw: np.ndarray) -> np.ndarray:
            return raw / 1000.0

        @classmethod
        def common_transform(cls, primary: np.ndarray) -> np.ndarray:
            return primary * 2.0

        @classmethod
        def inverse_common_transform(cls, common: np.ndarray) -> np.ndarray:
            return common / 2.0

        @classmethod
        def inverse_primary_transform(cls, primary: np.ndarray) -> np.ndarray:
            return primary * 1000.0

    ramp = MilliampCard(np.full(64, 0.0025), np.full(64, 2500.0))  # 1.25 counts, 2.5 ticks
    data = ramp.to_bytes()
    assert np.frombuffer(data, "<i2")[:2].tolist() == [1, 2]  # both round half to even
    assert MilliampCard.from_bytes(data).values[0] == 0.002
    ramp.values[7] = 70.0
    with pytest.raises(ValueError, match="value 70 at point 7 exceeds int16"):
        ramp.to_bytes()
    with pytest.raises(NotImplementedError):
        Ramp(ZEROS, ZEROS).to_bytes()


def test_groups() -> None:
    values = np.zeros((64, 2))
    group = BoosterHVRampGroup(["B:HS23T", "b_hs24t"], values, np.zeros((64, 2)), slot=3)
    assert list(group) == ["B:HS23T", "B:HS24T"] and len(group) == 2 and "B:HS24T" in group
    column = group["b_hs24t"]
    assert type(column) is BoosterHVRamp and (column.device, column.slot) == ("B:HS24T", 3)
    column.values[5] = 1.5
    assert group.values[5, 1] == 1.5 and values[5, 1] == 0.0
    group.cumtimes = np.tile(np.arange(64.0)[:, None], (1, 2))
    assert group.times[0].tolist() == [0.0, 0.0] and group.times[1:].max() == 1.0
    assert RampGroup.from_dict(group.to_dict()) == group
    with pytest.raises(KeyError):
        group["B:HS25T"]
    with pytest.raises(ValueError, match="Duplicate device names"):
        RecyclerQRampGroup(["R:QT309T", "r_qt309t"], values, values)
    with pytest.raises(ValueError, match=r"values must have shape \(64, 3\)"):
        RecyclerQRampGroup(["R:A", "R:B", "R:C"], values, values)
    with pytest.raises(ValueError, match=r"devices must name one device per column \(2\), got 1"):
        group.write(devices=["B:HS25T"], verify=False)


INT16 = st.integers(-32768, 32767)


@given(
    st.lists(st.tuples(INT16, st.integers(-100, 100)), min_size=64, max_size=64),
    st.sampled_from(list(CARD_CLASSES.values())),
)
def test_every_table_round_trips(points: list[tuple[int, int]], cls: type[Ramp]) -> None:
    data = np.array(points, dtype="<i2").tobytes()  # ticks short enough for one Booster cycle
    assert cls.from_bytes(data).to_bytes() == data


@given(st.binary(min_size=256, max_size=256))
def test_any_recycler_table_round_trips(data: bytes) -> None:
    for cls in (RecyclerQRamp, CARD_CLASSES["RecyclerSRamp"], CARD_CLASSES["RecyclerSCRamp"]):
        assert cls.from_bytes(data).to_bytes() == data
