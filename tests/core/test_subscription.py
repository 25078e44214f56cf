"""BufferedSubscriptionHandle and CallbackDispatcher: modes, timeouts, errors, backpressure."""

from __future__ import annotations

import threading
import time

import pytest

from pacsys.backends.dispatch import MAX_PENDING, CallbackDispatcher
from pacsys.backends.subscription import BufferedSubscriptionHandle
from pacsys.types import DispatchMode, Reading, ValueType


def reading(i: int) -> Reading:
    return Reading(f"M:OUTTMP@p,{i}", ValueType.SCALAR, value=float(i))


@pytest.fixture
def dispatcher():
    d = CallbackDispatcher(DispatchMode.WORKER)
    yield d
    d.close()


def handle(dispatcher, **kwargs) -> BufferedSubscriptionHandle:
    return BufferedSubscriptionHandle(["M:OUTTMP@p,1000"], [1], dispatcher=dispatcher, **kwargs)


def test_timeout_zero_drains_buffer_only(dispatcher) -> None:
    h = handle(dispatcher)
    for i in range(3):
        h.deliver(reading(i))
    assert [r.value for r, _ in h.readings(timeout=0)] == [0.0, 1.0, 2.0]
    assert list(h.readings(timeout=0)) == []
    assert not h.stopped


def test_timeout_zero_raises_stored_error_after_draining(dispatcher) -> None:
    h = handle(dispatcher)
    h.deliver(reading(1))
    h.fail(ConnectionError("lost"))
    seen = []
    with pytest.raises(ConnectionError, match="lost"):
        for r, _ in h.readings(timeout=0):
            seen.append(r.value)
    assert seen == [1.0]


def test_positive_timeout_is_a_total_window(dispatcher) -> None:
    h = handle(dispatcher)
    started = time.monotonic()
    assert list(h.readings(timeout=0.05)) == []
    assert 0.04 <= time.monotonic() - started < 2.0


def test_blocking_iteration_wakes_on_data_and_drains_after_stop(dispatcher) -> None:
    h = handle(dispatcher)
    got = []
    consumer_ready = threading.Event()

    def consume() -> None:
        consumer_ready.set()
        for r, hh in h.readings():
            got.append(r.value)
            assert hh is h

    t = threading.Thread(target=consume)
    t.start()
    consumer_ready.wait(2)
    h.deliver(reading(1))
    h.deliver(reading(2))
    h.mark_stopped()
    t.join(5)
    assert not t.is_alive()
    assert got == [1.0, 2.0]


def test_error_wakes_blocked_iterator_and_is_raised(dispatcher) -> None:
    h = handle(dispatcher)
    outcome: list[BaseException] = []

    def consume() -> None:
        try:
            list(h.readings())
        except Exception as exc:
            outcome.append(exc)

    t = threading.Thread(target=consume)
    t.start()
    h.fail(TimeoutError("dead connection"))
    t.join(5)
    assert isinstance(outcome[0], TimeoutError)
    assert h.stopped and isinstance(h.exc, TimeoutError)


def test_first_error_wins_and_on_error_called_once() -> None:
    d = CallbackDispatcher(DispatchMode.DIRECT)
    errors = []
    h = handle(d, callback=lambda r, hh: None, on_error=lambda e, hh: errors.append((e, hh)))
    first, second = RuntimeError("first"), RuntimeError("second")
    h.fail(first)
    h.fail(second)
    assert h.exc is first
    assert errors == [(first, h)]


def test_callback_mode_refuses_iteration(dispatcher) -> None:
    h = handle(dispatcher, callback=lambda r, hh: None)
    with pytest.raises(RuntimeError, match="Cannot iterate subscription with callback"):
        h.readings()


def test_worker_runs_callbacks_in_order_on_named_thread(dispatcher) -> None:
    seen: list[tuple[float, str]] = []
    done = threading.Event()

    def on_reading(r: Reading, hh) -> None:
        seen.append((r.value, threading.current_thread().name))
        if len(seen) == 50:
            done.set()

    h = handle(dispatcher, callback=on_reading)
    for i in range(50):
        h.deliver(reading(i))
    assert done.wait(5)
    assert [v for v, _ in seen] == [float(i) for i in range(50)]
    assert {name for _, name in seen} == {"pacsys-dispatch"}


def test_direct_mode_runs_inline_and_swallows_callback_errors() -> None:
    d = CallbackDispatcher(DispatchMode.DIRECT)
    threads = []

    def bad(r: Reading, hh) -> None:
        threads.append(threading.current_thread())
        raise ValueError("user bug")

    h = handle(d, callback=bad)
    h.deliver(reading(1))
    h.deliver(reading(2))
    assert threads == [threading.current_thread()] * 2
    assert not h.stopped


def test_stop_is_idempotent_and_removes_once(dispatcher) -> None:
    removed = []
    h = handle(dispatcher, on_stop=removed.append)
    with h as same:
        assert same is h
    h.stop()
    assert removed == [h]
    assert h.stopped
    h.deliver(reading(1))
    assert list(h.readings(timeout=0)) == []


