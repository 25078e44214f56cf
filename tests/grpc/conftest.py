"""Loopback fixtures: a SupervisedServer over a FakeBackend and clients pointed at it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest

from pacsys.auth import JWTAuth
from pacsys.testing import FakeBackend
from pacsys_grpc._proto.services import daq_pb2_grpc
from pacsys_grpc.backend import GRPCBackend
from pacsys_grpc.supervised import SupervisedServer
from pacsys_grpc.supervised.core import is_async_backend

TOKEN = "s3cret-token"


def make_jwt(subject: str = "jdoe@FNAL.GOV") -> str:
    import base64
    import json

    def part(data: dict[str, Any]) -> str:
        raw = base64.urlsafe_b64encode(json.dumps(data).encode()).decode()
        return raw.rstrip("=")

    return f"{part({'alg': 'none'})}.{part({'sub': subject})}.sig"


def pacsys_threads() -> list[str]:
    return sorted(t.name for t in threading.enumerate() if t.name.startswith("pacsys"))


@pytest.fixture
def fake() -> Iterator[FakeBackend]:
    backend = FakeBackend()
    backend.set_reading("M:OUTTMP", 72.5, units="DegF")
    backend.set_reading("G:AMANDA", 1.5)
    backend.set_reading("Z:ACLTST", 3.0)
    yield backend
    backend.close()


ServerFactory = Callable[..., SupervisedServer]


@pytest.fixture(params=["threaded", "aio"])
def server_mode(request: pytest.FixtureRequest) -> str:
    """Every loopback server test runs on both servers a sync backend can get."""
    return str(request.param)


@pytest.fixture
def serve(fake: FakeBackend, server_mode: str) -> Iterator[ServerFactory]:
    """Start SupervisedServers on loopback (port 0); all are stopped after the test.

    Sync backends get ``server_mode``; async backends always get the aio server.
    """
    started: list[SupervisedServer] = []

    def factory(backend: Any = None, **kwargs: Any) -> SupervisedServer:
        kwargs.setdefault("port", 0)
        kwargs.setdefault("host", "127.0.0.1")
        backend = fake if backend is None else backend
        if not is_async_backend(backend):
            kwargs.setdefault("server_mode", server_mode)
        server = SupervisedServer(backend, **kwargs)
        server.start()
        started.append(server)
        return server

    yield factory
    for server in started:
        server.stop()


@pytest.fixture
def client_for() -> Iterator[Callable[..., GRPCBackend]]:
    """GRPCBackends for a server, closed after the test."""
    made: list[GRPCBackend] = []

    def factory(server: SupervisedServer, **kwargs: Any) -> GRPCBackend:
        kwargs.setdefault("timeout", 5.0)
        backend = GRPCBackend(host="127.0.0.1", port=server.port, **kwargs)
        made.append(backend)
        return backend

    yield factory
    for backend in made:
        backend.close()


@pytest.fixture
def raw_stub() -> Iterator[Callable[[SupervisedServer], daq_pb2_grpc.DAQStub]]:
    """Bare DAQ stubs, to see the exact gRPC statuses a server sends."""
    channels: list[grpc.Channel] = []

    def factory(server: SupervisedServer) -> daq_pb2_grpc.DAQStub:
        channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
        channels.append(channel)
        return daq_pb2_grpc.DAQStub(channel)

    yield factory
    for channel in channels:
        channel.close()


@pytest.fixture
def jwt() -> JWTAuth:
    return JWTAuth(make_jwt())
