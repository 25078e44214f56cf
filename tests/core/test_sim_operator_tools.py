"""Scaling, alarm blocks and ramp tables end to end against the simulator (backend="sim")."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import pacsys
from pacsys import DispatchMode
from pacsys.alarm_block import AnalogAlarm, DigitalAlarm
from pacsys.ramp import BoosterHVRamp, BoosterHVRampGroup, Ramp, RecyclerQRamp, write_ramps
from pacsys.scaling import Scaler
from pacsys.sim import ManualClock, SimBackend
from pacsys.sim.catalogue import Catalogue, CatalogueError
from pacsys.types import WriteResult
from pacsys.verify import Verify


class Spy(SimBackend):
    """The simulator, counting the writes it receives."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.writes: list[tuple[str, Any]] = []

    def write(self, drf: str, value: Any, timeout: float | None = None) -> WriteResult:
        self.writes.append((drf, value))
        return super().write(drf, value, timeout)

    def write_many(self, settings: Any, timeout: float | None = None) -> list[WriteResult]:
        return [self.write(drf, value, timeout) for drf, value in settings]


@pytest.fixture
def sim() -> Iterator[Spy]:
    backend = Spy(clock=ManualClock(), dispatch_mode=DispatchMode.DIRECT)
    yield backend
    backend.close()


# --- scaling ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["M:OUTTMP", "G:AMANDA", "Z:ACLTST", "Z:SIMPS", "B:HS23T"])
def test_a_raw_reading_scales_to_the_reading(sim: Spy, name: str) -> None:
    sim.clock.advance(12.345)  # type: ignore[attr-defined]
    raw, reading = sim.get_many([f"{name}.RAW", name])
    scaler = Scaler.from_property_info(
        pacsys.Device(name, backend=sim).info().reading, input_len=len(raw.value)
    )
    counts = int.from_bytes(raw.value, "little", signed=True)
    assert scaler.unscale(reading.value) == counts
    one_count = abs(scaler.scale(1) - scaler.scale(0))
    assert abs(scaler.scale(counts) - reading.value) < one_count


def test_device_info_comes_from_the_simulator(clean_pacsys: None) -> None:
    pacsys.configure(backend="sim")
    info = pacsys.Device("M:OUTTMP").info()
    assert (info.reading.p_index, info.reading.c_index) == (2, 2)
    assert info.reading.coeff == (20.0, 1.0, 0.0)
    primary = pacsys.read("M:OUTTMP.PRIMARY")
    assert Scaler.from_property_info(info.reading, 2).primary_to_common(primary) == pytest.approx(
        pacsys.read("M:OUTTMP"), abs=0.2
    )


def test_raw_and_primary_setting_writes_go_through_the_scaling(sim: Spy) -> None:
    scaler = Scaler.from_property_info(sim.device_info("Z:SIMTBL").setting, 2)
    table = np.linspace(-9, 9, 64)
    assert sim.write("Z:SIMTBL.SETTING.RAW", scaler.unscale(table).astype("<i2").tobytes()).ok
    np.testing.assert_array_equal(sim.read("Z:SIMTBL.SETTING"), scaler.scale(scaler.unscale(table)))
    assert sim.write("Z:SIMTBL.SETTING{0:4}.RAW", np.array([3276, -3276], "<i2").tobytes()).ok
    assert sim.read("Z:SIMTBL.SETTING[0:1]").tolist() == scaler.scale([3276, -3276]).tolist()
    assert sim.write("Z:ACLTST.SETTING.PRIMARY", 2.0).ok
    assert sim.read("Z:ACLTST.SETTING") == 20.0


