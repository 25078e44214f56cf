"""A client job's private mailbox on the broker and what it sends (docs/protocols/dmq.md §4, §5).

Each job owns one channel, one auto-delete topic exchange (its return address) and one
exclusive server-named queue bound with ``R.#`` and ``Q``. Everything here runs on the
AMQP I/O thread.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

import attrs
import pika
import pika.exceptions

from pacsys_dmq.amqp import (
    close_async_channel,
    guarded,
    ignore_ok,
    open_async_channel,
    pipeline_bind,
    pipeline_declare_queue,
    pipeline_declare_topic_exchange,
)
from pacsys_dmq.client.security import JobSigner
from pacsys_dmq.codec.routing import (
    DROP_KEY,
    HEADER_GSS_TOKEN,
    HEADER_HOST_ADDRESS,
    HEADER_SIGNATURE,
    HEARTBEAT_KEY,
    INIT_EXCHANGE,
    INIT_KEY,
    REPLY_BINDING,
    SERVER_HEARTBEAT_KEY,
)
from pacsys_dmq.codec.signing import APP_ID, init_signing_body

__all__ = ["Delivery", "InitMessage", "JobChannel", "JobTiming", "build_init"]

log = logging.getLogger("pacsys_dmq.client")


@attrs.frozen
class JobTiming:
    """Liveness constants of client jobs (docs/protocols/dmq.md §11)."""

    heartbeat_interval: float = 5.0
    server_timeout: float = 30.0


@attrs.frozen
class InitMessage:
    """A signed INIT, built on the caller's thread before any I/O."""

    exchange: str
    message_id: str
    body: bytes
    headers: dict[str, bytes]


@attrs.frozen
class Delivery:
    """One message from the job's queue."""

    routing_key: str
    correlation_id: str | None
    body: bytes


def build_init(body: bytes, signer: JobSigner, host_address: bytes) -> InitMessage:
    """Choose the job's exchange and message id; sign the INIT (docs/protocols/dmq.md §5, §6.3)."""
    exchange = str(uuid.uuid4())
    message_id = str(uuid.uuid4())
    signing = init_signing_body(
        body, message_id=message_id, reply_to=exchange, host_address=host_address
    )
    headers = {
        HEADER_GSS_TOKEN: bytes(signer.token),
        HEADER_SIGNATURE: bytes(signer.sign(signing)),
        HEADER_HOST_ADDRESS: host_address,
    }
    return InitMessage(exchange, message_id, body, headers)


