"""pacsys.alarm_block against every alarm case of tests/vectors/operator_vectors.json.

Decoding, editing and encoding are compared byte for byte and property by property; the
read/write/modify workflows run against a scripted backend and must make exactly the
recorded calls. Where the reference let a ``struct.error`` escape, ours raises ValueError
naming the field; arithmetic errors keep their type and the reference's text.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Any

import pytest

from pacsys.alarm_block import (
    FTD,
    AlarmBlock,
    AnalogAlarm,
    DataLength,
    DataType,
    DigitalAlarm,
    LimitType,
)

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "operator_vectors.json"
CASES: list[dict[str, Any]] = json.loads(VECTORS.read_text("utf-8"))["alarm"]["cases"]
CLASSES = {"AlarmBlock": AlarmBlock, "AnalogAlarm": AnalogAlarm, "DigitalAlarm": DigitalAlarm}
ENUMS = {"data_length": DataLength, "limit_type": LimitType, "data_type": DataType}


def _raises_like(call: Callable[[], Any], error: dict[str, Any]) -> None:
    with pytest.raises(Exception) as caught:
        call()
    exc = caught.value
    if error["type"] == "error":  # struct.error in the reference: a named ValueError here
        assert isinstance(exc, ValueError)
    else:
        assert type(exc).__name__ == error["type"], exc
        assert error["message"] in str(exc)


def _same(actual: Any, expected: Any) -> None:
    if isinstance(expected, dict) and "float" in expected:
        want = float(expected["float"])
        assert isinstance(actual, float)
        assert (math.isnan(want) and math.isnan(actual)) or actual.hex() == want.hex()
    elif isinstance(actual, bytes):
        assert actual.hex() == expected
    elif isinstance(actual, Enum):
        assert actual.name == expected
    elif isinstance(actual, FTD):
        assert expected == {
            "word": actual.to_word(),
            "is_periodic": actual.is_periodic,
            "period_ticks": actual.period_ticks,
            "clock_event": actual.clock_event,
            "delay_10ms": actual.delay_10ms,
            "rate_hz": actual.rate_hz,
            "repr": repr(actual),
        }
    else:
        assert actual == expected and type(actual) is type(expected)


def _check_properties(block: Any, expect: dict[str, Any]) -> None:
    for name, expected in expect.items():
        if isinstance(expected, dict) and set(expected) == {"error"}:
            _raises_like(lambda n=name: _property(block, n), expected["error"])
        else:
            _same(_property(block, name), expected)


def _property(block: Any, name: str) -> Any:
    if name == "to_bytes":
        return block.to_bytes()
    if name == "repr":
        return repr(block)
    if name == "ftd":
        block.ftd.to_word()  # the vectors record the FTD through its word
    return getattr(block, name)


def _edit(block: Any, attribute: str, value: Any) -> None:
    if attribute == "ftd_word":
        block.ftd = FTD.from_word(value)
    elif attribute.startswith("ftd_"):
        setattr(block.ftd, attribute[4:], value)
    elif attribute.endswith("_hex"):
        setattr(block, attribute[:-4], bytes.fromhex(value))
    elif attribute == "flags_or":
        block.flags |= value
    elif attribute in ENUMS and isinstance(value, str):
        setattr(block, attribute, ENUMS[attribute][value])
    else:
        setattr(block, attribute, value)


def _build(cls: type[AlarmBlock], fields: dict[str, Any]) -> AlarmBlock:
    kwargs = {
        ("ftd" if key == "ftd_word" else key): (
            FTD.from_word(value)
            if key == "ftd_word"
            else bytes.fromhex(value)
            if key in ("value1_raw", "value2_raw", "fe_data")
            else value
        )
        for key, value in fields.items()
    }
    return cls(**kwargs)


def _workflow(case: dict[str, Any], backend: Any, vector_values: Callable[[Any], Any]) -> None:
    given, expect = case["input"], case["expect"]
    cls = CLASSES[given["class"]]
    device, segment, op = given["device"], given["segment"], given["op"]
    edits = [(a, vector_values(v)) for a, v in given.get("edits", [])]

    def run() -> Any:
        if op == "read":
            return cls.read(device, backend=backend, segment=segment)
        if op == "write":
            block = cls.read(device, backend=backend)
            for attribute, value in edits:
                _edit(block, attribute, value)
            return block.write(device, backend=backend, segment=segment)
        with cls.modify(device, backend=backend, segment=segment) as block:
            for attribute, value in edits:
                _edit(block, attribute, value)
        return block

    if "error" in expect:
        _raises_like(run, expect["error"])
    else:
        result = run()
        if op == "read":
            _check_properties(result, expect["block"])
    assert backend.calls == expect["calls"]


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_alarm_vector(
    case: dict[str, Any], scripted_backend: Callable[..., Any], vector_values: Callable[..., Any]
) -> None:
    given, expect = case["input"], case["expect"]
    op = given["op"]
    if op in ("read", "write", "modify"):
        _workflow(case, scripted_backend(given["server"]), vector_values)
        return
    if op in ("ftd", "ftd_construct"):

        def make() -> FTD:
            if op == "ftd_construct":
                return FTD(**given["fields"])
            return getattr(FTD, given["call"])(*given["args"])

        if "error" in expect:
            _raises_like(make, expect["error"])
        else:
            _same(make(), expect)
        return
    cls = CLASSES[given["class"]]
    if op == "build":
        assert _build(cls, given["fields"]).to_bytes().hex() == expect["to_bytes"]
        return
    if op == "decode" and "error" in expect:
        _raises_like(lambda: cls.from_bytes(bytes.fromhex(given["raw"])), expect["error"])
        return
    block = cls.from_bytes(bytes.fromhex(given["raw"]))
    for attribute, value in given.get("edits", []):
        if "error" in expect and expect["error"].get("edit") == attribute:
            _raises_like(lambda a=attribute, v=value: _edit(block, a, v), expect["error"])
            return
        _edit(block, attribute, value)
    _check_properties(block, expect)


def test_every_case_kind_is_covered() -> None:
    ops = {case["input"]["op"] for case in CASES}
    assert ops == {"decode", "edit", "build", "ftd", "ftd_construct", "read", "write", "modify"}
    assert len(CASES) == 105