def test_catalogue_scaling_constants_and_errors() -> None:
    device = {
        "name": "Y:SCALE",
        "index": 1,
        "reading": {"scaling": {"p_index": 2, "c_index": 6, "constants": [4, 1]}},
    }
    catalogue = Catalogue.from_data({"devices": [device]})
    assert catalogue.device_info("Y:SCALE").reading.coeff == (4.0, 1.0)
    device["reading"] = {"scaling": {"p_index": 2, "c_index": 22, "constants": [1]}}
    with pytest.raises(CatalogueError, match=r"Y:SCALE.*cannot convert raw data: Insufficient"):
        Catalogue.from_data({"devices": [device]})
    device["reading"] = {"scaling": {"constants": [1, 1, 0], "slope": 2}}
    with pytest.raises(CatalogueError, match="either constants or slope/offset"):
        Catalogue.from_data({"devices": [device]})


# --- alarm blocks -------------------------------------------------------------------------------


def test_the_raw_block_matches_the_structured_alarm(sim: Spy) -> None:
    block = AnalogAlarm.read("M:OUTTMP", backend=sim)
    scaler = Scaler.from_property_info(sim.device_info("M:OUTTMP").reading, 2)
    assert (block.minimum, block.maximum) == (0.0, 100.0)
    assert (block.value1, block.value2) == (scaler.unscale(0.0), scaler.unscale(100.0))
    assert block.is_active and not block.is_bad and block.tries_needed == 3
    assert block.limit_type.name == "MIN_MAX" and block.data_bytes == 2


def test_modify_writes_once_and_the_change_is_visible_both_ways(sim: Spy) -> None:
    with AnalogAlarm.modify("Z:ACLTST", backend=sim) as block:
        block.maximum = 80.0
        block.bypass = True
    assert len(sim.writes) == 1 and sim.writes[0][0] == "Z:ACLTST.ANALOG@N"
    assert sim.read("Z:ACLTST.ANALOG.MAX") == 80.0
    again = AnalogAlarm.read("Z:ACLTST", backend=sim)
    assert again.bypass and again.value2 == Scaler(2, 2, (10.0, 1.0, 0.0), 2).unscale(80.0)


def test_raw_only_edits_go_out_as_the_raw_block_and_read_back_exactly(sim: Spy) -> None:
    with AnalogAlarm.modify("Z:ACLTST", backend=sim) as block:
        block.value1 = -1000  # raw counts: -1000 / 3276.8 V * 10 mm/V
        block.ftd = block.ftd.on_event(0x0F, 100)
        expected = block.to_bytes()
    assert [drf for drf, _ in sim.writes] == ["Z:ACLTST.ANALOG{0:20}.RAW@N"]
    assert sim.read("Z:ACLTST.ANALOG{0:20}.RAW") == expected
    assert sim.read("Z:ACLTST.ANALOG.MIN") == pytest.approx(-3.0517578125)


def test_mixed_edits_write_structured_then_patched_raw(sim: Spy) -> None:
    with DigitalAlarm.modify("Z:SIMPS", backend=sim) as block:
        block.mask = 0x01
        block.ftd = block.ftd.periodic_hz(15)
    assert [drf for drf, _ in sim.writes] == ["Z:SIMPS.DIGITAL@N", "Z:SIMPS.DIGITAL{0:20}.RAW@N"]
    after = DigitalAlarm.read("Z:SIMPS", backend=sim)
    assert after.mask == 0x01 and after.ftd.rate_hz == 15.0


def test_nothing_is_written_when_the_body_raises(sim: Spy) -> None:
    with pytest.raises(KeyError), AnalogAlarm.modify("Z:ACLTST", backend=sim) as block:
        block.maximum = 10.0
        raise KeyError("operator changed their mind")
    assert sim.writes == [] and sim.read("Z:ACLTST.ANALOG.MAX") == 90.0


def test_a_refused_write_raises_and_changes_nothing(sim: Spy) -> None:
    before = sim.read("Z:ACLTST.ANALOG.RAW")
    block = AnalogAlarm.read("Z:ACLTST", backend=sim)
    block.data_type = 3  # FLOAT limits: the simulator refuses that layout
    with pytest.raises(RuntimeError, match=r"^Failed to write alarm: .*DIO_BADARG"):
        block.write("Z:ACLTST", backend=sim)
    with pytest.raises(RuntimeError, match=r"structured.*DIO_RANGE"):
        with AnalogAlarm.modify("Z:ACLTST", backend=sim) as edit:
            edit.minimum = 95.0  # above the maximum
    assert sim.read("Z:ACLTST.ANALOG.RAW") == before


