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

import importlib
from typing import TYPE_CHECKING, Any

#: Where each public name lives. Names load with their module on first use, so the
#: client's read path never imports the server role, its reply builders, attrs or numpy.
_NAMES: dict[str, str] = {
    "AcceptorContext": "access",
    "ListAuth": "access",
    "RolePolicy": "access",
    "ClientProtocol": "client",
    "DPMConnectionError": "errors",
    "ConnectionClosed": "lists",
    "Entry": "lists",
    "ListOpened": "lists",
    "ListStarted": "lists",
    "ListStopped": "lists",
    "ListStream": "lists",
    "Refused": "lists",
    "ServerEvent": "lists",
    "SettingsRequested": "lists",
    "ReadOp": "reads",
    "ReadPlan": "reads",
    "StreamOp": "reads",
    "ServerProtocol": "server",
    "AuthOp": "settings",
    "ContextFactory": "settings",
    "InitiatorContext": "settings",
    "Outcome": "settings",
    "SetupFailed": "settings",
    "WriteOp": "settings",
    "make_setting": "settings",
}

if TYPE_CHECKING:
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


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use and cache the name here."""
    value: Any
    if name == "DPMProtocolError":
        from pacsys_dpm.codec import DPMProtocolError

        value = DPMProtocolError
    elif name in _NAMES:
        value = getattr(importlib.import_module(f"{__name__}.{_NAMES[name]}"), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


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
