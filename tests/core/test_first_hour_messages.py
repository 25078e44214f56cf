"""What a new user meets first: a string where a list belongs, error texts, Reading display."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pytest

import pacsys
from pacsys.acnet.status import status_message
from pacsys.backends import duration_text
from pacsys.errors import DeviceError
from pacsys.types import DeviceMeta, Reading, ValueType

pytestmark = pytest.mark.usefixtures("clean_pacsys")


@pytest.fixture
def sim() -> None:
    pacsys.configure(backend="sim")


# --- a single string where a list belongs ----------------------------------------------


@pytest.mark.parametrize(
    ("call", "parameter"),
    [
        (lambda: pacsys.get_many("M:OUTTMP"), "devices"),
        (lambda: pacsys.read_many("M:OUTTMP"), "devices"),
        (lambda: pacsys.subscribe("M:OUTTMP@p,1000"), "drfs"),
        (lambda: pacsys.get_many(pacsys.Device("M:OUTTMP")), "devices"),
        (lambda: pacsys.write_many("M:OUTTMP"), "settings"),
    ],
    ids=["get_many", "read_many", "subscribe", "get_many-Device", "write_many"],
)
def test_simple_api_refuses_one_device_for_a_list(sim: None, call, parameter: str) -> None:
    with pytest.raises(TypeError, match=rf"^{parameter} must be a list .*not a single .*: pass \["):
        call()


def test_backend_level_names_the_parameter_and_the_fix(sim: None) -> None:
    backend = pacsys._simple.get_global_backend()
    with pytest.raises(TypeError) as info:
        backend.get_many("M:OUTTMP")  # type: ignore[arg-type]
    assert str(info.value) == (
        "drfs must be a list of DRF strings, not a single string: pass ['M:OUTTMP']"
    )


# --- error texts -------------------------------------------------------------------------


def test_device_error_shows_the_status_once(sim: None) -> None:
    with pytest.raises(DeviceError) as info:
        pacsys.read("M:OUTTPM")
    text = str(info.value)
    assert text.count("(facility=17, error=-26)") == 1, text
    assert text.count("M:OUTTPM") == 1, text
    assert text.startswith("M:OUTTPM: ") and "device not found" in text


def test_device_error_adds_only_what_the_message_lacks() -> None:
    message = status_message(17, -26)
    assert message is not None and "(facility=17, error=-26)" in message
    assert str(DeviceError("M:OUTTPM", 17, -26, message)) == f"M:OUTTPM: {message}"
    assert str(DeviceError("M:X", 1, -6, "Request timeout")) == (
        "M:X: Request timeout (facility=1, error=-6)"
    )
    assert str(DeviceError("", 1, -6, None)) == "error (facility=1, error=-6)"


@pytest.mark.parametrize(
    "call",
    [
        lambda: pacsys.read("M:OUTTMP@p,"),
        lambda: pacsys.get("M:OUTTMP@p,"),
        lambda: pacsys.get_many(["M:OUTTMP", "M:OUTTMP@p,"]),
        lambda: pacsys.write("M:OUTTMP@p,", 1.0),
        lambda: pacsys.Device("M:OUTTMP@p,"),
    ],
    ids=["read", "get", "get_many", "write", "Device"],
)
def test_a_bad_drf_is_named(sim: None, call) -> None:
    with pytest.raises(ValueError, match=r"^Invalid DRF 'M:OUTTMP@p,': Bad periodic event p,$"):
        call()


def test_backend_names_are_case_insensitive_with_a_hint() -> None:
    pacsys.configure(backend="SIM")
    assert pacsys._simple.current_settings().value("backend") == "sim"
    assert pacsys.read("M:OUTTMP") is not None
    for typo in ("smi", "SMI"):
        with pytest.raises(ValueError, match=r"\(did you mean 'sim'\?\)$"):
            pacsys.configure(backend=typo)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(4.99999, "5 s"), (0.249988, "0.25 s"), (0.001, "0.001 s"), (30.0, "30 s"), (599.7, "600 s")],
)
def test_durations_read_as_people_write_them(seconds: float, text: str) -> None:
    assert duration_text(seconds) == text


# --- Reading display ---------------------------------------------------------------------

WHEN = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc)
META = DeviceMeta(27235, "M:OUTTMP", "Outdoor temperature", units="DegF")


def test_reading_str_is_one_short_line() -> None:
    reading = Reading(
        drf="M:OUTTMP",
        value_type=ValueType.SCALAR,
        value=70.72194535280539,
        timestamp=WHEN,
        cycle=13,
        meta=META,
    )
    assert str(reading) == "M:OUTTMP = 70.7219 DegF  ok  2026-01-02 03:04:05.678 UTC"
    text = repr(reading)
    assert text.startswith("Reading(drf='M:OUTTMP', value_type=ValueType.SCALAR, value=70.72")
    assert "2026-01-02 03:04:05.678 UTC" in text and "units='DegF'" in text


def test_reading_of_a_big_array_is_summarised() -> None:
    reading = Reading(
        drf="B:WAVE",
        value_type=ValueType.SCALAR_ARRAY,
        value=np.arange(10_000, dtype=np.float64),
        timestamp=WHEN,
    )
    text = str(reading)
    assert text == (
        "B:WAVE = [0.0, 1.0, 2.0, …, 9997.0, 9998.0, 9999.0] (10000 float64)  ok  "
        "2026-01-02 03:04:05.678 UTC"
    )
    assert len(repr(reading)) < 200


def test_error_reading_names_the_drf_once(sim: None) -> None:
    reading = pacsys.get("B:NOSUCH")
    text = str(reading)
    assert text.count("B:NOSUCH") == 1, text
    assert "error: DPM_NO_SUCH_DEVICE: device not found (facility=17, error=-26)" in text