def test_a_refused_raw_step_rolls_the_structured_step_back(sim: Spy) -> None:
    with pytest.raises(RuntimeError, match=r"Failed to write alarm \(raw\).*were restored"):
        with AnalogAlarm.modify("Z:ACLTST", backend=sim) as block:
            block.maximum = 50.0
            block.flags |= 0x80  # a raw-only edit the simulator refuses (DIGITAL on ANALOG)
    assert [drf for drf, _ in sim.writes][-1] == "Z:ACLTST.ANALOG@N"
    assert sim.read("Z:ACLTST.ANALOG.MAX") == 90.0


def test_bad_blocks_fail_before_anything_is_sent(sim: Spy) -> None:
    with pytest.raises(ValueError, match="Alarm block requires 20 bytes, got 19"):
        AnalogAlarm.from_bytes(bytes(19))
    block = AnalogAlarm.read("Z:ACLTST", backend=sim)
    block.value1_raw = bytes(5)
    with pytest.raises(ValueError, match="value1_raw holds at most 4 bytes, got 5"):
        block.write("Z:ACLTST", backend=sim)
    block = AnalogAlarm.read("Z:ACLTST", backend=sim)
    with pytest.raises(OverflowError, match="value2 = 40000 does not fit 2 signed bytes"):
        block.value2 = 40000
    block.tries_needed = 300
    with pytest.raises(ValueError, match=r"tries_needed must be an int in 0..255, got 300"):
        block.write("Z:ACLTST", backend=sim)
    assert sim.writes == []


def test_alarm_blocks_through_the_global_backend(clean_pacsys: None) -> None:
    pacsys.configure(backend="sim")
    with pacsys.AnalogAlarm.modify("M:OUTTMP") as block:
        block.tries_needed = 5
    assert pacsys.read("M:OUTTMP.ANALOG.TRIES_NEEDED") == 5


# --- ramps ------------------------------------------------------------------------------------


def test_ramp_write_reads_back_and_plays_in_the_reading(sim: Spy) -> None:
    ramp = BoosterHVRamp.read("B:HS24T", slot=0, backend=sim)
    assert not ramp.active_points().size
    ramp.values[:2] = [4.0, 4.0]
    ramp.times[:2] = [10000.0, 20000.0]  # up to 4 A in 10 ms, hold 20 ms
    result = ramp.write(backend=sim)
    assert result.verified is True and result.readback == ramp.to_bytes()
    played = BoosterHVRamp.read("B:HS24T", 0, sim)
    assert played.to_bytes() == ramp.to_bytes() and played.values[0] == 4.0 - 4.0 / 4096
    clock = sim.clock
    assert isinstance(clock, ManualClock)
    cycle = 1 / 15
    clock.advance(cycle - (clock.now() % cycle) + 0.005)  # 5 ms into a cycle
    assert sim.read("B:HS24T") == pytest.approx(played.values[0] / 2, abs=1e-3)  # µs rounding
    clock.advance(0.015)  # 20 ms: on the plateau
    assert sim.read("B:HS24T") == played.values[0] == Scaler(2, 6, (4.0, 1.0), 2).scale(3276)


def test_modify_a_slot_and_a_group(sim: Spy) -> None:
    with BoosterHVRamp.modify("B:HS23T", slot=3, backend=sim) as ramp:
        ramp.values[0], ramp.times[0] = -2.5, 100.0
    assert [drf for drf, _ in sim.writes] == ["B:HS23T.SETTING{768:256}.RAW@I"]
    with BoosterHVRampGroup.modify(["B:HS23T", "B:HS24T"], slot=3, backend=sim) as group:
        group["B:HS24T"].values[5] = 1.25
    assert [drf for drf, _ in sim.writes][1:] == ["B:HS24T.SETTING{768:256}.RAW@I"]
    group = BoosterHVRampGroup.read(["B:HS23T", "B:HS24T"], slot=3, backend=sim)
    assert group.values[0, 0] == Scaler(2, 6, (4.0, 1.0), 2).scale(-2048)
    assert group.values[5, 1] == 1.25 and group.times[0, 0] == 100.0


