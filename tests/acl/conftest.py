"""pacsys-acl fixtures: fakes seeded from docs/protocols/acl.md, the emulator, a scripted peer."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import attrs
import pytest

from pacsys.testing import FakeBackend
from pacsys.types import Reading, ValueType
from pacsys_acl.server import ACLServer

NOT_FOUND_PREFIX = "No reading configured"


class SpecBackend(FakeBackend):
    """FakeBackend whose unconfigured devices are "not found" (DPM_NO_SUCH_DEVICE)."""

    def get(self, drf: str, timeout: float | None = None) -> Reading:
        reading = super().get(drf, timeout)
        if (
            reading.facility_code == 1
            and reading.error_code == -1
            and (reading.message or "").startswith(NOT_FOUND_PREFIX)
        ):
            return dataclasses.replace(
                reading, facility_code=17, error_code=-26, message="Device not found"
            )
        return reading


def seed_spec_devices(fake: FakeBackend, outtmp: float = 72.5, amanda_units: str | None = None):
    """The devices of the examples in docs/protocols/acl.md."""
    fake.set_reading("M:OUTTMP", outtmp, units="DegF")
    fake.set_reading("G:AMANDA", 66, units=amanda_units)
    fake.set_reading("M:OUTTMP.DESCRIPTION", "Outdoor temperature (F)", ValueType.TEXT, units=None)
    fake.set_reading("M:OUTTMP.RAW", b"\x9f\x2c", ValueType.RAW)
    fake.set_reading("Z:ACLTST.RAW", b"\xf0\x42\x00\x00", ValueType.RAW)
    fake.set_reading("Z:ACLTST.MAX", 50, units="blip")
    fake.set_reading("Z:ACLTST.MIN", -4.007, units="DegF")
    fake.set_reading(
        "Z:ACLTST.STATUS",
        {"on": False, "ready": True, "positive": False, "ramp": False},
        ValueType.BASIC_STATUS,
    )
    fake.set_reading(
        "N:LGXS.STATUS",
        {"on": False, "ready": True, "remote": False, "positive": True, "ramp": False},
        ValueType.BASIC_STATUS,
    )
    fake.set_reading("B:HS23T", [45.0, 2.2, 2.0, 102.81933], ValueType.SCALAR_ARRAY, units="mm")
    fake.set_reading("M:OUTTMP.SETTING", 70.0, units="DegF")


@pytest.fixture
def make_spec_backend() -> Iterator[Callable[..., SpecBackend]]:
    """Factory: a SpecBackend seeded with those devices (closed at teardown)."""
    made: list[SpecBackend] = []

    def make(**seed: Any) -> SpecBackend:
        fake = SpecBackend()
        seed_spec_devices(fake, **seed)
        made.append(fake)
        return fake

    yield make
    for fake in made:
        fake.close()


@pytest.fixture
def spec_backend(make_spec_backend: Callable[..., SpecBackend]) -> SpecBackend:
    """A SpecBackend seeded with those devices (closed at teardown)."""
    return make_spec_backend()


@pytest.fixture
def acl_server(spec_backend: SpecBackend) -> Iterator[ACLServer]:
    with ACLServer(spec_backend) as server:
        yield server


# --- a scripted HTTP peer ----------------------------------------------------------------


@attrs.define
class Canned:
    """One scripted answer: status, body, optional delay and a truncated-body mode."""

    body: str | bytes = ""
    status: int = 200
    delay: float = 0.0
    truncate: bool = False
    content_type: str = "text/plain"


@attrs.define
class ScriptedCGI:
    """A real HTTP server on loopback answering by the raw ``acl=`` value of each request.

    ``answers`` maps the raw query value (as on the wire) to a Canned answer or a list of
    them (consumed in order); anything unexpected gets HTTP 599 so tests notice.
    """

    answers: dict[str, Canned | list[Canned]] = attrs.field(factory=dict)
    targets: list[str] = attrs.field(factory=list)
    release: threading.Event = attrs.field(factory=threading.Event)
    url: str = ""
    _httpd: Any = None
    _thread: threading.Thread | None = None
    _lock: threading.Lock = attrs.field(factory=threading.Lock)

    def answer(self, raw_script: str, *answers: Canned | str) -> None:
        canned = [a if isinstance(a, Canned) else Canned(a) for a in answers]
        self.answers[raw_script] = canned[0] if len(canned) == 1 else canned

    @property
    def scripts(self) -> list[str]:
        """The raw ``acl=`` values received, in order."""
        with self._lock:
            return [t.partition("?acl=")[2] for t in self.targets]

    def _pick(self, target: str) -> Canned:
        with self._lock:
            self.targets.append(target)
            key = target.partition("?acl=")[2]
            found = self.answers.get(key)
            if isinstance(found, list):
                return found.pop(0) if len(found) > 1 else found[0]
            return found or Canned(f"! unexpected request {target}", status=599)

    def start(self) -> ScriptedCGI:
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                canned = peer._pick(self.path)
                if canned.delay:
                    peer.release.wait(canned.delay)  # a deliberately slow server
                data = canned.body if isinstance(canned.body, bytes) else canned.body.encode()
                self.send_response(canned.status)
                self.send_header("Content-Type", canned.content_type)
                length = len(data) + (100 if canned.truncate else 0)
                self.send_header("Content-Length", str(length))
                self.end_headers()
                try:
                    self.wfile.write(data)
                except OSError:
                    pass
                if canned.truncate:
                    self.close_connection = True

            def log_message(self, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        port = self._httpd.server_address[1]
        self.url = f"http://127.0.0.1:{port}/cgi-bin/acl.pl"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"test-scripted-cgi-{port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(5)


@pytest.fixture
def cgi() -> Iterator[ScriptedCGI]:
    peer = ScriptedCGI().start()
    yield peer
    peer.stop()


@pytest.fixture
def canned() -> Callable[..., Canned]:
    return Canned
