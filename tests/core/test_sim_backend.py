"""SimBackend one-shot reads and writes: values, types, metadata and ACNET-correct errors."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

import pacsys
from pacsys import acnet
from pacsys.errors import DeviceError, ReadError
from pacsys.sim import ManualClock, SimBackend
from pacsys.types import BackendCapability, BasicControl, ValueType


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sim(clock: ManualClock) -> Iterator[SimBackend]:
    with SimBackend(clock=clock) as backend:
        yield backend


def status(code: int) -> tuple[int, int]:
    return acnet.parse_error(code)


def test_capabilities_and_metadata_source(sim: SimBackend) -> None:
    caps = sim.capabilities
    for cap in (BackendCapability.READ, BackendCapability.WRITE, BackendCapability.STREAM):
        assert cap in caps
    assert sim.device_info("M:OUTTMP").description == "Outdoor temperature"
    assert sim.alarm_info("Z:ACLTST").analog_alarm_text_id == 2
    assert sim.alarm_text(3).text.startswith("Simulated power supply")


def test_outtmp_reading_has_units_time_cycle_and_moves(sim: SimBackend, clock: ManualClock) -> None:
    first = sim.get("M:OUTTMP")
    assert first.ok and first.value_type is ValueType.SCALAR
    assert first.units == "DegF" and first.meta.description == "Outdoor temperature"
    assert first.meta.device_index == 27235
    assert abs(first.value - 72.5) < 2.5
    assert first.timestamp.timestamp() == clock.now()
    clock.advance(60.0)
    later = sim.get("M:OUTTMP")
    assert later.value != first.value
    assert later.cycle - first.cycle == 60 * 15
    assert sim.read("M:OUTTMP") == later.value  # same instant, same value


def test_get_many_samples_every_device_at_one_instant(sim: SimBackend) -> None:
    readings = sim.get_many(["M:OUTTMP", "G:AMANDA", "Z:ACLTST", "S:SIM00042"])
    assert len({r.timestamp for r in readings}) == 1
    assert len({r.cycle for r in readings}) == 1
    assert all(r.ok for r in readings)


def test_fields_raw_primary_limits(sim: SimBackend) -> None:
    scaled = sim.read("Z:ACLTST")
    assert scaled == 40.0
    assert sim.read("Z:ACLTST.PRIMARY") == pytest.approx(4.0)
    raw = sim.read("Z:ACLTST.RAW")
    assert isinstance(raw, bytes) and int.from_bytes(raw, "little", signed=True) == 13107
    assert sim.read("Z:ACLTST.SETTING.MAX") == 100.0
    assert sim.get("Z:ACLTST.PRIMARY").units == "Volts"


def test_array_text_raw_and_ranges(sim: SimBackend) -> None:
    wave = sim.read("Z:SIMWAV")
    assert isinstance(wave, np.ndarray) and wave.shape == (1024,)
    part = sim.read("Z:SIMWAV[10:13]")
    assert part.shape == (4,) and np.allclose(part, wave[10:14])
    assert sim.read("Z:SIMWAV[1023]") == wave[1023]
    assert sim.read("Z:SIMTXT") == "Hello from the pacsys simulator"
    assert sim.read("Z:SIMRAW{2:3}") == bytes.fromhex("223344")
    reading = sim.get("Z:SIMWAV[1024]")
    assert (reading.facility_code, reading.error_code) == status(acnet.DPM_OUT_OF_BOUNDS)
    reading = sim.get("M:OUTTMP[2]")
    assert (reading.facility_code, reading.error_code) == status(acnet.DPM_BAD_RANGE)


def test_unknown_device_and_property(sim: SimBackend) -> None:
    reading = sim.get("M:NOSUCH")
    assert (reading.facility_code, reading.error_code) == (17, -26)
    assert not reading.ok and "DPM_NO_SUCH_DEVICE" in reading.message
    with pytest.raises(DeviceError) as excinfo:
        sim.read("M:NOSUCH")
    assert (excinfo.value.facility_code, excinfo.value.error_code) == (17, -26)
    reading = sim.get("M:OUTTMP.SETTING")
    assert (reading.facility_code, reading.error_code) == status(acnet.DPM_NO_SUCH_PROP)
    reading = sim.get("G:AMANDA.STATUS")
    assert (reading.facility_code, reading.error_code) == status(acnet.DPM_NO_SUCH_PROP)
    with pytest.raises(ReadError, match="M:NOSUCH"):
        sim.read_many(["M:OUTTMP", "M:NOSUCH"])
    with pytest.raises(ValueError):
        sim.get("M:OUTTMP@@@")
    assert not sim.get("M:OUTTMP@N").ok
    assert not sim.get("M:OUTTMP<-LOGGER:1:2").ok


def test_status_fields_and_control(sim: SimBackend) -> None:
    assert sim.read("Z:SIMPS.STATUS") == {
        "on": False,
        "ready": True,
        "remote": True,
        "positive": True,
        "ramp": False,
    }
    assert sim.read("Z:SIMPS") == pytest.approx(0.0, abs=0.05)  # off: only noise
    assert sim.write("Z:SIMPS.CONTROL", BasicControl.ON).ok
    assert sim.read("Z:SIMPS.STATUS.ON") is True
    assert sim.read("Z:SIMPS") == pytest.approx(100.0, abs=0.05)
    assert sim.write("Z:SIMPS.CONTROL", BasicControl.NEGATIVE).ok
    assert sim.read("Z:SIMPS.STATUS.POSITIVE") is False
    assert sim.write("Z:SIMPS.CONTROL", BasicControl.TRIP).ok
    assert sim.read("Z:SIMPS.STATUS.BIT_VALUE") == 0x04
    assert sim.read("Z:SIMPS.STATUS.BIT_VALUES")[:2] == ["Off", "Tripped"]
    assert sim.read("Z:SIMPS.DIGITAL.ALARM_STATUS") is True
    assert sim.write("Z:SIMPS.CONTROL", BasicControl.RESET).ok
    assert sim.write("Z:SIMPS.CONTROL", BasicControl.ON).ok
    assert sim.read("Z:SIMPS.DIGITAL")["alarm_status"] is False
    bad = sim.write("Z:SIMPS.CONTROL", 42)
    assert (bad.facility_code, bad.error_code) == status(acnet.DIO_BADARG)
    nope = sim.write("M:OUTTMP.CONTROL", BasicControl.ON)
    assert (nope.facility_code, nope.error_code) == status(acnet.DPM_NO_SUCH_PROP)


def test_writes_go_to_setting_and_reading_follows(sim: SimBackend) -> None:
    result = sim.write("Z:ACLTST", 45.0)
    assert result.ok and result.drf == "Z:ACLTST"
    assert sim.read("Z:ACLTST.SETTING@I") == 45.0
    assert sim.read("Z:ACLTST") == 45.0
    assert sim.write("Z_ACLTST.PRIMARY@N", 1.5).ok
    assert sim.read("Z:ACLTST") == pytest.approx(15.0)
    assert sim.write("Z:SIMTXT", "new message").ok and sim.read("Z:SIMTXT") == "new message"
    assert sim.write("Z:SIMTBL[2:3]", [1.0, 2.0]).ok
    assert list(sim.read("Z:SIMTBL[0:4]")) == [0.0, 0.0, 1.0, 2.0, 0.0]
    assert sim.write("Z:SIMRAW.SETTING{0:2}", b"\xff\xee").ok
    assert sim.read("Z:SIMRAW")[:3] == b"\xff\xee\x22"


@pytest.mark.parametrize(
    ("drf", "value", "code"),
    [
        ("M:OUTTMP", 1.0, acnet.DPM_NO_SUCH_PROP),  # read-only device: no SETTING
        ("M:OUTTMP.DESCRIPTION", "x", acnet.DIO_READONLY),
        ("Z:ACLTST", 100.5, acnet.DIO_RANGE),
        ("Z:ACLTST", "forty", acnet.DPM_SCALING_FAILED),
        ("Z:ACLTST", [1.0], acnet.DPM_SCALING_FAILED),
        ("Z:ACLTST", float("nan"), acnet.DIO_NOT_A_NUMBER),
        ("Z:SIMTXT", "x" * 65, acnet.DPM_BAD_LENGTH),
        ("Z:SIMTXT", 5, acnet.DPM_SCALING_FAILED),
        ("Z:SIMTBL", [1.0] * 63, acnet.DPM_BAD_LENGTH),
        ("Z:SIMTBL", [11.0] * 64, acnet.DIO_RANGE),
        ("Z:SIMTBL[70]", 1.0, acnet.DPM_OUT_OF_BOUNDS),
        ("Z:SIMTBL", ["a"] * 64, acnet.DPM_SCALING_FAILED),
        ("Z:SIMRAW", b"\x00" * 3, acnet.DPM_BAD_LENGTH),
        ("Z:NOSUCH", 1.0, acnet.DPM_NO_SUCH_DEVICE),
        ("Z:ACLTST.ANALOG.ALARM_STATUS", 1, acnet.DIO_READONLY),
        ("Z:ACLTST.ANALOG", {"nominal": 1}, acnet.DIO_MISMATCH),
    ],
)
def test_refused_writes_report_acnet_status_and_change_nothing(
    sim: SimBackend, drf: str, value: object, code: int
) -> None:
    watched = ["Z:ACLTST.SETTING", "Z:SIMTXT", "Z:SIMTBL", "Z:SIMRAW", "Z:ACLTST.ANALOG"]
    before = [r.value for r in sim.get_many(watched)]
    result = sim.write(drf, value)
    assert not result.ok
    assert (result.facility_code, result.error_code) == status(code)
    assert result.message and acnet.lookup(*status(code)).name in result.message
    after = [r.value for r in sim.get_many(watched)]
    for a, b in zip(before, after, strict=True):
        assert pacsys.types.values_equal(a, b)


def test_alarm_block_writes(sim: SimBackend) -> None:
    assert sim.write("Z:ACLTST.ANALOG", {"minimum": -10.0, "maximum": 10.0}).ok
    block = sim.read("Z:ACLTST.ANALOG")
    assert (block["minimum"], block["maximum"]) == (-10.0, 10.0)
    assert block["alarm_status"] is True  # reading 40 mm is now outside
    assert sim.write("Z:ACLTST.ANALOG.MAX", 50.0).ok
    assert sim.read("Z:ACLTST.ANALOG.ALARM_STATUS") is False
    assert sim.write("Z:ACLTST.ANALOG.ALARM_ENABLE", False).ok
    assert sim.read("Z:ACLTST.ANALOG")["alarm_enable"] is False
    with pytest.raises(ValueError, match="read-only"):
        sim.write("Z:ACLTST.ANALOG", {"alarm_status": True})


def test_closed_backend_refuses(clock: ManualClock) -> None:
    sim = SimBackend(clock=clock)
    sim.close()
    sim.close()
    with pytest.raises(RuntimeError, match="closed"):
        sim.read("M:OUTTMP")
    with pytest.raises(RuntimeError, match="closed"):
        sim.write("Z:ACLTST", 1.0)


def test_configure_backend_sim_and_device_api(clean_pacsys: None) -> None:
    pacsys.configure(backend="sim")
    assert pacsys.get("M:OUTTMP").units == "DegF"
    device = pacsys.Device("Z:ACLTST")
    result = device.write(12.5, verify=pacsys.Verify(initial_delay=0, retry_delay=0))
    assert result.ok and result.verified and result.readback == 12.5
    supply = pacsys.Device("Z:SIMPS")
    on = supply.on(verify=pacsys.Verify(initial_delay=0, retry_delay=0))
    assert on.verified is True
    digital = supply.digital_status()
    assert digital.on is True and digital.ready is True
    assert "Interlock" in {bit.name for bit in digital.bits}
