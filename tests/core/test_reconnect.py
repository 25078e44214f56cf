"""ReconnectPolicy and Backoff: the pure part of the stream-failure policy."""

from __future__ import annotations

import math
import threading
from typing import Any

import pytest

from pacsys.backends.dispatch import CallbackDispatcher
from pacsys.backends.reconnect import ReconnectPolicy, check_reconnect, run_stream
from pacsys.backends.subscription import BufferedSubscriptionHandle
from pacsys.types import DispatchMode


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


def _handle(errors: list[BaseException], also: Any = None) -> BufferedSubscriptionHandle:
    def on_error(exc: BaseException, handle: Any) -> None:
        errors.append(exc)
        if also is not None:
            also()

    return BufferedSubscriptionHandle(
        ["M:OUTTMP@p,1000"],
        [1],
        dispatcher=CallbackDispatcher(DispatchMode.DIRECT),
        on_error=on_error,
    )


def test_run_stream_reports_recoverable_losses_then_fails_when_attempts_run_out() -> None:
    errors: list[BaseException] = []
    handle = _handle(errors)
    order: list[str] = []
    lost = [ConnectionError("lost 1"), ConnectionError("lost 2"), ConnectionError("lost 3")]

    def attempt() -> None:
        order.append("attempt")
        raise lost[len(order) - 1]

    def on_end() -> None:
        order.append(f"end stopped={handle.stopped}")

    policy = ReconnectPolicy(initial=0.01, maximum=0.01, max_attempts=2)
    run_stream(
        handle,
        policy,
        threading.Event(),
        attempt,
        recoverable=lambda e: True,
        on_end=on_end,
    )
    assert order == ["attempt", "attempt", "attempt", "end stopped=False"]
    assert errors == lost
    assert handle.stopped and handle.exc is lost[2]


def test_run_stream_without_a_policy_or_for_an_incurable_error_fails_at_once() -> None:
    for policy, recoverable in ((None, True), (ReconnectPolicy(), False)):
        errors: list[BaseException] = []
        handle = _handle(errors)
        refused = ValueError("refused")

        def attempt(refused: BaseException = refused) -> None:
            raise refused

        run_stream(
            handle, policy, threading.Event(), attempt, recoverable=lambda e, r=recoverable: r
        )
        assert errors == [refused] and handle.exc is refused and handle.stopped


def test_run_stream_stops_during_the_backoff_and_ends_quietly() -> None:
    errors: list[BaseException] = []
    stopping = threading.Event()
    handle = _handle(errors, also=stopping.set)  # the loss is reported, then the user stops

    def attempt() -> None:
        raise ConnectionError("lost")

    policy = ReconnectPolicy(initial=30.0)
    run_stream(handle, policy, stopping, attempt, recoverable=lambda e: True)
    assert len(errors) == 1 and handle.exc is None and not handle.stopped


def test_run_stream_marks_a_clean_end_stopped() -> None:
    errors: list[BaseException] = []
    handle = _handle(errors)
    run_stream(
        handle, ReconnectPolicy(), threading.Event(), lambda: None, recoverable=lambda e: True
    )
    assert handle.stopped and handle.exc is None and errors == []
