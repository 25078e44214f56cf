"""The server role of one DPM connection (one list), without I/O.

:class:`ServerProtocol` reads the handshake head (accepting ``GET /dpm`` with the PC
content type, refusing anything else with an HTTP error), queues the OpenList reply, and
then turns request frames into list state and replies, in arrival order: entries and
``#`` properties (a bad DRF is answered with a Status at once), the Kerberos rounds (with
an injected acceptor), and role checks of settings. What needs the backend comes out of
:meth:`next_event`; the driver answers StartList and ApplySettings before asking for the
next event, so replies keep the order of the requests.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from typing import Final

import numpy as np

from pacsys.drf3 import parse_request
from pacsys.drf3.extras import CHUNKED_HISTORICAL_EXTRAS
from pacsys.drf3.properties import DRF_PROPERTY
from pacsys.drf_utils import strip_event
from pacsys.metadata import DeviceInfoResult
from pacsys.types import DeviceMeta, Reading, Value
from pacsys_dpm.codec import (
    AddToListRequest,
    ApplySettingsReply,
    ApplySettingsRequest,
    AuthenticateRequest,
    ClearListRequest,
    DPMProtocolError,
    EnableSettingsRequest,
    HeadReader,
    ListStatusReply,
    OpenListReply,
    RemoveFromListRequest,
    Request,
    SettingStatus,
    StartListReply,
    StartListRequest,
    StopListRequest,
    decode_request,
    decode_request_fields,
    encode_message,
    frame,
    frame_many,
    http_error_response,
)

from .access import ListAuth, RolePolicy
from .endpoint import Endpoint
from .lists import (
    ConnectionClosed,
    Entry,
    ListOpened,
    ListStarted,
    ListStopped,
    Refused,
    ServerEvent,
    SettingsRequested,
)
from .replies import (
    DPM_BAD_EVENT,
    DPM_BAD_REQUEST,
    DPM_PRIV,
    Clock,
    chunked_replies,
    device_info_from_source,
    encode_device_info,
    encode_reply,
    encode_safely,
    status_reply,
)

__all__ = ["ServerProtocol"]

log = logging.getLogger("pacsys_dpm.server.session")

_ONE_SHOT_MODES: Final = frozenset({"I", "U"})
_NEVER_MODE: Final = "N"
_PROPERTY_MIN_LEN: Final = 5  # "#" + more than 3 characters: a list property
_MAX_CACHED: Final = 65536
_SEND_CHUNK: Final = 256  # reply bodies per write while answering a StartList


def _bad_drf_status(drf: str) -> int:
    """DPM_BAD_EVENT when only the event clause is wrong, else DPM_BAD_REQUEST."""
    head, at, _ = drf.partition("@")
    if not at:
        return DPM_BAD_REQUEST
    try:
        parse_request(head)
    except (ValueError, TypeError):
        return DPM_BAD_REQUEST
    return DPM_BAD_EVENT


class ServerProtocol(Endpoint):
    """One DPM connection, server side: handshake, list state, request handling.

    ``clock`` gives wall-clock milliseconds for the timestamps of Status replies;
    ``frames_per_write`` bounds the pieces of a StartList answer. Not thread-safe: the
    connection's thread owns it (stream data goes through a :class:`ListStream`).
    """

    def __init__(
        self,
        list_id: int,
        auth: ListAuth,
        policy: RolePolicy,
        clock: Clock,
        *,
        frames_per_write: int = _SEND_CHUNK,
    ) -> None:
        super().__init__()
        self.list_id: int = list_id  # fixed for the connection (a client learns its own)
        self._list_id = list_id
        self._auth = auth
        self._policy = policy
        self._clock = clock
        self._frames_per_write = frames_per_write
        self._head: HeadReader | None = HeadReader()
        self._requests: deque[bytes] = deque()
        self._events: deque[ServerEvent] = deque()
        self._eof = False
        self._closed = False
        self._awaiting: str | None = None
        self._started: list[Entry] = []
        self._applying: tuple[list[tuple[int, Value]], dict[int, int], list[int]] | None = None
        self._entries: dict[int, Entry] = {}
        self._properties: dict[str, str] = {}
        self._known_adds: dict[bytes, Entry] = {}  # AddToList body -> the entry it added
        self._device_infos: dict[int, tuple[str, DeviceMeta | None, bytes]] = {}

    @property
    def role(self) -> str | None:
        """The settings role set with ``#ROLE:<role>``."""
        return self._properties.get("ROLE")

    @property
    def entries(self) -> dict[int, str]:
        """ref id -> DRF of the current entries (a copy)."""
        return {ref: entry.drf for ref, entry in self._entries.items()}

    def receive_data(self, data: bytes) -> None:
        """Take received bytes; ``b""`` is the client's EOF (anything after it is ignored)."""
        self._check()
        if self._eof:
            return
        if not data:
            self._eof = True
            return
        if self._head is not None:
            data = self._handshake(data)
            if not data:
                return
        self._requests.extend(self._bodies(data))

    def next_event(self) -> ServerEvent | None:
        """Handle received requests up to the next event; None when more bytes are needed.

        Raises :class:`DPMProtocolError` for a request that cannot be decoded (the
        connection must then close) and RuntimeError while an answer is still due.
        """
        self._check()
        if self._awaiting is not None:
            raise RuntimeError(f"answer the {self._awaiting} request before the next event")
        if self._events:
            return self._events.popleft()
        requests = self._requests
        while requests:
            try:
                event = self._handle(requests.popleft())
            except DPMProtocolError as exc:
                self._fail(exc)
            if event is not None:
                return event
        self._check_frames()
        if self._eof and not self._closed:
            self._closed = True
            return ConnectionClosed()
        return None

    def heartbeat(self) -> bytes:
        """The idle heartbeat frame (a ListStatus); the driver decides when to write it."""
        return frame(encode_message(ListStatusReply(self._list_id, 0)))

    def answer_start(
        self,
        readings: Mapping[int, Reading],
        infos: Mapping[int, DeviceInfoResult | None] | None = None,
        job_status: int = 0,
    ) -> None:
        """Queue the StartList answer: metadata and immediate answers, the reply, then data.

        ``readings`` maps the ref of each read entry to its Reading, ``infos`` each ``@N``
        entry to its metadata (None: unknown), ``job_status`` is non-zero when the stream
        subscription failed.
        """
        self._expect("StartList")
        self._queue(self._start_frames(self._started, readings, infos or {}, job_status))
        self._started = []

    def answer_settings(self, statuses: Sequence[int]) -> None:
        """Queue the ApplySettings reply; ``statuses`` answer the event's ``writes`` in order."""
        if self._applying is not None and len(statuses) != len(self._applying[2]):
            raise ValueError(f"{len(statuses)} statuses for {len(self._applying[2])} writes")
        self._expect("ApplySettings")
        assert self._applying is not None
        settings, result, allowed = self._applying
        result.update(zip(allowed, statuses, strict=True))
        self._applying = None
        self._reply_settings(settings, result)

    # --- requests ------------------------------------------------------------------------

    def _handshake(self, data: bytes) -> bytes:
        reader = self._head
        assert reader is not None
        try:
            head = reader.feed(data)
        except DPMProtocolError as exc:
            self._refuse(400, "Bad Request", str(exc))
            return b""
        if head is None:
            return b""
        self._head = None
        if not head.is_dpm:
            self._refuse(404, "Not Found", f"{head.method} {head.target}")
            return b""
        self._queue_messages([OpenListReply(self._list_id)])
        self._events.append(ListOpened(head))
        return reader.remainder

    def _refuse(self, code: int, reason: str, detail: str) -> None:
        self._head = None
        self._eof = self._closed = True
        self._queue(http_error_response(code, reason))
        self._events.append(Refused(code, reason, detail))

    def _handle(self, body: bytes) -> ServerEvent | None:
        """One request body; AddToList (the bulk of a list) takes a fast lane.

        A client that reads the same list again sends the same AddToList bodies, so their
        entries are remembered by body.
        """
        known = self._known_adds.get(body)
        if known is not None:
            self._entries[known.ref_id] = known
            return None
        fields = decode_request_fields(body)
        if fields is not None and fields[0] is AddToListRequest:
            entry = self._add(fields[1][1], fields[1][2])
            if entry is not None:
                if len(self._known_adds) >= _MAX_CACHED:
                    self._known_adds.clear()
                self._known_adds[body] = entry
            return None
        return self._request(decode_request(body))

    def _request(self, request: Request) -> ServerEvent | None:
        if isinstance(request, AddToListRequest):
            self._add(request.ref_id, request.drf_request)
        elif isinstance(request, StartListRequest):
            return self._start()
        elif isinstance(request, StopListRequest):
            return ListStopped()
        elif isinstance(request, ClearListRequest):
            self._entries.clear()
        elif isinstance(request, RemoveFromListRequest):
            self._entries.pop(request.ref_id, None)
        elif isinstance(request, AuthenticateRequest):
            self._queue_messages([self._auth.authenticate(request.token, self._clock())])
        elif isinstance(request, EnableSettingsRequest):
            self._queue_messages([self._auth.enable_settings(request.mic, request.message)])
        elif isinstance(request, ApplySettingsRequest):
            return self._apply(request)
        else:  # ServiceDiscovery and OpenList are of no use over TCP
            log.debug("list %d: ignoring %s", self._list_id, request.NAME)
        return None

    def _add(self, ref_id: int, drf: str) -> Entry | None:
        """AddToList: a ``#KEY:VALUE`` property or an entry (a bad DRF is answered at once)."""
        if drf.startswith("#") and len(drf) >= _PROPERTY_MIN_LEN:
            key, _, value = drf[1:].partition(":")
            self._properties[key.strip().upper()] = value.strip()
            return None
        try:
            request = parse_request(drf)
        except (ValueError, TypeError) as exc:
            log.info("list %d: bad DRF %r for ref %d: %s", self._list_id, drf, ref_id, exc)
            self._entries.pop(ref_id, None)
            self._queue_messages([status_reply(ref_id, _bad_drf_status(drf), self._clock)])
            return None
        entry = self._entries[ref_id] = Entry(ref_id, drf, request)
        return entry

    def _start(self) -> ListStarted:
        entries = sorted(self._entries.values())  # ref ids are unique: sorts by ref id
        reads: list[Entry] = []
        streams: list[Entry] = []
        never: list[Entry] = []
        for entry in entries:
            request = entry.request
            mode = request.event.mode
            if mode == _NEVER_MODE:
                never.append(entry)
            elif mode in _ONE_SHOT_MODES or request.extra is not None:
                reads.append(entry)
            else:
                streams.append(entry)
        self._started = entries
        self._awaiting = "StartList"
        return ListStarted(tuple(reads), tuple(streams), tuple(never))

    def _expect(self, name: str) -> None:
        self._check()
        if self._awaiting != name:
            raise RuntimeError(f"no {name} request is waiting for an answer")
        self._awaiting = None

    def _start_frames(
        self,
        entries: list[Entry],
        readings: Mapping[int, Reading],
        infos: Mapping[int, DeviceInfoResult | None],
        job_status: int,
    ) -> Iterator[bytes]:
        """The StartList answer in pieces of ``frames_per_write`` frames, encoded lazily."""
        limit, clock = self._frames_per_write, self._clock
        bodies: list[bytes] = []
        data: list[tuple[Entry, Reading]] = []
        for entry in entries:
            ref = entry.ref_id
            if entry.request.event.mode == _NEVER_MODE:
                setting = entry.request.property in (DRF_PROPERTY.SETTING, DRF_PROPERTY.CONTROL)
                info = device_info_from_source(ref, entry.drf, infos.get(ref), setting=setting)
                bodies.append(encode_message(info))
            elif (reading := readings.get(ref)) is not None:
                if reading.value is not None and reading.error_code >= 0:
                    bodies.append(self._device_info(entry, reading.meta))
                    data.append((entry, reading))
                else:
                    bodies.append(encode_reply(ref, reading, clock))
            if len(bodies) >= limit:
                yield frame_many(bodies)
                bodies = []
        if job_status:
            bodies.append(encode_message(status_reply(0, job_status, clock)))
        bodies.append(encode_message(StartListReply(self._list_id, 0)))
        for entry, reading in data:
            if len(bodies) >= limit:
                yield frame_many(bodies)
                bodies = []
            ref = entry.ref_id
            if entry.request.extra in CHUNKED_HISTORICAL_EXTRAS:
                replies = chunked_replies(ref, reading, clock)
                bodies.extend(encode_safely(ref, reply, clock) for reply in replies)
            else:
                bodies.append(encode_reply(ref, reading, clock))
        yield frame_many(bodies)

    def _device_info(self, entry: Entry, meta: DeviceMeta | None) -> bytes:
        """DeviceInfo body of an entry; re-used while the backend hands out the same meta."""
        known = self._device_infos.get(entry.ref_id)
        if known is not None and known[1] is meta and known[0] == entry.drf:
            return known[2]
        body = encode_device_info(entry.ref_id, entry.drf, meta)
        if len(self._device_infos) >= _MAX_CACHED:
            self._device_infos.clear()
        self._device_infos[entry.ref_id] = (entry.drf, meta, body)
        return body

    # --- settings ------------------------------------------------------------------------

    def _apply(self, request: ApplySettingsRequest) -> SettingsRequested | None:
        """Check each setting (entry, user, role); the allowed ones go to the backend."""
        settings: list[tuple[int, Value]] = []
        for raw in request.raw_array or ():
            settings.append((raw.ref_id, raw.data))
        for scaled in request.scaled_array or ():
            values = np.asarray(scaled.data, dtype=np.float64)
            settings.append(
                (scaled.ref_id, float(values[0]) if len(values) == 1 else values.copy())
            )
        for text in request.text_array or ():
            settings.append((text.ref_id, text.data[0] if len(text.data) == 1 else list(text.data)))
        statuses: dict[int, int] = {}
        allowed: list[int] = []
        writes: list[tuple[str, Value]] = []
        user, role = self._auth.user, self.role
        for index, (ref, value) in enumerate(settings):
            entry = self._entries.get(ref)
            if entry is None:
                statuses[index] = DPM_BAD_REQUEST
            elif user is None or not self._policy.allows(role, entry.request.device):
                statuses[index] = DPM_PRIV
            else:
                allowed.append(index)
                writes.append((strip_event(entry.drf), value))
        if user is None and settings:
            log.warning("list %d: settings refused, no authenticated user", self._list_id)
        refused = [settings[i][0] for i, s in statuses.items() if s == DPM_PRIV]
        if user is not None and refused:
            log.warning(
                "list %d: %s (role %r) may not set refs %s", self._list_id, user, role, refused
            )
        if not writes:
            self._reply_settings(settings, statuses)
            return None
        assert user is not None
        log.info(
            "list %d: %s (role %r) sets %s",
            self._list_id,
            user,
            role,
            ", ".join(drf for drf, _ in writes),
        )
        self._applying = (settings, statuses, allowed)
        self._awaiting = "ApplySettings"
        return SettingsRequested(user, role, tuple(writes))

    def _reply_settings(self, settings: list[tuple[int, Value]], statuses: dict[int, int]) -> None:
        reply = ApplySettingsReply(
            tuple(SettingStatus(ref, statuses[i]) for i, (ref, _) in enumerate(settings))
        )
        self._queue_messages([reply])
