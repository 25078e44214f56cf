"""Socket-free connection engines of raw ACNET (``docs/protocols/acnet.md`` §11).

:class:`ClientEngine` is one client connection's whole protocol state: commands and their
ACKs paired by order, request ids and reply routing, stale replies, incoming requests,
USMs and cancels, keepalive, and what a lost connection owes every open request. Drivers
(the sync TCP/UDP connections here, an asyncio one later) only move bytes and call handlers.
"""

from pacsys_acnet.protocol.client import ClientEngine, Event, OpenRequest, Pending

__all__ = ["ClientEngine", "Event", "OpenRequest", "Pending"]
