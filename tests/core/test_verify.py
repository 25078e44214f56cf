"""Tests for pacsys.verify: Verify validation, context stack, values_match and the readback loop."""

from __future__ import annotations

import asyncio
import math
import threading
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pacsys.errors import DeviceError, ReadError
from pacsys.types import BasicControl, WriteResult
from pacsys.verify import (
    CONTROL_STATUS_FIELDS,
    CONTROL_VERIFY_FIELDS,
    Verify,
    get_active_verify,
    normalize_control_readback,
    resolve_verify,
    values_match,
    verified_write,
)

# --- Verify construction ---------------------------------------------------------------------


def test_defaults() -> None:
    v = Verify()
    assert (v.check_first, v.tolerance, v.initial_delay, v.retry_delay) == (False, 0.0, 0.3, 0.5)
    assert (v.max_attempts, v.readback, v.always) == (3, None, False)


def test_frozen_and_hashable() -> None:
    v = Verify(tolerance=0.5)
    with pytest.raises(AttributeError):
        v.tolerance = 1.0  # type: ignore[misc]
    assert v == Verify(tolerance=0.5)
    assert hash(v) == hash(Verify(tolerance=0.5))
    assert v != Verify(tolerance=0.25)


def test_valid_values_accepted() -> None:
    v = Verify(
        check_first=True,
        tolerance=1,
        initial_delay=0,
        retry_delay=Fraction(1, 4),
        max_attempts=1,
        readback="M:OUTTMP@I",
        always=True,
    )
    assert v.tolerance == 1 and v.max_attempts == 1 and v.readback == "M:OUTTMP@I"
    assert Verify(tolerance=np.float64(0.1)).tolerance == pytest.approx(0.1)


@pytest.mark.parametrize("name", ["tolerance", "initial_delay", "retry_delay"])
@pytest.mark.parametrize("bad", [True, False, "0.1", None, 1j, [0.1]])
def test_real_fields_type_errors(name: str, bad: Any) -> None:
    with pytest.raises(TypeError, match=rf"^{name} must be a real number$"):
        Verify(**{name: bad})


@pytest.mark.parametrize("name", ["tolerance", "initial_delay", "retry_delay"])
@pytest.mark.parametrize("bad", [-0.001, -1, math.nan, math.inf, -math.inf])
def test_real_fields_value_errors(name: str, bad: float) -> None:
    with pytest.raises(ValueError, match=rf"^{name} must be finite and non-negative$"):
        Verify(**{name: bad})


@pytest.mark.parametrize("bad", [True, False, 2.0, "3", None])
def test_max_attempts_type_error(bad: Any) -> None:
    with pytest.raises(TypeError, match=r"^max_attempts must be an integer$"):
        Verify(max_attempts=bad)


@pytest.mark.parametrize("bad", [0, -1])
def test_max_attempts_value_error(bad: int) -> None:
    with pytest.raises(ValueError, match=r"^max_attempts must be at least 1$"):
        Verify(max_attempts=bad)


@pytest.mark.parametrize("name", ["check_first", "always"])
@pytest.mark.parametrize("bad", [1, 0, "yes", None])
def test_bool_fields_type_error(name: str, bad: Any) -> None:
    with pytest.raises(TypeError, match=rf"^{name} must be a bool$"):
        Verify(**{name: bad})


@pytest.mark.parametrize("bad", [1, b"M:OUTTMP", ["M:OUTTMP"]])
def test_readback_type_error(bad: Any) -> None:
    with pytest.raises(TypeError, match=r"^readback must be a DRF string or None$"):
        Verify(readback=bad)


@pytest.mark.parametrize("bad", ["", "M:OUTTMP[", "M:OUTTMP.FOO", "M:OUTTMP@p,abc"])
def test_readback_invalid_drf(bad: str) -> None:
    with pytest.raises(ValueError):
        Verify(readback=bad)


# --- context stack --------------------------------------------------------------------------


def test_context_stack_nesting() -> None:
    assert get_active_verify() is None
    outer, inner = Verify(tolerance=1.0), Verify(tolerance=2.0)
    with outer as entered:
        assert entered is outer
        assert get_active_verify() is outer
        with inner:
            assert get_active_verify() is inner
        assert get_active_verify() is outer
    assert get_active_verify() is None


