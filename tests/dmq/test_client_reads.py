"""DMQBackend reads through a real broker, a real KDC and the project's DMQServer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from pacsys.errors import DeviceError, ReadError

pytestmark = pytest.mark.rabbitmq


def test_read_scalar(dmq_backend: Any) -> None:
    assert dmq_backend.read("M:OUTTMP") == 72.5


def test_get_many_batch_with_missing_device(dmq_backend: Any) -> None:
    readings = dmq_backend.get_many(["M:OUTTMP", "G:AMANDA", "M:NOSUCH", "M:TEXT"])
    assert [r.drf for r in readings] == ["M:OUTTMP", "G:AMANDA", "M:NOSUCH", "M:TEXT"]
    assert readings[0].ok and readings[0].value == 72.5
    assert readings[0].timestamp is not None
    np.testing.assert_array_equal(readings[1].value, [1.0, 2.0, 3.0])
    assert not readings[2].ok and readings[2].error_code < 0
    assert "M:NOSUCH" in (readings[2].message or "")
    assert readings[3].value == "hello"


def test_get_status_dict(dmq_backend: Any) -> None:
    reading = dmq_backend.get("Z:ACLTST.STATUS")
    assert reading.value == {"on": True, "ready": False}


def test_duplicates_keep_order(dmq_backend: Any) -> None:
    readings = dmq_backend.get_many(["M:OUTTMP", "G:AMANDA", "M:OUTTMP"])
    assert [r.value for r in (readings[0], readings[2])] == [72.5, 72.5]


def test_read_missing_raises_device_error(dmq_backend: Any) -> None:
    with pytest.raises(DeviceError) as info:
        dmq_backend.read("M:NOSUCH")
    assert info.value.drf == "M:NOSUCH"


def test_read_many_reports_failed_devices(dmq_backend: Any) -> None:
    with pytest.raises(ReadError) as info:
        dmq_backend.read_many(["M:OUTTMP", "M:NOSUCH"])
    assert "M:NOSUCH" in str(info.value)


def test_invalid_drf_raises_before_io(dmq_backend: Any) -> None:
    with pytest.raises(ValueError):
        dmq_backend.get_many(["M:OUTTMP", "M:OUTTMP@@"])


def test_one_connection_for_many_reads(dmq_backend: Any, fake: Any) -> None:
    for _ in range(5):
        assert dmq_backend.read("M:OUTTMP") == 72.5
    assert dmq_backend._loop is not None and dmq_backend._loop.alive
    assert fake.was_read("M:OUTTMP.READING@I")


def test_timeout_without_server(
    rabbitmq_vhost: str, dmq_user: str, make_backend: Callable[..., Any]
) -> None:

    with make_backend(rabbitmq_vhost) as backend:
        with pytest.raises(ReadError) as info:
            backend.get_many(["M:OUTTMP", "G:AMANDA"], timeout=0.5)
    assert info.value.message == "Request timeout"
    assert [(r.facility_code, r.error_code) for r in info.value.readings] == [(1, -6), (1, -6)]


def test_unreachable_broker_is_connection_error(dmq_user: str) -> None:
    from pacsys.auth import KerberosAuth
    from pacsys_dmq.client import DMQBackend

    with DMQBackend("127.0.0.1", 1, auth=KerberosAuth(), timeout=2.0) as backend:
        with pytest.raises(ConnectionError, match=r"Failed to connect to RabbitMQ at 127.0.0.1:1"):
            backend.read("M:OUTTMP")
