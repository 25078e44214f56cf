"""Device API: construction, immutability, fluent methods, the DRF each call sends, writes,
verification, streaming helpers, DevDB metadata and digital status (see
docs/protocols/semantics.md §8-§10)."""

from __future__ import annotations

import copy
import pickle
import threading
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from pacsys import _simple
from pacsys.backends import Backend
from pacsys.device import ArrayDevice, Device, ScalarDevice, TextDevice
from pacsys.digital_status import DigitalStatus
from pacsys.errors import DeviceError, ReadError
from pacsys.types import (
    BackendCapability,
    BasicControl,
    Reading,
    SubscriptionHandle,
    ValueType,
    WriteResult,
)
from pacsys.verify import Verify

FAST = {"initial_delay": 0, "retry_delay": 0}


# --- recording doubles --------------------------------------------------------------------


class RecordingHandle(SubscriptionHandle):
    """A handle that only remembers whether it was stopped."""

    def __init__(self) -> None:
        self.stop_calls = 0

    @property
    def ref_ids(self) -> list[int]:
        return [0]

    @property
    def stopped(self) -> bool:
        return self.stop_calls > 0

    @property
    def exc(self) -> BaseException | None:
        return None

    def readings(
        self, timeout: float | None = None
    ) -> Iterator[tuple[Reading, SubscriptionHandle]]:
        return iter(())

    def stop(self) -> None:
        self.stop_calls += 1


class RecordingBackend(Backend):
    """Records every call; returns canned values (``read_queue`` items are used first)."""

    def __init__(self, read_value: Any = 72.5) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.read_value = read_value
        self.read_queue: list[Any] = []
        self.get_reading: Reading | None = None
        self.get_many_readings: list[Reading] = []
        self.write_result: WriteResult | None = None
        self.handles: list[RecordingHandle] = []

    @property
    def capabilities(self) -> BackendCapability:
        return BackendCapability.READ | BackendCapability.WRITE | BackendCapability.STREAM

    def read(self, drf: str, timeout: float | None = None) -> Any:
        self.calls.append(("read", drf, timeout))
        if self.read_queue:
            item = self.read_queue.pop(0)
            if isinstance(item, BaseException):
                raise item
            return item
        return self.read_value

    def get(self, drf: str, timeout: float | None = None) -> Reading:
        self.calls.append(("get", drf, timeout))
        if self.get_reading is not None:
            return self.get_reading
        return Reading(drf=drf, value_type=ValueType.SCALAR, value=1.0)

    def get_many(self, drfs: list[str], timeout: float | None = None) -> list[Reading]:
        self.calls.append(("get_many", list(drfs), timeout))
        return self.get_many_readings

    def write(self, drf: str, value: Any, timeout: float | None = None) -> WriteResult:
        self.calls.append(("write", drf, value, timeout))
        return self.write_result if self.write_result is not None else WriteResult(drf=drf)

    def subscribe(
        self, drfs: list[str], callback: Any = None, on_error: Any = None
    ) -> SubscriptionHandle:
        self.calls.append(("subscribe", list(drfs), callback, on_error))
        handle = RecordingHandle()
        self.handles.append(handle)
        return handle

    def close(self) -> None:
        pass

    # helpers for assertions
    def sent(self) -> tuple[str, Any]:
        """(method, DRF or DRF list) of the only call made."""
        assert len(self.calls) == 1, self.calls
        return self.calls[0][0], self.calls[0][1]

    def of(self, method: str) -> list[tuple[Any, ...]]:
        return [call for call in self.calls if call[0] == method]


class StreamingBackend(RecordingBackend):
    """subscribe() delivers ``items`` (Readings or exceptions) from another thread."""

    def __init__(self, items: list[Reading | BaseException]) -> None:
        super().__init__()
        self.items = items
        self.threads: list[threading.Thread] = []

    def subscribe(
        self, drfs: list[str], callback: Any = None, on_error: Any = None
    ) -> SubscriptionHandle:
        handle = super().subscribe(drfs, callback, on_error)

        def deliver() -> None:
            for item in self.items:
                if isinstance(item, BaseException):
                    on_error(item, handle)
                else:
                    callback(item, handle)

        thread = threading.Thread(target=deliver, name="test-stream")
        thread.start()
        self.threads.append(thread)
        return handle

    def join(self) -> None:
        for thread in self.threads:
            thread.join(timeout=5)


@pytest.fixture
def backend() -> RecordingBackend:
    return RecordingBackend()


@pytest.fixture(autouse=True)
def no_devdb(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_simple, "get_devdb", lambda: None)


def reading(drf: str, value: Any, value_type: ValueType = ValueType.SCALAR) -> Reading:
    return Reading(drf=drf, value_type=value_type, value=value)


# --- D.2: the DRF each method sends ---------------------------------------------------------

Call = Callable[[Device], Any]

