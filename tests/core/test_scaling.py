"""pacsys.scaling.Scaler: construction, errors, and the numpy path against the scalar one."""

from __future__ import annotations

import math
import pickle
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pacsys.errors import PacsysError, ScalingError
from pacsys.metadata import PropertyInfo
from pacsys.scaling import Scaler

# Transforms the numpy path computes itself (the others go element by element).
VECTOR_PRIMARY = (0, 2, 4, 6, 8, 10, 12, 16, 18, 40, 70)
VECTOR_COMMON = (0, 2, 4, 6, 8, 10, 12, 26, 28, 34, 40, 74, 80, 88)
VECTOR_COMMON_INVERSE = (0, 2, 4, 6, 8, 10, 28, 34, 40, 60, 80)

constants = st.lists(
    st.sampled_from([0.0, 1.0, -1.0, 2.0, 0.5, 4.0, 1e-3, 1e6, -7.25]), min_size=6, max_size=6
)
widths = st.sampled_from([1, 2, 4])
raws = st.lists(st.integers(-(2**40), 2**40), max_size=8)
values = st.lists(
    st.floats(allow_nan=True, allow_infinity=True, width=64)
    | st.floats(-40000.0, 40000.0)
    | st.sampled_from([0.0, -0.0, 1.0, 819.0, 1e300]),
    max_size=8,
)


def _outcome(call: Any) -> Any:
    """The result, or the (reason, stage, input) of the ScalingError raised."""
    try:
        result = call()
    except ScalingError as exc:
        return ("error", exc.reason, exc.stage, repr(exc.value))
    if isinstance(result, np.ndarray):
        items = result.tolist()
        return result.dtype, [v.hex() if isinstance(v, float) else v for v in items]
    return result


def _elementwise(method: Any, items: list[Any], dtype: Any) -> Any:
    def run() -> np.ndarray:
        return np.array([method(item) for item in items], dtype=dtype)

    return _outcome(run)


@given(st.sampled_from(VECTOR_PRIMARY), st.sampled_from(VECTOR_COMMON), constants, widths, raws)
def test_vectorised_scale_matches_the_scalar_path(
    p: int, c: int, cs: list[float], n: int, raw: list[int]
) -> None:
    scaler = Scaler(p, c, tuple(cs), n)
    assert _outcome(lambda: scaler.scale(np.array(raw, dtype=np.int64))) == _elementwise(
        scaler.scale, raw, np.float64
    )


@given(
    st.sampled_from(VECTOR_PRIMARY),
    st.sampled_from(VECTOR_COMMON_INVERSE),
    constants,
    widths,
    values,
)
def test_vectorised_unscale_matches_the_scalar_path(
    p: int, c: int, cs: list[float], n: int, value: list[float]
) -> None:
    scaler = Scaler(p, c, tuple(cs), n)
    assert _outcome(lambda: scaler.unscale(np.array(value, dtype=np.float64))) == _elementwise(
        scaler.unscale, value, np.int64
    )


@given(st.lists(st.integers(0, 2**32 - 1), max_size=8))
def test_binary32_bit_patterns_including_nans_match(bits: list[int]) -> None:
    scaler = Scaler(16, 0, (), 4)
    out = scaler.raw_to_primary(np.array(bits, dtype=np.uint32))
    for got, raw in zip(out.tolist(), bits, strict=True):
        want = scaler.raw_to_primary(raw)
        assert (math.isnan(got) and math.isnan(want)) or got.hex() == want.hex()


def test_arrays_keep_their_shape_and_lists_become_arrays() -> None:
    scaler = Scaler(2, 6, (4.0, 1.0), 2)
    out = scaler.scale(np.array([[0, 819], [-819, 32767]], dtype=np.int16))
    assert out.shape == (2, 2) and out.dtype == np.float64
    assert out[0, 1] == 0.999755859375
    assert scaler.unscale([1.0, -1.0]).tolist() == [819, -819]
    assert scaler.unscale(np.array([], dtype=np.float64)).dtype == np.int64


def test_a_slow_transform_maps_element_by_element() -> None:
    scaler = Scaler(2, 22, (4.0, 1.0), 2)  # exp/pow: the scalar path, element by element
    out = scaler.scale(np.array([0, 3276, -3276]))
    assert out.tolist() == [scaler.scale(0), scaler.scale(3276), scaler.scale(-3276)]


