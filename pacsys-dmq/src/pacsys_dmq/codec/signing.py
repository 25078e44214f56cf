"""Bytes a DMQ message's GSS MIC is computed over, and the host-address header.

Only byte building lives here; acquiring credentials and calling ``gss_get_mic`` /
``gss_verify_mic`` is the job of the client and server layers.
"""

from __future__ import annotations

import ipaddress

__all__ = [
    "APP_ID",
    "FALLBACK_HOST_ADDRESS",
    "FERMILAB_NETWORKS",
    "init_signing_body",
    "select_host_address",
    "setting_signing_body",
    "signing_body",
]

APP_ID = "pacsys"
"""``app_id`` property of every INIT."""

FALLBACK_HOST_ADDRESS = bytes([131, 225, 142, 68])
"""Sent when the client's own IPv4 address is unknown or outside Fermilab."""

FERMILAB_NETWORKS = (
    ipaddress.IPv4Network("131.225.0.0/16"),
    ipaddress.IPv4Network("192.190.216.0/22"),
    ipaddress.IPv4Network("198.49.208.0/24"),
)

_SEPARATOR = b"\x00"


def _check_host_address(host_address: bytes) -> bytes:
    if not isinstance(host_address, bytes | bytearray) or len(host_address) != 4:
        raise ValueError(f"host_address must be 4 raw IPv4 bytes, got {host_address!r}")
    return bytes(host_address)


def signing_body(
    body: bytes,
    *,
    message_id: str = "",
    correlation_id: str = "",
    reply_to: str = "",
    app_id: str = "",
    host_address: bytes,
) -> bytes:
    """The byte string signed by the MIC: body and five properties, each followed by 0x00.

    Unset properties are passed as empty strings; text is UTF-8.
    """
    parts = [
        bytes(body),
        message_id.encode("utf-8"),
        correlation_id.encode("utf-8"),
        reply_to.encode("utf-8"),
        app_id.encode("utf-8"),
        _check_host_address(host_address),
    ]
    return _SEPARATOR.join(parts) + _SEPARATOR


def init_signing_body(
    body: bytes, *, message_id: str, reply_to: str, host_address: bytes, app_id: str = APP_ID
) -> bytes:
    """Signing body of an INIT: no correlation id, ``reply_to`` = the client exchange."""
    return signing_body(
        body,
        message_id=message_id,
        reply_to=reply_to,
        app_id=app_id,
        host_address=host_address,
    )


def setting_signing_body(body: bytes, *, message_id: str, host_address: bytes) -> bytes:
    """Signing body of a SETTING: only the message id and host address are set."""
    return signing_body(body, message_id=message_id, host_address=host_address)


def select_host_address(local_address: str | None) -> bytes:
    """The 4 header bytes for a client whose outbound IPv4 address is ``local_address``.

    Fermilab addresses are sent as they are; anything else (including None or text that is
    not an IPv4 address) becomes :data:`FALLBACK_HOST_ADDRESS`.
    """
    if not local_address:
        return FALLBACK_HOST_ADDRESS
    try:
        address = ipaddress.IPv4Address(local_address)
    except ValueError:
        return FALLBACK_HOST_ADDRESS
    if any(address in network for network in FERMILAB_NETWORKS):
        return address.packed
    return FALLBACK_HOST_ADDRESS
