"""Library errors (docs/protocols/semantics.md §4): attributes, str, repr, pickling."""

from __future__ import annotations

import pickle

import pytest

from pacsys.errors import (
    ACLError,
    AuthenticationError,
    DeviceError,
    PacsysError,
    ReadError,
    ScalingError,
)
from pacsys.types import Reading, ValueType


def test_device_error() -> None:
    exc = DeviceError("M:X", 17, -26, "device not found")
    assert str(exc) == "M:X: device not found (facility=17, error=-26)"
    assert repr(exc) == (
        "DeviceError(drf='M:X', facility_code=17, error_code=-26, message='device not found')"
    )
    assert str(DeviceError("M:X", 17, -26)) == "M:X: error (facility=17, error=-26)"
    back = pickle.loads(pickle.dumps(exc))
    assert (back.drf, back.facility_code, back.error_code, back.message) == (
        "M:X",
        17,
        -26,
        "device not found",
    )
    assert isinstance(exc, PacsysError)


def test_read_error() -> None:
    good = Reading("M:A", ValueType.SCALAR, value=1.0)
    bad = Reading("M:B", error_code=-6, facility_code=1)
    exc = ReadError([good, bad], "Request timeout")
    assert str(exc) == "Request timeout (failed: M:B)"
    assert repr(exc) == "ReadError(1/2 ok, 'Request timeout')"
    assert str(ReadError([good, bad], "Device errors: M:B")) == "Device errors: M:B"
    back = pickle.loads(pickle.dumps(exc))
    assert back.readings == [good, bad] and back.message == "Request timeout"


def test_auth_and_acl_errors() -> None:
    exc = AuthenticationError("no ticket")
    assert str(exc) == "no ticket" and exc.message == "no ticket"
    assert repr(exc) == "AuthenticationError('no ticket')"
    assert str(ACLError("bad command")) == "bad command"
    assert isinstance(ACLError("x"), PacsysError)


def test_hierarchy() -> None:
    for cls in (DeviceError, ReadError, AuthenticationError, ACLError, ScalingError):
        assert issubclass(cls, PacsysError)
    assert issubclass(PacsysError, Exception)
    assert not issubclass(ACLError, AuthenticationError)


def test_device_error_defaults_and_catching() -> None:
    exc = DeviceError("M:OUTTMP@I", 1, -6)
    assert exc.message is None
    assert repr(exc) == (
        "DeviceError(drf='M:OUTTMP@I', facility_code=1, error_code=-6, message=None)"
    )
    with pytest.raises(PacsysError, match=r"M:OUTTMP@I: error \(facility=1, error=-6\)"):
        raise exc


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("Request timeout", "Request timeout (failed: M:B, M:C)"),
        ("Device errors: M:B, M:C", "Device errors: M:B, M:C"),
        ("M:C went away", "M:C went away"),
    ],
)
def test_read_error_failed_suffix(message: str, expected: str) -> None:
    readings = [
        Reading("M:A", ValueType.SCALAR, value=1.0),
        Reading("M:B", facility_code=17, error_code=-26),
        Reading("M:C", facility_code=1, error_code=-6),
    ]
    exc = ReadError(readings, message)
    assert str(exc) == expected
    assert repr(exc) == f"ReadError(1/3 ok, {message!r})"


def test_read_error_all_ok_and_warning_counts_as_ok() -> None:
    warning = Reading("M:W", ValueType.SCALAR, facility_code=17, error_code=2, value=3.0)
    exc = ReadError((warning,), "nothing failed")
    assert exc.readings == [warning]
    assert str(exc) == "nothing failed"
    assert repr(exc) == "ReadError(1/1 ok, 'nothing failed')"


def test_read_error_keeps_cause_and_pickles_readings() -> None:
    bad = Reading("M:B", facility_code=1, error_code=-6, message="timeout")
    try:
        try:
            raise TimeoutError("socket")
        except TimeoutError as cause:
            raise ReadError([bad], "Request timeout") from cause
    except ReadError as exc:
        assert isinstance(exc.__cause__, TimeoutError)
        back = pickle.loads(pickle.dumps(exc))
    assert back.readings == [bad] and str(back) == "Request timeout (failed: M:B)"


@pytest.mark.parametrize(
    "exc",
    [AuthenticationError("expired"), ACLError("bad"), ScalingError("no scaling")],
    ids=lambda e: type(e).__name__,
)
def test_message_errors_pickle(exc: PacsysError) -> None:
    back = pickle.loads(pickle.dumps(exc))
    assert type(back) is type(exc)
    assert str(back) == str(exc)
    assert vars(back) == vars(exc)


def test_acl_error_default_repr() -> None:
    assert repr(ACLError("bad")) == "ACLError('bad')"
    assert ACLError("bad").message == "bad"
