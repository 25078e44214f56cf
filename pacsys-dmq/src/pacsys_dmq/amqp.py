"""Everything that touches pika's internals, in one place: job channels on the I/O thread.

A job's channel is an asynchronous ``pika.channel.Channel`` driven by the
BlockingConnection's I/O loop, its set-up methods pipelined (sent back to back, each
still answered by its ``-Ok``), so no job ever blocks the loop thread. pika offers
neither on a BlockingConnection, hence the private attributes used below; they are
checked against the pika versions ``pacsys-dmq`` allows (see its pyproject) by
``tests/dmq/test_amqp_pipeline.py``. :class:`JobChannel` carries out a protocol
engine's :class:`~pacsys_dmq.protocol.Open` and turns deliveries into
:class:`~pacsys_dmq.protocol.AmqpMessage`. Loop thread only.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

import pika
import pika.exceptions
import pika.spec

from pacsys_dmq.protocol.events import AmqpMessage, Open

__all__ = [
    "JobChannel",
    "close_async_channel",
    "delivered_message",
    "guarded",
    "ignore_ok",
    "open_async_channel",
    "pipeline_bind",
    "pipeline_declare_queue",
    "pipeline_declare_topic_exchange",
    "properties_of",
    "publish_once",
    "safe_close_channel",
    "unsent_bytes",
]

log = logging.getLogger("pacsys_dmq.amqp")


def guarded(fn: Callable[..., None], what: str) -> Callable[..., None]:
    """Wrap a pika callback so an exception is logged instead of breaking the I/O loop."""

    @functools.wraps(fn)
    def wrapper(*args: Any) -> None:
        try:
            fn(*args)
        except Exception:
            log.exception("Error in %s (ignored)", what)

    return wrapper


def safe_close_channel(channel: Any) -> None:
    """Close a channel, ignoring that it may already be closed or the connection gone."""
    if channel is None:
        return
    try:
        if channel.is_open:
            channel.close()
    except Exception as exc:  # already closing, connection lost, ...
        log.debug("channel close: %s", exc)


def ignore_ok(*_args: Any) -> None:
    """A completion callback that only makes pika wait for the broker's ``-Ok`` (no nowait)."""


class _AsyncChannelCookie:
    """What BlockingConnection.close() expects to find on each of its channels."""

    def __init__(self, channel: Any) -> None:
        self._channel = channel

    @property
    def is_open(self) -> bool:
        return bool(self._channel.is_open)

    def close(self, reply_code: int = 0, reply_text: str = "Normal shutdown") -> None:
        # Cancel awaiting cancel-ok, as BlockingChannel.close does (pika's own close
        # would send basic.cancel with nowait set).
        channel = self._channel
        for tag in channel.consumer_tags:
            if tag not in channel._cancelled:
                channel.basic_cancel(tag, callback=ignore_ok)
        channel.close(reply_code, reply_text)

    def _dispatch_events(self) -> None:  # BlockingConnection never queues events for us
        pass


def open_async_channel(
    connection: pika.BlockingConnection,
    on_open: Callable[[Any], None],
    on_close: Callable[[Any, BaseException], None],
) -> Any:
    """An asynchronous ``pika.channel.Channel`` driven by ``connection``'s I/O loop.

    BlockingChannel waits for each ``-Ok`` in its own event loop and dispatches deliveries
    later; an asynchronous channel lets a job chain its set-up steps through callbacks
    (same frames, same order, each still answered by the broker) without blocking the
    loop thread, so other jobs' set-up and tear-down overlap. Callbacks run on the loop
    thread and must not raise (wrap them with :func:`guarded`). Loop thread only.
    """
    channel = connection._impl.channel(on_open_callback=on_open)
    channel._set_cookie(_AsyncChannelCookie(channel))
    channel.add_on_close_callback(on_close)
    return channel


