"""One AMQP connection driven by one named I/O thread (shared by the DMQ client and server).

pika's BlockingConnection is not thread-safe, so every AMQP operation runs on the loop's
thread: other threads hand it closures with :meth:`AmqpLoop.submit` / :meth:`AmqpLoop.call`.
The loop also calls a periodic ``tick`` (heartbeats, timeouts) and reports a lost
connection once through ``on_lost``. Exceptions raised by pika callbacks are caught and
logged so one bad message never stops the loop.
"""

from __future__ import annotations

import collections
import functools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import pika
import pika.exceptions
import pika.spec

__all__ = [
    "AmqpLoop",
    "close_async_channel",
    "guarded",
    "ignore_ok",
    "open_async_channel",
    "pipeline_bind",
    "pipeline_declare_queue",
    "pipeline_declare_topic_exchange",
    "safe_close_channel",
]

log = logging.getLogger("pacsys_dmq.amqp")

T = TypeVar("T")
Task = Callable[[], None]
FailHandler = Callable[[BaseException], None]


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


class AmqpLoop:
    """A BlockingConnection owned by a background thread named ``name``.

    ``tick(now)`` runs about every ``tick_interval`` seconds on the loop thread;
    ``on_lost(exc)`` runs once (on the loop thread) when the connection dies unexpectedly.
    """

    def __init__(
        self,
        parameters: pika.ConnectionParameters,
        *,
        name: str,
        tick: Callable[[float], None] | None = None,
        on_lost: FailHandler | None = None,
        tick_interval: float = 0.1,
    ) -> None:
        self._parameters = parameters
        self._name = name
        self._tick = tick
        self._on_lost = on_lost
        self._tick_interval = tick_interval
        self._tasks: collections.deque[tuple[Task, FailHandler | None]] = collections.deque()
        self._lock = threading.Lock()
        self._started = threading.Event()
        self._stopping = False
        self._alive = False
        self._start_error: BaseException | None = None
        self._connection: pika.BlockingConnection | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ------------------------------------------------------------------------

    def start(self, timeout: float) -> None:
        """Connect on the loop thread; raise the connection error, or TimeoutError."""
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()
        if not self._started.wait(timeout):
            with self._lock:
                self._stopping = True
            raise TimeoutError(f"no connection within {timeout:.3g} s")
        if self._start_error is not None:
            raise self._start_error

    @property
    def alive(self) -> bool:
        return self._alive

    @property
    def connection(self) -> pika.BlockingConnection:
        """The connection; use only on the loop thread."""
        assert self._connection is not None
        return self._connection

    def in_loop(self) -> bool:
        return threading.current_thread() is self._thread

    def stop(self, timeout: float = 3.0) -> None:
        """Close the connection and join the thread (unless called from it)."""
        with self._lock:
            self._stopping = True
            connection = self._connection if self._alive else None
        if connection is not None:
            try:
                connection.add_callback_threadsafe(lambda: None)  # wake the loop
            except Exception:
                pass
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            if thread.is_alive():
                log.warning("AMQP I/O thread %s did not stop within %.1f s", self._name, timeout)

    # --- work from other threads ------------------------------------------------------------

    def submit(self, task: Task, on_fail: FailHandler | None = None) -> None:
        """Run ``task`` on the loop thread soon; ``on_fail(exc)`` if it never will run."""
        with self._lock:
            accepted = self._alive and not self._stopping
            if accepted:
                self._tasks.append((task, on_fail))
            connection = self._connection
        if not accepted:
            error = ConnectionError("Connection not open")
            if on_fail is None:
                raise error
            on_fail(error)
            return
        try:
            assert connection is not None
            connection.add_callback_threadsafe(self._drain)
        except Exception as exc:  # connection died between the check and the call
            log.debug("wake-up failed: %s", exc)

    def call(self, fn: Callable[[], T], timeout: float) -> T:
        """Run ``fn`` on the loop thread and return its result (or raise its exception)."""
        if self.in_loop():
            return fn()
        done = threading.Event()
        box: dict[str, Any] = {}

        def task() -> None:
            try:
                box["result"] = fn()
            except BaseException as exc:
                box["error"] = exc
            done.set()

        def failed(exc: BaseException) -> None:
            box["error"] = exc
            done.set()

        self.submit(task, failed)
        if not done.wait(timeout):
            raise TimeoutError(f"AMQP operation did not finish within {timeout:.3g} s")
        if "error" in box:
            raise box["error"]
        return box["result"]

    # --- the loop ---------------------------------------------------------------------------

    def _drain(self) -> None:
        while True:
            with self._lock:
                if not self._tasks:
                    return
                task, _ = self._tasks.popleft()
            try:
                task()
            except Exception:
                log.exception("Error in AMQP task (ignored)")

    def _run(self) -> None:
        try:
            connection = pika.BlockingConnection(self._parameters)
        except BaseException as exc:
            self._start_error = exc
            self._started.set()
            return
        with self._lock:
            abandoned = self._stopping
            self._connection = connection
            self._alive = not abandoned
        self._started.set()
        lost: BaseException | None = None
        if not abandoned:
            lost = self._serve(connection)
        with self._lock:
            self._alive = False
            leftovers = list(self._tasks)
            self._tasks.clear()
        if lost is None:
            try:
                connection.close()
            except Exception as exc:
                log.debug("connection close: %s", exc)
        reason = lost if lost is not None else ConnectionError("Connection closed")
        for _, on_fail in leftovers:
            if on_fail is not None:
                try:
                    on_fail(ConnectionError(f"Connection closed: {reason}"))
                except Exception:
                    log.exception("Error in AMQP task failure handler (ignored)")
        if lost is not None and self._on_lost is not None:
            try:
                self._on_lost(lost)
            except Exception:
                log.exception("Error in connection-lost handler (ignored)")

    def _serve(self, connection: pika.BlockingConnection) -> BaseException | None:
        """Process events until stopped; return the exception that killed the connection."""
        next_tick = time.monotonic()
        try:
            while not self._stopping:
                connection.process_data_events(time_limit=self._tick_interval)
                self._drain()
                now = time.monotonic()
                if self._tick is not None and now >= next_tick and not self._stopping:
                    next_tick = now + self._tick_interval
                    try:
                        self._tick(now)
                    except pika.exceptions.AMQPConnectionError:
                        raise
                    except Exception:
                        log.exception("Error in AMQP tick (ignored)")
        except pika.exceptions.AMQPConnectionError as exc:
            log.warning("AMQP connection %s lost: %r", self._name, exc)
            return exc
        except Exception as exc:
            log.exception("AMQP I/O loop %s failed", self._name)
            return exc
        return None