def test_full_buffer_drops_newest_and_counts(dispatcher) -> None:
    h = handle(dispatcher, max_buffered=3)
    for i in range(5):
        h.deliver(reading(i))
    assert h.dropped == 2
    assert [r.value for r, _ in h.readings(timeout=0)] == [0.0, 1.0, 2.0]


def test_worker_queue_limit_drops_readings_not_errors() -> None:
    d = CallbackDispatcher(DispatchMode.WORKER)
    gate = threading.Event()
    got_error = threading.Event()
    errors: list[BaseException] = []

    def on_error(exc: BaseException, hh) -> None:
        errors.append(exc)
        got_error.set()

    h = handle(d, callback=lambda r, hh: gate.wait(5), on_error=on_error)
    for i in range(MAX_PENDING + 5):
        h.deliver(reading(i))
    assert h.dropped >= 4
    h.fail(RuntimeError("boom"))  # errors are never dropped
    gate.set()
    assert got_error.wait(10)
    d.close()
    assert len(errors) == 1


def test_readings_after_stop_request_are_discarded_by_worker() -> None:
    d = CallbackDispatcher(DispatchMode.WORKER)
    gate = threading.Event()
    calls = []
    h = handle(d, callback=lambda r, hh: (gate.wait(5), calls.append(r.value)))
    h.deliver(reading(1))
    h.deliver(reading(2))
    h.stop()
    gate.set()
    d.close()
    assert calls in ([], [1.0])


def test_closed_dispatcher_dispatches_nothing() -> None:
    d = CallbackDispatcher(DispatchMode.DIRECT)
    d.close()
    calls = []
    h = handle(d, callback=lambda r, hh: calls.append(r))
    h.deliver(reading(1))
    assert calls == []


# --- readings(count=N) ------------------------------------------------------------------


def test_count_takes_that_many_and_leaves_the_rest_buffered(dispatcher) -> None:
    h = handle(dispatcher)
    for i in range(5):
        h.deliver(reading(i))
    assert [r.value for r, _ in h.readings(timeout=0, count=2)] == [0.0, 1.0]
    assert [r.value for r, _ in h.readings(timeout=5, count=2)] == [2.0, 3.0]
    assert [r.value for r, _ in h.readings(timeout=0)] == [4.0]


def test_count_returns_as_soon_as_reached_without_waiting_for_the_window(dispatcher) -> None:
    h = handle(dispatcher)
    consumer_started = threading.Event()
    got: list[float] = []

    def consume() -> None:
        consumer_started.set()
        got.extend(r.value for r, _ in h.readings(timeout=None, count=3))

    t = threading.Thread(target=consume)
    t.start()
    assert consumer_started.wait(5)
    for i in range(4):
        h.deliver(reading(i))
    t.join(5)
    assert not t.is_alive()  # timeout=None would block forever without count
    assert got == [0.0, 1.0, 2.0]
    assert [r.value for r, _ in h.readings(timeout=0)] == [3.0]


def test_count_ends_early_on_stop_and_raises_a_stored_error(dispatcher) -> None:
    h = handle(dispatcher)
    h.deliver(reading(1))
    h.mark_stopped()
    assert [r.value for r, _ in h.readings(count=5)] == [1.0]
    failed = handle(dispatcher)
    failed.deliver(reading(1))
    failed.fail(ConnectionError("lost"))
    with pytest.raises(ConnectionError):
        list(failed.readings(timeout=0, count=2))


def test_count_reached_before_a_stored_error_does_not_raise(dispatcher) -> None:
    h = handle(dispatcher)
    h.deliver(reading(1))
    h.fail(ConnectionError("lost"))
    assert [r.value for r, _ in h.readings(timeout=0, count=1)] == [1.0]


@pytest.mark.parametrize(
    ("count", "error", "match"),
    [
        (-1, ValueError, "count must be >= 0, got -1"),
        (True, TypeError, "got bool"),
        (2.0, TypeError, "got float"),
    ],
)
def test_bad_count_is_refused_at_the_call(dispatcher, count, error, match) -> None:
    with pytest.raises(error, match=match):
        handle(dispatcher).readings(count=count)


def test_count_on_a_simulator_subscription() -> None:
    from pacsys.sim import ManualClock, SimBackend

    clock = ManualClock()
    with SimBackend(clock=clock, dispatch_mode=DispatchMode.DIRECT) as sim:
        sub = sim.subscribe(["M:OUTTMP@p,100"])
        clock.advance(1.0)
        first = [r for r, _ in sub.readings(timeout=0, count=3)]
        rest = [r for r, _ in sub.readings(timeout=0)]
    assert len(first) == 3 and len(rest) == 8  # 11 readings: one at once + 10 periodic
    assert [r.timestamp for r in first + rest] == sorted(r.timestamp for r in first + rest)


def test_count_on_a_fake_backend_subscription() -> None:
    from pacsys.testing import FakeBackend

    fake = FakeBackend()
    sub = fake.subscribe(["M:OUTTMP@p,1000"])
    for value in (1.0, 2.0, 3.0):
        fake.emit_reading("M:OUTTMP@p,1000", value)
    assert [r.value for r, _ in sub.readings(timeout=0, count=2)] == [1.0, 2.0]
    assert [r.value for r, _ in sub.readings(timeout=0)] == [3.0]
