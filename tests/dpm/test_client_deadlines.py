"""One deadline per call: opening a connection is bounded by the call's timeout, not the backend's.

A forwarding proxy in front of a real DPMServer holds each new connection for a while
before it reaches the server, as a slow or distant DPM would (pacing, not synchronisation).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pacsys.auth import KerberosAuth
from pacsys.errors import ReadError
from pacsys.testing import FakeBackend
from pacsys_dpm.client import DPMHTTPBackend
from pacsys_dpm.server import DPMServer


class SlowOpeningProxy:
    """Forwards each accepted connection to ``port`` after ``delay`` seconds."""

    def __init__(self, port: int, delay: float) -> None:
        self._target = ("127.0.0.1", port)
        self._delay = delay
        self._closed = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._socks: list[socket.socket] = [self._listener]
        self._threads = [threading.Thread(target=self._accept, name="slow-proxy", daemon=True)]
        self._threads[0].start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self._socks.append(client)
            self._spawn(self._connect, client)

    def _spawn(self, target: Callable[..., None], *args: socket.socket) -> None:
        thread = threading.Thread(target=target, args=args, name="slow-proxy", daemon=True)
        self._threads.append(thread)
        thread.start()

    def _connect(self, client: socket.socket) -> None:
        if self._closed.wait(self._delay):
            return
        server = socket.create_connection(self._target)
        self._socks.append(server)
        self._spawn(self._pipe, client, server)
        self._spawn(self._pipe, server, client)

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
            sink.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def close(self) -> None:
        self._closed.set()
        for sock in self._socks:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        for thread in self._threads:
            thread.join(5)


@pytest.fixture
def fake() -> Iterator[FakeBackend]:
    backend = FakeBackend()
    backend.set_reading("M:OUTTMP", 72.5)
    backend.set_reading("Z:ACLTST.SETTING", 0.0)
    yield backend
    backend.close()


@pytest.fixture
def slow_server(fake: FakeBackend) -> Iterator[Callable[[float], SlowOpeningProxy]]:
    proxies: list[SlowOpeningProxy] = []
    with DPMServer(fake, port=0) as server:

        def make(delay: float) -> SlowOpeningProxy:
            proxies.append(SlowOpeningProxy(server.port, delay))
            return proxies[-1]

        yield make
        for proxy in proxies:
            proxy.close()


def test_read_timeout_covers_a_slow_connection_opening(
    slow_server: Callable[[float], SlowOpeningProxy],
) -> None:
    proxy = slow_server(0.5)
    with DPMHTTPBackend("127.0.0.1", proxy.port, timeout=0.2, auth=None) as backend:
        started = time.monotonic()
        assert backend.get("M:OUTTMP", timeout=5.0).value == 72.5
        assert time.monotonic() - started >= 0.5


def test_a_short_call_timeout_bounds_the_connection_opening(
    slow_server: Callable[[float], SlowOpeningProxy],
) -> None:
    proxy = slow_server(30.0)
    with DPMHTTPBackend("127.0.0.1", proxy.port, timeout=10.0, auth=None) as backend:
        started = time.monotonic()
        with pytest.raises(ReadError, match="no OpenList reply") as info:
            backend.get_many(["M:OUTTMP", "G:AMANDA"], timeout=0.3)
        assert time.monotonic() - started < 2.0
    assert [r.error_code for r in info.value.readings] == [-1, -1]


def test_write_timeout_covers_a_slow_connection_opening(
    fake: FakeBackend, service_keytab: Callable[[str], Path], kerberos_user: str
) -> None:
    keytab = service_keytab("daeset/bd/localhost")
    with DPMServer(fake, port=0, keytab=keytab, roles={"testing": ["Z:ACLTST"]}) as server:
        proxy = SlowOpeningProxy(server.port, 0.5)
        try:
            with DPMHTTPBackend("127.0.0.1", proxy.port, timeout=0.2, auth=KerberosAuth(),
                                role="testing") as backend:  # fmt: skip
                result = backend.write("Z:ACLTST", 3.0, timeout=5.0)
        finally:
            proxy.close()
    assert result.ok, result
    assert fake.get_written_value("Z:ACLTST.SETTING") == 3.0
