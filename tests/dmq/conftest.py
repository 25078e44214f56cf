"""DMQ test fixtures: a real RabbitMQ broker (per-test or per-module vhosts), a real KDC.

Each vhost is created with ``rabbitmqctl`` (about 0.5 s per call), so most tests share a
module-scoped vhost with one DMQServer, and only tests that need their own broker state
(faults, special servers) take a fresh ``rabbitmq_vhost``.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pacsys.testing import FakeBackend
from pacsys.types import ValueType

BROKER_HOST = "127.0.0.1"
BROKER_PORT = 5672
SERVICE = "daeset/bd/dmq.fnal.gov"


def _rabbitmqctl(*args: str, timeout: float = 30.0) -> str:
    """Run ``rabbitmqctl -q`` and return its output (raises on failure)."""
    done = subprocess.run(
        ["rabbitmqctl", "-q", *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"rabbitmqctl {' '.join(args)} failed: {done.stderr or done.stdout}")
    return done.stdout


def _amqp_url(vhost: str) -> str:
    return f"amqp://guest:guest@{BROKER_HOST}:{BROKER_PORT}/{urllib.parse.quote(vhost, safe='')}"


def _broker_names(kind: str, vhost: str) -> list[str]:
    """Names of the queues or exchanges (``kind``) in ``vhost``."""
    out = _rabbitmqctl(f"list_{kind}", "-p", vhost, "--no-table-headers", "name")
    return [line.strip() for line in out.splitlines() if line.strip()]


def _wait_for(predicate: Callable[[], Any], timeout: float = 5.0, interval: float = 0.02) -> Any:
    """Poll ``predicate`` until truthy (returned) or ``timeout`` (AssertionError)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


def _vhost_connections(vhost: str, named: str | None = None) -> list[str]:
    """Pids of the broker connections in ``vhost`` (whose client properties name ``named``)."""
    out = _rabbitmqctl(
        "list_connections", "--no-table-headers", "vhost", "pid", "client_properties"
    )
    pids = []
    for line in out.splitlines():
        fields = line.split("\t", 2)
        if len(fields) == 3 and fields[0] == vhost and (named is None or named in fields[2]):
            pids.append(fields[1])
    return pids


def _connection_of(backend: Any) -> str:
    """Pid of the broker connection ``backend`` opened (named by its ``connection_name``)."""
    out = _rabbitmqctl("list_connections", "--no-table-headers", "pid", "client_properties")
    for line in out.splitlines():
        if backend.connection_name in line:
            return line.split("\t", 1)[0]
    raise AssertionError(f"no broker connection named {backend.connection_name}")


def _close_connections(vhost: str, named: str | None = None) -> int:
    """Close (as the broker) the connections of ``vhost`` only; how many there were."""
    pids = _vhost_connections(vhost, named)
    for pid in pids:
        _rabbitmqctl("close_connection", pid, "closed by a pacsys test")
    return len(pids)


class StallProxy:
    """A TCP relay to the broker whose client-to-broker direction can be stalled.

    Stalled, it stops reading what its client sends, as a broker applying flow control
    does: the client's socket buffers fill and its own send buffer grows. Small receive
    buffers keep the bytes the kernel absorbs low.
    """

    def __init__(self, upstream: tuple[str, int] = (BROKER_HOST, BROKER_PORT)) -> None:
        self._upstream = upstream
        self._flowing = threading.Event()
        self._flowing.set()
        self._closed = threading.Event()
        self._sockets: list[socket.socket] = []
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        listener.bind((BROKER_HOST, 0))
        listener.listen()
        self._listener = listener
        self.port = listener.getsockname()[1]
        threading.Thread(target=self._accept, name="stall-proxy", daemon=True).start()

    def url(self, vhost: str) -> str:
        quoted = urllib.parse.quote(vhost, safe="")
        return f"amqp://guest:guest@{BROKER_HOST}:{self.port}/{quoted}"

    def stall(self) -> None:
        self._flowing.clear()

    def resume(self) -> None:
        self._flowing.set()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                downstream, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self._upstream)
            self._sockets += [downstream, upstream]
            for src, dst, gated in ((downstream, upstream, True), (upstream, downstream, False)):
                threading.Thread(
                    target=self._pump, args=(src, dst, gated), name="stall-proxy-pump", daemon=True
                ).start()

    def _pump(self, src: socket.socket, dst: socket.socket, gated: bool) -> None:
        try:
            while not self._closed.is_set():
                if gated and not self._flowing.is_set():
                    self._flowing.wait(1.0)  # re-checks _closed at least once a second
                    continue
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self._closed.set()
        self._flowing.set()
        self._listener.close()
        for sock in self._sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()


def _broker_up() -> bool:
    try:
        with socket.create_connection((BROKER_HOST, BROKER_PORT), timeout=1.0):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def rabbitmq() -> str:
    """The broker's address; skips when no RabbitMQ (or no rabbitmqctl) is available."""
    if shutil.which("rabbitmqctl") is None or not _broker_up():
        pytest.skip("needs a RabbitMQ broker on 127.0.0.1:5672 and rabbitmqctl")
    return f"{BROKER_HOST}:{BROKER_PORT}"


def _scratch_vhost() -> Iterator[str]:
    """A fresh vhost (guest has full rights), deleted when the generator is closed."""
    name = f"pacsys-test-{uuid.uuid4().hex[:10]}"
    _rabbitmqctl("add_vhost", name)
    _rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
    try:
        yield name
    finally:
        _rabbitmqctl("delete_vhost", name)


