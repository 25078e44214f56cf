"""The plain data DMQ engines consume and produce: messages, broker actions, events.

An engine never touches a broker. It is fed :class:`AmqpMessage` values (a delivery's
exchange, routing key, body and properties) and answers with a list of outputs: broker
actions (:class:`Open`, :class:`Publish`, :class:`Close`) that a driver carries out in
order, and events for the application (one class per happening, below).

All are slotted records to be treated as read-only; they are not frozen because one or
two are made per message, and a frozen attrs class costs ten times more to build.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

import attrs

from pacsys.types import Reading, Value, WriteResult
from pacsys_dmq.codec.messages import ErrorSample

__all__ = [
    "AmqpMessage",
    "ApplySetting",
    "Close",
    "Open",
    "Output",
    "Publish",
    "ReadDevices",
    "ReadDone",
    "SignerNeeded",
    "StartStream",
    "StopStream",
    "StreamData",
    "StreamEnded",
    "StreamReady",
    "WritesDone",
]

JobId = Hashable


@attrs.define
class AmqpMessage:
    """One AMQP message: where it is published (or was delivered from) and what it carries.

    Unset properties are None; ``headers`` maps header names to raw values (byte arrays
    for every header DMQ defines).
    """

    exchange: str
    routing_key: str
    body: bytes = b""
    message_id: str | None = None
    correlation_id: str | None = None
    reply_to: str | None = None
    app_id: str | None = None
    headers: Mapping[str, Any] | None = None


# --- broker actions (both roles) ---------------------------------------------------------


@attrs.define
class Open:
    """Give ``job`` a channel and a private queue, then consume it.

    The queue is server-named, exclusive and auto-delete; when ``declare_exchange`` the
    topic exchange ``exchange`` (auto-delete) is declared too; the queue is bound to
    ``exchange`` with each of ``bindings``. Messages published for ``job`` before the
    bindings exist wait and go out right after them, then the consumer starts. With
    ``ack`` every delivery is acknowledged on its own, else the consumer uses auto-ack.
    The driver reports consume-ok as the engine's ``ready`` and a channel the broker
    closes as its ``lost``.
    """

    job: JobId
    exchange: str
    bindings: tuple[str, ...]
    declare_exchange: bool
    ack: bool


@attrs.define
class Publish:
    """Publish ``message``; on ``job``'s channel, or on any channel when ``job`` is None."""

    job: JobId | None
    message: AmqpMessage


@attrs.define
class Close:
    """Cancel ``job``'s consumer and close its channel (its queue goes with it)."""

    job: JobId


# --- client events -----------------------------------------------------------------------


@attrs.define
class ReadDone:
    """A one-shot read ended: every reading (None where none came), and why it ended early.

    ``failure`` is the job-level ErrorSample the server sent; ``error`` a channel,
    connection or cancellation cause. Both None: every index was answered.
    """

    job: JobId
    readings: tuple[Reading | None, ...]
    failure: ErrorSample | None = None
    error: BaseException | None = None


@attrs.define
class StreamReady:
    """The subscription's INIT is out and its queue is being consumed."""

    job: JobId


@attrs.define
class StreamData:
    """One reading for the subscription (once per requested copy of its DRF)."""

    job: JobId
    reading: Reading


@attrs.define
class StreamEnded:
    """The subscription is over: ``error`` None when stopped, else why it failed.

    ``started`` tells whether :class:`StreamReady` came first (a failure before it is a
    set-up failure).
    """

    job: JobId
    error: BaseException | None
    started: bool


@attrs.define
class SignerNeeded:
    """A new write session for ``init_drf`` waits for its signed INIT (``sign_session``)."""

    init_drf: str


@attrs.define
class WritesDone:
    """Every setting of write call ``call`` has its result (in the call's order)."""

    call: Hashable
    results: tuple[WriteResult, ...]


# --- server events -----------------------------------------------------------------------


@attrs.define
class ReadDevices:
    """Read ``drfs`` once (request indexes ``indexes``) and report with ``devices_read``."""

    job: JobId
    indexes: tuple[int, ...]
    drfs: tuple[str, ...]


@attrs.define
class StartStream:
    """Subscribe to ``drfs``; feed readings to ``stream_reading`` until :class:`StopStream`."""

    job: JobId
    drfs: tuple[str, ...]


@attrs.define
class StopStream:
    """The job is gone: stop the subscription :class:`StartStream` asked for."""

    job: JobId


@attrs.define
class ApplySetting:
    """Write ``value`` to ``drf`` and report with ``setting_applied(job, seq, ...)``."""

    job: JobId
    seq: int
    drf: str
    value: Value


Output = (
    Open
    | Publish
    | Close
    | ReadDone
    | StreamReady
    | StreamData
    | StreamEnded
    | SignerNeeded
    | WritesDone
    | ReadDevices
    | StartStream
    | StopStream
    | ApplySetting
)
"""Anything an engine asks of its driver."""
