"""pacsys-grpc offers DevDB through the pacsys_metadata_sources hook; core names no DevDB client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pacsys import _simple
from pacsys.registry import Registry, get_registry, reset_registry
from pacsys_grpc.devdb import DevDBClient


@pytest.fixture
def discovered(clean_pacsys: None) -> Iterator[Registry]:
    saved = get_registry()
    registry = reset_registry(Registry)
    try:
        yield registry
    finally:
        _simple.shutdown()
        reset_registry(lambda: saved)


def test_devdb_is_the_shared_metadata_source(discovered: Registry) -> None:
    spec = discovered.metadata_sources()["devdb"]
    assert not spec.per_backend
    assert spec.distribution == "pacsys-grpc"
    assert spec.load() is DevDBClient


def test_global_devdb_client_comes_from_the_hook_with_configured_target(
    discovered: Registry,
) -> None:
    _simple.configure(devdb_host="127.0.0.1", devdb_port=6999)
    client = _simple.get_devdb()
    assert isinstance(client, DevDBClient)
    assert client.target == "127.0.0.1:6999"
    _simple.shutdown()
    assert "closed" in repr(client)
