"""Server-side list state shared by the server engine and its drivers: entries, events, streams.

An :class:`Entry` is one AddToList of the client. The server engine reports what needs the
backend as events (:class:`ListStarted`, :class:`ListStopped`, :class:`SettingsRequested`,
...); a :class:`ListStream` turns the readings of a running stream into reply frames.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import NamedTuple

import attrs

from pacsys.acnet.status import ACNET_QUEFULL
from pacsys.drf3 import DataRequest
from pacsys.types import Reading, Value
from pacsys_dpm.codec import RequestHead, encode_message, frame_many

from .replies import Clock, encode_device_info, encode_reply, status_reply

__all__ = [
    "ConnectionClosed",
    "Entry",
    "ListOpened",
    "ListStarted",
    "ListStopped",
    "ListStream",
    "Refused",
    "ServerEvent",
    "SettingsRequested",
]

log = logging.getLogger("pacsys_dpm.server.jobs")


class Entry(NamedTuple):
    """One list entry: the client's ref id, its DRF as sent, and the parsed request."""

    ref_id: int
    drf: str
    request: DataRequest


@attrs.frozen
class ListOpened:
    """The handshake was accepted; the OpenList reply is queued."""

    head: RequestHead


@attrs.frozen
class Refused:
    """The handshake was refused; an HTTP error is queued, then the connection must close."""

    code: int
    reason: str
    detail: str


@attrs.frozen
class ListStarted:
    """StartList: stop what runs, read ``reads``, subscribe ``streams``, describe ``never``.

    Answer with :meth:`ServerProtocol.answer_start
    <pacsys_dpm.protocol.server.ServerProtocol.answer_start>` before the next event.
    """

    reads: tuple[Entry, ...]
    """One-shot entries (``@I``, ``@U``, historical extras): one backend read each."""
    streams: tuple[Entry, ...]
    """Repeating entries: one backend subscription for all, fed to a :class:`ListStream`."""
    never: tuple[Entry, ...]
    """``@N`` entries (settings): DeviceInfo only, from the backend's metadata."""


@attrs.frozen
class ListStopped:
    """StopList: send no more stream data."""


@attrs.frozen
class SettingsRequested:
    """ApplySettings that the list may make: write them, then ``answer_settings``."""

    user: str
    role: str | None
    writes: tuple[tuple[str, Value], ...]
    """(DRF without event, value) per allowed setting, in request order."""


@attrs.frozen
class ConnectionClosed:
    """The client closed its end: stop every job of the list."""


ServerEvent = (
    ListOpened | Refused | ListStarted | ListStopped | SettingsRequested | ConnectionClosed
)


class ListStream:
    """The repeating entries of one StartList: readings -> reply frames.

    A reading is matched to its entries by DRF (as sent or canonical); each entry's
    DeviceInfo goes out before its first usable value. Not thread-safe: the driver
    calls it under its own lock.
    """

    def __init__(self, entries: Sequence[Entry], clock: Clock) -> None:
        self._clock = clock
        self._refs: dict[str, list[Entry]] = {}
        for entry in entries:
            for key in {entry.drf, entry.request.to_canonical()}:
                self._refs.setdefault(key, []).append(entry)
        self.drfs = list(dict.fromkeys(entry.drf for entry in entries))
        """The DRFs to subscribe to (each once)."""
        self._info_sent: set[int] = set()

    def encode(self, reading: Reading) -> bytes:
        """The frames ``reading`` becomes (``b""`` when no entry asked for it)."""
        entries = self._refs.get(reading.drf)
        if entries is None and len(self.drfs) == 1:
            entries = self._refs.get(self.drfs[0])
        if not entries:
            log.warning("dropping a reading for %s: no entry requested it", reading.drf)
            return b""
        bodies: list[bytes] = []
        usable = reading.value is not None and reading.error_code >= 0
        for entry in entries:
            if usable and entry.ref_id not in self._info_sent:
                self._info_sent.add(entry.ref_id)
                bodies.append(encode_device_info(entry.ref_id, entry.drf, reading.meta))
            bodies.append(encode_reply(entry.ref_id, reading, self._clock))
        return frame_many(bodies)

    def loss_notice(self) -> bytes:
        """Status ``ACNET_QUEFULL`` for every entry: readings were dropped for this client."""
        refs = sorted({entry.ref_id for entries in self._refs.values() for entry in entries})
        return frame_many(
            [encode_message(status_reply(ref, ACNET_QUEFULL, self._clock)) for ref in refs]
        )

    def failure(self, status: int) -> bytes:
        """The frame that ends the stream: a job-level Status (ref 0)."""
        return frame_many([encode_message(status_reply(0, status, self._clock))])
