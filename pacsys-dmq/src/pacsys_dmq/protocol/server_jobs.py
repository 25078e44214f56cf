"""Server jobs of the DMQ protocol: one per accepted INIT, a read or a write session.

A job talks to its client on the client's exchange: replies on ``R.<drf>`` (or ``R``),
heartbeats on ``Q``; it hears ``H``, ``D`` and, for writes, ``S.<drf>``. Work on the
served backend is asked for with events and reported back by the driver; replies to
SETTINGs go out in arrival order, whatever order the work finishes in.
"""

from __future__ import annotations

import collections
import logging
from collections.abc import Sequence
from typing import Any, Protocol

import attrs

from pacsys.acnet.status import ERR_QUEFULL, FACILITY_ACNET, FACILITY_DMQ
from pacsys.drf3.extras import HISTORICAL_EXTRAS
from pacsys.drf3.parser import parse_request
from pacsys.errors import AuthenticationError
from pacsys.types import Reading, WriteResult
from pacsys_dmq.codec.codec import decode_reply, encode_message
from pacsys_dmq.codec.errors import DMQProtocolError
from pacsys_dmq.codec.messages import BinarySample, ErrorSample, Message, Sample
from pacsys_dmq.codec.routing import JOB_STATUS_KEY, reply_key, setting_drf
from pacsys_dmq.codec.sdd import INT16_RANGE
from pacsys_dmq.codec.server_mapping import reading_to_reply, setting_to_value
from pacsys_dmq.codec.status import (
    DMQ_INVALID_DATA_TYPE,
    DMQ_INVALID_REQUEST,
    DMQ_SECURITY_VIOLATION,
    DMQ_SETTING_DISABLED,
    DMQ_SYSTEM_ERROR,
)
from pacsys_dmq.protocol.events import (
    AmqpMessage,
    ApplySetting,
    Close,
    Output,
    Publish,
    ReadDevices,
    StartStream,
    StopStream,
)
from pacsys_dmq.protocol.liveness import Liveness
from pacsys_dmq.protocol.signing import Verifier, verify_signed

__all__ = ["JobTable", "ServerJob", "status_sample"]

log = logging.getLogger("pacsys_dmq.protocol")


def status_sample(
    error: int, message: str | None, time_ms: int, *, ref_id: int | None = None
) -> ErrorSample:
    """An ErrorSample of facility 72 (DMQ)."""
    return ErrorSample(
        facility_code=FACILITY_DMQ, error_number=error, time=time_ms, message=message, ref_id=ref_id
    )


class JobTable(Protocol):
    """The engine, as its jobs see it: where outputs go and who forgets disposed jobs."""

    out: list[Output]

    def forget(self, job: ServerJob) -> None: ...


@attrs.define
class _Setting:
    """A SETTING in arrival order: its sample to apply, then the reply to send."""

    seq: int
    message_id: str
    sample: Sample | None = None
    reply: Message | None = None