# --- pipelined synchronous methods ---------------------------------------------------------
#
# pika sends a synchronous method only after the previous one's -Ok arrived, one broker
# round trip each. AMQP lets a client send them back to back: the broker still executes
# them in order on the channel and answers each with its -Ok (the frames carry nowait=0,
# exactly as pika would encode them). These helpers send the frame at once and register
# ``on_ok`` for the reply; they may be used right after the channel.open (before its -Ok).


def _pipeline(channel: Any, method: Any, reply: type, on_ok: Callable[[Any], None]) -> None:
    channel.callbacks.add(channel.channel_number, reply, on_ok)  # one-shot, counted per add
    channel._send_method(method)


def pipeline_declare_queue(channel: Any, on_ok: Callable[[Any], None]) -> None:
    """``queue.declare`` of a server-named exclusive auto-delete queue (no arguments)."""
    method = pika.spec.Queue.Declare(
        queue="", exclusive=True, auto_delete=True, nowait=False, arguments={}
    )
    _pipeline(channel, method, pika.spec.Queue.DeclareOk, on_ok)


def pipeline_declare_topic_exchange(
    channel: Any, exchange: str, on_ok: Callable[[Any], None] = ignore_ok
) -> None:
    """``exchange.declare`` of a non-durable auto-delete topic exchange (no arguments)."""
    method = pika.spec.Exchange.Declare(
        exchange=exchange, type="topic", auto_delete=True, nowait=False, arguments={}
    )
    _pipeline(channel, method, pika.spec.Exchange.DeclareOk, on_ok)


def pipeline_bind(channel: Any, queue: str, exchange: str, key: str) -> None:
    """``queue.bind`` of ``queue`` to ``exchange`` with routing key ``key`` (no arguments).

    No completion callback: pika would fire every registered bind-ok callback on the first
    bind-ok. Methods sent afterwards on the channel run after the binding exists anyway.
    """
    method = pika.spec.Queue.Bind(
        queue=queue, exchange=exchange, routing_key=key, nowait=False, arguments={}
    )
    _pipeline(channel, method, pika.spec.Queue.BindOk, ignore_ok)


def close_async_channel(channel: Any, consumer_tag: str | None = None) -> None:
    """``basic.cancel`` (awaiting cancel-ok) then ``channel.close``; never raises.

    pika queues the close behind the cancel, so nothing waits here.
    """
    if channel is None or channel.is_closed or channel.is_closing:
        return
    try:
        if consumer_tag is not None and channel.is_open:
            channel.basic_cancel(consumer_tag, callback=ignore_ok)
        channel.close()
    except Exception as exc:  # connection already gone
        log.debug("channel close: %s", exc)


def unsent_bytes(connection: pika.BlockingConnection) -> int:
    """Bytes published on ``connection`` but not yet taken by the socket (pika's buffer).

    It grows when the broker stops reading from us (flow control, a blocked connection,
    a stalled link): what a server bounds to keep a slow consumer from eating its memory.
    """
    try:
        return int(connection._impl._get_write_buffer_size())
    except Exception:  # no transport (connection gone)
        return 0


def publish_once(connection: pika.BlockingConnection, message: AmqpMessage) -> None:
    """Publish ``message`` on a channel of its own, then close it; never raises or waits.

    For a message to an exchange that may be gone (a broker ``404`` then closes only this
    channel, never one in use). Loop thread only.
    """

    def opened(channel: Any) -> None:
        try:
            channel.basic_publish(
                message.exchange, message.routing_key, message.body, properties_of(message)
            )
        finally:
            safe_close_channel(channel)

    try:
        open_async_channel(connection, guarded(opened, "DMQ notice"), ignore_ok)
    except Exception as exc:  # connection gone
        log.debug("notice to %s not sent: %s", message.exchange, exc)


# --- plain messages <-> pika ----------------------------------------------------------------


def properties_of(message: AmqpMessage) -> pika.BasicProperties | None:
    """The properties to publish ``message`` with (None when it sets none)."""
    if (
        message.message_id is None
        and message.correlation_id is None
        and message.reply_to is None
        and message.app_id is None
        and not message.headers
    ):
        return None
    return pika.BasicProperties(
        message_id=message.message_id,
        correlation_id=message.correlation_id,
        reply_to=message.reply_to,
        app_id=message.app_id,
        headers=dict(message.headers) if message.headers else None,
    )