def test_an_element_wise_failure_is_the_scalar_error() -> None:
    scaler = Scaler(2, 22, (4.0, 1.0), 2)
    assert scaler.unscale(np.array([1.0, 2.0])).tolist() == [
        scaler.unscale(1.0),
        scaler.unscale(2.0),
    ]
    with pytest.raises(ScalingError) as scalar:
        scaler.unscale(1e9)
    with pytest.raises(ScalingError) as array:
        scaler.unscale(np.array([1.0, 1e9, -1.0]))
    assert str(array.value) == str(scalar.value)


def test_the_first_failing_element_raises() -> None:
    scaler = Scaler(2, 6, (4.0, 1.0), 2)
    with pytest.raises(ScalingError) as caught:
        scaler.unscale(np.array([1.0, 50.0, math.nan]))
    assert caught.value.value == 50.0 / 4.0 and caught.value.stage == "primary_inverse"
    assert str(caught.value) == "Overflow (primary transform 2 inverse, input 12.5)"


def test_errors_name_the_transform_and_the_input() -> None:
    message = r"^Primary transform 3 not found \(primary transform 3, input 7\)$"
    with pytest.raises(ScalingError, match=message):
        Scaler(3, 0, (), 2).scale(7)
    with pytest.raises(ScalingError, match=r"common transform 999 inverse, input 1.0"):
        Scaler(2, 999, (), 2).unscale(1.0)
    with pytest.raises(ScalingError) as caught:
        Scaler(2, 32, (1.0, 1.0, 0.0, -5.0), 2).scale(0)  # log of a negative number
    exc = caught.value
    assert isinstance(exc.__cause__, ValueError) and exc.reason == "math domain error"
    assert isinstance(exc, PacsysError) and isinstance(exc, ValueError)


def test_scaling_error_pickles_with_its_context() -> None:
    exc = ScalingError("Overflow", transform="primary transform 2 inverse", stage="x", value=1.5)
    back = pickle.loads(pickle.dumps(exc))
    assert str(back) == str(exc) and vars(back) == vars(exc)


def test_non_finite_raw_is_a_scaling_error() -> None:
    with pytest.raises(ScalingError, match="not a finite number"):
        Scaler(2, 0, (), 2).scale(math.nan)


@pytest.mark.parametrize("bad", ["12", b"\x01", None])
def test_non_numbers_are_type_errors(bad: Any) -> None:
    scaler = Scaler(2, 0, (), 2)
    with pytest.raises(TypeError, match="must be a number"):
        scaler.scale(bad)
    with pytest.raises(TypeError, match="must be a number"):
        scaler.unscale(bad)


def test_construction() -> None:
    scaler = Scaler(2, 6, [2, 1], 2)  # type: ignore[arg-type]
    assert scaler.constants == (2.0, 1.0)
    assert repr(scaler) == "Scaler(p_index=2, c_index=6, constants=(2.0, 1.0), input_len=2)"
    assert hash(scaler) == hash(Scaler(2, 6, (2.0, 1.0), 2))
    with pytest.raises(ValueError, match=r"^input_len must be 1, 2, or 4, got 3$"):
        Scaler(2, 6, (), 3)
    with pytest.raises(ValueError, match="got True"):
        Scaler(2, 6, (), True)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="p_index must be an int"):
        Scaler("2", 6, (), 2)  # type: ignore[arg-type]
    for bad in (4.0, "12", ["4", "x"]):
        with pytest.raises(TypeError, match="constants must be a sequence of numbers"):
            Scaler(2, 6, bad, 2)  # type: ignore[arg-type]


def test_from_property_info() -> None:
    info = PropertyInfo(common_units="A", p_index=2, c_index=6, coeff=(4.0, 1.0))
    scaler = Scaler.from_property_info(info, input_len=2)
    assert scaler == Scaler(2, 6, (4.0, 1.0), 2)
    assert scaler.unscale(scaler.scale(-819)) == -819
    with pytest.raises(ValueError, match="no such property"):
        Scaler.from_property_info(None, 2)  # type: ignore[arg-type]


def test_ramp_scalings_round_trip_every_int16() -> None:
    raw = np.arange(-32768, 32768, dtype=np.int64)
    ramp_constants = [(2.0, 1.0), (12.0, 10.0), (1.2000000477, 1.0), (4.0, 1.0), (6.5, 1.0)]
    for c1, c2 in [*ramp_constants, (0.5, 1.0)]:
        scaler = Scaler(2, 6, (c1, c2), 2)
        assert np.array_equal(scaler.unscale(scaler.scale(raw)), raw)
