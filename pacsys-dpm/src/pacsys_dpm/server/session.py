"""The backend side of one DPM list: answers the server engine's events with backend calls.

:class:`ListSession` reads one-shot entries, looks up metadata of ``@N`` entries, runs the
stream subscription (:class:`~.jobs.StreamJob`) and makes allowed writes, then hands the
results back to the :class:`~pacsys_dpm.protocol.ServerProtocol`, which encodes the replies.
It runs on the connection's thread; stream data arrives on backend threads.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from pacsys.acnet.status import parse_error
from pacsys.backends import Backend
from pacsys.metadata import DeviceInfoResult, MetadataSource
from pacsys.types import Reading
from pacsys_dpm.protocol import (
    Entry,
    ListStarted,
    ListStopped,
    ServerEvent,
    ServerProtocol,
    SettingsRequested,
)
from pacsys_dpm.protocol.replies import ACNET_SYS, Clock, exception_status, status_of

from .jobs import StreamJob

__all__ = ["ListSession"]

log = logging.getLogger("pacsys_dpm.server.session")


class ListSession:
    """Backend calls for one list; ``flush`` writes what the protocol queued, ``send`` is
    for stream data (called from backend threads)."""

    def __init__(
        self,
        protocol: ServerProtocol,
        backend: Backend,
        *,
        flush: Callable[[], None],
        send: Callable[[bytes], None],
        clock: Clock,
        io_timeout: float = 5.0,
        offer: Callable[[bytes], bool] | None = None,
        on_loss: Callable[[int], None] | None = None,
    ) -> None:
        self._protocol = protocol
        self._backend = backend
        self._flush = flush
        self._send = send
        self._offer = offer
        self._on_loss = on_loss
        self._clock = clock
        self._io_timeout = io_timeout
        self._job: StreamJob | None = None
        self.list_id = protocol.list_id

    def handle(self, event: ServerEvent) -> None:
        """Act on one backend event of the protocol (StartList, StopList, ApplySettings)."""
        if isinstance(event, ListStarted):
            self._start(event)
        elif isinstance(event, ListStopped):
            self._stop_job()
        elif isinstance(event, SettingsRequested):
            self._write(event)

    def close(self) -> None:
        """Stop every job (EOF or server stop)."""
        self._stop_job()

    def _stop_job(self) -> None:
        job, self._job = self._job, None
        if job is not None:
            job.stop()

    def _start(self, event: ListStarted) -> None:
        """StartList: read, describe, subscribe; the answer goes out before stream data."""
        self._stop_job()
        readings = self._read(event.reads)
        infos = {entry.ref_id: self._device_info(entry) for entry in event.never}
        job, job_status = None, 0
        if event.streams:
            job = StreamJob(
                self._backend,
                event.streams,
                self._send,
                self._clock,
                offer=self._offer,
                on_loss=self._on_loss,
            )
            try:
                job.start()
            except Exception as exc:
                log.warning("list %s: subscribe failed: %s", self.list_id, exc)
                job, job_status = None, exception_status(exc)
        self._job = job
        self._protocol.answer_start(readings, infos, job_status)
        self._flush()
        if job is not None:
            job.release()

    def _read(self, entries: tuple[Entry, ...]) -> dict[int, Reading]:
        if not entries:
            return {}
        drfs = [e.drf for e in entries]
        try:
            readings = self._backend.get_many(drfs, timeout=self._io_timeout)
            if len(readings) != len(drfs):
                raise RuntimeError(f"backend returned {len(readings)} readings for {len(drfs)}")
        except Exception as exc:
            log.warning("list %s: read failed: %s", self.list_id, exc)
            facility, error = parse_error(exception_status(exc))
            readings = [Reading(drf=d, facility_code=facility, error_code=error) for d in drfs]
        return {e.ref_id: r for e, r in zip(entries, readings, strict=True)}

    def _device_info(self, entry: Entry) -> DeviceInfoResult | None:
        if not isinstance(self._backend, MetadataSource):
            return None
        try:
            return self._backend.device_info(entry.request.device)
        except Exception as exc:
            log.debug("device_info(%s) failed: %s", entry.request.device, exc)
            return None

    def _write(self, event: SettingsRequested) -> None:
        try:
            results = self._backend.write_many(list(event.writes), timeout=self._io_timeout)
            if len(results) != len(event.writes):
                raise RuntimeError(
                    f"backend returned {len(results)} results for {len(event.writes)}"
                )
        except Exception as exc:
            log.warning("list %s: write failed: %s", self.list_id, exc)
            status = exception_status(exc) or ACNET_SYS
            statuses = [status] * len(event.writes)
        else:
            statuses = [status_of(r.facility_code, r.error_code) for r in results]
        self._protocol.answer_settings(statuses)
