"""The plugin contract, in-process: discovery, lookups, errors, PACSYS_PLUGINS, broken plugins."""

from __future__ import annotations

import logging
import sys
import types

import pytest

from pacsys import _entry_points
from pacsys.hookspecs import AuthSpec, BackendSpec, PolicySpec, hookimpl, resolve_factory
from pacsys.registry import KNOWN_TRANSPORTS, Registry, TransportNotInstalledError
from pacsys.testing import FakeBackend
from pacsys.types import BackendCapability


class ExamplePlugin:
    @hookimpl
    def pacsys_backends(self) -> list[BackendSpec]:
        return [
            BackendSpec(
                "example",
                FakeBackend,
                "an in-process example",
                capabilities=BackendCapability.READ | BackendCapability.BATCH,
                aliases=("ex",),
            )
        ]

    @hookimpl
    def pacsys_policies(self) -> list[PolicySpec]:
        return [PolicySpec("example_policy", "pacsys.policies:ReadOnlyPolicy", "read only")]


def test_discovery_is_lazy_and_not_done_by_import() -> None:
    registry = Registry()
    assert registry._pm is None
    assert "pacsys.builtins" in [p.name for p in registry.plugins()]
    assert registry._pm is not None


def test_builtins_register_through_the_same_hooks() -> None:
    registry = Registry(load_entry_points=False)
    builtin = registry.plugins()[0]
    assert builtin.distribution == "pacsys-core"
    assert set(builtin.hooks) == {
        "pacsys_auth_methods",
        "pacsys_backends",
        "pacsys_metadata_sources",
        "pacsys_policies",
    }
    assert {"kerberos", "krb", "jwt"} <= set(registry.auth_method_names())
    assert {"read_only", "device_access", "rate_limit", "value_range", "slew_rate"} <= set(
        registry.policies()
    )


def test_in_process_plugin_backend_lookup_by_name_and_alias() -> None:
    registry = Registry(load_entry_points=False)
    with registry.plugin(ExamplePlugin(), "example-plugin"):
        assert registry.backend("example").description == "an in-process example"
        assert registry.backend("ex") is not None
        assert "example" in registry.backends()
        assert {"example", "ex"} <= set(registry.backend_names())
        backend = registry.create_backend("example")
        assert isinstance(backend, FakeBackend)
        backend.close()
        assert type(registry.create_policy("example_policy")).__name__ == "ReadOnlyPolicy"
    with pytest.raises(ValueError, match="Invalid backend 'example'"):
        registry.backend("example")


def test_unknown_backend_lists_installed_ones() -> None:
    registry = Registry(load_entry_points=False)
    with registry.plugin(ExamplePlugin()), pytest.raises(ValueError) as excinfo:
        registry.backend("nosuch")
    assert "Invalid backend 'nosuch'" in str(excinfo.value)
    assert "'example'" in str(excinfo.value)


@pytest.mark.parametrize("name", sorted(KNOWN_TRANSPORTS))
def test_known_transport_missing_names_its_distribution(name: str) -> None:
    registry = Registry(load_entry_points=False)
    with pytest.raises(TransportNotInstalledError) as excinfo:
        registry.backend(name)
    assert excinfo.value.distribution == KNOWN_TRANSPORTS[name]
    assert f"pip install {KNOWN_TRANSPORTS[name]}" in str(excinfo.value)
    assert isinstance(excinfo.value, ImportError)


def test_duplicate_backend_name_is_reported() -> None:
    registry = Registry(load_entry_points=False)
    with registry.plugin(ExamplePlugin(), "one"), registry.plugin(ExamplePlugin(), "two"):
        with pytest.raises(ValueError, match="claimed by more than one plugin"):
            registry.backend("example")


def test_plugin_returning_wrong_type_is_named() -> None:
    class Wrong:
        @hookimpl
        def pacsys_backends(self) -> list[AuthSpec]:
            return [AuthSpec("oops", "x:y")]

    registry = Registry(load_entry_points=False)
    with registry.plugin(Wrong(), "wrong"), pytest.raises(TypeError, match="'wrong'"):
        registry.backends()


def _fake_entry_points(monkeypatch: pytest.MonkeyPatch, modules: dict[str, str]) -> None:
    eps = [
        _entry_points.EntryPoint(name, module, "pacsys", "pacsys-test", "1.0")
        for name, module in modules.items()
    ]
    monkeypatch.setattr(
        _entry_points, "entry_points", lambda group: eps if group == "pacsys" else []
    )


def test_broken_plugin_is_reported_by_name_and_skipped(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "pacsys_test_good_plugin", _module_with(ExamplePlugin()))
    _fake_entry_points(
        monkeypatch,
        {"good": "pacsys_test_good_plugin", "broken": "pacsys_test_missing_module_xyz"},
    )
    registry = Registry()
    with caplog.at_level(logging.WARNING, logger="pacsys.registry"):
        plugins = {p.name: p for p in registry.plugins()}
    assert plugins["good"].loaded
    assert not plugins["broken"].loaded
    assert "ModuleNotFoundError" in plugins["broken"].error
    assert "'broken'" in caplog.text
    assert registry.backend("example")  # the good one still works
    assert [p.name for p in registry.failed_plugins()] == ["broken"]


def test_plugin_raising_on_import_is_skipped(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    (tmp_path / "pacsys_test_raising_plugin.py").write_text(
        "raise RuntimeError('deliberately broken plugin')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    _fake_entry_points(monkeypatch, {"raising": "pacsys_test_raising_plugin"})
    registry = Registry()
    (info,) = [p for p in registry.plugins() if p.name == "raising"]
    assert info.error == "RuntimeError: deliberately broken plugin"
    assert registry.auth_method("jwt")  # builtins unaffected


def _module_with(plugin: object) -> types.ModuleType:
    module = types.ModuleType("pacsys_test_good_plugin")
    for name in ("pacsys_backends", "pacsys_policies"):
        setattr(module, name, getattr(plugin, name))
    return module


@pytest.mark.parametrize(
    ("setting", "expected"),
    [("", set()), ("dpm", {"dpm"}), ("dpm, acl", {"dpm", "acl"}), (None, {"dpm", "acl", "grpc"})],
)
def test_pacsys_plugins_env_restricts_entry_points(
    monkeypatch: pytest.MonkeyPatch, setting: str | None, expected: set[str]
) -> None:
    for name in ("dpm", "acl", "grpc"):
        monkeypatch.setitem(sys.modules, f"pacsys_test_{name}", types.ModuleType(name))
    _fake_entry_points(
        monkeypatch, {name: f"pacsys_test_{name}" for name in ("dpm", "acl", "grpc")}
    )
    if setting is None:
        monkeypatch.delenv("PACSYS_PLUGINS", raising=False)
    else:
        monkeypatch.setenv("PACSYS_PLUGINS", setting)
    loaded = {p.name for p in Registry().plugins() if p.loaded} - {"pacsys.builtins"}
    assert loaded == expected


def test_resolve_factory_accepts_callables_and_import_paths() -> None:
    assert resolve_factory(FakeBackend) is FakeBackend
    assert resolve_factory("pacsys.testing:FakeBackend") is FakeBackend
    assert resolve_factory("pacsys.auth:JWTAuth.from_env").__name__ == "from_env"
    with pytest.raises(ValueError, match="module:attribute"):
        resolve_factory("pacsys.testing.FakeBackend")


@pytest.mark.parametrize("bad", ["", " x", "x "])
def test_spec_names_are_validated(bad: str) -> None:
    with pytest.raises(ValueError, match="name must be a non-empty string"):
        BackendSpec(bad, FakeBackend)
