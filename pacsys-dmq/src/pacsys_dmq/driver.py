"""Carry out a DMQ protocol engine's outputs on a pika connection (shared by both roles).

:class:`BrokerActions` performs :class:`~pacsys_dmq.protocol.Open`,
:class:`~pacsys_dmq.protocol.Publish` and :class:`~pacsys_dmq.protocol.Close` with one
:class:`~pacsys_dmq.amqp.JobChannel` per job, feeds what the broker does back into the
engine through the role's callbacks, and hands every other output (the events) to the
role's ``on_event``. Runs on the AMQP loop thread only.
"""

from __future__ import annotations

import collections
import logging
from collections.abc import Callable, Hashable, Iterable
from typing import Any

import pika

from pacsys_dmq.amqp import JobChannel, properties_of, safe_close_channel, unsent_bytes
from pacsys_dmq.protocol.events import AmqpMessage, Close, Open, Output, Publish

__all__ = ["BrokerActions"]

log = logging.getLogger("pacsys_dmq.driver")

JobId = Hashable


class BrokerActions:
    """The broker half of a driver: one channel per job of one engine.

    ``ready(job)``, ``receive(job, message)`` and ``lost(job, reason)`` pass the broker's
    news to the engine (adding the time) and return its outputs; ``on_event(output)``
    takes every output that is not a broker action.
    """

    def __init__(
        self,
        connection: Callable[[], pika.BlockingConnection],
        *,
        ready: Callable[[JobId], Iterable[Output]],
        receive: Callable[[JobId, AmqpMessage], Iterable[Output]],
        lost: Callable[[JobId, str], Iterable[Output]],
        on_event: Callable[[Any], None],
    ) -> None:
        self._connection = connection
        self._ready = ready
        self._receive = receive
        self._lost = lost
        self._on_event = on_event
        self._channels: dict[JobId, JobChannel] = {}
        self._spare: Any = None  # for messages of no job (a refused INIT's status)

    def run(self, outputs: Iterable[Output]) -> None:
        """Carry out ``outputs`` in order (and whatever the engine answers to failures)."""
        pending = collections.deque(outputs)
        while pending:
            output = pending.popleft()
            if isinstance(output, Publish):
                failure = self._publish(output)
                if failure is not None:
                    pending.extend(self._lost(output.job, failure))
            elif isinstance(output, Open):
                failure = self._open(output)
                if failure is not None:
                    pending.extend(self._lost(output.job, failure))
            elif isinstance(output, Close):
                channel = self._channels.pop(output.job, None)
                if channel is not None:
                    channel.close()
            else:
                self._on_event(output)

    def _open(self, action: Open) -> str | None:
        job = action.job
        try:
            self._channels[job] = JobChannel(
                self._connection(),
                action,
                on_message=lambda message: self.run(self._receive(job, message)),
                on_ready=lambda: self.run(self._ready(job)),
                on_lost=lambda reason: self._channel_lost(job, reason),
            )
        except Exception as exc:
            log.info("cannot open a channel for job %s: %s", job, exc)
            return str(exc) or type(exc).__name__
        return None

    def _channel_lost(self, job: JobId, reason: str) -> None:
        self._channels.pop(job, None)
        self.run(self._lost(job, reason))

    def _publish(self, output: Publish) -> str | None:
        """Publish; the failure's text when the job's channel is gone."""
        message = output.message
        if output.job is None:
            self._publish_spare(message)
            return None
        channel = self._channels.get(output.job)
        if channel is None:
            log.debug("message for ended job %s dropped", output.job)
            return None
        try:
            channel.publish(message)
        except Exception as exc:
            log.info("publish for job %s failed: %s", output.job, exc)
            self._channels.pop(output.job, None)
            channel.close()
            return str(exc) or type(exc).__name__
        return None

    def _publish_spare(self, message: AmqpMessage) -> None:
        """Publish on a channel of no job (reopened once if the broker closed it)."""
        properties = properties_of(message)
        for _attempt in range(2):
            try:
                if self._spare is None or not self._spare.is_open:
                    self._spare = self._connection().channel()
                self._spare.basic_publish(
                    message.exchange, message.routing_key, message.body, properties
                )
                return
            except Exception as exc:
                log.debug("publish to %s failed: %s", message.exchange, exc)
                safe_close_channel(self._spare)
                self._spare = None

    def unsent_bytes(self) -> int:
        """Bytes published but not yet taken by the socket (0 without a connection)."""
        try:
            return unsent_bytes(self._connection())
        except Exception:
            return 0

    def close(self) -> None:
        """Close every channel left (the engine has ended its jobs)."""
        for channel in self._channels.values():
            channel.close()
        self._channels.clear()
        safe_close_channel(self._spare)
        self._spare = None
