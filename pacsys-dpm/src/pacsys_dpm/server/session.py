"""One DPM list (one connection): entries, properties, jobs and settings (docs/protocols/dpm.md §7).

:class:`ListSession` turns decoded requests into backend calls and reply bodies. It owns no
socket: replies go out through the ``send`` callable of its connection, which is called from
the connection thread (requests) and from backend threads (stream data).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Final

import numpy as np

from pacsys.acnet.status import parse_error
from pacsys.backends import Backend
from pacsys.drf3 import parse_request
from pacsys.drf3.extras import CHUNKED_HISTORICAL_EXTRAS
from pacsys.drf3.properties import DRF_PROPERTY
from pacsys.drf_utils import strip_event
from pacsys.metadata import MetadataSource
from pacsys.types import DeviceMeta, Reading, Value
from pacsys_dpm.codec import (
    AddToListRequest,
    ApplySettingsReply,
    ApplySettingsRequest,
    AuthenticateRequest,
    ClearListRequest,
    EnableSettingsRequest,
    RemoveFromListRequest,
    Request,
    SettingStatus,
    StartListReply,
    StartListRequest,
    StopListRequest,
    encode_message,
)

from .auth import ListAuth, RolePolicy
from .jobs import Entry, StreamJob, exception_status
from .replies import (
    ACNET_SYS,
    DPM_BAD_EVENT,
    DPM_BAD_REQUEST,
    DPM_PRIV,
    chunked_replies,
    device_info_from_source,
    encode_device_info,
    encode_reply,
    encode_safely,
    status_of,
    status_reply,
)

__all__ = ["ListSession"]

log = logging.getLogger("pacsys_dpm.server.session")

Sender = Callable[[list[bytes]], None]

_ONE_SHOT_MODES: Final = frozenset({"I", "U"})
_NEVER_MODE: Final = "N"
_PROPERTY_MIN_LEN: Final = 5  # "#" + more than 3 characters: a list property (S10)
_MAX_DEVICE_INFOS: Final = 65536
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


class ListSession:
    """State and request handling of one list."""

    def __init__(
        self,
        list_id: int,
        backend: Backend,
        send: Sender,
        auth: ListAuth,
        policy: RolePolicy,
        *,
        io_timeout: float = 5.0,
    ) -> None:
        self.list_id = list_id
        self._backend = backend
        self._send = send
        self._auth = auth
        self._policy = policy
        self._io_timeout = io_timeout
        self._entries: dict[int, Entry] = {}
        self._properties: dict[str, str] = {}
        self._job: StreamJob | None = None
        self._device_infos: dict[int, tuple[str, DeviceMeta | None, bytes]] = {}

    @property
    def role(self) -> str | None:
        """The settings role set with ``#ROLE:<role>``."""
        return self._properties.get("ROLE")

    @property
    def entries(self) -> dict[int, str]:
        """ref id -> DRF of the current entries (a copy)."""
        return {ref: entry.drf for ref, entry in self._entries.items()}

    def handle(self, request: Request) -> None:
        """Act on one request, in arrival order; see docs/protocols/dpm.md §4.5."""
        if isinstance(request, AddToListRequest):
            self.add_entry(request.ref_id, request.drf_request)
        elif isinstance(request, StartListRequest):
            self._start()
        elif isinstance(request, StopListRequest):
            self._stop_job()
        elif isinstance(request, ClearListRequest):
            self._entries.clear()
        elif isinstance(request, RemoveFromListRequest):
            self._entries.pop(request.ref_id, None)
        elif isinstance(request, AuthenticateRequest):
            self._send([encode_message(self._auth.authenticate(request.token))])
        elif isinstance(request, EnableSettingsRequest):
            self._send([encode_message(self._auth.enable_settings(request.mic, request.message))])
        elif isinstance(request, ApplySettingsRequest):
            self._apply(request)
        else:
            log.debug("list %d: ignoring %s", self.list_id, request.NAME)

    def close(self) -> None:
        """Stop every job (EOF or server stop, docs/protocols/dpm.md §1.6)."""
        self._stop_job()

    # --- list management ----------------------------------------------------------------

    def add_entry(self, ref_id: int, drf: str) -> Entry | None:
        """AddToList: a ``#KEY:VALUE`` property or an entry (a bad DRF is answered at once).

        Returns the entry added, None for a property or a bad DRF.
        """
        if drf.startswith("#") and len(drf) >= _PROPERTY_MIN_LEN:
            key, _, value = drf[1:].partition(":")
            self._properties[key.strip().upper()] = value.strip()
            return None
        try:
            request = parse_request(drf)
        except (ValueError, TypeError) as exc:
            log.info("list %d: bad DRF %r for ref %d: %s", self.list_id, drf, ref_id, exc)
            self._entries.pop(ref_id, None)
            self._send([encode_message(status_reply(ref_id, _bad_drf_status(drf)))])
            return None
        entry = self._entries[ref_id] = Entry(ref_id, drf, request)
        return entry

    def put_entry(self, entry: Entry) -> None:
        """Add an entry that :meth:`add_entry` returned before (the same AddToList again)."""
        self._entries[entry.ref_id] = entry

    def _stop_job(self) -> None:
        job, self._job = self._job, None
        if job is not None:
            job.stop()

    def _start(self) -> None:
        """StartList (S11): metadata and immediate answers, the reply, then data.

        Bodies go out in chunks of ``_SEND_CHUNK`` as they are encoded, so a client
        decodes the first ones while the rest are encoded (the byte stream is the same
        as one write).
        """
        self._stop_job()
        entries = sorted(self._entries.values())  # ref ids are unique: sorts by ref id
        one_shot: list[Entry] = []
        streams: list[Entry] = []
        for entry in entries:
            request = entry.request
            mode = request.event.mode
            if mode == _NEVER_MODE:
                continue
            if mode in _ONE_SHOT_MODES or request.extra is not None:
                one_shot.append(entry)
            else:
                streams.append(entry)
        readings = self._read(one_shot)
        head: list[bytes] = []
        data: list[tuple[Entry, Reading]] = []
        for entry in entries:
            if entry.request.event.mode == _NEVER_MODE:
                head.append(encode_message(self._never_info(entry)))
            else:
                reading = readings.get(entry.ref_id)
                if reading is None:
                    continue
                if reading.value is not None and reading.error_code >= 0:
                    head.append(self._device_info(entry, reading.meta))
                    data.append((entry, reading))
                else:
                    head.append(encode_reply(entry.ref_id, reading))
            if len(head) >= _SEND_CHUNK:
                self._send(head)
                head = []
        job = None
        if streams:
            job = StreamJob(self._backend, streams, self._send)
            try:
                job.start()
            except Exception as exc:
                log.warning("list %d: subscribe failed: %s", self.list_id, exc)
                head.append(encode_message(status_reply(0, exception_status(exc))))
                job = None
        self._job = job
        head.append(encode_message(StartListReply(self.list_id, 0)))
        for entry, reading in data:
            ref = entry.ref_id
            if entry.request.extra in CHUNKED_HISTORICAL_EXTRAS:
                head.extend(encode_safely(ref, reply) for reply in chunked_replies(ref, reading))
            else:
                head.append(encode_reply(ref, reading))
            if len(head) >= _SEND_CHUNK:
                self._send(head)
                head = []
        self._send(head)
        if job is not None:
            job.release()

    def _device_info(self, entry: Entry, meta: DeviceMeta | None) -> bytes:
        """DeviceInfo body of an entry; re-used while the backend hands out the same meta."""
        known = self._device_infos.get(entry.ref_id)
        if known is not None and known[1] is meta and known[0] == entry.drf:
            return known[2]
        body = encode_device_info(entry.ref_id, entry.drf, meta)
        if len(self._device_infos) >= _MAX_DEVICE_INFOS:
            self._device_infos.clear()
        self._device_infos[entry.ref_id] = (entry.drf, meta, body)
        return body

    def _read(self, entries: list[Entry]) -> dict[int, Reading]:
        if not entries:
            return {}
        drfs = [e.drf for e in entries]
        try:
            readings = self._backend.get_many(drfs, timeout=self._io_timeout)
            if len(readings) != len(drfs):
                raise RuntimeError(f"backend returned {len(readings)} readings for {len(drfs)}")
        except Exception as exc:
            log.warning("list %d: read failed: %s", self.list_id, exc)
            facility, error = parse_error(exception_status(exc))
            readings = [Reading(drf=d, facility_code=facility, error_code=error) for d in drfs]
        return {e.ref_id: r for e, r in zip(entries, readings, strict=True)}

    def _never_info(self, entry: Entry) -> Any:
        setting = entry.request.property in (DRF_PROPERTY.SETTING, DRF_PROPERTY.CONTROL)
        info = None
        if isinstance(self._backend, MetadataSource):
            try:
                info = self._backend.device_info(entry.request.device)
            except Exception as exc:
                log.debug("device_info(%s) failed: %s", entry.request.device, exc)
        return device_info_from_source(entry.ref_id, entry.drf, info, setting=setting)

    # --- settings -----------------------------------------------------------------------

    def _apply(self, request: ApplySettingsRequest) -> None:
        """ApplySettings (S19): check each setting, write the allowed ones, one reply."""
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
        allowed: list[tuple[int, str, Value]] = []
        user, role = self._auth.user, self.role
        for index, (ref, value) in enumerate(settings):
            entry = self._entries.get(ref)
            if entry is None:
                statuses[index] = DPM_BAD_REQUEST
            elif user is None or not self._policy.allows(role, entry.request.device):
                statuses[index] = DPM_PRIV
            else:
                allowed.append((index, strip_event(entry.drf), value))
        if user is None and settings:
            log.warning("list %d: settings refused, no authenticated user", self.list_id)
        refused = [settings[i][0] for i, s in statuses.items() if s == DPM_PRIV]
        if user is not None and refused:
            log.warning(
                "list %d: %s (role %r) may not set refs %s", self.list_id, user, role, refused
            )
        if allowed:
            statuses.update(self._write(user, role, allowed))
        reply = ApplySettingsReply(
            tuple(SettingStatus(ref, statuses[i]) for i, (ref, _) in enumerate(settings))
        )
        self._send([encode_message(reply)])

    def _write(
        self, user: str | None, role: str | None, allowed: list[tuple[int, str, Value]]
    ) -> dict[int, int]:
        log.info(
            "list %d: %s (role %r) sets %s",
            self.list_id,
            user,
            role,
            ", ".join(drf for _, drf, _ in allowed),
        )
        try:
            results = self._backend.write_many(
                [(drf, value) for _, drf, value in allowed], timeout=self._io_timeout
            )
            if len(results) != len(allowed):
                raise RuntimeError(f"backend returned {len(results)} results for {len(allowed)}")
        except Exception as exc:
            log.warning("list %d: write failed: %s", self.list_id, exc)
            status = exception_status(exc) or ACNET_SYS
            return {index: status for index, _, _ in allowed}
        return {
            index: status_of(result.facility_code, result.error_code)
            for (index, _, _), result in zip(allowed, results, strict=True)
        }
