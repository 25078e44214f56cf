"""Heartbeats both ways, shared by the two roles: when to send ours, how long the peer is silent.

A client job sends ``H`` and listens for the server's ``Q``; a server job does the
opposite. Times are seconds on the driver's monotonic clock.
"""

from __future__ import annotations

import attrs

__all__ = ["Liveness", "Timing"]


@attrs.frozen
class Timing:
    """Liveness constants: our heartbeat period and the peer silence we tolerate."""

    heartbeat_interval: float = 5.0
    peer_timeout: float = 30.0


class Liveness:
    """One job's heartbeat clock: ``due`` when ours should go out, ``silent`` for the peer's."""

    __slots__ = ("_next_beat", "interval", "last_heard")

    def __init__(self, interval: float, now: float) -> None:
        self.interval = interval
        self.last_heard = now
        self._next_beat = now + interval

    def heard(self, now: float) -> None:
        """The peer showed it is alive."""
        self.last_heard = now

    def due(self, now: float) -> bool:
        """True (and re-armed) when our heartbeat should go out now."""
        if now < self._next_beat:
            return False
        self._next_beat = now + self.interval
        return True

    def silent_for(self, now: float) -> float:
        return now - self.last_heard
