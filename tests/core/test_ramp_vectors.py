"""pacsys.ramp against every ramp case of tests/vectors/operator_vectors.json.

Tables decode and encode byte for byte, DRFs and write settings match, and the workflows
make exactly the recorded backend calls. The reference never reads a table back after
writing it, so the workflows run with ``verify=False`` (verification is tested elsewhere).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pacsys import ramp as ramps
from pacsys.ramp import Ramp, RampGroup, read_ramps, write_ramps
from pacsys.ramp.addressing import slot_drf
from pacsys.ramp.io import setting

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "operator_vectors.json"
CASES: list[dict[str, Any]] = json.loads(VECTORS.read_text("utf-8"))["ramp"]["cases"]


def _floats(values: list[Any]) -> np.ndarray:
    return np.array([float(v) for v in values], dtype=np.float64)


def _same_floats(actual: np.ndarray, expected: list[Any]) -> None:
    assert actual.dtype == np.float64
    assert [v.hex() for v in actual.tolist()] == [float(v).hex() for v in expected]


def _raises_like(call: Callable[[], Any], error: dict[str, Any]) -> None:
    with pytest.raises(Exception) as caught:
        call()
    assert type(caught.value).__name__ == error["type"]
    assert str(caught.value) == error["message"]


def _ramp(item: dict[str, Any], default: type[Ramp] = Ramp) -> Ramp:
    cls = getattr(ramps, item["class"]) if "class" in item else default
    return cls(
        _floats(item["values"]), _floats(item["times"]), item.get("device"), item.get("slot")
    )


def _item(item: dict[str, Any]) -> Any:
    if "setting" in item:
        return tuple(item["setting"])
    if "group" in item:
        g = item["group"]
        return getattr(ramps, g["class"])(g["devices"], g["values"], g["times"], g["slot"])
    return _ramp(item)


def _workflow(given: dict[str, Any], expect: dict[str, Any], backend: Any) -> None:
    call = given["call"]
    cls = getattr(ramps, given.get("class", "Ramp"))

    def run() -> Any:
        if call == "read":
            return cls.read(given["device"], given["slot"], backend=backend)
        if call == "read_ramps":
            return read_ramps(cls, given["devices"], given.get("slot", 0), backend=backend)
        if call == "write":
            table = _ramp(given["ramp"], cls)
            mode = given.get("write_mode", "full")
            return table.write(
                given["device"], given.get("slot"), backend, write_mode=mode, verify=False
            )
        if call == "write_ramps":
            items = [_item(item) for item in given["items"]]
            return write_ramps(
                items[0] if given.get("single") else items,
                slot=given.get("slot"),
                backend=backend,
                write_mode=given.get("write_mode", "full"),
                verify=False,
            )
        if call == "modify":
            with cls.modify(given["device"], given["slot"], backend, verify=False) as table:
                for index, value in given.get("set_values", []):
                    table.values[index] = value
                for index, value in given.get("set_times", []):
                    table.times[index] = value
            return None
        assert call == "group_modify"
        group_cls = getattr(ramps, given["group_class"])
        with group_cls.modify(given["devices"], given["slot"], backend, verify=False) as group:
            for row, column, value in given["set_values"]:
                group.values[row, column] = value
        return None

    if "error" in expect:
        _raises_like(run, expect["error"])
    else:
        _check_result(run(), expect.get("result"))
    assert backend.calls == expect["calls"]


def _check_result(result: Any, expected: Any) -> None:
    if expected is None:
        return
    if isinstance(expected, list):
        assert len(result) == len(expected)
        for got, want in zip(result, expected, strict=True):
            _check_result(got, want)
    elif "success" in expected:
        assert (result.drf, result.success) == (expected["drf"], expected["success"])
    else:
        assert (result.device, result.slot) == (expected["device"], expected["slot"])
        for key in ("values", "times"):
            if key in expected:
                _same_floats(getattr(result, key), expected[key])


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_ramp_vector(case: dict[str, Any], scripted_backend: Callable[..., Any]) -> None:
    given, expect = case["input"], case["expect"]
    op = given["op"]
    if op == "workflow":
        _workflow(given, expect, scripted_backend(given["server"]))
        return
    cls = getattr(ramps, given["class"])
    if op == "class_info":
        scaler = cls.scaler
        assert expect == {
            "update_rate_hz": cls.update_rate_hz,
            "tick_us": cls.tick_us(),
            "max_value": cls.max_value,
            "max_time": cls.max_time,
            "points_per_slot": cls.POINTS_PER_SLOT,
            "bytes_per_point": cls.BYTES_PER_POINT,
            "max_slots": cls.MAX_SLOTS,
            "scaler": {
                "p_index": scaler.p_index,
                "c_index": scaler.c_index,
                "constants": list(scaler.constants),
                "input_len": scaler.input_len,
            },
            "group_class": f"{cls.__name__}Group",
        }
        assert issubclass(getattr(ramps, f"{cls.__name__}Group"), RampGroup)
        assert getattr(ramps, f"{cls.__name__}Group").base is cls
    elif op == "decode":
        data = bytes.fromhex(given["raw"])
        if set(expect) == {"error"}:
            _raises_like(lambda: cls.from_bytes(data), expect["error"])
            return
        table = cls.from_bytes(data)
        _same_floats(table.values, expect["values"])
        _same_floats(table.times, expect["times"])
        _same_floats(table.cumtimes, expect["cumtimes"])
        assert repr(table) == expect["repr"]
        if isinstance(expect["reencoded"], dict):
            _raises_like(table.to_bytes, expect["reencoded"]["error"])
        else:
            assert table.to_bytes().hex() == expect["reencoded"]
    elif op == "encode":

        def encode() -> bytes:
            if "cumtimes" in given:
                table = cls(_floats(given["values"]), np.zeros(64))
                table.cumtimes = _floats(given["cumtimes"])
                _same_floats(table.times, expect["times"])
            else:
                table = cls(_floats(given["values"]), _floats(given["times"]))
            return table.to_bytes()

        if "error" in expect:
            _raises_like(encode, expect["error"])
        else:
            assert encode().hex() == expect["raw"]
    elif op == "drf":
        args = (given["device"], given["slot"], given.get("first", 0), given.get("count", 64))
        if "error" in expect:
            _raises_like(lambda: slot_drf(*args), expect["error"])
        else:
            assert slot_drf(*args) == expect["drf"]
    else:
        assert op == "write_setting"
        table = cls(_floats(given["values"]), _floats(given["times"]))
        args = (table, given["device"], given["slot"], given["write_mode"])
        if "error" in expect:
            _raises_like(lambda: setting(*args), expect["error"])
        else:
            drf, data = setting(*args)
            assert (drf, data.hex()) == (expect["drf"], expect["data"])


def test_every_case_kind_is_covered() -> None:
    ops = {case["input"]["op"] for case in CASES}
    assert ops == {"class_info", "decode", "encode", "drf", "write_setting", "workflow"}
    assert len(CASES) == 61