def test_active_writes_touch_only_their_span(sim: Spy) -> None:
    before = sim.read("B:HS23T.SETTING{0:256}.RAW")
    ramp = BoosterHVRamp(np.zeros(64), np.zeros(64))
    ramp.values[10:12], ramp.times[10:12] = [1.0, -1.0], [10.0, 10.0]
    [result] = write_ramps(
        ramp.__class__(ramp.values, ramp.times, "B:HS23T", 0), backend=sim, write_mode="active"
    )
    assert result.drf == "B:HS23T.SETTING{40:8}.RAW@I" and result.verified
    after = sim.read("B:HS23T.SETTING{0:256}.RAW")
    assert after[:40] == before[:40] and after[48:] == before[48:]


def test_verification_reports_a_table_that_does_not_read_back(sim: Spy) -> None:
    class Stubborn(Spy):
        def get_many(self, drfs: Any, timeout: float | None = None) -> Any:
            readings = super().get_many(drfs, timeout)
            return [dataclasses.replace(r, value=bytes(len(r.value))) for r in readings]

    stubborn = Stubborn(clock=ManualClock())
    ramp = RecyclerQRamp(np.full(64, 1.0), np.full(64, 1388.9), "R:QT309T", 2)
    try:
        with pytest.raises(RuntimeError, match=r"not verified: readback differs at point\(s\)"):
            ramp.write(backend=stubborn, verify=Verify(initial_delay=0.0, retry_delay=0.0))
        [result] = write_ramps(
            [ramp], backend=stubborn, verify=Verify(initial_delay=0, retry_delay=0)
        )
        assert result.ok and result.verified is False and not result.confirmed
    finally:
        stubborn.close()


def test_bad_tables_fail_before_anything_is_sent(sim: Spy) -> None:
    with pytest.raises(ValueError, match="Expected 64 values, got 65"):
        BoosterHVRamp(np.zeros(65), np.zeros(65), "B:HS23T", 0)
    ramp = BoosterHVRamp(np.zeros(64), np.zeros(64), "B:HS23T", 0)
    ramp.values[3] = 45.0  # beyond the card's +-40 A
    with pytest.raises(ValueError, match="Ramp value overflow for B:HS23T: value 45 at point 3"):
        ramp.write(backend=sim)
    with pytest.raises(ValueError, match="Ramp value overflow"):
        write_ramps([("B:HS24T", 1.0), ramp], backend=sim)
    with pytest.raises(ValueError, match=r"slot must be 0..14, got 15"):
        Ramp.read("B:HS23T", 15, sim)
    assert sim.writes == []


def test_a_refused_ramp_write_raises(sim: Spy) -> None:
    ramp = BoosterHVRamp(np.zeros(64), np.zeros(64), "M:OUTTMP", 0)
    with pytest.raises(RuntimeError, match=r"^Failed to write ramp table: .*DPM_NO_SUCH_PROP"):
        ramp.write(backend=sim)


def test_catalogue_ramp_cards_are_checked() -> None:
    device: dict[str, Any] = {"name": "Y:RAMP", "index": 1, "ramp": {"card": "Nope"}}
    with pytest.raises(CatalogueError, match="card must be one of RecyclerQRamp"):
        Catalogue.from_data({"devices": [device]})
    device["ramp"] = {"card": "BoosterHVRamp", "slot0": [[50.0, 10.0]]}
    with pytest.raises(CatalogueError, match="slot0: Ramp value overflow"):
        Catalogue.from_data({"devices": [device]})
    device["ramp"] = {"card": "BoosterHVRamp"}
    info = Catalogue.from_data({"devices": [device]}).device_info("Y:RAMP")
    assert (info.setting.c_index, info.setting.coeff) == (6, (4.0, 1.0))