def delivered_message(method: Any, properties: Any, body: bytes) -> AmqpMessage:
    """A delivery (``basic.deliver`` method, properties, body) as plain data."""
    return AmqpMessage(
        method.exchange,
        method.routing_key,
        body,
        message_id=properties.message_id,
        correlation_id=properties.correlation_id,
        reply_to=properties.reply_to,
        app_id=properties.app_id,
        headers=properties.headers,
    )


class JobChannel:
    """One job's channel and private queue, set up as ``action`` asks; loop thread only.

    ``on_message(message)`` for each delivery, ``on_ready()`` at consume-ok,
    ``on_lost(reason)`` when the broker closes the channel (not when we do, nor when the
    whole connection goes: that is reported for every job at once). Messages published
    before the bindings exist wait and go out right behind them, before the consume.
    Raises if no channel can be opened.
    """

    def __init__(
        self,
        connection: pika.BlockingConnection,
        action: Open,
        *,
        on_message: Callable[[AmqpMessage], None],
        on_ready: Callable[[], None],
        on_lost: Callable[[str], None],
    ) -> None:
        self._action = action
        self._on_message = on_message
        self._on_ready = on_ready
        self._on_lost = on_lost
        self._waiting: list[AmqpMessage] | None = []
        self._consumer_tag: str | None = None
        self._closed = False
        self.queue: str | None = None
        channel = open_async_channel(
            connection, ignore_ok, guarded(self._channel_closed, "DMQ channel close")
        )
        self._channel = channel
        # Everything goes out right behind channel.open; only the queue name is awaited.
        pipeline_declare_queue(channel, guarded(self._declared, "DMQ set-up"))
        if action.declare_exchange:
            pipeline_declare_topic_exchange(channel, action.exchange)

    def _declared(self, frame: Any) -> None:
        """queue.declare-ok: bindings, waiting messages and the consume, back to back."""
        if self._closed:
            return
        channel, action = self._channel, self._action
        queue = self.queue = frame.method.queue
        for key in action.bindings:
            pipeline_bind(channel, queue, action.exchange, key)
        waiting, self._waiting = self._waiting or [], None
        for message in waiting:
            self._send(message)
        self._consumer_tag = channel.basic_consume(
            queue,
            guarded(self._deliver, "DMQ message handler"),
            auto_ack=not action.ack,
            callback=guarded(self._consuming, "DMQ set-up"),
        )

    def _consuming(self, _frame: Any) -> None:
        if not self._closed:
            self._on_ready()

    def _deliver(self, channel: Any, method: Any, properties: Any, body: bytes) -> None:
        if self._action.ack:
            try:
                channel.basic_ack(method.delivery_tag)
            except Exception as exc:
                log.debug("ack failed: %s", exc)
        if not self._closed:
            self._on_message(delivered_message(method, properties, body))

    def _channel_closed(self, channel: Any, reason: BaseException) -> None:
        if self._closed or isinstance(reason, pika.exceptions.ChannelClosedByClient):
            return
        connection = channel.connection
        if connection.is_closed or connection.is_closing:
            return
        self._closed = True
        self._on_lost(f"by the broker ({reason})")

    def publish(self, message: AmqpMessage) -> None:
        """Publish now, or right after the bindings (raises if the channel is gone)."""
        if self._waiting is not None:
            self._waiting.append(message)
        else:
            self._send(message)

    def _send(self, message: AmqpMessage) -> None:
        self._channel.basic_publish(
            message.exchange, message.routing_key, message.body, properties_of(message)
        )

    def close(self) -> None:
        """``basic.cancel`` then ``channel.close`` (unsent messages are dropped); idempotent."""
        if self._closed:
            return
        self._closed = True
        close_async_channel(self._channel, self._consumer_tag)