D2_CASES: list[Any] = [
    # device, call, backend method, DRF sent
    ("M:OUTTMP", lambda d: d.read(), "read", "M:OUTTMP.READING@I"),
    ("M:OUTTMP", lambda d: d.read(field="raw"), "read", "M:OUTTMP.READING.RAW@I"),
    ("M:OUTTMP", lambda d: d.read(field="SCALED"), "read", "M:OUTTMP.READING@I"),
    ("M:OUTTMP", lambda d: d.read(field="volts"), "read", "M:OUTTMP.READING.PRIMARY@I"),
    ("M:OUTTMP", lambda d: d.status(field="on"), "read", "M:OUTTMP.STATUS.ON@I"),
    ("M:OUTTMP", lambda d: d.status(), "read", "M:OUTTMP.STATUS@I"),
    ("M:OUTTMP", lambda d: d.setting(), "read", "M:OUTTMP.SETTING@I"),
    ("M:OUTTMP", lambda d: d.setting(field="raw"), "read", "M:OUTTMP.SETTING.RAW@I"),
    ("M:OUTTMP", lambda d: d.analog_alarm(), "read", "M:OUTTMP.ANALOG@I"),
    ("M:OUTTMP", lambda d: d.analog_alarm(field="min"), "read", "M:OUTTMP.ANALOG.MIN@I"),
    ("M:OUTTMP", lambda d: d.digital_alarm(), "read", "M:OUTTMP.DIGITAL@I"),
    ("M:OUTTMP", lambda d: d.digital_alarm(field="mask"), "read", "M:OUTTMP.DIGITAL.MASK@I"),
    ("M:OUTTMP", lambda d: d.get(), "get", "M:OUTTMP.READING"),
    ("M:OUTTMP@p,1000", lambda d: d.get(), "get", "M:OUTTMP.READING@p,1000"),
    ("M:OUTTMP", lambda d: d.get(prop="sts", field="ready"), "get", "M:OUTTMP.STATUS.READY@I"),
    ("M:OUTTMP", lambda d: d.get(prop="setting"), "get", "M:OUTTMP.SETTING@I"),
    ("M:OUTTMP", lambda d: d.get(prop="analog_alarm"), "get", "M:OUTTMP.ANALOG@I"),
    ("M:OUTTMP", lambda d: d.get(prop="bit_status"), "get", "M:OUTTMP.BIT_STATUS@I"),
    ("M:OUTTMP[0:3]", lambda d: d.get(prop="SETTING"), "get", "M:OUTTMP.SETTING[0:3]@I"),
    ("M_OUTTMP", lambda d: d.read(), "read", "M:OUTTMP.READING@I"),
    ("M:OUTTMP", lambda d: d.write(5.0), "write", "M:OUTTMP.SETTING@N"),
    ("M:OUTTMP", lambda d: d.write(5, field="raw"), "write", "M:OUTTMP.SETTING.RAW@N"),
    ("M:OUTTMP@p,1000", lambda d: d.write(5.0), "write", "M:OUTTMP.SETTING@N"),
    ("M:OUTTMP", lambda d: d.on(), "write", "M:OUTTMP.CONTROL@N"),
    ("M:OUTTMP", lambda d: d.reset(), "write", "M:OUTTMP.CONTROL@N"),
    ("M:OUTTMP", lambda d: d.control(BasicControl.TRIP), "write", "M:OUTTMP.CONTROL@N"),
    ("Z&ACLTST.RAW", lambda d: d.control(BasicControl.ON), "write", "Z:ACLTST.CONTROL@N"),
    ("B:HS23T[0:10]", lambda d: d.read(), "read", "B:HS23T.READING[0:10]@I"),
    ("B:HS23T[0:10]", lambda d: d.write(5.0), "write", "B:HS23T.SETTING[0:10]@N"),
    ("B:HS23T[0:10]", lambda d: d.status(field="on"), "read", "B:HS23T.STATUS[0:10].ON@I"),
    ("B:HS23T[0:10]", lambda d: d.on(), "write", "B:HS23T.CONTROL[0:10]@N"),
    ("B:HS23T{4:2}", lambda d: d.read(), "read", "B:HS23T.READING{4:2}@I"),
    ("M:OUTTMP<-FTP", lambda d: d.read(), "read", "M:OUTTMP.READING@I<-FTP"),
    ("M:OUTTMP<-FTP", lambda d: d.write(5.0), "write", "M:OUTTMP.SETTING@N<-FTP"),
    ("M:OUTTMP<-FTP", lambda d: d.status(field="on"), "read", "M:OUTTMP.STATUS.ON@I<-FTP"),
    ("M:OUTTMP", lambda d: d.subscribe(event="p,500"), "subscribe", ["M:OUTTMP.READING@p,500"]),
    (
        "M:OUTTMP",
        lambda d: d.subscribe(prop="status", field="on", event="E,0F"),
        "subscribe",
        ["M:OUTTMP.STATUS.ON@E,0F"],
    ),
    ("M:OUTTMP@p,1000", lambda d: d.subscribe(), "subscribe", ["M:OUTTMP.READING@p,1000"]),
    ("M:OUTTMP@I", lambda d: d.subscribe(), "subscribe", ["M:OUTTMP.READING@I"]),
    ("M:OUTTMP@p,1000", lambda d: d.subscribe(event="U"), "subscribe", ["M:OUTTMP.READING@p,1000"]),
    (
        "M_OUTTMP[2]@q,2S<-FTP",
        lambda d: d.subscribe(prop="read"),
        "subscribe",
        ["M:OUTTMP.READING[2]@q,2S<-FTP"],
    ),
    ("M:OUTTMP<-LOGGER:1:2", lambda d: d.read(), "read", "M:OUTTMP.READING<-LOGGER:1:2"),
    (
        "M:OUTTMP@p,1000<-LOGGER:1:2",
        lambda d: d.read(),
        "read",
        "M:OUTTMP.READING@p,1000<-LOGGER:1:2",
    ),
    (
        "M:OUTTMP@p,1000<-LOGGER:1:2",
        lambda d: d.setting(),
        "read",
        "M:OUTTMP.SETTING@p,1000<-LOGGER:1:2",
    ),
    ("M:OUTTMP<-LoggerSingle:5", lambda d: d.status(), "read", "M:OUTTMP.STATUS<-LoggerSingle:5"),
    (
        "M:OUTTMP<-LOGGERDURATION:10",
        lambda d: d.description(),
        "read",
        "M:OUTTMP.DESCRIPTION<-LOGGERDURATION:10",
    ),
    (
        "M:OUTTMP<-LOGGER:1:2",
        lambda d: d.get(prop="setting"),
        "get",
        "M:OUTTMP.SETTING<-LOGGER:1:2",
    ),
    ("M:OUTTMP<-LOGGER:1:2", lambda d: d.write(1.0), "write", "M:OUTTMP.SETTING@N<-LOGGER:1:2"),
    ("M:OUTTMP.SETTING.RAW", lambda d: d.read(), "read", "M:OUTTMP.READING.RAW@I"),
    ("M:OUTTMP.SETTING.RAW", lambda d: d.status(), "read", "M:OUTTMP.STATUS.RAW@I"),
    ("M:OUTTMP.SETTING.RAW", lambda d: d.description(), "read", "M:OUTTMP.DESCRIPTION@I"),
    ("M:OUTTMP.SETTING.RAW", lambda d: d.analog_alarm(), "read", "M:OUTTMP.ANALOG.RAW@I"),
    ("M:OUTTMP.SETTING.RAW", lambda d: d.read(field="scaled"), "read", "M:OUTTMP.READING@I"),
    ("M:OUTTMP.SETTING.RAW", lambda d: d.write(3), "write", "M:OUTTMP.SETTING.RAW@N"),
    ("M@OUTTMP.ALL", lambda d: d.status(), "read", "M:OUTTMP.STATUS.ALL@I"),
    ("M@OUTTMP.ALL", lambda d: d.read(), "read", "M:OUTTMP.READING@I"),
    ("Z@ACLTST.MAX", lambda d: d.read(), "read", "Z:ACLTST.READING.MAX@I"),
    ("Z@ACLTST.MAX", lambda d: d.write(5.0), "write", "Z:ACLTST.SETTING.MAX@N"),
    ("Z@ACLTST.MAX", lambda d: d.analog_alarm(), "read", "Z:ACLTST.ANALOG.MAX@I"),
    ("Z@ACLTST.MAX", lambda d: d.digital_alarm(), "read", "Z:ACLTST.DIGITAL@I"),
    ("Z@ACLTST.MAX", lambda d: d.set_analog_alarm({"minimum": 1}), "write", "Z:ACLTST.ANALOG@N"),
    (
        "B:HS23T[1]<-FTP",
        lambda d: d.set_digital_alarm({"mask": 1}),
        "write",
        "B:HS23T.DIGITAL[1]@N<-FTP",
    ),
    ("PV:NAME", lambda d: d.read(), "read", "PV:NAME@I"),
    ("PV:NAME", lambda d: d.write(5.0), "write", "PV:NAME@N"),
    ("PV:NAME", lambda d: d.setting(), "read", "PV:NAME@I"),
    ("PV:NAME", lambda d: d.read(field="scaled"), "read", "PV:NAME@I"),
    ("PV:NAME.VAL@p,1000", lambda d: d.read(), "read", "PV:NAME.VAL@I"),
    ("PV:NAME.VAL@p,1000", lambda d: d.write(1), "write", "PV:NAME.VAL@N"),
    ("PV:NAME.VAL@p,1000", lambda d: d.get(), "get", "PV:NAME.VAL@p,1000"),
    ("PV:NAME", lambda d: d.get(prop="setting"), "get", "PV:NAME@I"),
    ("PV:NAME", lambda d: d.subscribe(event="p,100"), "subscribe", ["PV:NAME@p,100"]),
]


