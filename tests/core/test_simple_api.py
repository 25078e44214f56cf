"""The simple API (docs/protocols/semantics.md §7): configure, env, lifecycle, resolution."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest

import pacsys
from pacsys import _simple
from pacsys.config import read_environment
from pacsys.hookspecs import BackendSpec, hookimpl
from pacsys.registry import TransportNotInstalledError, get_registry
from pacsys.testing import FakeBackend
from pacsys.types import BasicControl

pytestmark = pytest.mark.usefixtures("clean_pacsys")

CREATED: list[FakeBackend] = []


def make_fake(**kwargs) -> FakeBackend:
    backend = FakeBackend()
    backend.kwargs = kwargs  # type: ignore[attr-defined]
    backend.set_reading("M:OUTTMP", 72.5)
    CREATED.append(backend)
    return backend


class FakePlugin:
    @hookimpl
    def pacsys_backends(self) -> list[BackendSpec]:
        return [
            BackendSpec(
                "fake",
                make_fake,
                "test double",
                settings={"host": "dpm_host", "timeout": "default_timeout", "auth": "auth"},
                auth_kinds=("jwt",),
                label="Fake",
            ),
            BackendSpec(
                "strict", make_fake, "needs auth", auth_kinds=("kerberos",), auth_required=True
            ),
            BackendSpec("roley", make_fake, "takes a role", uses_role=True, label="Roley"),
        ]


@pytest.fixture(autouse=True)
def fake_plugin():
    CREATED.clear()
    with get_registry().plugin(FakePlugin(), "test-fake-plugin"):
        yield


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"dpm_host": ""}, "dpm_host must be a non-empty string or None"),
        ({"devdb_host": "  "}, "devdb_host must be a non-empty string or None"),
        ({"dpm_port": 0}, "dpm_port must be an integer from 1 to 65535 or None"),
        ({"devdb_port": True}, "devdb_port must be an integer from 1 to 65535 or None"),
        ({"dpm_port": 70000}, "dpm_port must be an integer from 1 to 65535 or None"),
        ({"pool_size": 0}, "pool_size must be a positive integer or None"),
        ({"pool_size": 2.0}, "pool_size must be a positive integer or None"),
        (
            {"default_timeout": float("inf")},
            "default_timeout must be a positive finite number or None",
        ),
        ({"default_timeout": -1}, "default_timeout must be a positive finite number or None"),
        ({"default_timeout": True}, "default_timeout must be a positive finite number or None"),
        ({"backend": "nosuch"}, "Invalid backend 'nosuch', must be one of"),
        ({"auth": "password"}, "auth string must be one of"),
        ({"backend": "strict"}, "strict backend requires KerberosAuth"),
        ({"backend": "roley", "auth": pacsys.JWTAuth("a.b.c")}, "Roley backend does not use auth"),
    ],
)
def test_configure_rejects_bad_values_before_changing_anything(kwargs, message) -> None:
    pacsys.configure(dpm_host="before.example")
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        pacsys.configure(**kwargs)
    assert _simple.current_settings().value("dpm_host") == "before.example"


def test_role_for_a_backend_without_roles_names_those_with_roles() -> None:
    # "the Roley and DPM backends" when pacsys-dpm is installed too
    message = r"role is only used by the Roley( and DPM)? backends?, not 'fake'"
    with pytest.raises(ValueError, match=message):
        pacsys.configure(backend="fake", role="testing")


def test_configure_rejects_wrong_auth_kind() -> None:
    class OtherAuth(pacsys.Auth):
        kind = "kerberos"

        @property
        def principal(self) -> str:
            return "me"

    with pytest.raises(ValueError, match="Fake backend auth must be JWTAuth or None"):
        pacsys.configure(backend="fake", auth=OtherAuth())
    with pytest.raises(ValueError, match="auth must be an Auth object"):
        pacsys.configure(auth=42)


def test_known_transport_missing_or_disabled_names_distribution(monkeypatch) -> None:
    monkeypatch.setattr(get_registry(), "_collect", _without("grpc", get_registry()._collect))
    with pytest.raises(TransportNotInstalledError, match="pacsys-grpc"):
        pacsys.configure(backend="grpc")


def _without(name, collect):
    def collect_without(hook, spec_type):
        found = collect(hook, spec_type)
        found.pop(name, None)
        return found

    return collect_without


def test_global_backend_uses_settings_and_none_clears() -> None:
    pacsys.configure(backend="fake", dpm_host="h1", default_timeout=2.5)
    assert pacsys.read("M:OUTTMP") == 72.5
    assert CREATED[-1].kwargs == {"host": "h1", "timeout": 2.5}
    pacsys.configure(dpm_host=None)  # clear: back to the default
    pacsys.read("M:OUTTMP")
    assert CREATED[-1].kwargs == {"host": "acsys-proxy.fnal.gov", "timeout": 2.5}
    assert len(CREATED) == 2


def test_configure_closes_the_current_backend_and_shutdown_keeps_settings() -> None:
    pacsys.configure(backend="fake")
    first = _simple.get_global_backend()
    pacsys.configure(default_timeout=1.0)
    assert first._closed  # type: ignore[attr-defined]
    second = _simple.get_global_backend()
    assert second is not first
    pacsys.shutdown()
    pacsys.shutdown()
    assert second._closed  # type: ignore[attr-defined]
    assert _simple.get_global_backend().kwargs["timeout"] == 1.0  # type: ignore[attr-defined]


def test_environment_variables_parse_and_fail_clearly() -> None:
    env = {"PACSYS_DPM_HOST": "proxy", "PACSYS_DPM_PORT": "6803", "PACSYS_TIMEOUT": "1.5"}
    assert read_environment(env) == {"dpm_host": "proxy", "dpm_port": 6803, "default_timeout": 1.5}
    with pytest.raises(
        ValueError, match="Environment variable PACSYS_POOL_SIZE must be an integer, got 'x'"
    ):
        read_environment({"PACSYS_POOL_SIZE": "x"})
    with pytest.raises(
        ValueError, match="Environment variable PACSYS_TIMEOUT must be a number, got 'soon'"
    ):
        read_environment({"PACSYS_TIMEOUT": "soon"})


def test_malformed_environment_fails_at_import() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import pacsys"],
        capture_output=True,
        text=True,
        env={"PACSYS_DPM_PORT": "sixty", "PATH": ""},
        timeout=60,
    )
    assert done.returncode != 0
    assert "Environment variable PACSYS_DPM_PORT must be an integer, got 'sixty'" in done.stderr


def test_configure_precedence_over_environment() -> None:
    settings = _simple.Settings(environment={"dpm_host": "from-env"})
    assert settings.value("dpm_host") == "from-env"
    assert settings.merged({"dpm_host": "explicit"}).value("dpm_host") == "explicit"
    assert (
        settings.merged({"dpm_host": "explicit"}).merged({"dpm_host": None}).value("dpm_host")
        == "from-env"
    )


def test_device_specs_and_bound_backends() -> None:
    pacsys.configure(backend="fake")
    other = FakeBackend()
    other.set_reading("M:OUTTMP", 1.0)
    bound = pacsys.Device("M:OUTTMP", backend=other)
    assert pacsys.read(bound) == 1.0
    assert pacsys.read(pacsys.Device("M:OUTTMP")) == 72.5
    assert [r.value for r in pacsys.get_many([bound, bound.with_event("I")])] == [1.0, 1.0]
    with pytest.raises(
        ValueError, match="All devices in one call must be bound to the same backend"
    ):
        pacsys.get_many([bound, "M:OUTTMP"])
    with pytest.raises(ValueError, match="All devices in one call must be bound"):
        pacsys.get_many([bound, pacsys.Device("M:OUTTMP", backend=FakeBackend())])
    with pytest.raises(TypeError, match="Expected str or Device, got int"):
        pacsys.read(42)  # type: ignore[arg-type]
    other.close()


def test_strings_are_passed_unchanged() -> None:
    pacsys.configure(backend="fake")
    pacsys.get_many(["m_outtmp", "M:OUTTMP@p,1000"])
    assert CREATED[-1].reads == ["m_outtmp", "M:OUTTMP@p,1000"]


def test_write_routes_basic_control_to_control_property() -> None:
    pacsys.configure(backend="fake")
    fake = _simple.get_global_backend()
    pacsys.write("Z:ACLTST", BasicControl.ON)
    pacsys.write("Z|ACLTST", BasicControl.OFF)
    pacsys.write("Z:ACLTST", 5.0)
    results = pacsys.write_many({"Z:ACLTST": BasicControl.RESET, "Z:ACLTST.SETTING": 1.0})
    assert [r.ok for r in results] == [True, True]
    assert [d for d, _ in fake.writes] == [
        "Z:ACLTST.CONTROL",
        "Z|ACLTST",
        "Z:ACLTST",
        "Z:ACLTST.CONTROL",
        "Z:ACLTST.SETTING",
    ]
    with pytest.raises(TypeError, match="write_many expects"):
        pacsys.write_many([("Z:A", 1.0, 2.0)])  # type: ignore[list-item]


def test_subscribe_and_read_many_through_global_backend() -> None:
    pacsys.configure(backend="fake")
    fake = _simple.get_global_backend()
    with pacsys.subscribe(["M:OUTTMP@p,1000"]) as sub:
        fake.emit_reading("M:OUTTMP@p,1000", 70.0)
        assert [r.value for r, _ in sub.readings(timeout=0)] == [70.0]
    assert pacsys.read_many(["M:OUTTMP"]) == [72.5]


def test_32_threads_share_one_lazily_created_backend() -> None:
    pacsys.configure(backend="fake")
    barrier = threading.Barrier(32)
    results: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        barrier.wait(5)
        for _ in range(20):
            value = pacsys.read("M:OUTTMP")
            with lock:
                results.append(value)

    threads = [threading.Thread(target=worker) for _ in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(CREATED) == 1  # exactly one global backend despite concurrent first calls
    assert results == [72.5] * 640
    assert len(CREATED[0].reads) == 640


def test_factories_resolve_through_registry(monkeypatch) -> None:
    calls = []

    def fake_create(name, **kwargs):
        calls.append((name, kwargs))
        return FakeBackend()

    monkeypatch.setattr(get_registry(), "create_backend", fake_create)
    pacsys.dpm(host="h", port=1, pool_size=3)
    pacsys.dpm_http(pool_size=2)
    pacsys.grpc(host="g")
    pacsys.dmq(write_session_ttl=3.0)
    pacsys.acl(base_url="http://x")
    assert [name for name, _ in calls] == ["dpm_http", "dpm_http", "grpc", "dmq", "acl"]
    assert calls[0][1]["host"] == "h" and calls[0][1]["pool_size"] == 3
    assert calls[1][1]["pool_size"] == 2
    assert calls[2][1]["host"] == "g"
    assert calls[3][1]["write_session_ttl"] == 3.0
    assert calls[4][1] == {"base_url": "http://x", "timeout": None}
    assert pacsys.dpm is pacsys.dpm_http