def test_context_popped_on_exception() -> None:
    v = Verify()
    with pytest.raises(RuntimeError), v:
        assert get_active_verify() is v
        raise RuntimeError("boom")
    assert get_active_verify() is None


def test_same_instance_nested_twice() -> None:
    v = Verify()
    with v:
        with v:
            assert get_active_verify() is v
        assert get_active_verify() is v
    assert get_active_verify() is None


def test_context_is_per_thread() -> None:
    main = Verify(tolerance=1.0)
    entered, release = threading.Event(), threading.Event()
    seen: dict[str, Any] = {}

    def worker() -> None:
        seen["before"] = get_active_verify()
        mine = Verify(tolerance=9.0)
        with mine:
            seen["inside"] = get_active_verify() is mine
            entered.set()
            release.wait(5)
        seen["after"] = get_active_verify()

    with main:
        thread = threading.Thread(target=worker)
        thread.start()
        assert entered.wait(5)
        # The worker's block is open right now but does not leak into this thread.
        assert get_active_verify() is main
        release.set()
        thread.join(5)
    assert seen == {"before": None, "inside": True, "after": None}
    assert get_active_verify() is None


def test_context_is_per_asyncio_task() -> None:
    async def scenario() -> dict[str, Any]:
        gate_a, gate_b = asyncio.Event(), asyncio.Event()
        seen: dict[str, Any] = {}
        va, vb = Verify(tolerance=1.0), Verify(tolerance=2.0)

        async def task_a() -> None:
            with va:
                gate_a.set()
                await gate_b.wait()
                seen["a"] = get_active_verify() is va
            seen["a_after"] = get_active_verify()

        async def task_b() -> None:
            await gate_a.wait()
            seen["b_before"] = get_active_verify()
            with vb:
                gate_b.set()
                await asyncio.sleep(0)
                seen["b"] = get_active_verify() is vb

        await asyncio.gather(task_a(), task_b())
        seen["main"] = get_active_verify()
        return seen

    seen = asyncio.run(scenario())
    assert seen == {"a": True, "a_after": None, "b_before": None, "b": True, "main": None}


def test_task_inherits_parent_context_but_cannot_change_it() -> None:
    parent = Verify(tolerance=1.0)

    async def child() -> bool:
        inherited = get_active_verify() is parent
        Verify(tolerance=7.0).__enter__()  # left open deliberately: must not leak out
        return inherited

    async def scenario() -> tuple[bool, bool]:
        with parent:
            inherited = await asyncio.create_task(child())
            return inherited, get_active_verify() is parent

    assert asyncio.run(scenario()) == (True, True)
    assert get_active_verify() is None


# --- resolve_verify -------------------------------------------------------------------------


def test_resolve_without_context() -> None:
    assert resolve_verify(False) is None
    assert resolve_verify(None) is None
    assert resolve_verify(True) == Verify()
    custom = Verify(tolerance=0.5)
    assert resolve_verify(custom) is custom


def test_resolve_with_context() -> None:
    ctx = Verify(tolerance=0.25)
    explicit = Verify(max_attempts=7)
    with ctx:
        assert resolve_verify(True) is ctx
        assert resolve_verify(None) is None  # always=False
        assert resolve_verify(False) is None
        assert resolve_verify(explicit) is explicit


def test_resolve_none_with_always_context() -> None:
    ctx = Verify(always=True)
    with ctx:
        assert resolve_verify(None) is ctx
        assert resolve_verify(False) is None
        with Verify():  # innermost is not `always`
            assert resolve_verify(None) is None


@pytest.mark.parametrize(
    ("bad", "name"), [(1, "int"), ("yes", "str"), (0.0, "float"), ([], "list")]
)
def test_resolve_type_error(bad: Any, name: str) -> None:
    with pytest.raises(TypeError, match=rf"^verify must be a bool, Verify, or None, got {name}$"):
        resolve_verify(bad)