@pytest.mark.parametrize(
    ("device", "call", "method", "drf"),
    [pytest.param(*case, id=f"{case[0]}-{i}") for i, case in enumerate(D2_CASES)],
)
def test_drf_sent(
    backend: RecordingBackend, device: str, call: Call, method: str, drf: Any
) -> None:
    backend.read_value = "text"  # description() insists on a str
    call(Device(device, backend=backend))
    assert backend.sent() == (method, drf)


@pytest.mark.parametrize(
    ("method", "command"),
    [
        ("on", BasicControl.ON),
        ("off", BasicControl.OFF),
        ("reset", BasicControl.RESET),
        ("positive", BasicControl.POSITIVE),
        ("negative", BasicControl.NEGATIVE),
        ("ramp", BasicControl.RAMP),
        ("dc", BasicControl.DC),
        ("local", BasicControl.LOCAL),
        ("remote", BasicControl.REMOTE),
        ("trip", BasicControl.TRIP),
    ],
)
def test_control_shortcuts_send_their_command(
    backend: RecordingBackend, method: str, command: BasicControl
) -> None:
    result = getattr(Device("Z:ACLTST", backend=backend), method)(timeout=2.5)
    assert backend.calls == [("write", "Z:ACLTST.CONTROL@N", command, 2.5)]
    assert result == WriteResult(drf="Z:ACLTST.CONTROL@N")


def test_timeouts_are_forwarded(backend: RecordingBackend) -> None:
    dev = Device("M:OUTTMP", backend=backend)
    dev.read(timeout=1.5)
    dev.get(timeout=2.5)
    dev.write(1.0, timeout=3.5)
    dev.set_analog_alarm({"maximum": 5}, timeout=4.5)
    assert backend.calls == [
        ("read", "M:OUTTMP.READING@I", 1.5),
        ("get", "M:OUTTMP.READING", 2.5),
        ("write", "M:OUTTMP.SETTING@N", 1.0, 3.5),
        ("write", "M:OUTTMP.ANALOG@N", {"maximum": 5}, 4.5),
    ]


def test_values_pass_through(backend: RecordingBackend) -> None:
    dev = Device("M:OUTTMP", backend=backend)
    assert dev.read() == 72.5
    assert dev.setting() == 72.5
    assert dev.get().value == 1.0
    backend.write_result = WriteResult(drf="x", error_code=-1, message="Fail")
    assert dev.write(1.0) is backend.write_result


@pytest.mark.parametrize("field", ["on", "READY", "remote", "positive", "Ramp"])
@pytest.mark.parametrize(("raw", "expected"), [(1, True), (0, False), (2.0, True)])
def test_status_flag_fields_return_bool(
    backend: RecordingBackend, field: str, raw: Any, expected: bool
) -> None:
    backend.read_value = raw
    assert Device("M:OUTTMP", backend=backend).status(field=field) is expected


def test_status_flag_reused_from_device_field(backend: RecordingBackend) -> None:
    backend.read_value = 1
    assert Device("M|OUTTMP.ON", backend=backend).status() is True
    assert backend.calls == [("read", "M:OUTTMP.STATUS.ON@I", None)]


def test_status_other_fields_are_unchanged(backend: RecordingBackend) -> None:
    backend.read_value = {"on": True}
    assert Device("M:OUTTMP", backend=backend).status() == {"on": True}
    backend.read_value = 5
    assert Device("M:OUTTMP", backend=backend).status(field="bit_value") == 5


def test_description_must_be_text(backend: RecordingBackend) -> None:
    backend.read_value = "Outside temperature"
    assert Device("M:OUTTMP", backend=backend).description() == "Outside temperature"
    backend.read_value = 1.0
    with pytest.raises(TypeError, match=r"^Expected str from DESCRIPTION, got float$"):
        Device("M:OUTTMP", backend=backend).description()


# --- D.3: field and property errors (all before any I/O) -------------------------------------

