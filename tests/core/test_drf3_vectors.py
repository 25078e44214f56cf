"""Every case of tests/vectors/drf3_vectors.json against pacsys.drf3 and pacsys.drf_utils."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pacsys import drf_utils
from pacsys.drf3 import (
    ARRAY_RANGE,
    BYTE_RANGE,
    ClockEvent,
    DataRequest,
    PeriodicEvent,
    StateEvent,
    parse_request,
    parse_time_freq,
)
from pacsys.drf3.parser import parse_request_uncached


def _vector_file(name: str) -> Path:
    return Path(__file__).resolve().parents[1] / "vectors" / name


VECTORS: dict[str, Any] = json.loads(_vector_file("drf3_vectors.json").read_text("utf-8"))
CASES: list[dict[str, Any]] = VECTORS["cases"]
VALID = [case for case in CASES if case["valid"]]
INVALID = [case for case in CASES if not case["valid"]]
TIME_FREQ = VECTORS["time_freq"]["cases"]
HELPERS = VECTORS["helpers"]["cases"]


def _ids(cases: list[dict[str, Any]], key: str = "input") -> list[str]:
    return [f"{i}-{case[key]!r}" for i, case in enumerate(cases)]


def test_vector_file_counts() -> None:
    assert len(CASES) == VECTORS["count"]
    assert len(VALID) == VECTORS["valid_count"]
    assert len(INVALID) == VECTORS["invalid_count"]
    assert TIME_FREQ and HELPERS


def _range_detail(rng: ARRAY_RANGE | BYTE_RANGE | None) -> dict[str, Any] | None:
    if rng is None:
        return None
    if isinstance(rng, ARRAY_RANGE):
        return {"kind": "array", "mode": rng.mode, "low": rng.low, "high": rng.high}
    return {"kind": "byte", "mode": rng.mode, "offset": rng.offset, "length": rng.length}


def _event_detail(request: DataRequest) -> dict[str, Any]:
    event = request.event
    detail: dict[str, Any] = {"mode": event.mode, "raw": event.raw_string}
    if isinstance(event, PeriodicEvent):
        detail.update(period_ms=event.freq, immediate=event.imm, continuous=event.cont)
    elif isinstance(event, ClockEvent):
        detail.update(clock_event=event.evt, delay_ms=event.delay, clock_type=event.clock_type)
    elif isinstance(event, StateEvent):
        detail.update(
            state_device=event.device,
            state_value=event.value,
            delay_ms=event.delay,
            expression=event.expression,
        )
    return detail


@pytest.mark.parametrize("case", VALID, ids=_ids(VALID))
def test_valid_parse(case: dict[str, Any]) -> None:
    request = parse_request(case["input"])
    assert request.to_canonical() == case["canonical"]
    assert request.device == case["device"]
    assert request.is_acnet is case["is_acnet"]
    assert request.property.name == case["property"]
    assert request.property_explicit is case["property_explicit"]
    assert (None if request.field is None else request.field.name) == case["field"]
    assert request.field_explicit is case["field_explicit"]
    assert (None if request.range is None else str(request.range)) == case["range"]
    assert _range_detail(request.range) == case["range_detail"]
    event = None if request.event.mode == "U" else request.event.raw_string
    assert event == case["event"]
    assert _event_detail(request) == case["event_detail"]
    assert (None if request.extra is None else request.extra.name) == case["extra"]
    assert request.extra_raw == case["extra_raw"]
    if case["is_acnet"]:
        assert request.epics_fields == (None, None)
    else:
        assert list(request.epics_fields) == case["epics_fields"]
    assert request.raw_string == case["input"].split("<-")[0]


@pytest.mark.parametrize("case", VALID, ids=_ids(VALID))
def test_valid_qualified(case: dict[str, Any]) -> None:
    request = parse_request(case["input"])
    if case["qualified"] is None:
        with pytest.raises(ValueError):
            request.to_qualified()
    else:
        assert request.to_qualified() == case["qualified"]


@pytest.mark.parametrize("case", VALID, ids=_ids(VALID))
def test_valid_helper_forms(case: dict[str, Any]) -> None:
    assert drf_utils.prepare_for_write(case["input"]) == case["write_form"]
    assert drf_utils.ensure_immediate_event(case["input"]) == case["immediate_form"]
    assert drf_utils.strip_event(case["input"]) == case["stripped_form"]


@pytest.mark.parametrize("case", VALID, ids=_ids(VALID))
def test_canonical_is_a_fixed_point(case: dict[str, Any]) -> None:
    canonical = case["canonical"]
    reparsed = parse_request(canonical)
    assert reparsed.to_canonical() == canonical
    assert reparsed == parse_request(case["input"])


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_uncached_matches_cached(case: dict[str, Any]) -> None:
    if case["valid"]:
        uncached = parse_request_uncached(case["input"])
        assert uncached == parse_request(case["input"])
        assert uncached.to_canonical() == case["canonical"]
    else:
        with pytest.raises(ValueError) as info:
            parse_request_uncached(case["input"])
        assert str(info.value) == case["error_message"]


@pytest.mark.parametrize("case", INVALID, ids=_ids(INVALID))
def test_invalid_parse(case: dict[str, Any]) -> None:
    assert case["error_type"] == "ValueError"
    with pytest.raises(ValueError) as info:
        parse_request(case["input"])
    message = str(info.value)
    assert case["error_contains"] in message
    assert message == case["error_message"]


@pytest.mark.parametrize("case", TIME_FREQ, ids=_ids(TIME_FREQ))
def test_time_freq(case: dict[str, Any]) -> None:
    if "result" in case:
        assert parse_time_freq(case["input"]) == case["result"]
    else:
        assert case["error_type"] == "ValueError"
        with pytest.raises(ValueError) as info:
            parse_time_freq(case["input"])
        assert str(info.value) == case["error_message"]


@pytest.mark.parametrize("case", HELPERS, ids=_ids(HELPERS, "function"))
def test_helper(case: dict[str, Any]) -> None:
    function = getattr(drf_utils, case["function"])
    if "error_type" in case:
        assert case["error_type"] == "ValueError"
        with pytest.raises(ValueError) as info:
            function(*case["args"])
        assert str(info.value) == case["error_message"]
    else:
        result = function(*case["args"])
        assert result == case["result"]
        assert type(result) is type(case["result"])
