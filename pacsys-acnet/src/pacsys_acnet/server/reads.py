"""The emulated RETDAT and GETS32 tasks (``docs/protocols/acnet.md`` §7 and §12).

A request with a period (RETDAT's FTD in 60 Hz ticks; GETS32's ``P``/``Q`` events) is
answered at once and then every period while it stays open; any other request gets one
answer: final for an immediate read, and the request stays open (silent) when the
requester asked for multiple replies on an event the emulator does not generate.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from pacsys.acnet import status as st
from pacsys_acnet.codec import gets32, retdat
from pacsys_acnet.codec.reads import ReadDevice
from pacsys_acnet.protocol.daemon import DaemonRequest
from pacsys_acnet.server.access import DeviceAccess, Key
from pacsys_acnet.server.host import Host

__all__ = ["Gets32Service", "RetdatService", "event_period"]

log = logging.getLogger("pacsys_acnet.server")
MAX_PARSED = 256  # requests remembered per task (repeated reads skip parsing)


def keys(devices: list[ReadDevice]) -> list[Key]:
    return [(d.di, d.pi, d.offset, d.length) for d in devices]


def _remember(cache: dict[bytes, Any], payload: bytes, parsed: Any) -> None:
    if len(cache) >= MAX_PARSED:
        cache.clear()
    cache[payload] = parsed


def event_period(event: str) -> float | None:
    """The period in seconds of a GETS32 wire event (``P,<ms>,...``, ``Q,<ms>,...``)."""
    parts = event.split(",")
    if parts[0].upper() in ("P", "Q") and len(parts) > 1 and parts[1].isdigit():
        ms = int(parts[1])
        return ms / 1000.0 if ms > 0 else None
    return None


class _Repeating:
    """Answers a request now and, with a period, again on every period while it is open."""

    def __init__(self, host: Host) -> None:
        self.host = host

    def answer(
        self, request: DaemonRequest, make: Callable[[], bytes], period: float | None, once: bool
    ) -> None:
        if period is None or not request.multiple:
            self.host.reply(request, 0, make(), last=once)
            return
        start = self.host.now()

        def tick(n: int) -> None:
            if not request.open:
                return
            self.host.reply(request, 0, make(), last=False)
            due = start + (n + 1) * period - self.host.now()
            request.user = self.host.schedule(due, lambda: tick(n + 1))

        tick(0)

    def cancel(self, request: DaemonRequest) -> None:
        if request.user is not None:
            request.user.cancel()

    def refuse(self, request: DaemonRequest, exc: Exception) -> None:
        log.warning("bad %s request: %s", request.task_name, exc)
        self.host.reply(request, st.ACNET_IVM, b"", last=True)


class RetdatService(_Repeating):
    """RETDAT: FTD 0 is one immediate answer, 1..0x7FFF a period in 60 Hz ticks."""

    def __init__(self, host: Host, access: DeviceAccess) -> None:
        super().__init__(host)
        self.access = access
        self._parsed: dict[bytes, tuple[int, list[Key]]] = {}

    def request(self, request: DaemonRequest) -> None:
        parsed = self._parsed.get(request.data)
        if parsed is None:
            try:
                found = retdat.parse_request(request.data)
            except ValueError as exc:
                self.refuse(request, exc)
                return
            parsed = found.ftd, keys(found.devices)
            _remember(self._parsed, request.data, parsed)
        ftd, wanted = parsed

        def make() -> bytes:
            return self.access.body(wanted, self.host.now())

        period = ftd / 60.0 if 0 < ftd < 0x8000 else None
        self.answer(request, make, period, once=ftd == 0)


class Gets32Service(_Repeating):
    """GETS32: ``I`` is one immediate answer, ``P``/``Q`` periodic."""

    def __init__(self, host: Host, access: DeviceAccess) -> None:
        super().__init__(host)
        self.access = access
        self._parsed: dict[bytes, tuple[str, list[Key]]] = {}

    def request(self, request: DaemonRequest) -> None:
        parsed = self._parsed.get(request.data)
        if parsed is None:
            try:
                found = gets32.parse_request(request.data)
            except ValueError as exc:
                self.refuse(request, exc)
                return
            parsed = found.event, keys(found.devices)
            _remember(self._parsed, request.data, parsed)
        event, wanted = parsed
        sequence = [0]

        def make() -> bytes:
            sequence[0] += 1
            now = self.host.now()
            ms = int(now * 1000)
            header = gets32.Gets32Header(0, 1, 1, 0, 0, sequence[0], ms, ms, ms)
            return gets32.build_header(header) + self.access.body(wanted, now)

        period = event_period(event)
        self.answer(request, make, period, once=event.upper() == "I")