ERROR_CASES: list[Any] = [
    ("M:OUTTMP", lambda d: d.read(field="on"), "Field 'on' not allowed for READING"),
    ("M:OUTTMP", lambda d: d.setting(field="On"), "Field 'On' not allowed for SETTING"),
    ("M:OUTTMP", lambda d: d.status(field="primary"), "Field 'primary' not allowed for STATUS"),
    ("M:OUTTMP", lambda d: d.write(1, field="all"), "Field 'all' not allowed for SETTING"),
    ("M:OUTTMP", lambda d: d.analog_alarm(field="mask"), "Field 'mask' not allowed for ANALOG"),
    ("M:OUTTMP", lambda d: d.description(field="raw"), "Field 'raw' not allowed for DESCRIPTION"),
    ("M:OUTTMP", lambda d: d.read(field="bogus"), "Unrecognized field BOGUS"),
    ("M:OUTTMP", lambda d: d.get(prop="sts", field="zap"), "Unrecognized field ZAP"),
    ("M:OUTTMP", lambda d: d.get(field="raw"), "field requires prop to be specified"),
    (
        "M:OUTTMP@p,1000",
        lambda d: d.subscribe(field="raw"),
        "field requires prop to be specified",
    ),
    ("M:OUTTMP@p,1000", lambda d: d.await_next(field="raw"), "field requires prop to be specified"),
    ("M:OUTTMP", lambda d: d.get(prop="nonsense"), "Invalid property 'nonsense' for M:OUTTMP"),
    (
        "M:OUTTMP",
        lambda d: d.subscribe(prop="bad", event="p,1000"),
        "Invalid property 'bad' for M:OUTTMP",
    ),
    (
        "M:OUTTMP",
        lambda d: d.subscribe(),
        "subscribe requires an event — use event= or dev.with_event()",
    ),
    (
        "M:OUTTMP",
        lambda d: d.await_next(),
        "await_next requires an event — use event= or dev.with_event()",
    ),
    ("M:OUTTMP", lambda d: d.subscribe(event="N"), "subscribe cannot use @N (never) event"),
    ("M:OUTTMP@n", lambda d: d.subscribe(), "subscribe cannot use @N (never) event"),
    ("M:OUTTMP@N", lambda d: d.await_next(), "await_next cannot use @N (never) event"),
    ("M:OUTTMP", lambda d: d.await_next(event="n"), "await_next cannot use @N (never) event"),
    ("M:OUTTMP", lambda d: d.subscribe(event="Z"), "Invalid event: Z"),
    (
        "M:OUTTMP",
        lambda d: d.control(99, verify=True),
        "Cannot verify control command 99: no STATUS field mapping defined",
    ),
    (
        "PV:NAME",
        lambda d: d.status(),
        "STATUS is ACNET-specific, not supported for non-ACNET device PV:NAME",
    ),
    (
        "PV:NAME",
        lambda d: d.on(),
        "CONTROL is ACNET-specific, not supported for non-ACNET device PV:NAME",
    ),
    (
        "PV:NAME",
        lambda d: d.control(1),
        "CONTROL is ACNET-specific, not supported for non-ACNET device PV:NAME",
    ),
    (
        "PV:NAME",
        lambda d: d.analog_alarm(),
        "ANALOG is ACNET-specific, not supported for non-ACNET device PV:NAME",
    ),
    (
        "PV:NAME",
        lambda d: d.set_digital_alarm({"mask": 1}),
        "DIGITAL is ACNET-specific, not supported for non-ACNET device PV:NAME",
    ),
    (
        "PV:NAME",
        lambda d: d.description(),
        "DESCRIPTION is ACNET-specific, not supported for non-ACNET device PV:NAME",
    ),
    (
        "PV:NAME",
        lambda d: d.digital_status(),
        "STATUS is ACNET-specific, not supported for non-ACNET device PV:NAME",
    ),
    (
        "PV:NAME",
        lambda d: d.get(prop="status"),
        "STATUS is ACNET-specific, not supported for non-ACNET device PV:NAME",
    ),
    (
        "PV:NAME",
        lambda d: d.subscribe(prop="analog", event="p,1000"),
        "ANALOG is ACNET-specific, not supported for non-ACNET device PV:NAME",
    ),
    (
        "PV:NAME",
        lambda d: d.read(field="raw"),
        "ACNET field RAW not supported for non-ACNET device PV:NAME",
    ),
    (
        "PV:NAME",
        lambda d: d.write(1, field="primary"),
        "ACNET field PRIMARY not supported for non-ACNET device PV:NAME",
    ),
]


@pytest.mark.parametrize(
    ("device", "call", "message"),
    [pytest.param(*case, id=f"{case[0]}-{i}") for i, case in enumerate(ERROR_CASES)],
)
def test_invalid_arguments_raise_before_io(
    backend: RecordingBackend, device: str, call: Call, message: str
) -> None:
    with pytest.raises(ValueError) as info:
        call(Device(device, backend=backend))
    assert str(info.value) == message
    assert backend.calls == []


def test_write_rejects_basic_control(backend: RecordingBackend) -> None:
    with pytest.raises(TypeError) as info:
        Device("Z:ACLTST", backend=backend).write(BasicControl.ON)
    assert str(info.value) == (
        "BasicControl.ON targets the CONTROL property - use control() instead of write()"
    )
    assert backend.calls == []


def test_control_sends_any_value_without_verification(backend: RecordingBackend) -> None:
    result = Device("Z:ACLTST", backend=backend).control(99)
    assert backend.calls == [("write", "Z:ACLTST.CONTROL@N", 99, None)]
    assert result.verified is None


def test_subscribe_event_string_as_callback_gets_a_hint(backend: RecordingBackend) -> None:
    with pytest.raises(TypeError) as info:
        Device("M:OUTTMP", backend=backend).subscribe("p,1000")  # type: ignore[arg-type]
    assert str(info.value) == (
        "callback must be callable, got str — did you mean subscribe(event='p,1000')?"
    )
    assert backend.calls == []


def test_subscribe_checks_callbacks_before_the_event(backend: RecordingBackend) -> None:
    with pytest.raises(TypeError, match=r"^on_error must be callable, got int$"):
        Device("M:OUTTMP", backend=backend).subscribe(None, 3)  # type: ignore[arg-type]


def test_subscribe_passes_callbacks_and_returns_handle(backend: RecordingBackend) -> None:
    def on_reading(reading: Reading, handle: SubscriptionHandle) -> None: ...

    def on_error(exc: BaseException, handle: SubscriptionHandle) -> None: ...

    handle = Device("M:OUTTMP", backend=backend).subscribe(on_reading, on_error, event="p,1000")
    assert handle is backend.handles[0]
    assert backend.calls == [("subscribe", ["M:OUTTMP.READING@p,1000"], on_reading, on_error)]


# --- D.1: construction, attributes, immutability ----------------------------------------------


