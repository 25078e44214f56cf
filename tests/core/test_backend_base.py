"""The Backend base class: what a subclass gets for free from ``get_many``."""

from __future__ import annotations

import pytest

from pacsys.backends import Backend, timestamp_from_millis, timestamp_from_seconds
from pacsys.errors import DeviceError
from pacsys.types import BackendCapability, Reading, ValueType


class Minimal(Backend):
    """Implements only the abstract methods."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[str], float | None]] = []

    @property
    def capabilities(self) -> BackendCapability:
        return BackendCapability.READ

    def get_many(self, drfs: list[str], timeout: float | None = None) -> list[Reading]:
        self.calls.append((drfs, timeout))
        return [self._reading(drf) for drf in drfs]

    @staticmethod
    def _reading(drf: str) -> Reading:
        if drf.startswith("BAD"):
            return Reading(drf=drf, facility_code=17, error_code=-26, message="no such device")
        if drf.startswith("EMPTY"):
            return Reading(drf=drf)
        return Reading(drf=drf, value_type=ValueType.SCALAR, value=1.5)

    def close(self) -> None:
        pass


def test_get_and_read_are_one_element_get_many_with_the_timeout() -> None:
    backend = Minimal()
    assert backend.get("M:OUTTMP", timeout=2.0).value == 1.5
    assert backend.read("M:OUTTMP", timeout=3.0) == 1.5
    assert backend.calls == [(["M:OUTTMP"], 2.0), (["M:OUTTMP"], 3.0)]


def test_read_raises_device_error_with_the_status() -> None:
    with pytest.raises(DeviceError) as excinfo:
        Minimal().read("BAD:DEV")
    err = excinfo.value
    assert (err.drf, err.facility_code, err.error_code) == ("BAD:DEV", 17, -26)
    assert "no such device" in str(err)


def test_read_of_a_reading_without_value_says_so() -> None:
    with pytest.raises(DeviceError, match="no value"):
        Minimal().read("EMPTY:DEV")


def test_only_get_many_and_close_are_abstract() -> None:
    assert Backend.__abstractmethods__ == frozenset({"get_many", "close"})


def test_capabilities_are_declared_once_on_the_class() -> None:
    """``capabilities`` is the class's ``CAPABILITIES`` (READ when a class declares none)."""

    class Declared(Minimal):
        CAPABILITIES = BackendCapability.READ | BackendCapability.STREAM

    class Undeclared(Backend):
        def get_many(self, drfs: list[str], timeout: float | None = None) -> list[Reading]:
            return []

        def close(self) -> None:
            pass

    assert Declared.__dict__.get("capabilities") is None
    assert (
        Backend.capabilities.fget(Declared()) == BackendCapability.READ | BackendCapability.STREAM
    )
    assert Undeclared().capabilities == BackendCapability.READ


@pytest.mark.parametrize("make", ["fake", "sim"], ids=["FakeBackend", "SimBackend"])
def test_a_bare_string_is_not_taken_for_a_list_of_drfs(make: str) -> None:
    """``get_many("M:OUTTMP")`` would otherwise read eight one-letter devices."""
    from pacsys.sim import SimBackend
    from pacsys.testing import FakeBackend

    with FakeBackend() if make == "fake" else SimBackend() as backend:
        with pytest.raises(TypeError, match="got a single string"):
            backend.get_many("M:OUTTMP")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="got a single string"):
            backend.subscribe("M:OUTTMP@p,1000")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="DRF must be a string, got int"):
            backend.get_many(["M:OUTTMP", 7])  # type: ignore[list-item]
        with pytest.raises(ValueError, match="drfs cannot be empty"):
            backend.subscribe([])


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf"), True, "5", None])
def test_check_positive_names_the_parameter(bad: object) -> None:
    from pacsys.backends import check_positive

    with pytest.raises(
        ValueError, match=f"heartbeat must be a positive finite number, got {bad!r}"
    ):
        check_positive(bad, "heartbeat")


def test_check_positive_returns_float() -> None:
    from pacsys.backends import check_positive

    assert check_positive(2) == 2.0 and isinstance(check_positive(2), float)


def test_check_open_refuses_work_after_close() -> None:
    class Closing(Minimal):
        def close(self) -> None:
            self._closed = True

    backend = Closing()
    backend._check_open()  # open: no error
    backend.close()
    with pytest.raises(RuntimeError, match="Backend is closed"):
        backend._check_open()


def test_timestamps_no_datetime_can_hold_are_none() -> None:
    assert timestamp_from_millis(1_700_000_000_123).isoformat() == (  # type: ignore[union-attr]
        "2023-11-14T22:13:20.123000+00:00"
    )
    for ms in (1 << 62, -(1 << 62), 253_402_300_800_000, float("inf"), float("nan")):
        assert timestamp_from_millis(ms) is None
    assert timestamp_from_seconds(1 << 62) is None
