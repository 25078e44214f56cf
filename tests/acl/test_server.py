"""ACLServer (the CGI emulator) over real loopback HTTP, with the ACL client and raw httpx."""

from __future__ import annotations

import socket
import threading

import httpx
import pytest

import pacsys
from pacsys.hookspecs import ServedEndpoint
from pacsys.registry import Registry
from pacsys.types import BackendCapability, ValueType
from pacsys_acl import plugin
from pacsys_acl.backend import ACLBackend
from pacsys_acl.server import ACLServer, decode_query


def _get(server: ACLServer, query: str, method: str = "GET") -> httpx.Response:
    return httpx.request(method, f"http://{server.address}{query}", timeout=5)


def _acl_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("pacsys-acl")]


# --- the CGI query format ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "script"),
    [
        ("acl=read+M:OUTTMP", "read M:OUTTMP"),
        ("acl=read+M:OUTTMP\\;read+G:AMANDA", "read M:OUTTMP;read G:AMANDA"),
        ("acl=read/pendwait+M:X/event=%27e,02%27", "read/pendwait M:X/event='e,02'"),
        ("acl=read%20M:X&junk=1;x", "read M:X&junk=1;x"),
        ("x=1&acl=read+M:X", "read M:X"),
        ("other=1", None),
        ("", None),
    ],
)
def test_decode_query(query: str, script: str | None) -> None:
    assert decode_query(query) == script


def test_every_form_through_the_client(acl_server) -> None:
    drfs = [
        "M:OUTTMP",
        "G:AMANDA",
        "M~OUTTMP",
        "M:OUTTMP.RAW",
        "Z:ACLTST.RAW",
        "Z:ACLTST.MAX",
        "Z:ACLTST.MIN",
        "Z:ACLTST.STATUS",
        "N|LGXS",
        "Z:ACLTST.STATUS.ON",
        "B:HS23T",
        "B:HS23T[1:2]@I",
        "M_OUTTMP",
        "M:OUTTMP@e,02",
        "M:OUTTMP@U",
    ]
    with ACLBackend(acl_server.url, timeout=5) as backend:
        readings = backend.get_many(drfs)
    assert all(r.ok for r in readings), [r.message for r in readings if not r.ok]
    assert [r.value for r in readings] == [
        72.5,
        66.0,
        "Outdoor temperature (F)",
        b"\x9f\x2c",
        b"\xf0\x42\x00\x00",
        50.0,
        -4.007,
        {"on": False, "ready": True, "positive": False, "ramp": False},
        {"on": False, "ready": True, "remote": False, "positive": True, "ramp": False},
        False,
        [45.0, 2.2, 2.0, 102.819],
        [2.2, 2.0],
        70.0,
        72.48,
        72.5,
    ]
    assert readings[2].value_type is ValueType.TEXT
    assert readings[7].value_type is ValueType.BASIC_STATUS


def test_bad_device_in_batch(acl_server, spec_backend) -> None:
    with ACLBackend(acl_server.url, timeout=5) as backend:
        outtmp, bad, amanda = backend.get_many(["M:OUTTMP", "Z:BAD", "G:AMANDA"])
    assert (outtmp.value, amanda.value) == (72.5, 66.0)
    assert bad.error_code == -1
    assert bad.message == "Invalid device name (Z:BAD) in read device command at line 1 - DBM_NOREC"
    # batch (aborted at Z:BAD) + one fallback read per device
    assert spec_backend.reads.count("M:OUTTMP") == 2
    assert spec_backend.reads.count("G:AMANDA") == 1


def test_cgi_bodies(acl_server) -> None:
    ok = _get(acl_server, "/cgi-bin/acl.pl?acl=read+M:OUTTMP\\;read+G:AMANDA")
    assert ok.status_code == 200
    assert ok.headers["content-type"] == "text/plain; charset=utf-8"
    assert ok.text == "M:OUTTMP       =  72.500 DegF\nG:AMANDA       =  66\n"
    aborted = _get(acl_server, "/cgi-bin/acl.pl?acl=read+M:OUTTMP\\;read+Z:BAD\\;read+G:AMANDA")
    assert aborted.text == (
        "M:OUTTMP       =  72.500 DegF\n"
        "Invalid device name (Z:BAD) in read device command at line 1 - DBM_NOREC\n"
    )
    syntax = _get(acl_server, "/cgi-bin/acl.pl?acl=read/raw+M:OUTTMP")
    assert syntax.text == "Invalid qualifier (/raw) in read command at line 1 - CLIB_SYNTAX\n"
    bare = _get(acl_server, "/cgi-bin/acl.pl?acl=read+M:OUTTMP;read+M:OUTTMP.RAW/raw")
    assert bare.text == "M:OUTTMP       =  72.500 DegF\nM:OUTTMP       = 2C9F\n"
    nothing = _get(acl_server, "/cgi-bin/acl.pl?acl=set+x+1")
    assert (nothing.status_code, nothing.text) == (200, "")


def test_http_statuses_and_head(acl_server) -> None:
    assert _get(acl_server, "/elsewhere?acl=read+M:OUTTMP").status_code == 404
    missing = _get(acl_server, "/cgi-bin/acl.pl?x=1")
    assert missing.status_code == 400 and "acl=" in missing.text
    head = _get(acl_server, "/cgi-bin/acl.pl?acl=read+M:OUTTMP", method="HEAD")
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) == len("M:OUTTMP       =  72.500 DegF\n")


