"""Signed DMQ messages, both ways: the client signs INITs and SETTINGs, a server checks them.

The GSS-API itself stays outside: the client hands in a :class:`Signer` (its job's
established context) and a strict server an :class:`Acceptor` that turns an INIT token
into a :class:`Verifier`. Only bytes are built and compared here.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from pacsys_dmq.codec.routing import (
    HEADER_GSS_TOKEN,
    HEADER_HOST_ADDRESS,
    HEADER_SIGNATURE,
    INIT_EXCHANGE,
    INIT_KEY,
    setting_key,
)
from pacsys_dmq.codec.signing import (
    APP_ID,
    init_signing_body,
    setting_signing_body,
    signing_body,
)
from pacsys_dmq.protocol.events import AmqpMessage

__all__ = [
    "Acceptor",
    "Signer",
    "Verifier",
    "build_init",
    "build_setting",
    "header_bytes",
    "new_id",
    "verify_init",
    "verify_signed",
]


class Signer(Protocol):
    """A client job's GSS context: the INIT token and a MIC over any bytes."""

    @property
    def token(self) -> bytes: ...

    def sign(self, data: bytes) -> bytes: ...


class Verifier(Protocol):
    """A server's accepted GSS context: raises when ``mic`` is not a MIC of ``data``."""

    def verify_mic(self, data: bytes, mic: bytes) -> None: ...


Acceptor = Callable[[bytes], Verifier]
"""Accepts an INIT's ``gss-token`` (raising when it is refused) and returns its context."""


def new_id() -> str:
    """A fresh message id or exchange name: a UUID4 in canonical text form."""
    return str(uuid.uuid4())


MAX_HEADER_BYTES = 64 * 1024
"""Longest security header accepted: Kerberos tokens (with a PAC) stay well below it."""


def header_bytes(headers: Mapping[str, Any] | None, name: str) -> bytes:
    """A header as bytes (byte arrays as sent; text from other clients as Latin-1).

    ValueError, naming only the header and the value's type or size, for anything else:
    an AMQP table, list or number here is a hostile or broken peer (``bytes(8 << 30)`` would
    allocate 8 GiB).
    """
    value = (headers or {}).get(name)
    if value is None:
        return b""
    if not isinstance(value, str | bytes | bytearray | memoryview):
        raise ValueError(f"header {name!r} must be bytes, got {type(value).__name__}")
    if len(value) > MAX_HEADER_BYTES:
        raise ValueError(f"header {name!r} longer than {MAX_HEADER_BYTES} bytes ({len(value)})")
    if isinstance(value, str):
        return value.encode("latin-1", "replace")
    return bytes(value)


def build_init(
    body: bytes,
    signer: Signer,
    host_address: bytes,
    *,
    exchange: str | None = None,
    message_id: str | None = None,
) -> AmqpMessage:
    """The INIT of a new job: to ``amq.topic``/``I``, replies to the job's own exchange.

    ``exchange`` (the job's return address and id) and ``message_id`` are fresh UUIDs
    unless given. The MIC covers the body and properties as the signing-body layout says.
    """
    exchange = exchange or new_id()
    message_id = message_id or new_id()
    signing = init_signing_body(
        body, message_id=message_id, reply_to=exchange, host_address=host_address
    )
    headers = {
        HEADER_GSS_TOKEN: bytes(signer.token),
        HEADER_SIGNATURE: bytes(signer.sign(signing)),
        HEADER_HOST_ADDRESS: host_address,
    }
    return AmqpMessage(
        INIT_EXCHANGE,
        INIT_KEY,
        body,
        message_id=message_id,
        reply_to=exchange,
        app_id=APP_ID,
        headers=headers,
    )


def build_setting(
    exchange: str,
    init_drf: str,
    body: bytes,
    signer: Signer,
    host_address: bytes,
    message_id: str,
) -> AmqpMessage:
    """A SETTING for the write session of ``init_drf``: only message id and MIC headers."""
    signing = setting_signing_body(body, message_id=message_id, host_address=host_address)
    headers = {
        HEADER_SIGNATURE: bytes(signer.sign(signing)),
        HEADER_HOST_ADDRESS: host_address,
    }
    return AmqpMessage(
        exchange, setting_key(init_drf), body, message_id=message_id, headers=headers
    )


def _received_signing_body(message: AmqpMessage) -> bytes:
    """The signing body of a received message, from its body and properties as they came."""
    return signing_body(
        message.body,
        message_id=message.message_id or "",
        correlation_id=message.correlation_id or "",
        reply_to=message.reply_to or "",
        app_id=message.app_id or "",
        host_address=header_bytes(message.headers, HEADER_HOST_ADDRESS),
    )


def verify_init(message: AmqpMessage, accept: Acceptor) -> Verifier:
    """Accept the INIT's token and check its MIC; the context (for the job's SETTINGs).

    Raises what ``accept`` or ``verify_mic`` raise for a refused token or MIC, and
    ValueError for a missing or malformed ``host-address``.
    """
    context = accept(header_bytes(message.headers, HEADER_GSS_TOKEN))
    verify_signed(message, context)
    return context


def verify_signed(message: AmqpMessage, context: Verifier) -> None:
    """Check a received INIT or SETTING MIC with its job's context (raises on a mismatch)."""
    mic = header_bytes(message.headers, HEADER_SIGNATURE)
    context.verify_mic(_received_signing_body(message), mic)