def test_construction_errors() -> None:
    with pytest.raises(ValueError, match=r"^device_str must not be None$"):
        Device(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Device(42)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Device("X")
    with pytest.raises(ValueError, match="Invalid event"):
        Device("M:OUTTMP@Z")
    with pytest.raises(ValueError, match="Invalid extra"):
        ScalarDevice("M:OUTTMP<-FOO")


def test_attributes() -> None:
    dev = Device("m:outtmp@p,1000")
    assert dev.drf == "M:OUTTMP.READING@p,1000"
    assert dev.name == "M:OUTTMP"
    assert dev.backend is None
    assert repr(dev) == "Device('M:OUTTMP.READING@p,1000')"
    assert repr(ArrayDevice("B:HS23T[0:3]")) == "ArrayDevice('B:HS23T.READING[0:3]')"
    assert Device("Z|ACLTST.ON").drf == "Z:ACLTST.STATUS.ON"


def test_request_is_a_fresh_copy() -> None:
    dev = Device("B:HS23T[0:10]@p,1000")
    first, second = dev.request, dev.request
    assert first is not second
    assert first == second
    assert (first.device, first.range.low, first.range.high) == ("B:HS23T", 0, 10)
    assert first.event.raw_string == "p,1000"


@pytest.mark.parametrize(
    ("drf", "has_event", "is_periodic"),
    [
        ("M:OUTTMP", False, False),
        ("M:OUTTMP@U", False, False),
        ("M:OUTTMP@I", True, False),
        ("M:OUTTMP@N", True, False),
        ("M:OUTTMP@p,1000", True, True),
        ("M:OUTTMP@Q,500", True, True),
        ("M:OUTTMP@E,0F", True, False),
        ("M:OUTTMP@S,G:AMANDA,1,0,=", True, False),
    ],
)
def test_event_flags(drf: str, has_event: bool, is_periodic: bool) -> None:
    dev = Device(drf)
    assert (dev.has_event, dev.is_periodic) == (has_event, is_periodic)


@pytest.mark.parametrize("cls", [Device, ScalarDevice, ArrayDevice, TextDevice])
def test_immutable(cls: type[Device], backend: RecordingBackend) -> None:
    dev = cls("M:OUTTMP", backend=backend)
    message = f"^{cls.__name__} instances are immutable$"
    for name in ("_backend", "_request", "drf", "name", "anything"):
        with pytest.raises(AttributeError, match=message):
            setattr(dev, name, None)
        with pytest.raises(AttributeError, match=message):
            delattr(dev, name)
    assert dev.backend is backend
    assert dev.drf == "M:OUTTMP.READING"


def test_equality_and_hash_use_the_canonical_drf(backend: RecordingBackend) -> None:
    assert Device("M:OUTTMP") == Device("m:outtmp.READING")
    assert Device("M:OUTTMP") == ScalarDevice("M?OUTTMP.read", backend=backend)
    assert hash(Device("M:OUTTMP")) == hash(TextDevice("m:outtmp.READING"))
    assert Device("M:OUTTMP") != Device("M:OUTTMP@I")
    assert Device("M:OUTTMP@p,1000") != Device("M:OUTTMP@P,1000")
    assert Device("M:OUTTMP") != "M:OUTTMP.READING"
    assert len({Device("M:OUTTMP"), Device("m_outtmp.reading"), Device("M:OUTTMP@I")}) == 2


@pytest.mark.parametrize("cls", [Device, ScalarDevice, ArrayDevice, TextDevice])
def test_pickle_and_copy_round_trip(cls: type[Device]) -> None:
    dev = cls("M@OUTTMP.ALL[0:3]@p,1000<-FTP")
    for clone in (
        pickle.loads(pickle.dumps(dev)),
        copy.copy(dev),
        copy.deepcopy(dev),
    ):
        assert type(clone) is cls
        assert clone == dev
        assert clone.drf == "M:OUTTMP.ANALOG[0:3]@p,1000<-FTP"
        backend = RecordingBackend()
        clone.with_backend(backend).status()
        # the explicit ALL field survives even though the canonical DRF omits it
        assert backend.calls == [("read", "M:OUTTMP.STATUS[0:3].ALL@I<-FTP", None)]


def test_pickle_keeps_a_picklable_backend() -> None:
    clone = pickle.loads(pickle.dumps(Device("M:OUTTMP", backend=RecordingBackend(1.5))))
    assert isinstance(clone.backend, RecordingBackend)
    assert clone.read() == 1.5


# --- fluent methods ----------------------------------------------------------------------------

FLUENT_CASES: list[Any] = [
    (lambda d: d.with_event("I"), "M:OUTTMP.READING@I"),
    (lambda d: d.with_event("E,0F"), "M:OUTTMP.READING@E,0F"),
    (lambda d: d.with_event("u"), "M:OUTTMP.READING"),
    (lambda d: d.without_event(), "M:OUTTMP.READING"),
    (lambda d: d.with_range(0, 10), "M:OUTTMP.READING[0:10]@p,1000"),
    (lambda d: d.with_range(start=5), "M:OUTTMP.READING[5:]@p,1000"),
    (lambda d: d.with_range(end=5), "M:OUTTMP.READING[:5]@p,1000"),
    (lambda d: d.with_range(at=3), "M:OUTTMP.READING[3]@p,1000"),
    (lambda d: d.with_range(), "M:OUTTMP.READING[:]@p,1000"),
    (lambda d: d.with_range(2, 8).without_range(), "M:OUTTMP.READING@p,1000"),
    (lambda d: d.with_extra("FTP"), "M:OUTTMP.READING@p,1000<-FTP"),
    (lambda d: d.with_extra("logger:1:2"), "M:OUTTMP.READING@p,1000<-logger:1:2"),
    (lambda d: d.with_extra("FTP").with_extra(None), "M:OUTTMP.READING@p,1000"),
    (lambda d: d.with_backend(RecordingBackend()), "M:OUTTMP.READING@p,1000"),
]


@pytest.mark.parametrize(("call", "drf"), FLUENT_CASES)
@pytest.mark.parametrize("cls", [Device, ScalarDevice, ArrayDevice, TextDevice])
def test_fluent_methods(cls: type[Device], call: Call, drf: str, backend: RecordingBackend) -> None:
    original = cls("M:OUTTMP@p,1000", backend=backend)
    derived = call(original)
    assert derived.drf == drf
    assert type(derived) is cls
    assert derived is not original
    assert original.drf == "M:OUTTMP.READING@p,1000"


def test_fluent_methods_keep_the_backend(backend: RecordingBackend) -> None:
    dev = Device("M:OUTTMP", backend=backend)
    derived = dev.with_event("p,1000").with_range(0, 3).with_extra("FTP").without_event()
    assert derived.backend is backend
    other = RecordingBackend()
    rebound = derived.with_backend(other)
    assert (rebound.backend, derived.backend, rebound.drf) == (other, backend, derived.drf)


def test_fluent_methods_keep_the_explicit_field(backend: RecordingBackend) -> None:
    # ALL is ANALOG's default field, so the canonical DRF drops it; STATUS still gets it.
    dev = Device("M@OUTTMP.ALL").with_event("p,1000").with_range(at=1).with_extra("FTP")
    assert dev.drf == "M:OUTTMP.ANALOG[1]@p,1000<-FTP"
    dev = dev.without_event().with_backend(backend)
    dev.status()
    dev.read()
    assert [call[1] for call in backend.calls] == [
        "M:OUTTMP.STATUS[1].ALL@I<-FTP",
        "M:OUTTMP.READING[1]@I<-FTP",
    ]
    assert Device("M@OUTTMP").with_backend(backend).status() is not None
    assert backend.calls[-1][1] == "M:OUTTMP.STATUS@I"


def test_fluent_errors() -> None:
    dev = Device("M:OUTTMP@p,1000")
    with pytest.raises(ValueError, match=r"^'at' cannot be combined with 'start'/'end'$"):
        dev.with_range(1, at=3)
    with pytest.raises(ValueError, match=r"^'at' cannot be combined with 'start'/'end'$"):
        dev.with_range(end=4, at=3)
    with pytest.raises(ValueError, match="array range end must not precede start"):
        dev.with_range(5, 1)
    with pytest.raises(ValueError, match="Invalid event: Z"):
        dev.with_event("Z")
    with pytest.raises(ValueError, match=r"^Invalid extra FOO$"):
        dev.with_extra("FOO")
    with pytest.raises(ValueError, match="Invalid extra"):
        dev.with_extra("FTP<-FTP")


# --- typed devices ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [(72.5, 72.5), (42, 42.0), (True, 1.0), (np.float64(1.25), 1.25)],
)
def test_scalar_device_converts(backend: RecordingBackend, value: Any, expected: float) -> None:
    backend.read_value = value
    result = ScalarDevice("M:OUTTMP", backend=backend).read()
    assert type(result) is float
    assert result == expected


