"""Scaling, alarm blocks and ramp tables over DPM: DPMHTTPBackend -> DPMServer(SimBackend())."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pacsys.alarm_block import AnalogAlarm, DigitalAlarm
from pacsys.auth import KerberosAuth
from pacsys.ramp import BoosterHVRamp, BoosterHVRampGroup, write_ramps
from pacsys.scaling import Scaler
from pacsys_dpm.client import DPMHTTPBackend
from pacsys_dpm.server import DPMServer

sim = pytest.importorskip("pacsys.sim")

WRITABLE = ["Z:ACLTST", "Z:SIMPS", "M:OUTTMP", "B:HS23T", "B:HS24T"]


@pytest.fixture
def simulator() -> Iterator[Any]:
    backend = sim.SimBackend()
    yield backend
    backend.close()


@pytest.fixture
def dpm(
    simulator: Any, service_keytab: Callable[[str], Path], kerberos_user: str
) -> Iterator[DPMHTTPBackend]:
    keytab = service_keytab("daeset/bd/localhost")
    with DPMServer(simulator, port=0, keytab=keytab, roles={"ops": WRITABLE}) as server:
        with DPMHTTPBackend("127.0.0.1", server.port, auth=KerberosAuth(), role="ops") as client:
            yield client


def test_raw_reading_scales_to_the_reading_over_dpm(simulator: Any) -> None:
    with (
        DPMServer(simulator, port=0) as server,
        DPMHTTPBackend("127.0.0.1", server.port, auth=None) as client,
    ):
        raw, reading = client.get_many(["M:OUTTMP.RAW@I", "M:OUTTMP@I"])
    scaler = Scaler.from_property_info(simulator.device_info("M:OUTTMP").reading, len(raw.value))
    counts = int.from_bytes(raw.value, "little", signed=True)
    assert raw.ok and reading.ok
    assert abs(scaler.scale(counts) - reading.value) < 0.01  # one count is 0.006 DegF


def test_alarm_block_modify_and_raw_write_over_dpm(dpm: DPMHTTPBackend, simulator: Any) -> None:
    block = AnalogAlarm.read("Z:ACLTST", backend=dpm)
    assert (block.minimum, block.maximum) == (-90.0, 90.0)
    with AnalogAlarm.modify("Z:ACLTST", backend=dpm) as edit:
        edit.maximum = 75.0
        edit.tries_needed = 4
    assert simulator.read("Z:ACLTST.ANALOG.MAX") == 75.0
    assert simulator.read("Z:ACLTST.ANALOG.TRIES_NEEDED") == 4
    with DigitalAlarm.modify("Z:SIMPS", backend=dpm) as digital:
        digital.ftd = digital.ftd.on_event(0x0F)  # raw-only: the whole block goes out raw
        sent = digital.to_bytes()
    assert simulator.read("Z:SIMPS.DIGITAL.RAW")[12:14] == sent[12:14]
    assert DigitalAlarm.read("Z:SIMPS", backend=dpm).ftd.clock_event == 0x0F


def test_a_refused_alarm_write_over_dpm_raises_and_changes_nothing(
    dpm: DPMHTTPBackend, simulator: Any
) -> None:
    before = simulator.read("Z:ACLTST.ANALOG.RAW")
    block = AnalogAlarm.read("Z:ACLTST", backend=dpm)
    block.limit_type = 0  # NOM_TOL: the simulator keeps MIN_MAX
    with pytest.raises(RuntimeError, match=r"Failed to write alarm: .*DIO_BADARG"):
        block.write("Z:ACLTST", backend=dpm)
    assert simulator.read("Z:ACLTST.ANALOG.RAW") == before


def test_ramps_over_dpm(dpm: DPMHTTPBackend, simulator: Any) -> None:
    ramp = BoosterHVRamp(np.zeros(64), np.zeros(64), "B:HS24T", 2)
    ramp.values[:3] = [1.0, -1.0, 0.5]
    ramp.times[:3] = [100.0, 250.0, 1000.0]
    assert ramp.write(backend=dpm).verified
    back = BoosterHVRamp.read("B:HS24T", 2, dpm)
    assert back.to_bytes() == ramp.to_bytes() == simulator.read("B:HS24T.SETTING{512:256}.RAW")
    with BoosterHVRampGroup.modify(["B:HS23T", "B:HS24T"], 2, dpm) as group:
        group.values[10, 0] = 3.0
    assert BoosterHVRamp.read("B:HS23T", 2, dpm).values[10] == Scaler(2, 6, (4, 1), 2).scale(2457)
    [result] = write_ramps([back], backend=dpm, slot=5, write_mode="active")
    assert result.verified and result.drf == "B:HS24T.SETTING{1280:12}.RAW@I"
