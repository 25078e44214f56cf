"""pacsys.scaling against every scaling case of tests/vectors/operator_vectors.json, bit for bit.

A case names a Scaler and a raw input (``scale``) or an engineering value (``unscale``) and
the value of every pipeline stage, or the error of the stage that failed. Errors the
reference lets escape as built-in exceptions (OverflowError, ZeroDivisionError, math domain
ValueError) are ScalingError here, with the original exception chained.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pacsys.errors import ScalingError
from pacsys.scaling import Scaler

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "operator_vectors.json"
CASES: list[dict[str, Any]] = json.loads(VECTORS.read_text("utf-8"))["scaling"]["cases"]


def _float(value: Any) -> float:
    return float(value) if isinstance(value, str) else value


def _same_float(actual: float, expected: Any) -> bool:
    expected = _float(expected)
    if math.isnan(expected):
        return isinstance(actual, float) and math.isnan(actual)
    return isinstance(actual, float) and actual.hex() == expected.hex()


def _check_error(call: Callable[[], Any], error: dict[str, Any]) -> None:
    """``call`` fails as the reference did: same reason, stage and underlying type."""
    with pytest.raises(ScalingError) as caught:
        call()
    exc = caught.value
    assert exc.reason == error["message"]
    assert exc.stage == error["stage"]
    if error["type"] != "ScalingError":
        assert type(exc.__cause__).__name__ == error["type"]
    assert exc.transform is not None and repr(exc.value) in str(exc)


def _stage(call: Callable[[], Any], expect: dict[str, Any], key: str) -> Any:
    """Run one stage: None when the case expects it to fail (and it does)."""
    if key not in expect:
        _check_error(call, expect["error"])
        return None
    result = call()
    if key == "raw":
        assert result == expect["raw"] and type(result) is int
    else:
        assert _same_float(result, expect[key]), (result, expect[key])
    return result


def _unscale(scaler: Scaler, value: float, expect: dict[str, Any]) -> None:
    primary = _stage(lambda: scaler.common_to_primary(value), expect, "primary")
    if primary is not None or "primary" in expect:
        _stage(lambda: scaler.primary_to_raw(primary), expect, "raw")


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_scaling_vector(case: dict[str, Any]) -> None:
    given, expect = case["input"], case["expect"]
    args = (given["p_index"], given["c_index"], tuple(given["constants"]), given["input_len"])
    error = expect.get("error")
    if error is not None and error["stage"] == "construct":
        with pytest.raises(ValueError, match=f"^{error['message']}$"):
            Scaler(*args)
        return
    scaler = Scaler(*args)
    op = given["op"]
    if op == "scale":
        primary = _stage(lambda: scaler.raw_to_primary(given["raw"]), expect, "primary")
        if primary is None:
            return
        value = _stage(lambda: scaler.primary_to_common(primary), expect, "value")
        if value is None:
            return
        assert _same_float(scaler.scale(given["raw"]), expect["value"])
        _unscale(scaler, value, expect["inverse"])
    elif op == "unscale":
        value = _float(given["value"])
        _unscale(scaler, value, expect)
        if "raw" in expect:
            assert scaler.unscale(value) == expect["raw"]
    elif op == "scale_array":
        out = scaler.scale(np.array(given["raw"]))
        assert out.dtype == np.dtype(expect["dtype"])
        assert [v.hex() for v in out.tolist()] == [float(v).hex() for v in expect["values"]]
    else:
        assert op == "unscale_array"
        out = scaler.unscale(np.array(given["value"]))
        assert out.dtype == np.dtype(expect["dtype"]) and out.tolist() == expect["raw"]


def test_every_case_kind_is_covered() -> None:
    ops = {case["input"]["op"] for case in CASES}
    assert ops == {"scale", "unscale", "scale_array", "unscale_array"}
    assert len(CASES) == 775