# --- values_match ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "tol", "expected"),
    [
        (1.0, 1.05, 0.1, True),
        (1.0, 1.2, 0.1, False),
        (True, 1, 0.0, False),
        (1, True, 0.0, False),
        (1.0, True, 0.0, False),
        (True, True, 0.0, True),
        (False, False, 0.0, True),
        (True, False, 5.0, False),
        ([1, 2], (1, 2), 0.0, True),
        ((1, 2), [1, 2], 0.0, True),
        ([1, 2], [1, 2, 3], 0.0, False),
        ([1, [2.0, 3]], (1, (2.05, 3)), 0.1, True),
        ([1, 2], 1, 0.0, False),
        ([True], [1], 0.0, False),
        (math.nan, math.nan, 0.0, False),
        (math.nan, math.nan, 1e9, False),
        (math.nan, 1.0, 0.0, False),
        (2**60 + 1, 2**60, 0.0, False),
        (2**60 + 1, 2**60, 1.0, True),
        (2**70, 2**70, 0.0, True),
        (2**70, float(2**70), 0.0, True),
        (None, None, 0.0, True),
        (None, 0, 0.0, False),
        ("abc", "abc", 0.0, True),
        ("abc", "abd", 0.0, False),
        (b"\x01", b"\x01", 0.0, True),
        ({"on": True}, {"on": True}, 0.0, True),
        ({"on": True}, {"on": False}, 0.0, False),
        (5, 5.0, 0.0, True),
        (5, 5.4, 0.5, True),
        (Fraction(1, 2), 0.5, 0.0, True),
        ("1", 1, 0.0, False),
    ],
)
def test_values_match_examples(a: Any, b: Any, tol: float, expected: bool) -> None:
    assert values_match(a, b, tol) is expected


def test_values_match_numpy_scalars() -> None:
    assert values_match(np.float64(1.0), 1.05, 0.1) is True
    assert values_match(np.int64(2**62 + 1), 2**62) is False
    assert values_match(np.int64(2**62), 2**62) is True
    assert values_match(np.bool_(True), True) is True
    assert values_match(np.bool_(True), 1) is False
    assert values_match(np.float32(math.nan), math.nan) is False


def test_values_match_arrays_numeric() -> None:
    assert values_match(np.array([1.0, 2.0]), [1.05, 1.95], 0.1) is True
    assert values_match(np.array([1.0, 2.0]), np.array([1.0, 2.5]), 0.1) is False
    assert values_match([1.0, 2.0], np.array([1.0, 2.0])) is True
    assert values_match(np.array([1.0, 2.0]), (1.0, 2.0)) is True
    assert values_match(np.array([]), []) is True
    assert values_match(np.array(3.0), 3.0) is True
    # relative tolerance is not used
    assert values_match(np.array([1e9]), np.array([1e9 + 1])) is False


def test_values_match_arrays_shapes() -> None:
    assert values_match(np.array([1, 2]), np.array([1, 2, 3])) is False
    assert values_match(np.array([[1, 2]]), np.array([1, 2])) is False
    assert values_match(np.array([1.0]), 1.0) is False  # shape (1,) vs ()
    assert values_match(np.array([1, 2]), [[1, 2], [3]]) is False  # ragged: conversion error


def test_values_match_arrays_nan() -> None:
    assert values_match(np.array([1.0, math.nan]), np.array([1.0, math.nan]), 10.0) is False
    assert values_match(np.array([math.inf]), np.array([math.inf])) is True


def test_values_match_arrays_bool_dtype() -> None:
    assert values_match(np.array([True, False]), np.array([True, False])) is True
    assert values_match(np.array([True, False]), [True, False]) is True
    assert values_match(np.array([True, False]), np.array([True, True])) is False
    assert values_match(np.array([True, False]), np.array([1, 0])) is False
    assert values_match(np.array([1, 0]), np.array([True, False]), 5.0) is False
    assert values_match(np.array([1.0, 0.0]), [True, False]) is False


