"""The DMQ protocol without I/O: one engine per role, fed plain data, answering with outputs.

:class:`ClientProtocol` and :class:`ServerProtocol` hold every job's state (handshake,
request/reply matching, streams, write sessions, heartbeats, DROP). A driver feeds them
deliveries as :class:`AmqpMessage`, reports its broker's doings (``ready``, ``lost``) and
the time, and carries out what they return: :class:`Open`, :class:`Publish` and
:class:`Close` on the broker, the other outputs being events for the application. No
sockets, threads, event loops or clocks here; see ``docs/protocols/dmq.md`` for the wire.
"""

from __future__ import annotations

from pacsys_dmq.protocol.client import ClientProtocol
from pacsys_dmq.protocol.events import (
    AmqpMessage,
    ApplySetting,
    Close,
    Open,
    Output,
    Publish,
    ReadDevices,
    ReadDone,
    SignerNeeded,
    StartStream,
    StopStream,
    StreamData,
    StreamEnded,
    StreamReady,
    WritesDone,
)
from pacsys_dmq.protocol.liveness import Timing
from pacsys_dmq.protocol.server import ServerProtocol
from pacsys_dmq.protocol.signing import Acceptor, Signer, Verifier, build_init, header_bytes

__all__ = [
    "Acceptor",
    "AmqpMessage",
    "ApplySetting",
    "ClientProtocol",
    "Close",
    "Open",
    "Output",
    "Publish",
    "ReadDevices",
    "ReadDone",
    "ServerProtocol",
    "Signer",
    "SignerNeeded",
    "StartStream",
    "StopStream",
    "StreamData",
    "StreamEnded",
    "StreamReady",
    "Timing",
    "Verifier",
    "WritesDone",
    "build_init",
    "header_bytes",
]