class ServerJob:
    """One client job: a read (one-shot entries and subscriptions) or a write session."""

    def __init__(
        self,
        job_id: int,
        *,
        write: bool,
        exchange: str,
        init_message_id: str,
        entries: list[str],
        verifier: Verifier | None,
        liveness: Liveness,
        table: JobTable,
    ) -> None:
        self.id = job_id
        self.write = write
        self.exchange = exchange
        self.init_message_id = init_message_id
        self.entries = entries
        self.verifier = verifier
        self.liveness = liveness
        self.table = table
        self.out = table.out
        self.ready = False
        self.closed = False
        self.streaming = False
        self._stream_index: dict[str, list[int]] = {}
        self._settings: collections.deque[_Setting] = collections.deque()
        self._next_seq = 0

    def __repr__(self) -> str:
        kind = "write" if self.write else "read"
        return f"<ServerJob {self.id} {kind} {self.exchange} {self.entries[:3]}>"

    def publish(self, key: str, message: Message | None, correlation_id: str | None = None) -> None:
        """A message to the client's exchange (nothing once the job is disposed)."""
        if self.closed:
            return
        body = b"" if message is None else encode_message(message)
        reply = AmqpMessage(self.exchange, key, body, correlation_id=correlation_id or None)
        self.out.append(Publish(self.id, reply))

    def fail(self, error: int, message: str, time_ms: int) -> None:
        """Job-level failure: an ErrorSample without ref_id on ``R``, then dispose."""
        self.publish(JOB_STATUS_KEY, status_sample(error, message, time_ms), self.init_message_id)
        self.dispose()

    def dispose(self) -> None:
        """Stop the backend work and close the job's queue; idempotent."""
        if self.closed:
            return
        self.closed = True
        if self.streaming:
            self.out.append(StopStream(self.id))
        self.out.append(Close(self.id))
        self.table.forget(self)

    # --- reads and subscriptions ---------------------------------------------------------------

    def start_read(self, time_ms: int) -> None:
        """Answer immediate entries once, stream the others until DROP."""
        once: list[int] = []
        stream: list[int] = []
        invalid: dict[int, str] = {}
        for i, drf in enumerate(self.entries):
            try:
                request = parse_request(drf)
            except (ValueError, TypeError) as exc:
                invalid[i] = f"Invalid DRF {drf!r}: {exc}"
                continue
            if request.event.mode == "I" or request.extra in HISTORICAL_EXTRAS:
                once.append(i)
            else:
                stream.append(i)
        if len(invalid) == len(self.entries):
            self.fail(DMQ_INVALID_REQUEST, next(iter(invalid.values())), time_ms)
            return
        for i, text in invalid.items():
            error = status_sample(DMQ_INVALID_REQUEST, text, time_ms, ref_id=_ref(i))
            self.publish(reply_key(self.entries[i]), error)
        if once:
            self.out.append(ReadDevices(self.id, tuple(once), tuple(self.entries[i] for i in once)))
        if stream:
            for i in stream:
                self._stream_index.setdefault(self.entries[i], []).append(i)
                canonical = _canonical(self.entries[i])
                if canonical is not None:
                    self._stream_index.setdefault(canonical, []).append(i)
            self.streaming = True
            self.out.append(StartStream(self.id, tuple(self.entries[i] for i in stream)))

    def devices_read(
        self, indexes: Sequence[int], outcome: Sequence[Reading] | BaseException, time_ms: int
    ) -> None:
        """Publish what the backend read for ``indexes`` (or the error it raised)."""
        if isinstance(outcome, BaseException):
            log.warning("backend get_many failed: %s", outcome)
            text = str(outcome)
            outcome = [
                Reading(
                    drf=self.entries[i],
                    facility_code=FACILITY_DMQ,
                    error_code=DMQ_SYSTEM_ERROR,
                    message=text,
                )
                for i in indexes
            ]
        for i, reading in zip(indexes, outcome, strict=False):
            reply = reading_to_reply(reading, ref_id=_ref(i), time_ms=time_ms)
            self.publish(reply_key(self.entries[i]), reply)

    def stream_reading(self, reading: Reading, time_ms: int) -> None:
        """One reading of the backend subscription, for the entries asking for its DRF."""
        indexes = self._stream_index.get(reading.drf)
        if indexes is None:
            canonical = _canonical(reading.drf)
            indexes = self._stream_index.get(canonical) if canonical else None
        if indexes is None:
            log.debug("job %s: reading for unrequested %s dropped", self.exchange, reading.drf)
            return
        # Once per distinct entry: the client hands a reply to every copy of its DRF.
        first: dict[str, int] = {}
        for i in indexes:
            first.setdefault(self.entries[i], i)
        for entry, i in first.items():
            reply = reading_to_reply(reading, ref_id=_ref(i), time_ms=time_ms)
            self.publish(reply_key(entry), reply)

    def announce_loss(self, count: int, time_ms: int) -> None:
        """``count`` stream readings were dropped: (1, -7) on the key of each streamed entry."""
        text = f"{count} readings dropped: client or broker too slow"
        first: dict[str, int] = {}
        for indexes in self._stream_index.values():
            for i in indexes:
                first.setdefault(self.entries[i], i)
        for entry, i in first.items():
            notice = ErrorSample(
                facility_code=FACILITY_ACNET,
                error_number=ERR_QUEFULL,
                time=time_ms,
                message=text,
                ref_id=_ref(i),
            )
            self.publish(reply_key(entry), notice)

    # --- writes --------------------------------------------------------------------------------

    def receive_setting(self, message: AmqpMessage, *, read_only: bool, time_ms: int) -> None:
        """Check a SETTING; a valid one becomes :class:`ApplySetting`, else it is refused."""
        setting = _Setting(self._next_seq, message.message_id or "")
        self._next_seq += 1
        self._settings.append(setting)
        checked = self._check_setting(message, read_only)
        if isinstance(checked, Sample):
            try:
                value = setting_to_value(checked)
            except (TypeError, ValueError) as exc:
                checked = (DMQ_INVALID_DATA_TYPE, str(exc))
            else:
                setting.sample = checked
                self.out.append(ApplySetting(self.id, setting.seq, self.entries[0], value))
                return
        error, text = checked
        setting.reply = status_sample(error, text, time_ms)
        self._flush_settings()

    def _check_setting(self, message: AmqpMessage, read_only: bool) -> Sample | tuple[int, str]:
        """The sample a SETTING asks to write, or the error and text it is refused with."""
        target = setting_drf(message.routing_key)
        if target != self.entries[0]:
            return DMQ_INVALID_REQUEST, f"No setter for {target!r}"
        if self.verifier is not None:
            try:
                verify_signed(message, self.verifier)
            except (AuthenticationError, ValueError) as exc:
                log.warning("job %s: SETTING MIC rejected: %s", self.exchange, exc)
                return DMQ_SECURITY_VIOLATION, "Setting signature rejected"
        try:
            sample = decode_reply(message.body)
        except DMQProtocolError as exc:
            return DMQ_INVALID_REQUEST, f"Undecodable setting: {exc}"
        if not isinstance(sample, Sample) or isinstance(sample, BinarySample | ErrorSample):
            return DMQ_INVALID_DATA_TYPE, f"{type(sample).__name__} cannot be written"
        if read_only:
            return DMQ_SETTING_DISABLED, "Settings are disabled"
        return sample

    def setting_applied(self, seq: int, outcome: WriteResult | BaseException, time_ms: int) -> None:
        """The backend wrote setting ``seq`` (or raised): its reply, in arrival order."""
        setting = next((s for s in self._settings if s.seq == seq), None)
        if setting is None or setting.reply is not None:
            return
        assert setting.sample is not None
        setting.reply = _write_reply(setting.sample, outcome, time_ms)
        self._flush_settings()

    def _flush_settings(self) -> None:
        settings = self._settings
        while settings and settings[0].reply is not None:
            done = settings.popleft()
            self.publish(reply_key(self.entries[0]), done.reply, done.message_id)


