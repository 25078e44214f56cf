"""Library errors (core-semantics §F): attributes, str, repr, pickling."""

from __future__ import annotations

import pickle

from pacsys.errors import ACLError, AuthenticationError, DeviceError, PacsysError, ReadError
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