def test_values_match_arrays_int_dtypes_exact() -> None:
    big = np.array([2**62 + 1], dtype=np.int64)
    assert values_match(big, np.array([2**62], dtype=np.int64)) is False
    assert values_match(big, np.array([2**62], dtype=np.int64), 1.0) is True
    assert values_match(big, np.array([2**62 + 1], dtype=np.int64)) is True
    # uint64 vs int64 extremes: no wraparound
    u = np.array([2**64 - 1], dtype=np.uint64)
    i = np.array([-1], dtype=np.int64)
    assert values_match(u, i, 2.0**64) is True
    assert values_match(u, i, 1.0) is False
    assert (
        values_match(np.array([3, 4], dtype=np.int8), np.array([4, 4], dtype=np.uint16), 1) is True
    )
    assert (
        values_match(np.array([3, 4], dtype=np.int8), np.array([5, 4], dtype=np.uint16), 1) is False
    )


def test_values_match_arrays_non_numeric() -> None:
    assert values_match(np.array(["a", "b"]), ["a", "b"]) is True
    assert values_match(np.array(["a", "b"]), ["a", "c"]) is False
    assert values_match(np.array(["1", "2"]), np.array([1, 2])) is False
    obj = np.array([{"x": 1}, None], dtype=object)
    assert values_match(obj, np.array([{"x": 1}, None], dtype=object)) is True
    assert values_match(obj, np.array([{"x": 2}, None], dtype=object)) is False


def test_values_match_incomparable_returns_false() -> None:
    class Weird:
        def __eq__(self, other: object) -> bool:
            raise RuntimeError("no")

        __hash__ = object.__hash__

    assert values_match(Weird(), Weird()) is False
    # dict of arrays: == raises inside, must give False not an exception
    assert values_match({"data": np.array([1, 2])}, {"data": np.array([1, 2])}) is False


@settings(max_examples=200, deadline=None)
@given(
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6),
    st.floats(min_value=0, max_value=1e3),
)
def test_values_match_float_within_tolerance(x: float, tol: float) -> None:
    assert values_match(x, x, tol) is True
    assert values_match(x, x + 2 * tol + 1.0, tol) is False


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=-(2**80), max_value=2**80), st.integers(min_value=0, max_value=3))
def test_values_match_ints_exact(x: int, delta: int) -> None:
    assert values_match(x, x + delta, float(delta)) is True
    assert values_match(x, x + delta + 1, float(delta)) is False


# --- control helpers ------------------------------------------------------------------------


def test_control_verify_fields_table() -> None:
    assert CONTROL_STATUS_FIELDS is CONTROL_VERIFY_FIELDS
    assert CONTROL_VERIFY_FIELDS == {
        BasicControl.ON: ("ON", True),
        BasicControl.OFF: ("ON", False),
        BasicControl.RESET: ("READY", True),
        BasicControl.TRIP: ("READY", False),
        BasicControl.POSITIVE: ("POSITIVE", True),
        BasicControl.NEGATIVE: ("POSITIVE", False),
        BasicControl.RAMP: ("RAMP", True),
        BasicControl.DC: ("RAMP", False),
        BasicControl.REMOTE: ("REMOTE", True),
        BasicControl.LOCAL: ("REMOTE", False),
    }


def test_control_verify_fields_read_only_and_int_commands() -> None:
    with pytest.raises(TypeError):
        CONTROL_VERIFY_FIELDS[BasicControl.ON] = ("READY", True)  # type: ignore[index]
    # BasicControl is an IntEnum, so a plain int command finds its row too.
    assert CONTROL_VERIFY_FIELDS.get(1) == ("ON", True)  # type: ignore[call-overload]
    assert CONTROL_VERIFY_FIELDS.get(99) is None  # type: ignore[call-overload]


@pytest.mark.parametrize(
    ("value", "field", "expected"),
    [
        (1, "on", True),
        (0, "on", False),
        (1.0, "ready", True),
        (0.0, "ready", False),
        (np.float64(1.0), "on", True),
        (np.int16(0), "on", False),
        (True, "on", True),
        (False, "on", False),
        ({"on": 1.0, "ready": 0.0}, "on", True),
        ({"on": 1.0, "ready": 0.0}, "ready", False),
        ({"on": True}, "ON", True),
        ({"ready": True}, "on", {"ready": True}),
        (2.0, "on", 2.0),
        (-1, "on", -1),
        ("1", "on", "1"),
        (None, "on", None),
    ],
)
def test_normalize_control_readback(value: Any, field: str, expected: Any) -> None:
    result = normalize_control_readback(value, field)
    assert result == expected
    assert type(result) is type(expected)