def _write_reply(sample: Sample, outcome: WriteResult | BaseException, time_ms: int) -> Message:
    """What a SETTING is answered with: the echoed sample, or why it failed."""
    if isinstance(outcome, NotImplementedError):
        return status_sample(DMQ_SETTING_DISABLED, str(outcome) or "Writes not supported", time_ms)
    if isinstance(outcome, TypeError | ValueError):
        return status_sample(DMQ_INVALID_DATA_TYPE, str(outcome), time_ms)
    if isinstance(outcome, BaseException):
        return status_sample(DMQ_SYSTEM_ERROR, str(outcome), time_ms)
    if outcome.error_code != 0:
        return ErrorSample(
            facility_code=outcome.facility_code,
            error_number=outcome.error_code,
            time=time_ms,
            message=outcome.message,
        )
    restamped: dict[str, Any] = {"time": time_ms}  # every concrete Sample has ``time``
    return attrs.evolve(sample, **restamped)


def _ref(index: int) -> int | None:
    """The ``ref_id`` of request ``index``: none past the int16 range (the key then tells)."""
    return index + 1 if index < INT16_RANGE[1] else None


def _canonical(drf: str) -> str | None:
    try:
        return parse_request(drf).to_canonical()
    except (ValueError, TypeError):
        return None