def test_malformed_query_makes_client_fall_back(acl_server) -> None:
    with ACLBackend(acl_server.url.replace("acl.pl", "nope.pl"), timeout=5) as backend:
        reading = backend.get("M:OUTTMP")
    assert reading.error_code == -1 and "HTTP 404" in (reading.message or "")


# --- lifecycle and plugin wiring -----------------------------------------------------------


def test_lifecycle_leaves_nothing_running(spec_backend) -> None:
    server = ACLServer(spec_backend, port=0)
    assert not server.running and server.port == 0
    with server:
        port = server.port
        assert port > 0 and server.address == f"127.0.0.1:{port}"
        assert server.client_env() == {"PACSYS_ACL_URL": f"http://127.0.0.1:{port}/cgi-bin/acl.pl"}
        assert _get(server, "/cgi-bin/acl.pl?acl=read+G:AMANDA").status_code == 200
        assert any(name.startswith("pacsys-acl-server-") for name in _acl_threads())
        assert server.wait(0.05) is False
    assert server.wait(0) is True
    assert _acl_threads() == []
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass
    server.stop()  # idempotent


def test_wait_returns_when_stopped_elsewhere(spec_backend) -> None:
    server = ACLServer(spec_backend).start()
    stopper = threading.Thread(target=server.stop, name="test-acl-stopper")
    stopper.start()
    assert server.wait(5) is True
    stopper.join(5)
    assert not server.running


def test_constructor_validation(spec_backend) -> None:
    for bad in (-1, 70000, "80", True):
        with pytest.raises(ValueError, match="port"):
            ACLServer(spec_backend, port=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="path"):
        ACLServer(spec_backend, path="acl.pl")
    with pytest.raises(TypeError):
        ACLServer(object())  # type: ignore[arg-type]


def test_acl_factory_uses_the_server_env(acl_server, monkeypatch, clean_pacsys) -> None:
    for key, value in acl_server.client_env().items():
        monkeypatch.setenv(key, value)
    with pacsys.acl() as backend:
        assert backend.read("M:OUTTMP") == 72.5
    with pacsys.acl(base_url=acl_server.url, timeout=3.0) as backend:
        assert backend.timeout == 3.0
        assert backend.read("G:AMANDA") == 66.0


def test_plugin_declarations(spec_backend) -> None:
    registry = Registry(load_entry_points=False)
    registry.register(plugin, name="acl-under-test")
    spec = registry.backend("acl")
    assert spec.capabilities == BackendCapability.READ | BackendCapability.BATCH
    assert spec.load() is ACLBackend
    server_spec = registry.servers()["acl"]
    assert (server_spec.option, server_spec.option_kwarg, server_spec.default) == (
        "--acl-port",
        "port",
        10080,
    )
    endpoint = server_spec.load()(spec_backend, **{server_spec.option_kwarg: 0})
    assert isinstance(endpoint, ServedEndpoint)
    with endpoint:
        with ACLBackend(endpoint.client_env()["PACSYS_ACL_URL"], timeout=5) as backend:
            assert backend.read("M:OUTTMP") == 72.5


# --- the simulator behind the emulator ------------------------------------------------------


def test_against_sim_backend() -> None:
    sim = pytest.importorskip("pacsys.sim")
    with sim.SimBackend() as backend, ACLServer(backend) as server:
        with ACLBackend(server.url, timeout=5) as client:
            tst, raw, txt, desc, bad = client.get_many(
                ["Z:ACLTST", "Z:SIMRAW.RAW", "Z:SIMTXT", "M~OUTTMP", "Z:NOTFND"]
            )
            status = client.get("Z:SIMPS.STATUS")
            wave = client.read("Z:SIMWAV")
    assert tst.value == 40.0
    assert raw.value == bytes(range(0, 256, 17))
    assert txt.value == "Hello from the pacsys simulator"
    assert desc.value == "Outdoor temperature"
    assert bad.message is not None and bad.message.endswith("DBM_NOREC")
    assert status.value_type is ValueType.BASIC_STATUS
    assert set(status.value) == {"on", "ready", "remote", "positive", "ramp"}
    assert isinstance(wave, list) and len(wave) == 1024


def test_emulator_is_read_only_by_default(spec_backend) -> None:
    query = "/cgi-bin/acl.pl?acl=set+M:OUTTMP+1\\;read+M:OUTTMP"
    with ACLServer(spec_backend) as server:
        refused = _get(server, query)
    assert refused.text == (
        "Settings are disabled in set device command at line 1 - M:OUTTMP DIO_NOPRIV\n"
    )
    assert spec_backend.writes == []
    with ACLServer(spec_backend, allow_settings=True) as server:
        allowed = _get(server, query)
    assert allowed.text == "M:OUTTMP       =  1.000 DegF\n"
    assert spec_backend.writes == [("M:OUTTMP", 1.0)]


@pytest.mark.parametrize(
    ("script", "line"),
    [
        ("set Z:ACLTST/ 45", "Empty qualifier in (Z:ACLTST/) at line 1 - CLIB_SYNTAX"),
        (
            "x = " + "(" * 1000 + "1" + ")" * 1000,
            "Expression nested more than 100 levels deep at line 1 - CLIB_SYNTAX",
        ),
    ],
)
def test_hostile_scripts_get_a_syntax_line_not_a_500(acl_server, script: str, line: str) -> None:
    from urllib.parse import quote

    reply = _get(acl_server, f"/cgi-bin/acl.pl?acl={quote(script)}")
    assert (reply.status_code, reply.text) == (200, line + "\n")