def test_normalized_two_does_not_match() -> None:
    assert values_match(normalize_control_readback(2.0, "on"), True) is False


# --- verified_write -------------------------------------------------------------------------

WRITE_DRF = "M:OUTTMP.SETTING@N"


class Recorder:
    """Scripted write/read/sleep callables that log every call in order."""

    def __init__(self, reads: list[Any], write_result: WriteResult | None = None) -> None:
        self.reads = list(reads)
        self.write_result = write_result or WriteResult(drf=WRITE_DRF)
        self.calls: list[tuple[str, Any]] = []

    def write(self) -> WriteResult:
        self.calls.append(("write", None))
        return self.write_result

    def read(self) -> Any:
        self.calls.append(("read", None))
        item = self.reads.pop(0)
        if isinstance(item, BaseException):
            raise item
        return item

    def sleep(self, seconds: float) -> None:
        self.calls.append(("sleep", seconds))

    def run(
        self, verify: Verify, expected: Any = 5.0, normalize: Callable[[Any], Any] | None = None
    ) -> WriteResult:
        return verified_write(
            write=self.write,
            read_back=self.read,
            expected=expected,
            write_drf=WRITE_DRF,
            verify=verify,
            normalize=normalize,
            sleep=self.sleep,
        )


FAST = Verify(initial_delay=0.3, retry_delay=0.5, max_attempts=3)


def _dev_error() -> DeviceError:
    return DeviceError("M:OUTTMP", 17, -26, "device not found")


def test_match_on_first_attempt() -> None:
    rec = Recorder([5.0])
    result = rec.run(FAST)
    assert rec.calls == [("write", None), ("sleep", 0.3), ("read", None)]
    assert result == WriteResult(drf=WRITE_DRF, verified=True, readback=5.0, attempts=1)
    assert result.confirmed


def test_match_on_third_attempt_with_retry_sleeps() -> None:
    rec = Recorder([1.0, 2.0, 5.0])
    result = rec.run(FAST)
    assert rec.calls == [
        ("write", None),
        ("sleep", 0.3),
        ("read", None),
        ("sleep", 0.5),
        ("read", None),
        ("sleep", 0.5),
        ("read", None),
    ]
    assert result.verified is True and result.attempts == 3 and result.readback == 5.0


def test_all_attempts_mismatch_no_sleep_after_last() -> None:
    write = WriteResult(drf=WRITE_DRF, message="queued")
    rec = Recorder([1.0, 2.0, 3.0], write)
    result = rec.run(FAST)
    assert [c for c in rec.calls if c[0] == "sleep"] == [
        ("sleep", 0.3),
        ("sleep", 0.5),
        ("sleep", 0.5),
    ]
    assert rec.calls[-1] == ("read", None)
    assert result == WriteResult(
        drf=WRITE_DRF, message="queued", verified=False, readback=3.0, attempts=3
    )
    assert result.ok and not result.confirmed


def test_tolerance_is_used() -> None:
    rec = Recorder([5.04])
    assert rec.run(Verify(tolerance=0.05, initial_delay=0)).verified is True
    rec = Recorder([5.06])
    assert rec.run(Verify(tolerance=0.05, max_attempts=1)).verified is False


def test_read_errors_count_as_failed_attempts() -> None:
    rec = Recorder([_dev_error(), ReadError([], "Request timeout"), 5.0])
    result = rec.run(FAST)
    assert result.verified is True and result.attempts == 3 and result.readback == 5.0


def test_last_attempt_error_message_and_last_good_readback() -> None:
    err = _dev_error()
    rec = Recorder([4.0, err])
    result = rec.run(Verify(max_attempts=2))
    assert result.verified is False
    assert result.attempts == 2
    assert result.readback == 4.0
    assert result.message == f"Readback failed: {err}"
    assert result.message == "Readback failed: M:OUTTMP: device not found (facility=17, error=-26)"


