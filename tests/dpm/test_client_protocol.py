"""DPM client against a scripted peer: a real loopback socket speaking codec bytes.

These cover protocol edge cases a well-behaved server never produces (malformed
frames, HTTP rejection, silence) and byte-exact conformance with the reference
conversations in ``tests/vectors/dpm_vectors.json``.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pacsys.errors import ReadError
from pacsys.types import ValueType
from pacsys_dpm.client import DPMConnection, DPMConnectionError, DPMHTTPBackend
from pacsys_dpm.client.writes import authenticate, make_setting, run_write, service_principal
from pacsys_dpm.codec import (
    HANDSHAKE,
    DeviceInfoReply,
    DPMProtocolError,
    FrameDecoder,
    HeadReader,
    ListStatusReply,
    OpenListReply,
    Request,
    ScalarReply,
    StartListReply,
    StatusReply,
    TimedScalarArrayReply,
    decode_request,
    encode_message,
    frame,
)

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "dpm_vectors.json"
TS = 1704067200000


def _vectors() -> dict[str, dict[str, Any]]:
    import json

    return {v["name"]: v for v in json.loads(VECTORS.read_text("utf-8"))}


def _frames(hex_stream: str) -> list[bytes]:
    decoder = FrameDecoder()
    decoder.feed(bytes.fromhex(hex_stream))
    return [frame(body) for body in decoder]


# --------------------------------------------------------------------------- scripted peer


class PeerConn:
    """The server end of one accepted connection."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.received = bytearray()
        self._decoder = FrameDecoder()
        sock.settimeout(5.0)

    def handshake(self) -> None:
        reader = HeadReader()
        while reader.feed(self._recv()) is None:
            pass
        assert reader.head is not None and reader.head.is_dpm
        self._decoder.feed(reader.remainder)

    def _recv(self) -> bytes:
        data = self.sock.recv(65536)
        if not data:
            raise EOFError
        self.received += data
        return data

    def request(self) -> Request:
        while (body := self._decoder.next_frame()) is None:
            self._decoder.feed(self._recv())
        return decode_request(body)

    def until(self, name: str) -> list[Request]:
        got = []
        while True:
            got.append(self.request())
            if name == got[-1].NAME:
                return got

    def send(self, *replies: Any) -> None:
        self.sock.sendall(b"".join(frame(encode_message(r)) for r in replies))

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def at_eof(self, timeout: float = 5.0) -> bool:
        """True once the client closes its end (reads and drops anything else)."""
        self.sock.settimeout(timeout)
        try:
            while self.sock.recv(65536):
                pass
        except (TimeoutError, OSError):
            return False
        return True


