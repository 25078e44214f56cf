"""What the emulated tasks (RETDAT, GETS32, FTPMAN, DPMD) need from the daemon that runs
them, and what they offer it: the only seam between the services and their driver (the
threaded :class:`~pacsys_acnet.server.AcnetServer`, or the in-memory
:class:`~pacsys_acnet.server.memory.MemoryDaemon` with its virtual clock)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from pacsys_acnet.protocol.daemon import DaemonRequest

__all__ = ["Host", "Service", "Timer"]


class Timer(Protocol):
    def cancel(self) -> None: ...


class Host(Protocol):
    """The daemon, seen from a service."""

    def now(self) -> float:
        """Wall-clock time, epoch seconds (virtual in memory)."""
        ...

    def reply(
        self, request: DaemonRequest, status: int, data: bytes = b"", last: bool = True
    ) -> None:
        """Answer ``request`` (from any thread; ignored once the request is over)."""
        ...

    def schedule(self, delay: float, action: Callable[[], None]) -> Timer:
        """Run ``action`` once, ``delay`` seconds from now."""
        ...


class Service(Protocol):
    """One emulated task: it answers the requests the daemon routes to it."""

    def request(self, request: DaemonRequest) -> None:
        """A new request (``request.data`` is its payload)."""
        ...

    def cancel(self, request: DaemonRequest) -> None:
        """The requester cancelled, timed out or went away: stop answering."""
        ...