def test_error_then_mismatch_uses_write_message() -> None:
    write = WriteResult(drf=WRITE_DRF, message=None)
    rec = Recorder([_dev_error(), 4.0], write)
    result = rec.run(Verify(max_attempts=2))
    assert result.message is None and result.readback == 4.0 and result.verified is False


def test_all_attempts_raise_readback_none() -> None:
    rec = Recorder([_dev_error(), ReadError([], "Request timeout")])
    result = rec.run(Verify(max_attempts=2))
    assert result.readback is None
    assert result.message == "Readback failed: Request timeout"


def test_other_exceptions_propagate() -> None:
    rec = Recorder([RuntimeError("closed")])
    with pytest.raises(RuntimeError, match="closed"):
        rec.run(FAST)


def test_write_failure_returned_unchanged_without_readback() -> None:
    failed = WriteResult(drf=WRITE_DRF, facility_code=17, error_code=-26, message="nope")
    rec = Recorder([], failed)
    assert rec.run(FAST) is failed
    assert rec.calls == [("write", None)]


def test_write_warning_is_not_success() -> None:
    warning = WriteResult(drf=WRITE_DRF, facility_code=1, error_code=3)
    rec = Recorder([], warning)
    assert rec.run(FAST) is warning


def test_copied_fields_from_write_result() -> None:
    write = WriteResult(drf="OTHER@N", facility_code=0, error_code=0, message="hello")
    rec = Recorder([5.0], write)
    result = rec.run(FAST)
    assert (result.drf, result.facility_code, result.error_code, result.message) == (
        "OTHER@N",
        0,
        0,
        "hello",
    )
    assert result.skipped is False


def test_verify_none_just_writes() -> None:
    rec = Recorder([])
    result = verified_write(
        write=rec.write,
        read_back=rec.read,
        expected=1.0,
        write_drf=WRITE_DRF,
        verify=None,
        sleep=rec.sleep,
    )
    assert result is rec.write_result and rec.calls == [("write", None)]


def test_check_first_skips_write_when_matching() -> None:
    rec = Recorder([5.0])
    result = rec.run(Verify(check_first=True))
    assert rec.calls == [("read", None)]
    assert result == WriteResult(
        drf=WRITE_DRF, verified=True, readback=5.0, skipped=True, attempts=0
    )
    assert result.to_dict()["skipped"] is True


def test_check_first_writes_when_different() -> None:
    rec = Recorder([1.0, 5.0])
    result = rec.run(Verify(check_first=True, initial_delay=0.1))
    assert rec.calls == [("read", None), ("write", None), ("sleep", 0.1), ("read", None)]
    assert result.verified is True and result.skipped is False and result.attempts == 1


def test_check_first_read_error_propagates() -> None:
    rec = Recorder([_dev_error()])
    with pytest.raises(DeviceError):
        rec.run(Verify(check_first=True))
    assert rec.calls == [("read", None)]


def test_control_normalisation_applied() -> None:
    norm = lambda v: normalize_control_readback(v, "on")  # noqa: E731
    rec = Recorder([0.0, {"on": 1.0, "ready": 0.0}])
    result = rec.run(FAST, expected=True, normalize=norm)
    assert result.verified is True and result.readback is True and result.attempts == 2

    rec = Recorder([1.0], WriteResult(drf=WRITE_DRF))
    skipped = rec.run(Verify(check_first=True), expected=True, normalize=norm)
    assert skipped.skipped is True and skipped.readback is True

    rec = Recorder([2.0])
    failed = rec.run(Verify(max_attempts=1), expected=True, normalize=norm)
    assert failed.verified is False and failed.readback == 2.0


def test_array_readback_verified() -> None:
    rec = Recorder([np.array([1.0, 2.0])])
    result = rec.run(FAST, expected=[1.0, 2.0])
    assert result.verified is True
    assert isinstance(result.readback, np.ndarray)
    assert np.array_equal(result.readback, [1.0, 2.0])