class ScriptedPeer:
    """Accepts connections on loopback and runs ``script(conn)`` for each on a thread."""

    def __init__(self, script: Callable[[PeerConn], None]) -> None:
        self._script = script
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.errors: list[BaseException] = []
        self.connections = 0
        self._threads: list[threading.Thread] = []
        self._socks: list[socket.socket] = []
        self._accepting = threading.Thread(target=self._accept, name="scripted-peer", daemon=True)
        self._accepting.start()

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            self._socks.append(sock)
            thread = threading.Thread(target=self._serve, args=(sock,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, sock: socket.socket) -> None:
        try:
            self._script(PeerConn(sock))
        except (EOFError, ConnectionError):
            pass
        except BaseException as exc:  # surfaced by close()
            self.errors.append(exc)
        finally:
            sock.close()

    def close(self) -> None:
        try:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        except OSError:
            pass
        self._listener.close()
        self._accepting.join(5)
        for sock in self._socks:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for thread in self._threads:
            thread.join(5)
        assert not self.errors, self.errors


@pytest.fixture
def peer() -> Iterator[Callable[[Callable[[PeerConn], None]], ScriptedPeer]]:
    peers: list[ScriptedPeer] = []

    def make(script: Callable[[PeerConn], None]) -> ScriptedPeer:
        peers.append(ScriptedPeer(script))
        return peers[-1]

    yield make
    for p in peers:
        p.close()


def _backend(port: int, **kwargs: Any) -> DPMHTTPBackend:
    kwargs.setdefault("timeout", 2.0)
    return DPMHTTPBackend("127.0.0.1", port, auth=None, **kwargs)


# --------------------------------------------------------------------------- vectors


@pytest.mark.parametrize(
    "stem", ["stream_oneshot_single", "stream_oneshot_batch_partial_failure",
             "stream_oneshot_addtolist_replies"]
)  # fmt: skip
def test_oneshot_conversation_is_byte_exact(peer: Any, stem: str) -> None:
    vectors = _vectors()
    client_hex = vectors[f"{stem}_client"]["hex"]
    server = _frames(vectors[f"{stem}_server"]["hex"])
    done = threading.Event()
    captured: list[bytes] = []

    def script(conn: PeerConn) -> None:
        conn.handshake()
        conn.send_raw(server[0])
        conn.until("StartList")
        conn.send_raw(b"".join(server[1:]))
        conn.until("ClearList")
        captured.append(HANDSHAKE + bytes(conn.received[len(HANDSHAKE) :]))
        done.set()
        conn.at_eof()

    p = peer(script)
    drfs = [f["fields"]["drf_request"] for f in vectors[f"{stem}_client"]["fields"]["frames"]
            if f["message"] == "AddToList"]  # fmt: skip
    caller = [d.replace(".READING@I", "") for d in drfs]
    with _backend(p.port) as backend:
        readings = backend.get_many(caller)
        assert done.wait(5)
    assert captured[0].hex() == client_hex
    assert [r.drf for r in readings] == caller
    assert readings[0].ok
    if stem == "stream_oneshot_addtolist_replies":
        assert readings[0].value == "72.5" and readings[0].value_type is ValueType.TEXT
        assert (readings[1].facility_code, readings[1].error_code) == (17, -26)
        return
    assert readings[0].value == 72.5 and readings[0].units == "DegF"
    assert readings[0].timestamp is not None and readings[0].timestamp.year == 2024
    assert readings[0].meta is not None and readings[0].meta.device_index == 27235
    if stem == "stream_oneshot_batch_partial_failure":
        bad, arr = readings[1], readings[2]
        assert not bad.ok and bad.value is None
        assert bad.message == "DPM_NO_SUCH_DEVICE: device not found (facility=17, error=-26)"
        assert arr.value_type is ValueType.SCALAR_ARRAY
        assert np.array_equal(arr.value, [1.0, 2.0, 3.0, 4.0]) and arr.units == "mm"


class _StandInContext:
    """GSS stand-in for the byte-exact write vector (placeholder tokens, as in the vector)."""

    def __init__(self, target: str, auth: Any) -> None:
        self.target = target
        self.complete = False

    def step(self, token: bytes | None) -> bytes:
        self.complete = True
        return bytes.fromhex("6082012a06092a864886f71201020201006e82")

    def get_mic(self, message: bytes) -> bytes:
        assert message == b"1234"
        return bytes.fromhex("040404ffffffffff00000000176d7c1a")


def test_write_conversation_is_byte_exact(peer: Any) -> None:
    vectors = _vectors()
    server = _frames(vectors["stream_write_server"]["hex"])
    done = threading.Event()
    captured: list[bytes] = []

    def script(conn: PeerConn) -> None:
        conn.handshake()
        conn.send_raw(server[0])
        conn.until("Authenticate")
        conn.send_raw(server[1])
        conn.until("Authenticate")
        conn.send_raw(server[2])
        conn.until("EnableSettings")
        conn.send_raw(server[3])
        conn.until("StartList")
        conn.send_raw(server[4] + server[5])
        conn.until("ApplySettings")
        conn.send_raw(server[6])
        conn.until("StopList")
        captured.append(bytes(conn.received))
        done.set()
        conn.at_eof()

    p = peer(script)
    conn = DPMConnection.open("127.0.0.1", p.port, 5.0)
    try:
        deadline = time.monotonic() + 5
        contexts: list[_StandInContext] = []

        def factory(target: str, auth: Any) -> _StandInContext:
            contexts.append(_StandInContext(target, auth))
            return contexts[-1]

        authenticate(conn, object(), deadline, context_factory=factory)
        outcomes, reusable = run_write(
            conn,
            ["Z:ACLTST.SETTING@N"],
            [make_setting(1, 72.5)],
            user_name="user@FNAL.GOV",
            role="testing",
            deadline=deadline,
        )
        assert done.wait(5)
    finally:
        conn.close()
    assert contexts[0].target == "daeset/bd/dpm06.fnal.gov@FNAL.GOV"
    assert outcomes == [(0, 0, None)] and reusable
    assert captured[0].hex() == vectors["stream_write_client"]["hex"]


def test_service_principal_translation() -> None:
    assert service_principal("daeset/bd@dpm06.fnal.gov") == "daeset/bd/dpm06.fnal.gov@FNAL.GOV"
    assert service_principal("a\\@b@host") == "a/b/host@FNAL.GOV"


# --------------------------------------------------------------------------- edge cases


def _open_and_start(conn: PeerConn, list_id: int = 4096) -> list[Request]:
    conn.handshake()
    conn.send(OpenListReply(list_id))
    return conn.until("StartList")


def test_malformed_frame_is_protocol_error_and_drops_connection(peer: Any) -> None:
    eof = []

    def script(conn: PeerConn) -> None:
        _open_and_start(conn)
        conn.send_raw(frame(b"SDD\x02garbage"))
        eof.append(conn.at_eof())

    p = peer(script)
    with _backend(p.port) as backend:
        started = time.monotonic()
        with pytest.raises(ReadError) as info:
            backend.get("M:OUTTMP")
        assert time.monotonic() - started < 1.5  # not a hang until the deadline
    assert "protocol error" in str(info.value)
    assert isinstance(info.value.__cause__, DPMProtocolError)
    reading = info.value.readings[0]
    assert (reading.facility_code, reading.error_code) == (1, -1)
    p.close()
    assert eof == [True]


@pytest.mark.parametrize("length", [0, (1 << 20) + 1])
def test_invalid_frame_length_is_fatal(peer: Any, length: int) -> None:
    def script(conn: PeerConn) -> None:
        _open_and_start(conn)
        conn.send_raw(length.to_bytes(4, "big") + b"x" * 8)
        conn.at_eof()

    p = peer(script)
    with _backend(p.port) as backend, pytest.raises(ReadError, match="invalid frame length"):
        backend.get("M:OUTTMP")


def test_http_rejection_names_the_status_line(peer: Any) -> None:
    def script(conn: PeerConn) -> None:
        conn.handshake()
        conn.send_raw(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")

    p = peer(script)
    with _backend(p.port) as backend, pytest.raises(ReadError, match="404 Not Found"):
        backend.get("M:OUTTMP")


def test_first_frame_must_be_open_list(peer: Any) -> None:
    def script(conn: PeerConn) -> None:
        conn.handshake()
        conn.send(ListStatusReply(1, 0))
        conn.at_eof()

    p = peer(script)
    with pytest.raises(DPMProtocolError, match="before the OpenList reply"):
        DPMConnection.open("127.0.0.1", p.port, 2.0)


def test_connection_refused_is_read_error() -> None:
    with socket.create_server(("127.0.0.1", 0)) as s:
        port = s.getsockname()[1]
    with _backend(port) as backend, pytest.raises(ReadError, match="connect") as info:
        backend.get_many(["M:OUTTMP", "G:AMANDA"])
    assert [r.error_code for r in info.value.readings] == [-1, -1]
    assert isinstance(info.value.__cause__, DPMConnectionError)


def test_one_timeout_bounds_the_whole_batch_and_keeps_partial_results(peer: Any) -> None:
    def script(conn: PeerConn) -> None:
        _open_and_start(conn)
        conn.send(
            DeviceInfoReply(1, 1, "M:OUTTMP", "temp", "DegF"),
            StartListReply(4096, 0),
            ScalarReply(1, TS, 0, 0, 50.0),
            ListStatusReply(4096, 0),
        )
        conn.at_eof()  # ref 2 never answers

    p = peer(script)
    with _backend(p.port) as backend:
        started = time.monotonic()
        with pytest.raises(ReadError, match="Request timeout") as info:
            backend.get_many(["M:OUTTMP", "G:AMANDA"], timeout=0.5)
        elapsed = time.monotonic() - started
    assert 0.45 <= elapsed < 1.5
    first, second = info.value.readings
    assert first.ok and first.value == 50.0 and first.units == "DegF"
    assert (second.facility_code, second.error_code, second.message) == (1, -6, "Request timeout")
    assert "G:AMANDA" in str(info.value)


def test_job_level_error_fails_the_read_at_the_deadline(peer: Any) -> None:
    def script(conn: PeerConn) -> None:
        _open_and_start(conn)
        conn.send(StatusReply(0, TS, 0, -11007), StartListReply(4096, 0))  # ACNET_SYS
        conn.at_eof()

    p = peer(script)
    with _backend(p.port) as backend, pytest.raises(ReadError, match="DPM job start failed"):
        backend.get("M:OUTTMP", timeout=0.3)


def test_warning_status_keeps_data_and_pend_status_has_no_value(peer: Any) -> None:
    def script(conn: PeerConn) -> None:
        _open_and_start(conn)
        conn.send(ScalarReply(1, TS, 7, 529, 1.5), StatusReply(2, TS, 0, 273))
        conn.until("ClearList")
        conn.at_eof()

    p = peer(script)
    with _backend(p.port) as backend:
        stale, pend = backend.get_many(["A:ONE", "A:TWO"])
    assert stale.ok and stale.is_warning and stale.value == 1.5 and stale.cycle == 7
    assert stale.message is not None and stale.message.startswith("DPM_STALE")
    assert not pend.ok and (pend.facility_code, pend.error_code) == (17, 1)


def test_timestamp_no_datetime_can_hold_costs_only_the_time(peer: Any) -> None:
    def script(conn: PeerConn) -> None:
        _open_and_start(conn)
        conn.send(ScalarReply(1, 1 << 62, 7, 0, 1.5), ScalarReply(2, TS, 8, 0, 2.5))
        conn.until("ClearList")
        conn.at_eof()

    p = peer(script)
    with _backend(p.port) as backend:
        far, near = backend.get_many(["A:ONE", "A:TWO"])
    assert (far.ok, far.value, far.timestamp) == (True, 1.5, None)
    assert near.ok and near.timestamp is not None


def test_chunked_logger_read_concatenates_until_empty_chunk(peer: Any) -> None:
    requests: list[Request] = []

    def script(conn: PeerConn) -> None:
        requests.extend(_open_and_start(conn))
        conn.send(
            TimedScalarArrayReply(1, TS, 0, 0, [1.0, 2.0], [10, 20]),
            TimedScalarArrayReply(1, TS, 1, 0, [3.0], [30]),
            TimedScalarArrayReply(1, TS, 2, 0, [], []),
        )
        conn.until("ClearList")
        conn.at_eof()

    p = peer(script)
    with _backend(p.port) as backend:
        reading = backend.get("M:OUTTMP<-LOGGER:1700000000000:1700000100000")
        assert backend._pool.size == 0  # chunked reads never return to the pool
    assert requests[0].drf_request == "M:OUTTMP<-LOGGER:1700000000000:1700000100000"
    assert reading.value_type is ValueType.TIMED_SCALAR_ARRAY
    assert np.array_equal(reading.value["data"], [1.0, 2.0, 3.0])
    assert np.array_equal(reading.value["micros"], [10, 20, 30])


def test_heartbeats_keep_a_stream_alive_and_silence_kills_it(peer: Any) -> None:
    def script(conn: PeerConn) -> None:
        _open_and_start(conn)
        conn.send(StartListReply(4096, 0))
        for _ in range(4):  # 4 x 0.15 s of heartbeats: longer than the 0.4 s window
            conn.send(ListStatusReply(4096, 0))
            time.sleep(0.15)  # the peer's pacing, not test synchronisation
        conn.at_eof()  # then silence

    p = peer(script)
    errors: list[BaseException] = []
    failed = threading.Event()

    def on_error(exc: BaseException, handle: Any) -> None:
        errors.append(exc)
        failed.set()

    with _backend(p.port, heartbeat_timeout=0.4) as backend:
        started = time.monotonic()
        handle = backend.subscribe(["M:OUTTMP@p,1000"], lambda r, h: None, on_error)
        assert failed.wait(5)
        elapsed = time.monotonic() - started
    assert elapsed >= 0.6
    assert "missed heartbeats" in str(errors[0])
    assert handle.stopped and handle.exc is errors[0]


def test_stream_fails_on_job_error(peer: Any) -> None:
    def script(conn: PeerConn) -> None:
        _open_and_start(conn)
        conn.send(StatusReply(0, TS, 0, -11007))
        conn.at_eof()

    p = peer(script)
    with _backend(p.port) as backend:
        handle = backend.subscribe(["M:OUTTMP@p,1000"])
        with pytest.raises(DPMConnectionError, match="job start failed"):
            list(handle.readings(timeout=5))


def test_server_loss_notice_reaches_the_stream_and_its_count(peer: Any) -> None:
    """Our server's ACNET_QUEFULL Status: an error reading in place, and ``dropped`` counts it."""
    from pacsys.acnet.status import ACNET_QUEFULL

    def script(conn: PeerConn) -> None:
        _open_and_start(conn)
        conn.send(
            ScalarReply(1, TS, 1, 0, 1.0),
            StatusReply(1, TS, 0, ACNET_QUEFULL),
            ScalarReply(1, TS, 3, 0, 3.0),
        )
        conn.at_eof()

    p = peer(script)
    with _backend(p.port) as backend:
        handle = backend.subscribe(["M:OUTTMP@p,1000"])
        got = [reading for reading, _ in handle.readings(timeout=5, count=3)]
        assert [r.value for r in got] == [1.0, None, 3.0]
        assert (got[1].facility_code, got[1].error_code) == (1, -7) and not got[1].ok
        assert handle.dropped == 1
        handle.stop()


def test_value_mapping_for_settings() -> None:
    from pacsys_dpm.codec import RawSetting, ScaledSetting, TextSetting

    assert make_setting(1, b"\x01") == RawSetting(1, b"\x01")
    assert make_setting(2, "µA") == TextSetting(2, ("µA",))
    assert make_setting(3, ["a", "b"]) == TextSetting(3, ("a", "b"))
    assert make_setting(4, True) == ScaledSetting(4, [1.0])
    assert make_setting(5, np.arange(3)) == ScaledSetting(5, [0.0, 1.0, 2.0])
    assert make_setting(6, []) == ScaledSetting(6, [])
    with pytest.raises(ValueError, match="mix"):
        make_setting(7, ["a", 1])
    with pytest.raises(UnicodeEncodeError):
        make_setting(8, "Ω")
    with pytest.raises(TypeError):
        make_setting(9, object())


def test_stream_to_unreachable_server_reports_on_error() -> None:
    with socket.create_server(("127.0.0.1", 0)) as s:
        port = s.getsockname()[1]
    failed = threading.Event()
    errors: list[BaseException] = []

    def on_error(exc: BaseException, handle: Any) -> None:
        errors.append(exc)
        failed.set()

    with _backend(port) as backend:
        handle = backend.subscribe(["M:OUTTMP@p,1000"], lambda r, h: None, on_error)
        assert failed.wait(5)
        assert handle.stopped and isinstance(errors[0], DPMConnectionError)
        assert backend.active_subscriptions == 0


def test_pooled_connection_dying_mid_request_is_retried_on_a_fresh_one(peer: Any) -> None:
    """A reused connection that the server drops after our request is replaced once."""
    served: list[int] = []

    def script(conn: PeerConn) -> None:
        _open_and_start(conn)
        conn.send(ScalarReply(1, TS, 0, 0, float(len(served))))
        conn.until("ClearList")
        served.append(1)
        conn.until("StartList")  # the next read arrives on the pooled connection...
        # ...and the server hangs up without answering it

    p = peer(script)
    with _backend(p.port) as backend:
        assert backend.read("M:OUTTMP") == 0.0
        assert backend._pool.size == 1
        assert backend.read("M:OUTTMP") == 1.0
    assert p.connections == 2
