"""The client driver's edges that need no broker: a connection that is already gone."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from pacsys.types import WriteResult
from pacsys_dmq.client.driver import ClientDriver
from pacsys_dmq.codec import FALLBACK_HOST_ADDRESS
from pacsys_dmq.protocol import ClientProtocol
from pacsys_dmq.testing import ProtocolPair


class DeadLoop:
    """An AmqpLoop whose connection just died: every task is refused."""

    alive = False

    def call(self, fn: Callable[[], Any], timeout: float) -> Any:
        raise ConnectionError("Connection not open")

    def submit(self, task: Callable[[], None], on_fail: Callable[[BaseException], None]) -> None:
        on_fail(ConnectionError("Connection not open"))


def _driver() -> ClientDriver:
    engine = ClientProtocol(host_address=FALLBACK_HOST_ADDRESS)
    never: Any = None  # no connection is ever made here
    return ClientDriver(engine, lambda remaining: never)


def _never_signs(init_drf: str) -> Any:
    raise AssertionError("nothing may be signed")


def test_write_on_a_lost_connection_fails_each_setting() -> None:
    loop: Any = DeadLoop()
    drfs = ["Z:ACLTST", "Z:ACLTST"]
    groups = {"Z:ACLTST.SETTING@N": [(0, b""), (1, b"")]}
    results = _driver().write(loop, drfs, groups, _never_signs, time.monotonic() + 1)
    assert results == [WriteResult("Z:ACLTST", 1, -1, "Connection not open")] * 2


def test_read_on_a_lost_connection_reports_why() -> None:
    loop: Any = DeadLoop()
    init = ProtocolPair().init(b"")
    deadline = time.monotonic() + 1
    done, timed_out = _driver().read(loop, init, ["M:OUTTMP"], ["M:OUTTMP.READING@I"], deadline)
    assert not timed_out and done.readings == (None,)
    assert str(done.error) == "Connection not open"
