"""DMQBackend writes: sessions, PENDING, signed SETTINGs, FIFO replies, refusals, TTL."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from pacsys.testing import FakeBackend
from pacsys.types import BasicControl

pytestmark = pytest.mark.rabbitmq


def test_write_reaches_backend(dmq_backend: Any, fake: Any) -> None:
    result = dmq_backend.write("Z:ACLTST", 45.0)
    assert result.ok and result.drf == "Z:ACLTST"
    assert ("Z:ACLTST.SETTING@N", 45.0) in fake.writes


def test_write_many_groups_and_reuses_sessions(dmq_backend: Any, fake: Any) -> None:
    results = dmq_backend.write_many(
        [
            ("Z:ACLTST", 1.0),
            ("M:OUTTMP", 2),
            ("Z:ACLTST", 3.0),
            ("Z:ACLTST.STATUS", BasicControl.ON),
        ]
    )
    assert [r.ok for r in results] == [True] * 4
    assert [r.drf for r in results] == ["Z:ACLTST", "M:OUTTMP", "Z:ACLTST", "Z:ACLTST.STATUS"]
    writes = fake.writes
    assert ("M:OUTTMP.SETTING@N", 2) in writes
    assert ("Z:ACLTST.CONTROL@N", BasicControl.ON) in writes
    ours = [v for d, v in writes if d == "Z:ACLTST.SETTING@N"]
    assert ours[-2:] == [1.0, 3.0]  # FIFO within a session
    sessions = dict(dmq_backend._sessions)
    assert set(sessions) == {"Z:ACLTST.SETTING@N", "M:OUTTMP.SETTING@N", "Z:ACLTST.CONTROL@N"}
    dmq_backend.write("Z:ACLTST", 5.0)
    assert dmq_backend._sessions["Z:ACLTST.SETTING@N"] is sessions["Z:ACLTST.SETTING@N"]


def test_device_refusal_is_a_failed_result(dmq_backend: Any, fake: Any) -> None:
    fake.set_write_result("M:REFUSE.SETTING@N", success=False, error_code=-7, message="nope")
    result = dmq_backend.write("M:REFUSE", 1.0)
    assert not result.ok
    assert (result.error_code, result.message) == (-7, "nope")


def test_bad_values_raise_before_io(dmq_backend: Any) -> None:
    with pytest.raises(TypeError):
        dmq_backend.write("Z:ACLTST", b"raw")
    with pytest.raises(ValueError):
        dmq_backend.write("Z:ACLTST", 2**40)
    assert dmq_backend._sessions == {}


def test_idle_session_expires(
    dmq_server: Any,
    module_vhost: str,
    dmq_user: str,
    make_backend: Callable[..., Any],
    wait_for: Callable[..., Any],
) -> None:
    with make_backend(module_vhost, write_session_ttl=0.3) as backend:
        before = dmq_server.job_count
        assert backend.write("Z:ACLTST", 7.0).ok
        wait_for(lambda: backend._sessions == {})
        wait_for(lambda: dmq_server.job_count <= before)


@pytest.fixture
def read_only_server(
    rabbitmq_vhost: str, dmq_keytab: Any, amqp_url: Callable[..., Any]
) -> Iterator[str]:
    from pacsys_dmq.server import DMQServer

    with DMQServer(FakeBackend(), amqp_url(rabbitmq_vhost), keytab=dmq_keytab, read_only=True):
        yield rabbitmq_vhost


def test_refused_writes(
    read_only_server: str, dmq_user: str, make_backend: Callable[..., Any]
) -> None:
    with make_backend(read_only_server) as backend:
        results = backend.write_many([("Z:ACLTST", 1.0), ("Z:ACLTST", 2.0)])
    assert [(r.facility_code, r.error_code) for r in results] == [(72, -94), (72, -94)]


class SlowWrites(FakeBackend):
    """Writes block until released: keeps settings in flight."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def write(self, drf: str, value: Any, timeout: float | None = None) -> Any:
        self.release.wait(10)
        return super().write(drf, value, timeout)


def test_write_timeout_and_lost_server_heartbeat(
    rabbitmq_vhost: str,
    dmq_user: str,
    amqp_url: Callable[..., Any],
    make_backend: Callable[..., Any],
) -> None:
    from pacsys_dmq.server import DMQServer

    slow = SlowWrites()
    with DMQServer(slow, amqp_url(rabbitmq_vhost), heartbeat_interval=0.1) as server:
        with make_backend(rabbitmq_vhost, heartbeat_interval=0.1, server_timeout=0.6) as backend:
            result = backend.write("Z:ACLTST", 1.0, timeout=0.3)
            assert (result.facility_code, result.error_code) == (1, -6)
            assert result.message == "Request timeout"
            slow.release.set()
            assert backend.write("M:OUTTMP", 2.0).ok
            session = backend._sessions["M:OUTTMP.SETTING@N"]
            slow.release.clear()
            server.pause_heartbeats()
            box: list[Any] = []
            thread = threading.Thread(
                target=lambda: box.append(backend.write("M:OUTTMP", 3.0, timeout=5.0))
            )
            thread.start()
            thread.join(5)
            slow.release.set()
    assert box and box[0].message == "Session closed: DMQ server heartbeat lost"
    assert (box[0].facility_code, box[0].error_code) == (1, -1)
    assert session.closed