@pytest.mark.parametrize(
    ("value", "type_name"),
    [(np.int64(3), "int64"), (np.array([1.0]), "ndarray"), ("72.5", "str"), (None, "NoneType")],
)
def test_scalar_device_rejects(backend: RecordingBackend, value: Any, type_name: str) -> None:
    backend.read_value = value
    with pytest.raises(TypeError, match=rf"^Expected scalar, got {type_name}$"):
        ScalarDevice("M:OUTTMP", backend=backend).read()


def test_array_device_converts(backend: RecordingBackend) -> None:
    array = np.array([1.0, 2.0])
    backend.read_value = array
    assert ArrayDevice("B:HS23T[0:1]", backend=backend).read() is array
    for value in ([1, 2, 3], (1, 2, 3)):
        backend.read_value = value
        result = ArrayDevice("B:HS23T", backend=backend).read(field="raw")
        assert isinstance(result, np.ndarray)
        assert result.tolist() == [1, 2, 3]
    assert backend.calls[-1] == ("read", "B:HS23T.READING.RAW@I", None)


@pytest.mark.parametrize(("value", "type_name"), [(72.5, "float"), ("text", "str"), ({}, "dict")])
def test_array_device_rejects(backend: RecordingBackend, value: Any, type_name: str) -> None:
    backend.read_value = value
    with pytest.raises(TypeError, match=rf"^Expected array, got {type_name}$"):
        ArrayDevice("B:HS23T", backend=backend).read()


def test_text_device(backend: RecordingBackend) -> None:
    backend.read_value = "some text"
    assert TextDevice("M:OUTTMP", backend=backend).read() == "some text"
    backend.read_value = b"bytes"
    with pytest.raises(TypeError, match=r"^Expected string, got bytes$"):
        TextDevice("M:OUTTMP", backend=backend).read()


def test_typed_devices_convert_only_read(backend: RecordingBackend) -> None:
    backend.read_value = "not a number"
    dev = ScalarDevice("M:OUTTMP", backend=backend)
    assert dev.setting() == "not a number"
    assert dev.status() == "not a number"


# --- global backend ---------------------------------------------------------------------------


def test_unbound_device_uses_the_global_backend_at_call_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dev = Device("M:OUTTMP")  # created before any global backend exists
    first, second = RecordingBackend(1.0), RecordingBackend(2.0)
    monkeypatch.setattr(_simple, "get_global_backend", lambda: first)
    assert dev.read() == 1.0
    monkeypatch.setattr(_simple, "get_global_backend", lambda: second)
    assert dev.read() == 2.0
    assert first.calls == second.calls == [("read", "M:OUTTMP.READING@I", None)]


def test_bound_device_ignores_the_global_backend(
    monkeypatch: pytest.MonkeyPatch, backend: RecordingBackend
) -> None:
    def fail() -> Backend:
        raise AssertionError("global backend must not be used")

    monkeypatch.setattr(_simple, "get_global_backend", fail)
    assert Device("M:OUTTMP", backend=backend).read() == 72.5


# --- await_next --------------------------------------------------------------------------------


def test_await_next_returns_the_first_reading_and_stops() -> None:
    first = reading("M:OUTTMP.READING@p,1000", 1.0)
    second = reading("M:OUTTMP.READING@p,1000", 2.0)
    backend = StreamingBackend([first, second])
    try:
        result = Device("M:OUTTMP@p,1000", backend=backend).await_next(timeout=5)
    finally:
        backend.join()
    assert result is first
    assert backend.calls[0][1] == ["M:OUTTMP.READING@p,1000"]
    assert backend.handles[0].stop_calls == 1


def test_await_next_returns_error_readings_too() -> None:
    failed = Reading(drf="M:OUTTMP.STATUS.ON@E,0F", error_code=-26, facility_code=17)
    backend = StreamingBackend([failed])
    try:
        result = Device("M:OUTTMP", backend=backend).await_next(
            prop="status", field="on", event="E,0F"
        )
    finally:
        backend.join()
    assert result is failed
    assert backend.calls[0][1] == ["M:OUTTMP.STATUS.ON@E,0F"]


def test_await_next_raises_a_stream_error() -> None:
    error = ReadError([], "connection lost")
    backend = StreamingBackend([error])
    try:
        with pytest.raises(ReadError, match="connection lost") as info:
            Device("M:OUTTMP@p,1000", backend=backend).await_next()
    finally:
        backend.join()
    assert info.value is error
    assert backend.handles[0].stop_calls == 1


def test_await_next_times_out(backend: RecordingBackend) -> None:
    with pytest.raises(TimeoutError) as info:
        Device("M:OUTTMP", backend=backend).await_next(event="p,1000", timeout=0.05)
    assert str(info.value) == "Condition not met within 0.05s for M:OUTTMP.READING@p,1000"
    assert backend.handles[0].stop_calls == 1


def test_await_next_uses_callbacks_accepted_by_validation(backend: RecordingBackend) -> None:
    from pacsys.callbacks import validate_callbacks

    with pytest.raises(TimeoutError):
        Device("M:OUTTMP@I", backend=backend).await_next(timeout=0.01)
    _, drfs, callback, on_error = backend.calls[0]
    assert drfs == ["M:OUTTMP.READING@I"]
    validate_callbacks(callback, on_error)


