"""The pacsys_metadata_sources hook: who answers Device.info(), acinfo and pacsys.devdb()."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from pacsys import _simple
from pacsys.cli.acinfo import metadata_for
from pacsys.device import Device
from pacsys.hookspecs import MetadataSourceSpec, hookimpl
from pacsys.metadata import DeviceInfoResult
from pacsys.metadata_sources import backend_source, create_shared_source, own_metadata
from pacsys.registry import Registry, get_registry, reset_registry
from pacsys.sim import SimBackend
from pacsys.testing import FakeBackend


class RecordingClient:
    """A shared metadata client: remembers how it was built and whether it was closed."""

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs
        self.closed = False
        self.asked: list[tuple[list[str], float | None]] = []

    def get_device_info(self, names: list[str], timeout: float | None = None) -> dict[str, Any]:
        self.asked.append((list(names), timeout))
        return {name: DeviceInfoResult(7, f"shared {name}") for name in names}

    def close(self) -> None:
        self.closed = True


class CatalogueFor:
    """A backend source answering only for one backend object."""

    def __init__(self, backend: object) -> None:
        self.backend = backend

    def device_info(self, name: str) -> DeviceInfoResult | None:
        return DeviceInfoResult(9, f"own {name}")

    def alarm_info(self, name: str) -> None:
        return None

    def alarm_text(self, alarm_text_id: int) -> None:
        return None


class SourcesPlugin:
    def __init__(self, answers_for: object) -> None:
        self.answers_for = answers_for

    def _own(self, backend: object) -> CatalogueFor | None:
        return CatalogueFor(backend) if backend is self.answers_for else None

    @hookimpl
    def pacsys_metadata_sources(self) -> list[MetadataSourceSpec]:
        return [
            MetadataSourceSpec("recording", RecordingClient, settings={"host": "devdb_host"}),
            MetadataSourceSpec("mine", self._own, per_backend=True),
        ]


@pytest.fixture
def isolated_registry(clean_pacsys: None) -> Iterator[Registry]:
    """A registry with only core's built-ins (no entry points), restored afterwards."""
    saved = get_registry()
    registry = reset_registry(lambda: Registry(load_entry_points=False))
    try:
        yield registry
    finally:
        _simple.shutdown()
        reset_registry(lambda: saved)


def test_core_declares_the_simulator_as_a_backend_source() -> None:
    spec = Registry(load_entry_points=False).metadata_sources()["sim"]
    assert spec.per_backend
    assert spec.distribution == "pacsys-core"
    assert spec.load() is own_metadata


def test_simulator_answers_for_itself(isolated_registry: Registry) -> None:
    with SimBackend() as sim:
        assert backend_source(sim) is sim
        assert backend_source(FakeBackend()) is None
        assert Device("M:OUTTMP", backend=sim).info().description


def test_without_a_shared_source_there_is_no_devdb(isolated_registry: Registry) -> None:
    assert _simple.get_devdb() is None
    with pytest.raises(RuntimeError, match=r"^DevDB not available\. "):
        Device("Z:ACLTST", backend=FakeBackend()).info()
    assert metadata_for(FakeBackend(), "Z:ACLTST") == (
        None,
        "DevDB unavailable (install pacsys-grpc)",
    )


def test_a_plugin_source_is_built_from_settings_and_closed_by_shutdown(
    isolated_registry: Registry,
) -> None:
    mine = FakeBackend()
    with isolated_registry.plugin(SourcesPlugin(mine)):
        _simple.configure(devdb_host="devdb.example")
        client = _simple.get_devdb()
        assert isinstance(client, RecordingClient)
        assert client.kwargs == {"host": "devdb.example"}
        assert _simple.get_devdb() is client  # one per process

        other = Device("Z:ACLTST", backend=FakeBackend()).info(timeout=2.5)
        assert other.description == "shared Z:ACLTST"
        assert client.asked == [(["Z:ACLTST"], 2.5)]
        own = Device("Z:ACLTST", backend=mine).info()
        assert own.description == "own Z:ACLTST"
        assert metadata_for(mine, "Z:ACLTST")[1] == "backend"

        _simple.shutdown()
        assert client.closed
        assert _simple.get_devdb() is not client


def test_the_highest_priority_shared_source_wins(isolated_registry: Registry) -> None:
    class Low:
        @hookimpl
        def pacsys_metadata_sources(self) -> list[MetadataSourceSpec]:
            return [MetadataSourceSpec("low", lambda: "low client")]

    class High:
        @hookimpl
        def pacsys_metadata_sources(self) -> list[MetadataSourceSpec]:
            return [MetadataSourceSpec("high", lambda: "high client", priority=5)]

    with isolated_registry.plugin(Low()), isolated_registry.plugin(High()):
        assert create_shared_source(_simple.current_settings()) == "high client"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": " sim"}, "name must be a non-empty string"),
        ({"name": ""}, "name must be a non-empty string"),
        ({"priority": True}, "priority must be an int, got True"),
        ({"priority": 1.5}, "priority must be an int, got 1.5"),
    ],
)
def test_bad_specs_are_refused(kwargs: dict[str, Any], message: str) -> None:
    arguments = {"name": "x", "factory": "pkg.mod:attr", **kwargs}
    with pytest.raises(ValueError, match=message):
        MetadataSourceSpec(**arguments)
