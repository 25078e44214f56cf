"""One stream-failure policy for every transport's subscriptions.

When a subscription's connection drops, a backend either stops the subscription (the
default, ``reconnect=None``) or, given a :class:`ReconnectPolicy`, tells ``on_error`` and
subscribes again after an exponential, capped backoff (docs/protocols/semantics.md §6.4).
Errors that reconnecting cannot cure (the server refused the request, a bug) always stop it.
:func:`run_stream` is the loop every transport's stream thread runs.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pacsys.backends import summarize_drfs

if TYPE_CHECKING:
    from pacsys.backends.subscription import BufferedSubscriptionHandle

__all__ = ["Backoff", "ReconnectPolicy", "check_reconnect", "run_stream"]

log = logging.getLogger("pacsys.reconnect")


def _positive(value: Any, name: str) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")


@dataclasses.dataclass(frozen=True)
class ReconnectPolicy:
    """Resubscribe after a lost connection: wait ``initial`` s, then ``factor`` times longer
    each time, never more than ``maximum`` s.

    A connection that lived ``healthy_after`` s or more starts the backoff over.
    ``max_attempts`` (None: forever) failed attempts in a row end the subscription with the
    last error.
    """

    initial: float = 1.0
    maximum: float = 30.0
    factor: float = 2.0
    healthy_after: float = 30.0
    max_attempts: int | None = None

    def __post_init__(self) -> None:
        _positive(self.initial, "initial")
        _positive(self.maximum, "maximum")
        _positive(self.healthy_after, "healthy_after")
        _positive(self.factor, "factor")
        if self.factor < 1:
            raise ValueError(f"factor must be at least 1, got {self.factor!r}")
        if self.maximum < self.initial:
            raise ValueError(
                f"maximum ({self.maximum!r}) must not be below initial ({self.initial!r})"
            )
        attempts = self.max_attempts
        if attempts is not None and (
            isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1
        ):
            raise ValueError(f"max_attempts must be a positive integer or None, got {attempts!r}")

    def backoff(self) -> Backoff:
        """A fresh backoff sequence for one subscription."""
        return Backoff(self)


def check_reconnect(value: Any) -> ReconnectPolicy | None:
    """A backend's ``reconnect`` argument: a ReconnectPolicy or None (TypeError otherwise)."""
    if value is not None and not isinstance(value, ReconnectPolicy):
        raise TypeError(f"reconnect must be a ReconnectPolicy or None, got {type(value).__name__}")
    return value


class Backoff:
    """The delays of one subscription under a policy (pure: the caller says how long the
    connection lived)."""

    def __init__(self, policy: ReconnectPolicy) -> None:
        self.policy = policy
        self.failures = 0
        self._next = policy.initial

    def after_failure(self, lived: float) -> float | None:
        """Seconds to wait before the next attempt; None when no attempt is left."""
        policy = self.policy
        if lived >= policy.healthy_after:
            self.failures, self._next = 0, policy.initial
        self.failures += 1
        if policy.max_attempts is not None and self.failures > policy.max_attempts:
            return None
        delay = self._next
        self._next = min(delay * policy.factor, policy.maximum)
        return delay


def run_stream(
    handle: BufferedSubscriptionHandle,
    policy: ReconnectPolicy | None,
    stopping: threading.Event,
    attempt: Callable[[], None],
    *,
    recoverable: Callable[[BaseException], bool],
    describe: Callable[[BaseException], BaseException] = lambda exc: exc,
    on_end: Callable[[], None] | None = None,
) -> None:
    """Run a subscription's connections until it is stopped, ended or failed.

    ``attempt`` is one connection's life: connect, subscribe, deliver; it returns when the
    server ends the stream cleanly (the handle stops) or when ``stopping`` is set, and
    raises when the connection is lost.  A loss ``recoverable`` accepts is, under a policy,
    reported to ``on_error`` (as ``describe(exc)``) and followed by a new attempt after the
    backoff; anything else fails the handle.  ``on_end`` runs once, after the last attempt
    and before the handle hears the outcome (so whoever that wakes sees the stream gone).
    """
    error: BaseException | None = None
    try:
        error = _attempts(handle, policy, stopping, attempt, recoverable, describe)
    except BaseException as exc:  # a bug in describe/recoverable must not die silently
        log.exception("Subscription thread for %s failed", summarize_drfs(handle.drfs))
        error = exc
    finally:
        if on_end is not None:
            on_end()
    if stopping.is_set():
        return
    if error is not None:
        handle.fail(error)
    else:
        handle.mark_stopped()  # the server ended the stream: done for good


def _attempts(
    handle: BufferedSubscriptionHandle,
    policy: ReconnectPolicy | None,
    stopping: threading.Event,
    attempt: Callable[[], None],
    recoverable: Callable[[BaseException], bool],
    describe: Callable[[BaseException], BaseException],
) -> BaseException | None:
    """The attempt loop of :func:`run_stream`: the terminal error, or None."""
    backoff = None if policy is None else policy.backoff()
    while not stopping.is_set():
        opened = time.monotonic()
        try:
            attempt()
        except BaseException as exc:
            if stopping.is_set():
                return None
            error = describe(exc)
            delay = None
            if backoff is not None and recoverable(exc):
                delay = backoff.after_failure(time.monotonic() - opened)
            if delay is None:
                return error
            log.info(
                "Subscription to %s lost (%s); resubscribing in %.3g s",
                summarize_drfs(handle.drfs),
                error,
                delay,
            )
            handle.report(error)
            if stopping.wait(delay):
                return None
            continue
        return None
    return None
