"""ACLBackend against a scripted HTTP peer on loopback: every response form and failure."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from pacsys.errors import DeviceError, ReadError
from pacsys.types import BackendCapability, ValueType
from pacsys_acl.backend import ACLBackend

OUTTMP = "M:OUTTMP       =  72.5 DegF"
AMANDA = "G:AMANDA       =  66"


@pytest.fixture
def backend(cgi):
    with ACLBackend(cgi.url, timeout=2.0) as b:
        yield b


# --- request format -----------------------------------------------------------------------


def test_single_read_request_target(cgi, backend) -> None:
    cgi.answer("read+M:OUTTMP", OUTTMP + "\n")
    assert backend.read("M:OUTTMP") == 72.5
    assert cgi.targets == ["/cgi-bin/acl.pl?acl=read+M:OUTTMP"]


def test_batch_is_one_request(cgi, backend) -> None:
    cgi.answer("read+M:OUTTMP\\;read+G:AMANDA", f"{OUTTMP}\n{AMANDA}")
    readings = backend.get_many(["M:OUTTMP", "G:AMANDA"])
    assert [r.value for r in readings] == [72.5, 66.0]
    assert all(r.value_type is ValueType.SCALAR and r.facility_code == 0 for r in readings)
    assert all(r.timestamp is not None and r.timestamp.tzinfo is not None for r in readings)
    assert cgi.scripts == ["read+M:OUTTMP\\;read+G:AMANDA"]


def test_special_characters_are_sent_raw(cgi, backend) -> None:
    script = (
        "read+B:HS23T[0:3]\\;read/pendwait+M:OUTTMP.READING.RAW/raw/event='e,0f'"
        "\\;read+M:OUTTMP@U\\;read+Z:ACLTST.RAW{0:2}/raw"
    )
    cgi.answer(script, "B:HS23T = 1  2  3  4\nM:OUTTMP = 2C9F\nM:OUTTMP =  1.5\nZ:ACLTST = 0102")
    readings = backend.get_many(
        ["B:HS23T[0:3]", "M:OUTTMP.RAW@e,0f", "M:OUTTMP@U", "Z:ACLTST.RAW{0:2}"]
    )
    assert cgi.targets == [f"/cgi-bin/acl.pl?acl={script}"]
    assert [r.value for r in readings] == [[1.0, 2.0, 3.0, 4.0], b"\x9f\x2c", 1.5, b"\x02\x01"]


# --- every response form ------------------------------------------------------------------

FORMS = [
    ("M:OUTTMP", "read+M:OUTTMP", OUTTMP, ValueType.SCALAR, 72.5),
    ("G:AMANDA", "read+G:AMANDA", "G:AMANDA       =  66    oops", ValueType.SCALAR, 66.0),
    (
        "Z:ACLTST.MAX",
        "read+Z:ACLTST.MAX",
        "Z:ACLTST alarm maximum = 50 blip",
        ValueType.SCALAR,
        50.0,
    ),
    (
        "Z:ACLTST.MIN",
        "read+Z:ACLTST.MIN",
        "Z:ACLTST alarm minimum = -4.007 DegF",
        ValueType.SCALAR,
        -4.007,
    ),
    (
        "B:HS23T",
        "read+B:HS23T",
        "B:HS23T = 45  2.2  2  102.81933",
        ValueType.SCALAR_ARRAY,
        [45.0, 2.2, 2.0, 102.81933],
    ),
    (
        "M~OUTTMP",
        "read+M:OUTTMP.DESCRIPTION",
        "M:OUTTMP = Outdoor temperature (F)",
        ValueType.TEXT,
        "Outdoor temperature (F)",
    ),
    ("M:OUTTMP.RAW", "read+M:OUTTMP.RAW/raw", "M:OUTTMP       = 2C9F", ValueType.RAW, b"\x9f\x2c"),
    (
        "Z:ACLTST.RAW",
        "read+Z:ACLTST.RAW/raw",
        "Z:ACLTST       = 000042F0",
        ValueType.RAW,
        b"\xf0\x42\x00\x00",
    ),
    (
        "Z:ACLTST.STATUS.ON",
        "read+Z:ACLTST.STATUS.ON",
        "Z:ACLTST is on = True",
        ValueType.SCALAR,
        True,
    ),
    ("X:MODE", "read+X:MODE", "X:MODE = MODE - MAIN_INJ", ValueType.TEXT, "MODE - MAIN_INJ"),
    ("X:BARE", "read+X:BARE", "  12.68", ValueType.SCALAR, 12.68),
]


@pytest.mark.parametrize(("drf", "script", "line", "value_type", "value"), FORMS)
def test_response_forms_single(cgi, backend, drf, script, line, value_type, value) -> None:
    cgi.answer(script, line + "\n")
    reading = backend.get(drf)
    assert reading.ok, reading.message
    assert reading.value_type is value_type
    assert reading.value == value
    assert reading.drf == drf


def test_response_forms_in_one_batch(cgi, backend) -> None:
    cgi.answer("\\;".join(f[1] for f in FORMS), "\n".join(f[2] for f in FORMS) + "\n")
    readings = backend.get_many([f[0] for f in FORMS])
    assert len(cgi.targets) == 1
    assert [(r.value_type, r.value) for r in readings] == [(f[3], f[4]) for f in FORMS]


# --- errors and fallbacks -----------------------------------------------------------------

BAD = "Invalid device name (Z:BAD) - DIO_NO_SUCH"


def test_batch_with_bad_device_falls_back(cgi, backend) -> None:
    cgi.answer("read+M:OUTTMP\\;read+Z:BAD\\;read+G:AMANDA", BAD)
    cgi.answer("read+M:OUTTMP", OUTTMP)
    cgi.answer("read+Z:BAD", BAD)
    cgi.answer("read+G:AMANDA", AMANDA)
    readings = backend.get_many(["M:OUTTMP", "Z:BAD", "G:AMANDA"])
    assert cgi.scripts == [
        "read+M:OUTTMP\\;read+Z:BAD\\;read+G:AMANDA",
        "read+M:OUTTMP",
        "read+Z:BAD",
        "read+G:AMANDA",
    ]
    assert readings[0].value == 72.5 and readings[2].value == 66.0
    bad = readings[1]
    assert (bad.facility_code, bad.error_code, bad.message) == (0, -1, BAD)
    assert not bad.ok and bad.value is None
    with pytest.raises(DeviceError) as info:
        backend.read("Z:BAD")
    assert info.value.error_code == -1 and info.value.message == BAD


def test_bang_error_line(cgi, backend) -> None:
    cgi.answer("read+Z:GONE", "! Device not found")
    reading = backend.get("Z:GONE")
    assert (reading.error_code, reading.message) == (-1, "Device not found")


def test_line_count_mismatch_falls_back(cgi, backend) -> None:
    cgi.answer("read+M:OUTTMP\\;read+G:AMANDA", OUTTMP)
    cgi.answer("read+M:OUTTMP", OUTTMP)
    cgi.answer("read+G:AMANDA", AMANDA)
    assert [r.value for r in backend.get_many(["M:OUTTMP", "G:AMANDA"])] == [72.5, 66.0]
    assert len(cgi.targets) == 3


@pytest.mark.parametrize("status", [500, 404, 302, 301])
def test_http_error_status(cgi, backend, canned, status) -> None:
    cgi.answer("read+M:OUTTMP\\;read+G:AMANDA", canned("oops", status=status))
    cgi.answer("read+M:OUTTMP", canned(OUTTMP, status=status))
    cgi.answer("read+G:AMANDA", AMANDA)
    readings = backend.get_many(["M:OUTTMP", "G:AMANDA"])
    url = f"{cgi.url}?acl=read+M:OUTTMP"
    assert readings[0].message == f"ACL request failed ({url}): HTTP {status}"
    assert readings[0].error_code == -1
    assert readings[1].value == 66.0
    with pytest.raises(DeviceError, match=f"HTTP {status}"):
        backend.read("M:OUTTMP")


def test_connection_refused() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/cgi-bin/acl.pl"
    with ACLBackend(url, timeout=2.0) as backend:
        reading = backend.get("M:OUTTMP")
        assert reading.error_code == -1
        assert reading.message is not None
        assert reading.message.startswith(f"ACL request failed ({url}): ")
        with pytest.raises(DeviceError, match="ACL request failed"):
            backend.read("M:OUTTMP")


def test_empty_body_is_an_error(cgi, backend) -> None:
    cgi.answer("read+M:OUTTMP", "\n")
    assert backend.get("M:OUTTMP").message == "Empty response from ACL"


def test_raw_garbage_is_an_error(cgi, backend) -> None:
    cgi.answer("read+M:OUTTMP.RAW/raw", "M:OUTTMP = zz top")
    reading = backend.get("M:OUTTMP.RAW")
    assert reading.error_code == -1
    assert reading.message == "No hex data found in ACL /raw output: M:OUTTMP = zz top"


def test_batch_parse_failure_only_hits_that_drf(cgi, backend) -> None:
    cgi.answer("read+M:OUTTMP\\;read+Z:ACLTST.STATUS.ON", f"{OUTTMP}\nZ:ACLTST is on = perhaps")
    ok, bad = backend.get_many(["M:OUTTMP", "Z:ACLTST.STATUS.ON"])
    assert ok.value == 72.5
    assert bad.message == "Unparseable ON line: Z:ACLTST is on = perhaps"
    assert len(cgi.targets) == 1


def test_malformed_body_bytes_do_not_hang(cgi, backend, canned) -> None:
    cgi.answer("read+M:OUTTMP", canned(b"\xff\xfe\x00garbage\x80 = \xc3"))
    reading = backend.get("M:OUTTMP")
    assert reading.value_type is ValueType.TEXT
    assert "\ufffd" in reading.value


def test_truncated_body_is_a_transport_error(cgi, backend, canned) -> None:
    cgi.answer("read+M:OUTTMP", canned(OUTTMP, truncate=True))
    started = time.monotonic()
    reading = backend.get("M:OUTTMP")
    assert time.monotonic() - started < 2.0
    assert reading.error_code == -1
    assert reading.message is not None and reading.message.startswith("ACL request failed (")


def test_charset_is_honoured(cgi, backend, canned) -> None:
    body = "M:OUTTMP = Température extérieure".encode("latin-1")
    cgi.answer(
        "read+M:OUTTMP.DESCRIPTION",
        canned(body, content_type="text/plain; charset=iso-8859-1"),
    )
    assert backend.read("M:OUTTMP.DESCRIPTION") == "Température extérieure"


# --- timeouts -----------------------------------------------------------------------------


def test_slow_server_times_out(cgi, canned) -> None:
    cgi.answer("read+M:OUTTMP\\;read+G:AMANDA", canned(OUTTMP, delay=10))
    with ACLBackend(cgi.url, timeout=0.3) as backend:
        started = time.monotonic()
        with pytest.raises(ReadError) as info:
            backend.get_many(["M:OUTTMP", "G:AMANDA"])
        assert time.monotonic() - started < 2.0
    err = info.value
    assert err.message == "ACL request timeout"
    assert [r.error_code for r in err.readings] == [-6, -6]
    assert err.readings[0].message == f"ACL request timed out after 0.3s ({cgi.url})"
    assert isinstance(err.__cause__, DeviceError)
    assert len(cgi.targets) == 1  # no fallback after a timeout


def test_read_timeout_raises_read_error(cgi, canned) -> None:
    cgi.answer("read+M:OUTTMP", canned(OUTTMP, delay=10))
    with ACLBackend(cgi.url) as backend:
        with pytest.raises(ReadError) as info:
            backend.read("M:OUTTMP", timeout=0.2)
    assert isinstance(info.value.__cause__, DeviceError)
    assert info.value.__cause__.error_code == -6


def test_budget_exhausted_for_later_requests(cgi, canned) -> None:
    cgi.answer("read+M:OUTTMP\\;read+G:AMANDA", canned("not enough lines"))
    cgi.answer("read+M:OUTTMP", canned(OUTTMP, delay=10))
    cgi.answer("read+G:AMANDA", AMANDA)
    with ACLBackend(cgi.url, timeout=0.3) as backend:
        with pytest.raises(ReadError) as info:
            backend.get_many(["M:OUTTMP", "G:AMANDA", "N|LGXS"])
    first, second, status = info.value.readings
    assert first.error_code == -6 and "timed out" in (first.message or "")
    assert (second.error_code, second.message) == (-6, "ACL request timeout: budget exhausted")
    assert (status.error_code, status.message) == (-6, "ACL request timeout: budget exhausted")
    assert cgi.scripts == ["read+M:OUTTMP\\;read+G:AMANDA", "read+M:OUTTMP"]


# --- basic status -------------------------------------------------------------------------

STATUS_ANSWERS = {
    "read+Z:ACLTST.STATUS.ON": "Z:ACLTST is on = False",
    "read+Z:ACLTST.STATUS.READY": "Z:ACLTST is ready = True",
    "read+Z:ACLTST.STATUS.REMOTE": (
        "Error determining status text in read device command at line 1 - Z:ACLTST DIO_NOATT"
    ),
    "read+Z:ACLTST.STATUS.POSITIVE": "Z:ACLTST is positive = False",
    "read+Z:ACLTST.STATUS.RAMP": "Z:ACLTST is ramping = False",
}


def test_basic_status_composition(cgi, backend) -> None:
    for script, line in STATUS_ANSWERS.items():
        cgi.answer(script, line)
    reading = backend.get("Z:ACLTST.STATUS")
    assert reading.value_type is ValueType.BASIC_STATUS
    assert reading.value == {"on": False, "ready": True, "positive": False, "ramp": False}
    assert cgi.scripts == list(STATUS_ANSWERS)


def test_basic_status_with_other_devices(cgi, backend) -> None:
    for script, line in STATUS_ANSWERS.items():
        cgi.answer(script, line)
    cgi.answer("read+M:OUTTMP", OUTTMP)
    outtmp, status = backend.get_many(["M:OUTTMP", "Z|ACLTST[3]@I"])
    assert outtmp.value == 72.5
    assert status.value == {"on": False, "ready": True, "positive": False, "ramp": False}
    assert status.drf == "Z|ACLTST[3]@I"


def test_basic_status_error_stops_early(cgi, backend) -> None:
    cgi.answer("read+Z:ACLTST.STATUS.ON", "Z:ACLTST is on = True")
    line = "Invalid device name (Z:ACLTST) in read device command at line 1 - DBM_NOREC"
    cgi.answer("read+Z:ACLTST.STATUS.READY", line)
    reading = backend.get("Z:ACLTST.STATUS")
    assert (reading.error_code, reading.message) == (-1, line)
    assert len(cgi.targets) == 2


def test_basic_status_http_failure_and_bad_line(cgi, backend, canned) -> None:
    cgi.answer("read+Z:ACLTST.STATUS.ON", canned("", status=503))
    assert backend.get("Z:ACLTST.STATUS").message.endswith("HTTP 503")
    cgi.answer("read+Z:ACLTST.STATUS.ON", "Z:ACLTST is on = sort of")
    assert backend.get("Z:ACLTST.STATUS").message == "Unparseable ON line: Z:ACLTST is on = sort of"


# --- refusals, validation, lifecycle --------------------------------------------------------


def test_refused_drfs_make_no_request(cgi, backend) -> None:
    periodic, logger = backend.get_many(["M:OUTTMP@p,1000", "M:OUTTMP<-LOGGER:1000:2000"])
    assert (periodic.facility_code, periodic.error_code) == (0, -1)
    assert "periodic/streaming events" in (periodic.message or "")
    assert "<- extra/logger qualifier" in (logger.message or "")
    assert cgi.targets == []
    with pytest.raises(DeviceError):
        backend.read("M:OUTTMP@p,1000")


def test_malformed_drf_raises_before_io(cgi, backend) -> None:
    with pytest.raises(ValueError):
        backend.get_many(["M:OUTTMP", "M:OUTTMP.NOPE"])
    assert cgi.targets == []
    assert backend.get_many([]) == []


def test_execute_is_verbatim(cgi, backend, canned) -> None:
    command = (
        "device_list/create+devs+devices='M:OUTTMP,G:AMANDA'"
        "\\;read_list/no_name/no_units+device_list=devs"
    )
    cgi.answer(command, "  72.500\n  66\n")
    assert backend.execute(command) == "  72.500\n  66\n"
    assert cgi.targets == [f"/cgi-bin/acl.pl?acl={command}"]
    cgi.answer("read+Z:X", canned("", status=500))
    with pytest.raises(DeviceError) as info:
        backend.execute("read+Z:X")
    assert info.value.drf == "" and "HTTP 500" in str(info.value)
    cgi.answer("read+Z:SLOW", canned("", delay=10))
    with pytest.raises(ReadError):
        backend.execute("read+Z:SLOW", timeout=0.2)
    with pytest.raises(ValueError):
        backend.execute("")


def test_read_only_and_no_streaming(backend) -> None:
    caps = backend.capabilities
    assert caps == BackendCapability.READ | BackendCapability.BATCH
    assert not caps & (BackendCapability.WRITE | BackendCapability.STREAM)
    with pytest.raises(NotImplementedError, match="read-only"):
        backend.write("M:OUTTMP", 1.0)
    with pytest.raises(NotImplementedError, match="read-only"):
        backend.write_many([("M:OUTTMP", 1.0)])
    with pytest.raises(NotImplementedError, match="cannot stream"):
        backend.subscribe(["M:OUTTMP@p,1000"])
    with pytest.raises(NotImplementedError, match="cannot stream"):
        backend.stop_streaming()


def test_closed_backend(cgi) -> None:
    backend = ACLBackend(cgi.url)
    backend.close()
    backend.close()
    for call in (
        lambda: backend.read("M:OUTTMP"),
        lambda: backend.get("M:OUTTMP"),
        lambda: backend.get_many(["M:OUTTMP"]),
        lambda: backend.execute("read+M:OUTTMP"),
    ):
        with pytest.raises(RuntimeError, match="Backend is closed"):
            call()
    assert cgi.targets == []


@pytest.mark.parametrize("timeout", [0, -1, float("nan"), float("inf"), True, "5"])
def test_bad_timeouts(cgi, timeout) -> None:
    with pytest.raises(ValueError, match="timeout"):
        ACLBackend(cgi.url, timeout=timeout)
    with ACLBackend(cgi.url) as backend:
        with pytest.raises(ValueError, match="timeout"):
            backend.get_many(["M:OUTTMP"], timeout=timeout)
    assert cgi.targets == []


def test_base_url_resolution(cgi, monkeypatch) -> None:
    with pytest.raises(ValueError, match="base_url cannot be empty"):
        ACLBackend("")
    with pytest.raises(ValueError, match="http"):
        ACLBackend("ftp://example/acl.pl")
    monkeypatch.delenv("PACSYS_ACL_URL", raising=False)
    with ACLBackend() as backend:
        assert backend.base_url == "https://www-bd.fnal.gov/cgi-bin/acl.pl"
        assert backend.timeout == 5.0
    monkeypatch.setenv("PACSYS_ACL_URL", cgi.url)
    cgi.answer("read+M:OUTTMP", OUTTMP)
    with ACLBackend() as backend:
        assert backend.read("M:OUTTMP") == 72.5
    assert "cgi-bin" in repr(backend) and "closed" in repr(backend)


def test_concurrent_reads(cgi, backend) -> None:
    cgi.answer("read+M:OUTTMP", OUTTMP)
    results: list[float] = []
    errors: list[BaseException] = []

    def reader() -> None:
        try:
            for _ in range(5):
                results.append(backend.read("M:OUTTMP"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=reader, name=f"test-acl-reader-{i}") for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert not errors
    assert results == [72.5] * 20
