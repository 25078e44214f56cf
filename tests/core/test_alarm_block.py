"""pacsys.alarm_block beyond the conformance vectors: arguments, validation, the two-step write."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import pacsys
from pacsys.alarm_block import FTD, AlarmFlags, AnalogAlarm, DigitalAlarm

BLOCK = "21029cfffffffa00000000023c00000001000000"
STRUCTURED = {
    "minimum": -10.0,
    "maximum": 25.0,
    "alarm_enable": True,
    "alarm_status": False,
    "abort": False,
    "abort_inhibit": False,
    "tries_needed": 2,
    "tries_now": 0,
}


def server(**extra: Any) -> dict[str, Any]:
    return {
        "table": {
            "Z:ACLTST.ANALOG{0:20}.RAW@I": {"value": {"bytes_hex": BLOCK}, "value_type": "raw"},
            "Z:ACLTST.ANALOG@I": {"value": STRUCTURED, "value_type": "anaAlarm"},
        },
        "reread": {"Z:ACLTST.ANALOG{0:20}.RAW@I": {"value": {"bytes_hex": BLOCK}}},
        **extra,
    }


def test_a_bound_device_brings_its_backend(scripted_backend: Callable[..., Any]) -> None:
    backend = scripted_backend(server())
    block = AnalogAlarm.read(pacsys.Device("z_acltst@p,1000", backend=backend))
    assert block.value1 == -100 and block.maximum == 25.0
    with pytest.raises(TypeError, match="device must be a DRF string or a Device, got int"):
        AnalogAlarm.read(7, backend=backend)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="segment must be a non-negative int, got -1"):
        block.write("Z:ACLTST", backend=backend, segment=-1)
    assert [call["op"] for call in backend.calls] == ["get_many"]


def test_a_raw_reading_that_is_not_bytes(scripted_backend: Callable[..., Any]) -> None:
    spec = server()
    spec["table"]["Z:ACLTST.ANALOG{0:20}.RAW@I"] = {"value": 1.5, "value_type": "scalar"}
    with pytest.raises(TypeError, match="Expected bytes, got float"):
        AnalogAlarm.read("Z:ACLTST", backend=scripted_backend(spec))


def test_refused_raw_step_is_rolled_back(scripted_backend: Callable[..., Any]) -> None:
    backend = scripted_backend(server(write_fail=["Z:ACLTST.ANALOG{0:20}.RAW@N"]))
    with pytest.raises(
        RuntimeError, match=r"\(raw\): scripted failure; the structured fields were restored$"
    ):
        with AnalogAlarm.modify("Z:ACLTST", backend=backend) as block:
            block.maximum = 30.0
            block.ftd = FTD.on_event(0x0F)
    writes = [call for call in backend.calls if call["op"] == "write"]
    assert [w["drf"] for w in writes] == [
        "Z:ACLTST.ANALOG@N",
        "Z:ACLTST.ANALOG{0:20}.RAW@N",
        "Z:ACLTST.ANALOG@N",
    ]
    assert writes[0]["value"]["maximum"] == 30.0 and writes[2]["value"]["maximum"] == 25.0


def test_a_failed_rollback_says_so(scripted_backend: Callable[..., Any]) -> None:
    backend = scripted_backend(server(write_fail=["Z:ACLTST.ANALOG{0:20}.RAW@N"]))
    write = backend.write

    def fail_the_second_structured_write(drf: str, value: Any, timeout: Any = None) -> Any:
        if drf == "Z:ACLTST.ANALOG@N" and any(c["op"] == "read" for c in backend.calls):
            backend.write_fail.add(drf)
        return write(drf, value, timeout)

    backend.write = fail_the_second_structured_write
    with pytest.raises(RuntimeError, match=r"fields were NOT restored \(scripted failure\)$"):
        with AnalogAlarm.modify("Z:ACLTST", backend=backend) as block:
            block.maximum = 30.0
            block.ftd = FTD.on_event(0x0F)


def test_a_failed_re_read_rolls_back_too(scripted_backend: Callable[..., Any]) -> None:
    spec = server()
    del spec["reread"]
    backend = scripted_backend(spec)
    backend.table = dict(backend.table)
    read = backend.read

    def missing(drf: str, timeout: Any = None) -> Any:
        backend.table.pop("Z:ACLTST.ANALOG{0:20}.RAW@I", None)
        return read(drf, timeout)

    backend.read = missing
    with pytest.raises(RuntimeError, match=r"re-reading the block failed: .*fields were restored"):
        with AnalogAlarm.modify("Z:ACLTST", backend=backend) as block:
            block.maximum = 30.0
            block.ftd = FTD.on_event(0x0F)
    assert [c["op"] for c in backend.calls] == ["get_many", "write", "read", "write"]


def test_flag_helpers_and_enums() -> None:
    block = DigitalAlarm()
    block.data_length = 2
    block.is_active = True
    block.abort_inhibit = True
    assert block.flags == AlarmFlags.ENABLE | AlarmFlags.ABORT_INHIBIT | AlarmFlags.Q1
    assert type(block.flags) is int and block.data_bytes == 4
    block.nominal = 0xDEADBEEF
    assert block.value1_raw == bytes.fromhex("efbeadde") and block.nominal == 0xDEADBEEF
    with pytest.raises(ValueError, match="3 is not a valid DataLength"):
        block.data_length = 3
    with pytest.raises(ValueError, match="fe_data holds at most 6 bytes, got 7"):
        DigitalAlarm(fe_data=bytes(7)).to_bytes()


def test_ftd_validation() -> None:
    ftd = FTD.periodic_hz(7)
    assert ftd.period_ticks == 8 and repr(ftd) == "FTD(periodic=7.50Hz)"
    ftd.is_periodic = False
    ftd.clock_event = 300
    with pytest.raises(ValueError, match="clock_event must be 0-255, got 300"):
        ftd.to_word()
    with pytest.raises(ValueError, match="hz must be positive, got nan"):
        FTD.periodic_hz(float("nan"))


@given(st.binary(min_size=20, max_size=20), st.sampled_from([AnalogAlarm, DigitalAlarm]))
def test_every_block_round_trips(data: bytes, cls: type[AnalogAlarm] | type[DigitalAlarm]) -> None:
    assert cls.from_bytes(data).to_bytes() == data


def test_import_pacsys_leaves_the_operator_tools_unloaded() -> None:
    code = (
        "import sys, pacsys; "
        "print(sorted(m for m in sys.modules if m.startswith(('pacsys.scaling', "
        "'pacsys.alarm_block', 'pacsys.ramp'))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
