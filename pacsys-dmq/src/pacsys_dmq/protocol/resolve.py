"""Which request a reply belongs to, as a pure function of the delivery.

Shared by one-shot reads and subscriptions; the outcome tells the job what to do.
"""

from __future__ import annotations

import logging

import attrs

from pacsys.acnet.status import ERR_RETRY, FACILITY_ACNET
from pacsys.types import Reading
from pacsys_dmq.codec.codec import decode_reply
from pacsys_dmq.codec.errors import DMQProtocolError
from pacsys_dmq.codec.mapping import is_pending, reply_to_reading
from pacsys_dmq.codec.messages import ErrorSample, Message
from pacsys_dmq.codec.routing import JOB_STATUS_KEY, NULL_JOB_KEY, SERVER_HEARTBEAT_KEY, reply_drf
from pacsys_dmq.protocol.events import AmqpMessage

__all__ = ["DataReply", "JobFailure", "Requested", "resolve_reply"]

log = logging.getLogger("pacsys_dmq.protocol")


@attrs.define
class DataReply:
    """A reply for request ``index`` (0-based); ``reply`` None means undecodable."""

    index: int
    reply: Message | None

    def reading(self, drf: str) -> Reading:
        if self.reply is None:
            return Reading(drf=drf, facility_code=FACILITY_ACNET, error_code=ERR_RETRY)
        return reply_to_reading(self.reply, drf)


@attrs.define
class JobFailure:
    """A job-level ErrorSample: the whole read or subscription failed."""

    error: ErrorSample

    @property
    def detail(self) -> str:
        e = self.error
        text = f" {e.message}" if e.message else ""
        return f"facility={e.facility_code}, error={e.error_number}{text}".strip()


class Requested:
    """The DRF strings a job asked for, indexed: each string's indexes, in order."""

    __slots__ = ("copies", "drfs")

    def __init__(self, drfs: list[str]) -> None:
        self.drfs = drfs
        self.copies: dict[str, list[int]] = {}
        for i, drf in enumerate(drfs):
            self.copies.setdefault(drf, []).append(i)

    def index_of(self, drf: str | None) -> int | None:
        """The first index asking for ``drf`` (None for None or a string not asked for)."""
        copies = self.copies.get(drf) if drf is not None else None
        return copies[0] if copies else None


def resolve_reply(
    message: AmqpMessage, requested: Requested, init_message_id: str | None
) -> DataReply | JobFailure | None:
    """The meaning of one delivery; None when it is to be ignored."""
    routing_key, correlation_id = message.routing_key, message.correlation_id
    if routing_key == SERVER_HEARTBEAT_KEY:
        return None
    try:
        reply = decode_reply(message.body)
    except DMQProtocolError as exc:
        index = requested.index_of(reply_drf(routing_key))
        if index is None:
            log.debug("dropping undecodable reply on %r: %s", routing_key, exc)
            return None
        return DataReply(index, None)
    if is_pending(reply):
        return None
    ref_id = getattr(reply, "ref_id", None)
    if ref_id is not None and 1 <= ref_id <= len(requested.drfs):
        return DataReply(ref_id - 1, reply)
    index = requested.index_of(reply_drf(routing_key))
    if index is not None:
        return DataReply(index, reply)
    if (
        routing_key in (JOB_STATUS_KEY, NULL_JOB_KEY)
        and isinstance(reply, ErrorSample)
        and not reply.ref_id
    ):
        if not correlation_id or correlation_id == init_message_id:
            return JobFailure(reply)
        log.warning("dropping job status for another request (correlation %s)", correlation_id)
        return None
    log.debug("dropping unresolvable reply on %r", routing_key)
    return None