class JobChannel:
    """The broker side of one job: set up, heartbeat, publish, tear down.

    Set-up runs on an asynchronous channel with the methods of docs/protocols/dmq.md §4
    pipelined (same frames, same order, each still answered by its ``-Ok``): one wait for
    the queue name instead of one round trip per step, and the I/O thread never blocks on one job.
    """

    def __init__(self, init: InitMessage, timing: JobTiming) -> None:
        self.init = init
        self.timing = timing
        self.channel: Any = None
        self.queue: str | None = None
        self.published = False
        self._consumer_tag: str | None = None
        self._closed = False
        self._on_delivery: Callable[[Delivery], None] | None = None
        self._on_ready: Callable[[], None] | None = None
        self._on_error: Callable[[BaseException], None] | None = None
        now = time.monotonic()
        self.last_server_heartbeat = now
        self._next_heartbeat = now + timing.heartbeat_interval

    @property
    def exchange(self) -> str:
        return self.init.exchange

    def open(
        self,
        connection: Any,
        on_delivery: Callable[[Delivery], None],
        on_error: Callable[[BaseException], None],
        on_ready: Callable[[], None] | None = None,
    ) -> None:
        """Start steps 1-6 of docs/protocols/dmq.md §4; ``on_ready()`` once consuming,
        ``on_error(exc)`` if the broker closes the channel first or later. Raises if no channel
        can be opened."""
        self._on_delivery = on_delivery
        self._on_ready = on_ready
        self._on_error = on_error
        channel = open_async_channel(
            connection, ignore_ok, guarded(self._channel_closed, "DMQ channel close")
        )
        self.channel = channel
        # Steps 2-3 go out right behind channel.open; only the queue name is awaited.
        pipeline_declare_queue(channel, guarded(self._declared, "DMQ set-up"))
        pipeline_declare_topic_exchange(channel, self.exchange)

    def _declared(self, frame: Any) -> None:
        """queue.declare-ok: steps 4-6 back to back (the broker runs them in order)."""
        if self._closed:
            return
        channel = self.channel
        queue = self.queue = frame.method.queue
        pipeline_bind(channel, queue, self.exchange, REPLY_BINDING)
        pipeline_bind(channel, queue, self.exchange, SERVER_HEARTBEAT_KEY)
        properties = pika.BasicProperties(
            message_id=self.init.message_id,
            reply_to=self.exchange,
            app_id=APP_ID,
            headers=dict(self.init.headers),
        )
        channel.basic_publish(INIT_EXCHANGE, INIT_KEY, self.init.body, properties)
        self.published = True
        self.last_server_heartbeat = time.monotonic()
        self._consumer_tag = channel.basic_consume(
            queue,
            guarded(self._deliver, "DMQ reply handler"),
            auto_ack=False,
            callback=guarded(self._consuming, "DMQ set-up"),
        )

    def _consuming(self, _frame: Any) -> None:
        if not self._closed and self._on_ready is not None:
            self._on_ready()

    def _deliver(self, channel: Any, method: Any, props: Any, body: bytes) -> None:
        try:
            channel.basic_ack(method.delivery_tag)
        except Exception as exc:
            log.debug("ack failed: %s", exc)
        if method.routing_key == SERVER_HEARTBEAT_KEY:
            self.last_server_heartbeat = time.monotonic()
        if self._on_delivery is not None:
            self._on_delivery(Delivery(method.routing_key, props.correlation_id, body))

    def _channel_closed(self, channel: Any, reason: BaseException) -> None:
        """The channel ended: report it unless we closed it or the whole connection went."""
        if self._closed or isinstance(reason, pika.exceptions.ChannelClosedByClient):
            return
        connection = channel.connection
        if connection.is_closed or connection.is_closing:
            return  # the backend's connection-lost handling reports this
        if self._on_error is not None:
            self._on_error(reason)

    @property
    def broken(self) -> bool:
        """True when the broker closed the channel under us."""
        return self.channel is not None and not self._closed and self.channel.is_closed

    def publish(self, routing_key: str, body: bytes, properties: Any = None) -> None:
        """Publish on the job's exchange (raises if the channel is gone)."""
        self.channel.basic_publish(self.exchange, routing_key, body, properties)

    def heartbeat_due(self, now: float) -> bool:
        """True (and re-armed) when an ``H`` should go out now."""
        if now < self._next_heartbeat:
            return False
        self._next_heartbeat = now + self.timing.heartbeat_interval
        return True

    def send_heartbeat(self) -> None:
        if not self.published:  # the exchange may not exist yet
            return
        try:
            self.publish(HEARTBEAT_KEY, b"")
        except Exception as exc:
            log.debug("heartbeat on %s failed: %s", self.exchange, exc)

    def server_silent_for(self, now: float) -> float:
        return now - self.last_server_heartbeat

    def close(self, *, drop: bool = True) -> None:
        """``D`` (optional), ``basic.cancel``, ``channel.close``; idempotent, never raises."""
        if self._closed:
            return
        self._closed = True
        channel = self.channel
        if channel is None or not channel.is_open:
            close_async_channel(channel)  # still opening: abandon the set-up
            return
        if drop and self.published:
            try:
                self.publish(DROP_KEY, b"")
            except Exception as exc:
                log.debug("DROP on %s failed: %s", self.exchange, exc)
        close_async_channel(channel, self._consumer_tag)