@pytest.fixture
def rabbitmq_vhost(rabbitmq: str) -> Iterator[str]:
    """A vhost of this test's own."""
    yield from _scratch_vhost()


@pytest.fixture(scope="module")
def module_vhost(rabbitmq: str) -> Iterator[str]:
    """A vhost shared by the tests of one module."""
    yield from _scratch_vhost()


@pytest.fixture(scope="module")
def dmq_keytab(kdc: Any, _service_keytabs: dict[str, Path]) -> Path:
    """Keytab of daeset/bd/dmq.fnal.gov@FNAL.GOV (shared with ``service_keytab``)."""
    principal = kdc.principal_name(SERVICE)
    path = _service_keytabs.get(principal)
    if path is None or not path.exists():
        kdc.add_principal(principal)
        path = kdc.keytab(principal)
        _service_keytabs[principal] = path
    return path


def _seeded_fake() -> FakeBackend:
    """A FakeBackend with a scalar, an array, text, status and a settable device."""
    fake = FakeBackend()
    fake.set_reading("M:OUTTMP", 72.5, units="DegF")
    fake.set_reading("G:AMANDA", [1.0, 2.0, 3.0], value_type=ValueType.SCALAR_ARRAY)
    fake.set_reading("M:TEXT", "hello", value_type=ValueType.TEXT)
    fake.set_reading("Z:ACLTST.STATUS", {"on": True, "ready": False}, ValueType.BASIC_STATUS)
    fake.set_reading("Z:ACLTST", 1.25)
    return fake


@pytest.fixture(scope="module")
def fake() -> FakeBackend:
    return _seeded_fake()


@pytest.fixture(scope="module")
def dmq_server(module_vhost: str, dmq_keytab: Path, fake: FakeBackend) -> Iterator[Any]:
    """A strict (keytab-verifying) DMQServer for ``fake`` on the module's vhost."""
    from pacsys_dmq.server import DMQServer

    with DMQServer(fake, _amqp_url(module_vhost), keytab=dmq_keytab, heartbeat_interval=0.5) as s:
        yield s


def _make_backend(vhost: str, **kwargs: Any) -> Any:
    """A DMQBackend on ``vhost`` with the current Kerberos ticket."""
    from pacsys.auth import KerberosAuth
    from pacsys_dmq.client import DMQBackend

    kwargs.setdefault("timeout", 5.0)
    return DMQBackend(BROKER_HOST, BROKER_PORT, auth=KerberosAuth(), vhost=vhost, **kwargs)


@pytest.fixture
def dmq_backend(dmq_server: Any, module_vhost: str, dmq_user: str) -> Iterator[Any]:
    backend = _make_backend(module_vhost)
    try:
        yield backend
    finally:
        backend.close()


@pytest.fixture
def dmq_user(kerberos_user: str, dmq_keytab: Path) -> str:
    """A ticket for testuser@FNAL.GOV, with the DMQ service principal in the KDC."""
    return kerberos_user


# Helpers the tests call, offered as fixtures (test modules never import this conftest).


@pytest.fixture(scope="session")
def close_connections() -> Callable[..., int]:
    return _close_connections


class DMQRig:
    """One test's private vhost with a seeded FakeBackend: servers, clients, dropped links."""

    def __init__(self, vhost: str) -> None:
        self.vhost = vhost
        self.url = _amqp_url(vhost)
        self.fake = _seeded_fake()

    def server(self, backend: Any = None, **kwargs: Any) -> Any:
        """A DMQServer on the vhost for ``backend`` (the seeded fake by default)."""
        from pacsys_dmq.server import DMQServer

        return DMQServer(self.fake if backend is None else backend, self.url, **kwargs)

    def client(self, **kwargs: Any) -> Any:
        """A DMQBackend on the vhost (see ``_make_backend``)."""
        return _make_backend(self.vhost, **kwargs)

    def drop(self, client: Any) -> None:
        """Close, as the broker, the connection ``client`` opened."""
        _rabbitmqctl("close_connection", _connection_of(client), "closed by a pacsys test")

    def close_connections(self, named: str | None = None) -> int:
        """Close the vhost's connections (those naming ``named``); how many there were."""
        return _close_connections(self.vhost, named)


@pytest.fixture
def dmq_rig(rabbitmq_vhost: str, dmq_user: str) -> DMQRig:
    """A DMQRig on a scratch vhost, with a ticket for its clients."""
    return DMQRig(rabbitmq_vhost)


@pytest.fixture
def stall_proxy(rabbitmq: str) -> Iterator[StallProxy]:
    proxy = StallProxy()
    try:
        yield proxy
    finally:
        proxy.close()


@pytest.fixture(scope="session")
def rabbitmqctl() -> Callable[..., str]:
    return _rabbitmqctl


@pytest.fixture(scope="session")
def amqp_url() -> Callable[[str], str]:
    return _amqp_url


@pytest.fixture(scope="session")
def broker_names() -> Callable[[str, str], list[str]]:
    return _broker_names


@pytest.fixture(scope="session")
def wait_for() -> Callable[..., Any]:
    return _wait_for


@pytest.fixture(scope="session")
def seeded_fake() -> Callable[[], FakeBackend]:
    return _seeded_fake


@pytest.fixture(scope="session")
def make_backend() -> Callable[..., Any]:
    return _make_backend