# --- verification -------------------------------------------------------------------------------


def test_write_verify_reads_back_the_setting(backend: RecordingBackend) -> None:
    backend.read_value = 72.5
    result = Device("M:OUTTMP", backend=backend).write(72.5, verify=Verify(**FAST), timeout=2.0)
    assert backend.calls == [
        ("write", "M:OUTTMP.SETTING@N", 72.5, 2.0),
        ("read", "M:OUTTMP.SETTING@I", 2.0),
    ]
    assert (result.drf, result.verified, result.readback, result.attempts) == (
        "M:OUTTMP.SETTING@N",
        True,
        72.5,
        1,
    )


def test_write_verify_keeps_field_range_and_extra(backend: RecordingBackend) -> None:
    backend.read_value = 3
    Device("B:HS23T[0:3]<-LOGGER:1:2", backend=backend).write(3, field="raw", verify=Verify(**FAST))
    assert [call[1] for call in backend.calls] == [
        "B:HS23T.SETTING[0:3].RAW@N<-LOGGER:1:2",
        "B:HS23T.SETTING[0:3].RAW@I<-LOGGER:1:2",
    ]


def test_write_verify_mismatch_retries(backend: RecordingBackend) -> None:
    backend.read_value = 99.0
    result = Device("M:OUTTMP", backend=backend).write(72.5, verify=Verify(max_attempts=3, **FAST))
    assert (result.verified, result.readback, result.attempts) == (False, 99.0, 3)
    assert len(backend.of("read")) == 3


def test_write_verify_custom_readback(backend: RecordingBackend) -> None:
    Device("M:OUTTMP", backend=backend).write(
        72.5, verify=Verify(readback="M:OUTTMP.READING@I", **FAST)
    )
    assert backend.of("read") == [("read", "M:OUTTMP.READING@I", None)]


def test_write_check_first_skips_the_write(backend: RecordingBackend) -> None:
    result = Device("M:OUTTMP", backend=backend).write(
        72.5, verify=Verify(check_first=True, **FAST)
    )
    assert backend.of("write") == []
    assert (result.skipped, result.verified, result.attempts) == (True, True, 0)
    assert result.drf == "M:OUTTMP.SETTING@N"


def test_failed_write_is_not_verified(backend: RecordingBackend) -> None:
    backend.write_result = WriteResult(drf="M:OUTTMP.SETTING@N", error_code=-1, message="Fail")
    result = Device("M:OUTTMP", backend=backend).write(72.5, verify=Verify(**FAST))
    assert result == backend.write_result
    assert backend.of("read") == []


def test_readback_errors_count_as_failed_attempts(backend: RecordingBackend) -> None:
    backend.read_queue = [DeviceError("M:OUTTMP", 0, -6, "Timeout"), 72.5]
    result = Device("M:OUTTMP", backend=backend).write(72.5, verify=Verify(**FAST))
    assert (result.verified, result.attempts) == (True, 2)


def test_verify_false_and_context(backend: RecordingBackend) -> None:
    dev = Device("M:OUTTMP", backend=backend)
    assert dev.write(72.5, verify=False).verified is None
    with Verify(always=True, **FAST):
        assert dev.write(72.5).verified is True
        assert dev.write(72.5, verify=False).verified is None
    assert len(backend.of("read")) == 1


def test_invalid_verify_argument_fails_before_io(backend: RecordingBackend) -> None:
    with pytest.raises(TypeError, match="verify must be a bool, Verify, or None"):
        Device("M:OUTTMP", backend=backend).write(1.0, verify="yes")  # type: ignore[arg-type]
    assert backend.calls == []


@pytest.mark.parametrize(
    ("method", "field", "expected"),
    [
        ("on", "ON", True),
        ("off", "ON", False),
        ("reset", "READY", True),
        ("trip", "READY", False),
        ("positive", "POSITIVE", True),
        ("negative", "POSITIVE", False),
        ("ramp", "RAMP", True),
        ("dc", "RAMP", False),
        ("remote", "REMOTE", True),
        ("local", "REMOTE", False),
    ],
)
def test_control_verify_reads_the_status_flag(
    backend: RecordingBackend, method: str, field: str, expected: bool
) -> None:
    backend.read_value = 1.0 if expected else 0
    result = getattr(Device("B:HS23T[0:3]<-FTP", backend=backend), method)(verify=Verify(**FAST))
    assert backend.of("read") == [("read", f"B:HS23T.STATUS[0:3].{field}@I<-FTP", None)]
    assert (result.verified, result.readback, result.attempts) == (True, expected, 1)
    assert result.drf == "B:HS23T.CONTROL[0:3]@N<-FTP"


def test_control_verify_normalises_status_dicts(backend: RecordingBackend) -> None:
    backend.read_value = {"on": True, "ready": False}
    result = Device("Z:ACLTST", backend=backend).reset(verify=Verify(max_attempts=2, **FAST))
    assert (result.verified, result.readback, result.attempts) == (False, False, 2)


def test_control_verify_check_first(backend: RecordingBackend) -> None:
    backend.read_value = True
    result = Device("Z:ACLTST", backend=backend).on(verify=Verify(check_first=True, **FAST))
    assert result.skipped is True
    assert backend.calls == [("read", "Z:ACLTST.STATUS.ON@I", None)]


def test_control_verify_with_plain_int_command(backend: RecordingBackend) -> None:
    backend.read_value = 0
    result = Device("Z:ACLTST", backend=backend).control(2, verify=Verify(**FAST))
    assert result.verified is True
    assert backend.calls[0] == ("write", "Z:ACLTST.CONTROL@N", 2, None)


# --- info and digital status -------------------------------------------------------------------


class FakeDevDB:
    def __init__(self, infos: dict[str, Any] | Exception) -> None:
        self.infos = infos
        self.calls: list[tuple[list[str], float | None]] = []

    def get_device_info(self, names: list[str], timeout: float | None = None) -> dict[str, Any]:
        self.calls.append((list(names), timeout))
        if isinstance(self.infos, Exception):
            raise self.infos
        return {name: self.infos[name] for name in names if name in self.infos}


def test_info_without_devdb(backend: RecordingBackend) -> None:
    with pytest.raises(RuntimeError, match=r"^DevDB not available\. "):
        Device("Z:ACLTST", backend=backend).info()


def test_info_queries_devdb(monkeypatch: pytest.MonkeyPatch, backend: RecordingBackend) -> None:
    info = SimpleNamespace(description="test device")
    devdb = FakeDevDB({"Z:ACLTST": info})
    monkeypatch.setattr(_simple, "get_devdb", lambda: devdb)
    assert Device("z_acltst[2]@p,1000", backend=backend).info(timeout=3.0) is info
    assert devdb.calls == [(["Z:ACLTST"], 3.0)]
    assert backend.calls == []


