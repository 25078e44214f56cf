"""Deadline and checked_timeout: the one way a call's timeout is spent (no clock mocking)."""

from __future__ import annotations

import math
import threading
import time

import pytest

from pacsys.deadline import Deadline, checked_timeout


def test_a_future_deadline_has_time_left_and_is_not_expired() -> None:
    deadline = Deadline.after(60.0)
    assert deadline.bounded
    assert not deadline.expired
    assert 0 < deadline.remaining() <= 60.0
    assert 0 < deadline.check("read") <= 60.0
    assert deadline.wait_time() == pytest.approx(deadline.remaining(), abs=1.0)


def test_a_passed_deadline_is_expired_and_check_names_the_operation() -> None:
    deadline = Deadline(time.monotonic() - 1.0)
    assert deadline.expired
    assert deadline.remaining() == 0.0
    assert deadline.remaining(0.05) == 0.05
    with pytest.raises(TimeoutError, match=r"^write timed out$"):
        deadline.check("write")


def test_no_timeout_means_no_deadline() -> None:
    deadline = Deadline.after(None)
    assert not deadline.bounded
    assert not deadline.expired
    assert deadline.remaining() == math.inf
    assert deadline.wait_time() is None
    assert repr(deadline) == "Deadline(never)"


def test_a_deadline_is_a_monotonic_float_for_lower_layers() -> None:
    before = time.monotonic()
    deadline = Deadline.after(5.0)
    assert isinstance(deadline, float)
    assert before + 5.0 <= deadline <= time.monotonic() + 5.0
    assert Deadline(float(deadline)) == deadline


def test_wait_time_bounds_a_condition_wait() -> None:
    cond = threading.Condition()
    deadline = Deadline.after(0.05)
    with cond:
        while not deadline.expired:
            cond.wait(deadline.wait_time())
    assert deadline.expired


def test_checked_timeout_uses_the_default_or_checks_the_value() -> None:
    assert checked_timeout(None, 5.0) == 5.0
    assert checked_timeout(2, 5.0) == 2.0
    for bad in (0, -1, math.nan, math.inf, True, "3"):
        with pytest.raises(ValueError, match="timeout must be a positive finite number"):
            checked_timeout(bad, 5.0)
    with pytest.raises(ValueError, match=r"^connect_timeout must be"):
        checked_timeout(0, 5.0, "connect_timeout")
