"""ReconnectPolicy and Backoff: the pure part of the stream-failure policy."""

from __future__ import annotations

import math

import pytest

from pacsys.backends.reconnect import ReconnectPolicy, check_reconnect


def test_delays_grow_by_the_factor_up_to_the_cap() -> None:
    backoff = ReconnectPolicy(initial=1.0, maximum=5.0, factor=2.0).backoff()
    assert [backoff.after_failure(0.0) for _ in range(5)] == [1.0, 2.0, 4.0, 5.0, 5.0]


def test_a_healthy_connection_starts_the_backoff_over() -> None:
    backoff = ReconnectPolicy(initial=1.0, maximum=30.0, healthy_after=10.0).backoff()
    assert [backoff.after_failure(0.1) for _ in range(3)] == [1.0, 2.0, 4.0]
    assert backoff.after_failure(10.0) == 1.0
    assert backoff.failures == 1


def test_attempts_run_out() -> None:
    backoff = ReconnectPolicy(initial=0.5, max_attempts=2).backoff()
    assert backoff.after_failure(0.0) == 0.5
    assert backoff.after_failure(0.0) == 1.0
    assert backoff.after_failure(0.0) is None


def test_defaults_are_documented_values() -> None:
    policy = ReconnectPolicy()
    assert (policy.initial, policy.maximum, policy.factor) == (1.0, 30.0, 2.0)
    assert (policy.healthy_after, policy.max_attempts) == (30.0, None)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"initial": 0}, "initial must be a positive finite number, got 0"),
        ({"maximum": math.inf}, "maximum must be a positive finite number"),
        ({"factor": 0.5}, "factor must be at least 1, got 0.5"),
        ({"initial": 5.0, "maximum": 1.0}, r"maximum \(1.0\) must not be below initial \(5.0\)"),
        ({"max_attempts": 0}, "max_attempts must be a positive integer or None, got 0"),
        ({"max_attempts": True}, "max_attempts must be a positive integer or None, got True"),
    ],
)
def test_bad_policies_name_the_field(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ReconnectPolicy(**kwargs)  # type: ignore[arg-type]


def test_check_reconnect() -> None:
    policy = ReconnectPolicy()
    assert check_reconnect(policy) is policy
    assert check_reconnect(None) is None
    with pytest.raises(TypeError, match="reconnect must be a ReconnectPolicy or None, got dict"):
        check_reconnect({"initial": 1})
