"""The DPM protocol engine: both roles of a DPM/TCP connection, without I/O.

Sockets, threads, event loops and clocks belong to the drivers (``pacsys_dpm.client``,
``pacsys_dpm.server``); this package only turns bytes into state, events and bytes:

* :class:`ClientProtocol`: handshake and OpenList, then one conversation at a time on the
  list: :class:`ReadOp` (one-shot reads, chunked logger replies), :class:`StreamOp`,
  :class:`AuthOp` (Kerberos rounds through an injected GSS context) and :class:`WriteOp`.
* :class:`ServerProtocol`: handshake, list entries and properties, Kerberos rounds and role
  checks, and events for what needs a backend (:class:`ListStarted`,
  :class:`SettingsRequested`, ...); :class:`ListStream` encodes a running stream.

Both share :class:`~.endpoint.Endpoint`: the frame stream, the outgoing queue
(``data_to_send()``), the list id and the failure state.

A driver, blocking or asynchronous, does the same few things::

    protocol = ClientProtocol()
    write(protocol.data_to_send())            # the handshake
    read = protocol.read(ReadPlan(drfs))      # once protocol.is_open
    while (data := protocol.data_to_send()):
        write(data)
    while not read.done:                      # until the driver's deadline
        protocol.receive_data(receive())      # b"" at EOF
    readings = read.result(timeout)
"""

from __future__ import annotations

from pacsys_dpm.codec import DPMProtocolError

from .access import AcceptorContext, ListAuth, RolePolicy
from .client import ClientProtocol
from .errors import DPMConnectionError
from .lists import (
    ConnectionClosed,
    Entry,
    ListOpened,
    ListStarted,
    ListStopped,
    ListStream,
    Refused,
    ServerEvent,
    SettingsRequested,
)
from .reads import ReadOp, ReadPlan, StreamOp
from .server import ServerProtocol
from .settings import (
    AuthOp,
    ContextFactory,
    InitiatorContext,
    Outcome,
    SetupFailed,
    WriteOp,
    make_setting,
)

__all__ = [
    "AcceptorContext",
    "AuthOp",
    "ClientProtocol",
    "ConnectionClosed",
    "ContextFactory",
    "DPMConnectionError",
    "DPMProtocolError",
    "Entry",
    "InitiatorContext",
    "ListAuth",
    "ListOpened",
    "ListStarted",
    "ListStopped",
    "ListStream",
    "Outcome",
    "ReadOp",
    "ReadPlan",
    "Refused",
    "RolePolicy",
    "ServerEvent",
    "ServerProtocol",
    "SettingsRequested",
    "SetupFailed",
    "StreamOp",
    "WriteOp",
    "make_setting",
]
