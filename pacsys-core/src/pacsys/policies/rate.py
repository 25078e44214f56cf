"""Sliding-window rate limiting per client address."""

from __future__ import annotations

import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable

from pacsys.policies.base import Policy, PolicyDecision, RequestContext, allow, deny

#: Above this many tracked clients, idle ones are dropped on the next request.
PRUNE_THRESHOLD = 100

_IPV4_PORT = re.compile(r"(ipv4:.+):\d+")
_IPV6_PORT = re.compile(r"(ipv6:(?:\[.*\]|%5B.*%5D)):\d+", re.IGNORECASE)


def peer_key(peer: str) -> str:
    """The client address of a gRPC peer string, so new connections share one budget.

    ``ipv4:10.0.0.1:5000`` → ``ipv4:10.0.0.1``; ``ipv6:[::1]:5000`` → ``ipv6:[::1]`` (also
    with percent-encoded brackets).  Other peers (``unix:``, ``unknown``) are used whole.
    """
    match = _IPV4_PORT.fullmatch(peer) or _IPV6_PORT.fullmatch(peer)
    return match.group(1) if match else peer


def _positive(value: object, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{what} must be a number, got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{what} must be > 0, got {value!r}")


class RateLimitPolicy(Policy):
    """Allow at most ``max_requests`` RPCs per ``window_seconds`` from one client address.

    Every RPC that reaches the policy counts (Read and Set); denied ones are not recorded.
    ``clock`` returns monotonic seconds and exists for tests.  Thread-safe.
    """

    def __init__(
        self,
        max_requests: int,
        window_seconds: float = 60.0,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        _positive(max_requests, "max_requests")
        _positive(window_seconds, "window_seconds")
        self.max_requests = max_requests
        self.window_seconds = window_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._times: dict[str, deque[float]] = {}

    @property
    def tracked_peers(self) -> int:
        """How many client addresses currently have recorded requests."""
        with self._lock:
            return len(self._times)

    def check(self, ctx: RequestContext) -> PolicyDecision:
        key = peer_key(ctx.peer)
        with self._lock:
            now = self._clock()
            cutoff = now - self.window_seconds
            if len(self._times) > PRUNE_THRESHOLD:
                self._prune(cutoff)
            times = self._times.setdefault(key, deque())
            while times and times[0] <= cutoff:
                times.popleft()
            if len(times) >= self.max_requests:
                return deny(f"Rate limit exceeded ({self.max_requests} per {self.window_seconds}s)")
            times.append(now)
        return allow()

    def _prune(self, cutoff: float) -> None:
        idle = [key for key, times in self._times.items() if not times or times[-1] <= cutoff]
        for key in idle:
            del self._times[key]

    def __repr__(self) -> str:
        return f"RateLimitPolicy({self.max_requests!r}, window_seconds={self.window_seconds!r})"
