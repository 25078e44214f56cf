"""FakeBackend (docs/protocols/semantics.md §11): keys, reads, offsets, ranges, writes, streams."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from pacsys.errors import DeviceError, ReadError
from pacsys.testing import AsyncFakeBackend, FakeBackend
from pacsys.testing.keys import storage_keys
from pacsys.types import BackendCapability, DispatchMode, ValueType


@pytest.fixture
def fake():
    backend = FakeBackend()
    yield backend
    backend.close()


@pytest.mark.parametrize(
    ("drf", "base", "full"),
    [
        ("M:OUTTMP", "M:OUTTMP.READING", "M:OUTTMP.READING"),
        ("M:OUTTMP@p,1000", "M:OUTTMP.READING", "M:OUTTMP.READING@p,1000"),
        ("M_OUTTMP[0:3]@I", "M:OUTTMP.SETTING", "M:OUTTMP.SETTING@I"),
        ("M:OUTTMP.READING.SCALED", "M:OUTTMP.READING", "M:OUTTMP.READING"),
        ("M|OUTTMP.ON", "M:OUTTMP.STATUS.ON", "M:OUTTMP.STATUS.ON"),
        ("M:OUTTMP<-FTP", "M:OUTTMP.READING<-FTP", "M:OUTTMP.READING<-FTP"),
        ("PV:NAME.VAL@p,1", "PV:NAME.VAL", "PV:NAME.VAL@p,1"),
        ("!!", "!!", "!!"),
    ],
)
def test_storage_keys(drf: str, base: str, full: str) -> None:
    assert storage_keys(drf) == (base, full)


def test_capabilities_and_identity(fake: FakeBackend) -> None:
    assert fake.capabilities == (
        BackendCapability.READ
        | BackendCapability.WRITE
        | BackendCapability.STREAM
        | BackendCapability.BATCH
    )
    assert fake.authenticated and fake.principal == "test-user@FNAL.GOV"
    assert fake.dispatch_mode is DispatchMode.DIRECT


def test_read_get_and_metadata(fake: FakeBackend) -> None:
    fake.set_reading("M:OUTTMP", 72.5, units="DegF", cycle=4)
    assert fake.read("M:OUTTMP") == 72.5
    reading = fake.get("m:outtmp")
    assert reading.drf == "m:outtmp" and reading.value == 72.5 and reading.cycle == 4
    assert reading.meta.name == "M:OUTTMP" and reading.units == "DegF"
    assert reading.meta.description == "Test device M:OUTTMP"
    assert fake.get("M?OUTTMP.READ").value == 72.5
    assert fake.reads == ["M:OUTTMP", "m:outtmp", "M?OUTTMP.READ"]


def test_reading_and_setting_are_separate_slots(fake: FakeBackend) -> None:
    fake.set_reading("M:OUTTMP", 72.5)
    with pytest.raises(DeviceError) as excinfo:
        fake.read("M:OUTTMP.SETTING")
    assert (excinfo.value.facility_code, excinfo.value.error_code) == (16, -13)
    assert "No such property for M:OUTTMP" in str(excinfo.value)


def test_nothing_configured(fake: FakeBackend) -> None:
    reading = fake.get("Z:NOPE")
    assert (reading.facility_code, reading.error_code) == (1, -1)
    assert reading.message == "No reading configured for Z:NOPE"
    with pytest.raises(DeviceError, match="No reading configured"):
        fake.read("Z:NOPE")


def test_never_event(fake: FakeBackend) -> None:
    fake.set_reading("M:OUTTMP", 1.0)
    with pytest.raises(DeviceError) as excinfo:
        fake.read("M:OUTTMP@N")
    assert (excinfo.value.facility_code, excinfo.value.error_code) == (1, -1)
    reading = fake.get("M:OUTTMP@N")
    assert (reading.facility_code, reading.error_code, reading.message) == (
        0,
        -1,
        "Cannot read with @N (never) event",
    )


def test_configured_errors(fake: FakeBackend) -> None:
    fake.set_reading("M:OUTTMP", 1.0)
    fake.set_error("M:OUTTMP", -26, "device not found")
    with pytest.raises(DeviceError) as excinfo:
        fake.read("M:OUTTMP")
    assert (excinfo.value.facility_code, excinfo.value.error_code) == (1, -26)
    reading = fake.get("M:OUTTMP")
    assert (reading.facility_code, reading.error_code, reading.value) == (0, -26, None)
    fake.set_error("G:WARN", 3, "stale")
    assert fake.get("G:WARN").is_warning
    with pytest.raises(DeviceError):
        fake.read("G:WARN")  # a warning without a value is not usable
    fake.set_reading("M:OUTTMP", 2.0)  # clears the error
    assert fake.read("M:OUTTMP") == 2.0


def test_event_perturbation_and_last_write_wins_on_base(fake: FakeBackend) -> None:
    fake.set_reading("M:OUTTMP", 72.5, timestamp=datetime(2024, 1, 1, tzinfo=timezone.utc))
    assert fake.read("M:OUTTMP@I") == 72.5
    assert fake.read("M:OUTTMP.READING@p,1000") == 73.5
    assert fake.read("M:OUTTMP@E,0F") == pytest.approx(72.35)
    assert fake.read("M:OUTTMP@E,0F,H,100") == pytest.approx(72.349)
    assert fake.read("M:OUTTMP@q,250") == pytest.approx(72.75)
    state = fake.read("M:OUTTMP@S,G:AMANDA,1,0,=")
    raw = "S,G:AMANDA,1,0,="
    assert state == pytest.approx(72.5 + 2.0 + (sum(raw.encode()) % 1000) / 1000)
    assert fake.get("M:OUTTMP@p,1000").timestamp == datetime(
        2024, 1, 1, tzinfo=timezone.utc
    ) + timedelta(milliseconds=1)
    fake.set_reading("M:OUTTMP@p,1000", 80.0)
    assert fake.read("M:OUTTMP") == 80.0
    assert fake.read("M:OUTTMP@p,1000") == 80.0  # exact key: no perturbation


def test_perturbation_only_touches_floats(fake: FakeBackend) -> None:
    fake.set_reading("I:INT", 5)
    fake.set_reading("A:ARR", np.array([1, 2]), ValueType.SCALAR_ARRAY)
    fake.set_reading("F:ARR", np.array([1.0, 2.0]), ValueType.SCALAR_ARRAY)
    fake.set_reading("T:TXT", "abc", ValueType.TEXT)
    assert fake.read("I:INT@p,1000") == 5
    assert fake.read("A:ARR@p,1000").tolist() == [1, 2]
    assert fake.read("F:ARR@p,1000").tolist() == [2.0, 3.0]
    assert fake.read("T:TXT@p,1000") == "abc"


@pytest.mark.parametrize(
    ("suffix", "expected"),
    [
        ("[:]", [0, 1, 2, 3, 4, 5]),
        ("[2]", 2),
        ("[1:3]", [1, 2, 3]),
        ("[:2]", [0, 1, 2]),
        ("[4:]", [4, 5]),
        ("{:}", [0, 1, 2, 3, 4, 5]),
        ("{3}", [3]),
        ("{1:2}", [1, 2]),
        ("{4:}", [4, 5]),
    ],
)
def test_ranges_on_read(fake: FakeBackend, suffix: str, expected) -> None:
    fake.set_reading("B:ARR", np.arange(6), ValueType.SCALAR_ARRAY)
    value = fake.read(f"B:ARR{suffix}")
    assert np.asarray(value).tolist() == expected


def test_bad_range_raises_device_error(fake: FakeBackend) -> None:
    fake.set_reading("M:OUTTMP", 72.5)
    for call in (fake.read, fake.get):
        with pytest.raises(DeviceError, match="Cannot apply range to stored value"):
            call("M:OUTTMP[3]")


def test_value_type_checks(fake: FakeBackend) -> None:
    with pytest.raises(TypeError) as excinfo:
        fake.set_reading("T:X", 1.0, ValueType.TEXT)
    assert str(excinfo.value) == (
        "FakeBackend: value float incompatible with ValueType.TEXT (expected str)"
    )
    fake.set_reading("T:TIMED", {"data": np.ones(2)}, ValueType.TIMED_SCALAR_ARRAY)
    fake.set_analog_alarm("M:OUTTMP.ANALOG", {"minimum": 1.0})
    assert fake.get("M:OUTTMP.ANALOG").value_type is ValueType.ANALOG_ALARM


def test_set_reading_copies_arrays(fake: FakeBackend) -> None:
    data = np.arange(3.0)
    fake.set_reading("B:ARR", data, ValueType.SCALAR_ARRAY)
    data[0] = 99
    assert fake.read("B:ARR")[0] == 0.0


def test_get_many_and_read_many(fake: FakeBackend) -> None:
    fake.set_reading("M:A", 1.0)
    readings = fake.get_many(["M:A", "M:B"])
    assert [r.ok for r in readings] == [True, False]
    with pytest.raises(ReadError, match="Device errors: M:B"):
        fake.read_many(["M:A", "M:B"])
    assert fake.read_many(["M:A", "M:A@I"]) == [1.0, 1.0]


def test_write_updates_state_and_history(fake: FakeBackend) -> None:
    fake.set_reading("Z:V.SETTING", 0.0)
    fake.set_reading("Z:V.SETTING@I", 0.0)
    result = fake.write("Z:V.SETTING@N", 5.0)
    assert result.ok and result.drf == "Z:V.SETTING@N"
    assert fake.read("Z:V.SETTING@I") == 5.0  # every key of the same base slot sees it
    assert fake.read("Z:V.SETTING") == 5.0
    assert fake.writes == [("Z:V.SETTING@N", 5.0)]
    assert fake.was_written("z_v") and fake.get_written_value("Z:V.SETTING") == 5.0
    assert fake.was_read("Z:V.SETTING@p,500")
    assert not fake.was_written("Z:OTHER") and fake.get_written_value("Z:OTHER") is None


def test_write_infers_type_when_nothing_stored(fake: FakeBackend) -> None:
    for drf, value, vt in [
        ("T:A", "text", ValueType.TEXT),
        ("T:B", b"\x01", ValueType.RAW),
        ("T:C", {"on": True}, ValueType.BASIC_STATUS),
        ("T:D", ["a", "b"], ValueType.TEXT_ARRAY),
        ("T:E", [1.0, 2.0], ValueType.SCALAR_ARRAY),
        ("T:F", 3, ValueType.SCALAR),
    ]:
        assert fake.write(drf, value).ok
        assert fake.get(drf).value_type is vt


def test_configured_write_result(fake: FakeBackend) -> None:
    fake.set_reading("Z:A", 1.0)
    fake.set_write_result("Z:A", success=False, message="no way")
    result = fake.write("Z:A", 2.0)
    assert (result.error_code, result.message) == (-1, "no way")
    assert fake.read("Z:A") == 1.0  # state unchanged
    fake.set_write_result("Z:B", error_code=-17)
    assert fake.write("Z:B", 1.0).error_code == -17
    fake.set_write_result("Z:C", success=True, message="fine")
    assert fake.write("Z:C", 1.0).message == "fine"


def test_ranged_writes(fake: FakeBackend) -> None:
    result = fake.write("B:ARR[1:2]", [9, 9])
    assert result.error_code == -1
    assert "No stored value for partial ranged write B:ARR[1:2]" in result.message
    fake.set_reading("B:ARR", np.arange(5.0), ValueType.SCALAR_ARRAY)
    assert fake.write("B:ARR[1:2]", [9.0, 8.0]).ok
    assert fake.read("B:ARR").tolist() == [0.0, 9.0, 8.0, 3.0, 4.0]
    fake.set_reading("R:RAW", b"\x00\x00\x00", ValueType.RAW)
    assert fake.write("R:RAW{1:2}", b"\xff\xee").ok
    assert fake.read("R:RAW") == b"\x00\xff\xee"
    assert fake.write("B:ARR[:]", np.zeros(2)).ok  # whole-value range


def test_invalid_write_value_reports_instead_of_raising(fake: FakeBackend) -> None:
    fake.set_reading("M:T", "text", ValueType.TEXT)
    result = fake.write("M:T", 5.0)
    assert result.error_code == -1
    assert result.message.startswith("Invalid write value for M:T:")
    assert fake.read("M:T") == "text"


def test_closed_backend_refuses_everything(fake: FakeBackend) -> None:
    fake.close()
    fake.close()
    for call in (
        lambda: fake.read("M:A"),
        lambda: fake.get("M:A"),
        lambda: fake.get_many(["M:A"]),
        lambda: fake.write("M:A", 1.0),
        lambda: fake.write_many([("M:A", 1.0)]),
        lambda: fake.subscribe(["M:A@p,1000"]),
    ):
        with pytest.raises(RuntimeError, match="Backend is closed"):
            call()


def test_reset_clears_state_and_stops_subscriptions(fake: FakeBackend) -> None:
    fake.set_reading("M:A", 1.0)
    fake.read("M:A")
    fake.write("M:B", 1.0)
    sub = fake.subscribe(["M:A@p,1000"])
    fake.reset()
    assert fake.reads == [] and fake.writes == [] and sub.stopped
    assert fake.get("M:A").error_code == -1


def test_iterator_stream_exact_drf_match(fake: FakeBackend) -> None:
    with fake.subscribe(["M:OUTTMP@p,1000"]) as sub:
        assert sub.ref_ids == [0] and sub.dropped == 0
        fake.emit_reading("M:OUTTMP@p,1000", 72.5)
        fake.emit_reading("M:OUTTMP.READING@p,1000", 1.0)  # not the same string: not delivered
        assert [(r.value, r.drf) for r, _ in sub.readings(timeout=0)] == [(72.5, "M:OUTTMP@p,1000")]
    assert sub.stopped
    fake.emit_reading("M:OUTTMP@p,1000", 2.0)
    assert list(sub.readings(timeout=0)) == []


def test_callback_stream_in_worker_mode() -> None:
    fake = FakeBackend(dispatch_mode=DispatchMode.WORKER)
    got = threading.Event()
    names = []

    def on_reading(reading, handle) -> None:
        names.append(threading.current_thread().name)
        got.set()

    sub = fake.subscribe(["M:A@p,100"], callback=on_reading)
    fake.emit_reading("M:A@p,100", 1.0)
    assert got.wait(5)
    assert names == ["pacsys-dispatch"]
    with pytest.raises(RuntimeError, match="Cannot iterate"):
        sub.readings()
    fake.close()


def test_emit_error_stops_and_reports(fake: FakeBackend) -> None:
    errors = []
    cb = fake.subscribe(
        ["M:A@p,100"], callback=lambda r, h: None, on_error=lambda e, h: errors.append(e)
    )
    it = fake.subscribe(["M:A@p,100"])
    boom = ConnectionError("gone")
    fake.emit_error(boom)
    assert errors == [boom] and cb.stopped and cb.exc is boom
    with pytest.raises(ConnectionError):
        list(it.readings(timeout=0))
    assert not fake.wait_for_subscription("M:A@p,100", timeout=0.01)


def test_error_while_blocked_is_raised(fake: FakeBackend) -> None:
    sub = fake.subscribe(["M:A@p,100"])
    started = threading.Event()
    outcome = []

    def consume() -> None:
        started.set()
        try:
            for _ in sub.readings():
                pass
        except ConnectionError as exc:
            outcome.append(exc)

    t = threading.Thread(target=consume)
    t.start()
    assert started.wait(2)
    assert fake.wait_for_subscription("M:A@p,100", timeout=2)
    fake.emit_error(ConnectionError("x"))
    t.join(5)
    assert len(outcome) == 1


def test_wait_for_subscription_from_another_thread(fake: FakeBackend) -> None:
    t = threading.Thread(target=lambda: fake.subscribe(["G:AMANDA@e,0F"]))
    t.start()
    assert fake.wait_for_subscription("G:AMANDA@e,0F", timeout=5)
    t.join()
    assert not fake.wait_for_subscription("G:AMANDA@p,1", timeout=0.01)


def test_subscribe_validation(fake: FakeBackend) -> None:
    with pytest.raises(ValueError, match="drfs cannot be empty"):
        fake.subscribe([])
    with pytest.raises(TypeError, match="callback must be callable"):
        fake.subscribe(["M:A@p,1"], callback="nope")  # type: ignore[arg-type]


def test_async_fake_backend() -> None:
    import asyncio

    async def main() -> tuple[float, bool]:
        async with AsyncFakeBackend() as fake:
            fake.set_reading("M:OUTTMP", 72.5)
            value = await fake.read("M:OUTTMP")
            result = await fake.write("Z:A", 1.0)
            return value, result.ok

    assert asyncio.run(main()) == (72.5, True)


def test_lost_stream_resumes_under_a_reconnect_policy() -> None:
    from pacsys.backends.reconnect import ReconnectPolicy
    from pacsys.testing.resources import leaves_nothing

    drf = "M:A@p,100"
    with leaves_nothing():
        fake = FakeBackend(reconnect=ReconnectPolicy(initial=0.05, maximum=0.05))
        errors: list[BaseException] = []
        handle = fake.subscribe([drf], on_error=lambda e, h: errors.append(e))
        lost = ConnectionError("gone")
        fake.emit_error(lost)
        assert errors == [lost] and not handle.stopped and handle.exc is None
        assert fake.wait_for_subscription(drf, timeout=10)  # resumed after the backoff
        fake.emit_reading(drf, 1.5)
        assert [r.value for r, _ in handle.readings(timeout=5, count=1)] == [1.5]
        fake.emit_error(ValueError("bad frame"))  # not a lost connection: terminal
        assert handle.stopped and isinstance(handle.exc, ValueError)
        assert len(errors) == 2
        fake.close()


def test_stopping_or_closing_during_the_backoff_cancels_the_resumption() -> None:
    from pacsys.backends.reconnect import ReconnectPolicy
    from pacsys.testing.resources import leaves_nothing

    drf = "M:A@p,100"
    with leaves_nothing():
        fake = FakeBackend()
        fake.reconnect = ReconnectPolicy(initial=60.0, maximum=60.0)
        stopped, closed = fake.subscribe([drf]), fake.subscribe([drf])
        fake.emit_error(ConnectionError("gone"))  # no on_error: logged, still running
        assert not stopped.stopped and not closed.stopped
        stopped.stop()
        fake.close()  # stops the one still waiting to resume; no timer thread is left
        assert closed.stopped and not fake.wait_for_subscription(drf, timeout=0.01)
    with pytest.raises(TypeError, match="reconnect must be a ReconnectPolicy or None"):
        FakeBackend(reconnect=1.0)  # type: ignore[arg-type]