BIT_READINGS = [
    reading("x", 0x02),
    reading("x", ["On", "Ready"], ValueType.TEXT_ARRAY),
    reading("x", ["No", "Yes"], ValueType.TEXT_ARRAY),
]


def test_digital_status_from_bit_arrays(backend: RecordingBackend) -> None:
    backend.get_many_readings = BIT_READINGS
    status = Device("B:HS23T[0:10].RAW@p,1000<-FTP", backend=backend).digital_status(timeout=4.0)
    assert backend.calls == [
        (
            "get_many",
            [
                "B:HS23T.STATUS.BIT_VALUE@I<-FTP",
                "B:HS23T.STATUS.BIT_NAMES@I<-FTP",
                "B:HS23T.STATUS.BIT_VALUES@I<-FTP",
            ],
            4.0,
        )
    ]
    assert status == DigitalStatus.from_bit_arrays("B:HS23T", 2, ["On", "Ready"], ["No", "Yes"])
    assert (status.on, status.ready) == (False, True)


def test_digital_status_accepts_float_bit_value(backend: RecordingBackend) -> None:
    backend.get_many_readings = [reading("x", 3.0), *BIT_READINGS[1:]]
    assert Device("M:OUTTMP", backend=backend).digital_status().raw_value == 3


def test_digital_status_device_error(backend: RecordingBackend) -> None:
    failed = Reading(drf="M:OUTTMP.STATUS.BIT_NAMES@I", facility_code=17, error_code=-26)
    backend.get_many_readings = [BIT_READINGS[0], failed, BIT_READINGS[2]]
    with pytest.raises(DeviceError) as info:
        Device("M:OUTTMP", backend=backend).digital_status()
    error = info.value
    assert (error.drf, error.facility_code, error.error_code) == (
        "M:OUTTMP.STATUS.BIT_NAMES@I",
        17,
        -26,
    )


def test_digital_status_warning_with_data_is_usable(backend: RecordingBackend) -> None:
    warned = Reading(drf="x", value_type=ValueType.SCALAR, value=1, error_code=3)
    backend.get_many_readings = [warned, *BIT_READINGS[1:]]
    assert Device("M:OUTTMP", backend=backend).digital_status().on is True


@pytest.mark.parametrize(
    ("readings", "message"),
    [
        (
            [reading("x", "2", ValueType.TEXT), *BIT_READINGS[1:]],
            "Expected numeric BIT_VALUE, got str",
        ),
        (
            [BIT_READINGS[0], reading("x", "On", ValueType.TEXT), BIT_READINGS[2]],
            "Expected list for BIT_NAMES, got str",
        ),
        (
            [BIT_READINGS[0], BIT_READINGS[1], reading("x", ["a", 1], ValueType.TEXT_ARRAY)],
            "Expected list[str] for BIT_VALUES",
        ),
        (
            [BIT_READINGS[0], reading("x", [None], ValueType.TEXT_ARRAY), BIT_READINGS[2]],
            "Expected list[str] for BIT_NAMES",
        ),
    ],
)
def test_digital_status_type_errors(
    backend: RecordingBackend, readings: list[Reading], message: str
) -> None:
    backend.get_many_readings = readings
    with pytest.raises(TypeError) as info:
        Device("M:OUTTMP", backend=backend).digital_status()
    assert str(info.value) == message


def devdb_info() -> SimpleNamespace:
    on = SimpleNamespace(
        mask=1, match=1, invert=False, short_name="On", long_name="", true_str="ON", false_str="OFF"
    )
    ext = SimpleNamespace(bit_no=4, description="Interlock", name0="ok", name1="tripped")
    return SimpleNamespace(status_bits=(on,), ext_status_bits=(ext,))


def test_digital_status_from_devdb(
    monkeypatch: pytest.MonkeyPatch, backend: RecordingBackend
) -> None:
    devdb = FakeDevDB({"Z:ACLTST": devdb_info()})
    monkeypatch.setattr(_simple, "get_devdb", lambda: devdb)
    backend.get_reading = reading("Z:ACLTST.STATUS.BIT_VALUE@I", 0x11)
    status = Device("Z|ACLTST[1]<-FTP", backend=backend).digital_status(timeout=2.0)
    assert backend.calls == [("get", "Z:ACLTST.STATUS.BIT_VALUE@I<-FTP", 2.0)]
    assert [(b.position, b.name, b.value, b.is_set) for b in status] == [
        (0, "On", "ON", True),
        (4, "Interlock", "tripped", True),
    ]
    assert (status.device, status.raw_value, status.on) == ("Z:ACLTST", 0x11, True)


def test_digital_status_from_devdb_errors(
    monkeypatch: pytest.MonkeyPatch, backend: RecordingBackend
) -> None:
    monkeypatch.setattr(_simple, "get_devdb", lambda: FakeDevDB({"Z:ACLTST": devdb_info()}))
    backend.get_reading = Reading(drf="Z:ACLTST.STATUS.BIT_VALUE@I", error_code=-1)
    with pytest.raises(DeviceError):
        Device("Z:ACLTST", backend=backend).digital_status()
    backend.get_reading = reading("Z:ACLTST.STATUS.BIT_VALUE@I", [1], ValueType.SCALAR_ARRAY)
    with pytest.raises(TypeError, match=r"^Expected numeric BIT_VALUE, got list$"):
        Device("Z:ACLTST", backend=backend).digital_status()


@pytest.mark.parametrize(
    "devdb",
    [
        FakeDevDB(RuntimeError("DevDB down")),
        FakeDevDB({}),
        FakeDevDB({"Z:ACLTST": SimpleNamespace(status_bits=(), ext_status_bits=())}),
        FakeDevDB({"Z:ACLTST": SimpleNamespace(status_bits=None, ext_status_bits=None)}),
    ],
    ids=["devdb-error", "unknown-device", "no-bit-definitions", "no-status"],
)
def test_digital_status_falls_back_to_bit_arrays(
    monkeypatch: pytest.MonkeyPatch, backend: RecordingBackend, devdb: FakeDevDB
) -> None:
    monkeypatch.setattr(_simple, "get_devdb", lambda: devdb)
    backend.get_many_readings = BIT_READINGS
    status = Device("Z:ACLTST", backend=backend).digital_status()
    assert [call[0] for call in backend.calls] == ["get_many"]
    assert status.to_dict() == {"On": "No", "Ready": "Yes"}
