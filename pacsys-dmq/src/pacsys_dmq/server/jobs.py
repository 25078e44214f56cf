"""Server-side DMQ jobs: one per accepted INIT (docs/protocols/dmq.md §16).

A job owns one channel and one server-named queue bound to the client's exchange for
``H``, ``D`` (and ``S.#`` for writes); everything it publishes goes out on that channel,
so a vanished client exchange (404) only kills this job. Jobs live on the server's AMQP
I/O thread; backend calls run on the server's worker pools.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs
import pika
import pika.exceptions

from pacsys.drf3.extras import HISTORICAL_EXTRAS
from pacsys.drf3.parser import parse_request
from pacsys.errors import AuthenticationError, ReadError
from pacsys.types import Reading, WriteResult
from pacsys_dmq.amqp import (
    close_async_channel,
    guarded,
    ignore_ok,
    open_async_channel,
    pipeline_bind,
    pipeline_declare_queue,
)
from pacsys_dmq.codec.codec import decode_reply, encode_message
from pacsys_dmq.codec.errors import DMQProtocolError
from pacsys_dmq.codec.messages import BinarySample, ErrorSample, Message, Sample
from pacsys_dmq.codec.routing import (
    DROP_KEY,
    HEADER_HOST_ADDRESS,
    HEADER_SIGNATURE,
    HEARTBEAT_KEY,
    JOB_STATUS_KEY,
    SERVER_HEARTBEAT_KEY,
    SETTING_BINDING,
    reply_key,
    setting_drf,
)
from pacsys_dmq.codec.server_mapping import reading_to_reply, setting_to_value
from pacsys_dmq.codec.signing import setting_signing_body
from pacsys_dmq.codec.status import (
    DMQ_INVALID_DATA_TYPE,
    DMQ_INVALID_REQUEST,
    DMQ_PENDING,
    DMQ_SECURITY_VIOLATION,
    DMQ_SETTING_DISABLED,
    DMQ_SYSTEM_ERROR,
    FACILITY_DMQ,
)

if TYPE_CHECKING:
    from pacsys_dmq.server.server import DMQServer

__all__ = ["ServerJob", "header_bytes", "now_ms", "status_sample"]

log = logging.getLogger("pacsys_dmq.server")


def now_ms() -> int:
    """Wall-clock time in milliseconds since the epoch, as DMQ samples carry it."""
    return int(time.time() * 1000)


def status_sample(
    error: int, message: str | None = None, *, ref_id: int | None = None
) -> ErrorSample:
    """An ErrorSample of facility 72 (DMQ) stamped now."""
    return ErrorSample(
        facility_code=FACILITY_DMQ,
        error_number=error,
        time=now_ms(),
        message=message,
        ref_id=ref_id,
    )


def header_bytes(headers: dict[str, Any] | None, name: str) -> bytes:
    """A header as bytes (byte arrays as sent by pika; text from other clients as Latin-1)."""
    value = (headers or {}).get(name)
    if value is None:
        return b""
    if isinstance(value, str):
        return value.encode("latin-1", "replace")
    return bytes(value)


@attrs.define
class _Setting:
    """A SETTING as received, checked on the I/O thread in arrival order."""

    message_id: str
    sample: Sample | None
    refusal: ErrorSample | None


class ServerJob:
    """One client job: a read, a subscription or a write session."""

    def __init__(
        self,
        server: DMQServer,
        *,
        kind: str,
        exchange: str,
        init_message_id: str,
        entries: list[str],
        context: Any = None,
    ) -> None:
        self.server = server
        self.kind = kind  # "read" or "write"
        self.exchange = exchange
        self.init_message_id = init_message_id
        self.entries = entries
        self.context = context
        self.channel: Any = None
        self.queue: str | None = None
        self.ready = False
        self.closed = False
        self._consumer_tag: str | None = None
        self._on_wired: Callable[[], None] | None = None
        self._on_ready: Callable[[], None] | None = None
        self.subscription: Any = None
        now = time.monotonic()
        self.last_client_heartbeat = now
        self._next_server_heartbeat = now + server.heartbeat_interval
        self._stream_index: dict[str, list[int]] = {}

    def __repr__(self) -> str:
        return f"<ServerJob {self.kind} {self.exchange} {self.entries[:3]}>"

    # --- wiring -----------------------------------------------------------------------------

    def open(
        self, connection: Any, on_wired: Callable[[], None], on_ready: Callable[[], None]
    ) -> None:
        """Channel, queue, bindings, consumer; raises if no channel can be opened.

        Everything is pipelined on an asynchronous channel; only the queue name is awaited.
        ``on_wired()`` runs right after the binds and the consume are sent: what it
        publishes (PENDING) reaches the broker after them on the same channel, so the
        bindings exist before PENDING is routed. ``on_ready()`` runs at consume-ok, when
        the broker has confirmed all of them (start backend work only then, so nothing the
        client sends after seeing its effects can miss the bindings).
        """
        channel = open_async_channel(
            connection, ignore_ok, guarded(self._channel_closed, "DMQ job channel close")
        )
        self.channel = channel
        self._on_wired = on_wired
        self._on_ready = on_ready
        pipeline_declare_queue(channel, guarded(self._declared, "DMQ job set-up"))

    def _declared(self, frame: Any) -> None:
        if self.closed:
            return
        channel = self.channel
        queue = self.queue = frame.method.queue
        keys = [HEARTBEAT_KEY, DROP_KEY] + ([SETTING_BINDING] if self.kind == "write" else [])
        for key in keys:
            pipeline_bind(channel, queue, self.exchange, key)
        self._consumer_tag = channel.basic_consume(
            queue,
            guarded(self._on_message, "DMQ job handler"),
            auto_ack=True,
            callback=guarded(self._consuming, "DMQ job set-up"),
        )
        self.ready = True
        if self._on_wired is not None:
            self._on_wired()

    def _consuming(self, _frame: Any) -> None:
        if not self.closed and self._on_ready is not None:
            self._on_ready()

    def _channel_closed(self, channel: Any, reason: BaseException) -> None:
        if self.closed or isinstance(reason, pika.exceptions.ChannelClosedByClient):
            return
        connection = channel.connection
        if not (connection.is_closed or connection.is_closing):
            log.info("job %s: channel closed by the broker (%s); disposing", self.exchange, reason)
        self.dispose()

    def publish(
        self, routing_key: str, message: Message | None, correlation_id: str | None = None
    ) -> None:
        """Publish to the client's exchange; a dead channel disposes the job."""
        if self.closed or not self.ready:
            return
        body = b"" if message is None else encode_message(message)
        properties = pika.BasicProperties(correlation_id=correlation_id) if correlation_id else None
        try:
            self.channel.basic_publish(self.exchange, routing_key, body, properties)
        except Exception as exc:
            log.info("job %s: publish failed (%s); disposing", self.exchange, exc)
            self.dispose()

    def send_pending(self) -> None:
        self.publish(JOB_STATUS_KEY, status_sample(DMQ_PENDING), self.init_message_id)

    def fail_job(self, error: int, message: str) -> None:
        """Job-level failure: ErrorSample without ref_id on ``R``, then dispose."""
        self.publish(JOB_STATUS_KEY, status_sample(error, message), self.init_message_id)
        self.dispose()

    # --- messages from the client -------------------------------------------------------------

    def _on_message(self, channel: Any, method: Any, properties: Any, body: bytes) -> None:
        key = method.routing_key
        if key == HEARTBEAT_KEY:
            self.last_client_heartbeat = time.monotonic()
        elif key == DROP_KEY:
            self.dispose()
        elif self.kind == "write" and setting_drf(key) is not None:
            self.last_client_heartbeat = time.monotonic()
            self._on_setting(key, properties, body)

    def tick(self, now: float) -> None:
        if self.closed:
            return
        if self.channel is not None and self.channel.is_closed:
            self.dispose()
            return
        if not self.ready:
            return
        if now - self.last_client_heartbeat > self.server.job_timeout:
            log.info(
                "job %s: no client heartbeat for %.1f s; disposing",
                self.exchange,
                self.server.job_timeout,
            )
            self.dispose()
            return
        if now >= self._next_server_heartbeat:
            self._next_server_heartbeat = now + self.server.heartbeat_interval
            if not self.server.heartbeats_paused:
                self.publish(SERVER_HEARTBEAT_KEY, None)

    def dispose(self) -> None:
        """Stop work, delete the queue (so the client exchange can vanish); idempotent."""
        if self.closed:
            return
        self.closed = True
        subscription, self.subscription = self.subscription, None
        if subscription is not None:
            try:
                subscription.stop()
            except Exception:
                log.exception("stopping backend subscription of %s", self.exchange)
        close_async_channel(self.channel, self._consumer_tag)
        self.server.forget_job(self)

    # --- reads and subscriptions ----------------------------------------------------------------

    def start_read(self) -> None:
        """Answer immediate entries once; stream the others until DROP."""
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
            self.fail_job(DMQ_INVALID_REQUEST, next(iter(invalid.values())))
            return
        for i, message in invalid.items():
            self.publish(
                reply_key(self.entries[i]),
                status_sample(DMQ_INVALID_REQUEST, message, ref_id=_ref(i)),
            )
        if once:
            self.server.run_read(self, lambda: self._get_many(once), self._publish_readings)
        if stream:
            for i in stream:
                self._stream_index.setdefault(self.entries[i], []).append(i)
                canonical = _canonical(self.entries[i])
                if canonical is not None:
                    self._stream_index.setdefault(canonical, []).append(i)
            drfs = [self.entries[i] for i in stream]
            self.server.run_read(self, lambda: self._subscribe(drfs), self._attach)

    def _get_many(self, indexes: list[int]) -> list[tuple[int, Reading]]:
        drfs = [self.entries[i] for i in indexes]
        try:
            readings = self.server.backend.get_many(drfs, timeout=self.server.read_timeout)
        except ReadError as exc:
            readings = exc.readings
        except Exception as exc:
            log.warning("backend get_many failed: %s", exc)
            readings = [
                Reading(
                    drf=d, facility_code=FACILITY_DMQ, error_code=DMQ_SYSTEM_ERROR, message=str(exc)
                )
                for d in drfs
            ]
        return list(zip(indexes, readings, strict=False))

    def _publish_readings(self, pairs: list[tuple[int, Reading]]) -> None:
        stamp = now_ms()
        for i, reading in pairs:
            reply = reading_to_reply(reading, ref_id=_ref(i), time_ms=stamp)
            self.publish(reply_key(self.entries[i]), reply)

    def _subscribe(self, drfs: list[str]) -> Any:
        return self.server.backend.subscribe(
            drfs, callback=self._on_backend_reading, on_error=self._on_backend_error
        )

    def _attach(self, handle: Any) -> None:
        if self.closed:
            handle.stop()
        else:
            self.subscription = handle

    def _on_backend_reading(self, reading: Reading, handle: Any) -> None:
        """Backend dispatch thread: hand the reading to the I/O thread."""
        self.server.post(lambda: self._publish_stream_reading(reading))

    def _on_backend_error(self, exc: BaseException, handle: Any) -> None:
        self.server.post(
            lambda: self.fail_job(DMQ_SYSTEM_ERROR, f"Backend subscription failed: {exc}")
        )

    def _publish_stream_reading(self, reading: Reading) -> None:
        if self.closed:
            return
        indexes = self._stream_index.get(reading.drf)
        if indexes is None:
            canonical = _canonical(reading.drf)
            indexes = self._stream_index.get(canonical) if canonical else None
        if indexes is None:
            log.debug("job %s: reading for unrequested %s dropped", self.exchange, reading.drf)
            return
        stamp = now_ms()
        for i in dict.fromkeys(indexes):
            self.publish(
                reply_key(self.entries[i]), reading_to_reply(reading, ref_id=_ref(i), time_ms=stamp)
            )

    # --- writes ---------------------------------------------------------------------------------

    def _on_setting(self, key: str, properties: Any, body: bytes) -> None:
        message_id = properties.message_id or ""
        init_drf = self.entries[0]
        setting = _Setting(message_id, None, None)
        if setting_drf(key) != init_drf:
            setting.refusal = status_sample(
                DMQ_INVALID_REQUEST, f"No setter for {setting_drf(key)!r}"
            )
        elif self.context is not None and not self._mic_ok(properties, body, message_id):
            setting.refusal = status_sample(DMQ_SECURITY_VIOLATION, "Setting signature rejected")
        else:
            try:
                setting.sample = decode_reply(body)  # type: ignore[assignment]
            except DMQProtocolError as exc:
                setting.refusal = status_sample(DMQ_INVALID_REQUEST, f"Undecodable setting: {exc}")
            else:
                if not isinstance(setting.sample, Sample) or isinstance(
                    setting.sample, BinarySample | ErrorSample
                ):
                    name = type(setting.sample).__name__
                    setting.refusal = status_sample(
                        DMQ_INVALID_DATA_TYPE, f"{name} cannot be written"
                    )
                elif self.server.read_only:
                    setting.refusal = status_sample(DMQ_SETTING_DISABLED, "Settings are disabled")
        self.server.run_write(self, lambda: self._apply(setting), self._answer(message_id))

    def _mic_ok(self, properties: Any, body: bytes, message_id: str) -> bool:
        headers = properties.headers
        try:
            signing = setting_signing_body(
                body, message_id=message_id, host_address=header_bytes(headers, HEADER_HOST_ADDRESS)
            )
            self.context.verify_mic(signing, header_bytes(headers, HEADER_SIGNATURE))
        except (AuthenticationError, ValueError) as exc:
            log.warning("job %s: SETTING MIC rejected: %s", self.exchange, exc)
            return False
        return True

    def _apply(self, setting: _Setting) -> Message:
        """Worker thread: write through the backend; the reply message."""
        if setting.refusal is not None:
            return setting.refusal
        sample = setting.sample
        assert sample is not None
        try:
            value = setting_to_value(sample)
            result: WriteResult = self.server.backend.write(
                self.entries[0], value, timeout=self.server.read_timeout
            )
        except NotImplementedError as exc:
            return status_sample(DMQ_SETTING_DISABLED, str(exc) or "Writes not supported")
        except (TypeError, ValueError) as exc:
            return status_sample(DMQ_INVALID_DATA_TYPE, str(exc))
        except Exception as exc:
            log.warning("backend write of %s failed: %s", self.entries[0], exc)
            return status_sample(DMQ_SYSTEM_ERROR, str(exc))
        if result.error_code != 0:
            return ErrorSample(
                facility_code=result.facility_code,
                error_number=result.error_code,
                time=now_ms(),
                message=result.message,
            )
        return attrs.evolve(sample, time=now_ms())

    def _answer(self, message_id: str) -> Callable[[Message], None]:
        def publish(reply: Message) -> None:
            self.publish(reply_key(self.entries[0]), reply, message_id or None)

        return publish


def _ref(index: int) -> int | None:
    return index + 1


def _canonical(drf: str) -> str | None:
    try:
        return parse_request(drf).to_canonical()
    except (ValueError, TypeError):
        return None
