"""AMQP names shared by DMQ clients and servers: routing keys, exchange, headers."""

from __future__ import annotations

__all__ = [
    "DROP_KEY",
    "HEADER_GSS_TOKEN",
    "HEADER_HOST_ADDRESS",
    "HEADER_SIGNATURE",
    "HEARTBEAT_KEY",
    "INIT_EXCHANGE",
    "INIT_KEY",
    "JOB_STATUS_KEY",
    "NULL_JOB_KEY",
    "REPLY_BINDING",
    "SERVER_HEARTBEAT_KEY",
    "SETTING_BINDING",
    "reply_drf",
    "reply_key",
    "setting_drf",
    "setting_key",
]

INIT_EXCHANGE = "amq.topic"
INIT_KEY = "I"
HEARTBEAT_KEY = "H"
DROP_KEY = "D"
SERVER_HEARTBEAT_KEY = "Q"
JOB_STATUS_KEY = "R"
NULL_JOB_KEY = "R.null"
REPLY_BINDING = "R.#"
SETTING_BINDING = "S.#"

HEADER_GSS_TOKEN = "gss-token"
HEADER_SIGNATURE = "signature"
HEADER_HOST_ADDRESS = "host-address"

_REPLY_PREFIX = "R."
_SETTING_PREFIX = "S."


def reply_key(drf: str) -> str:
    """Routing key of a per-device reply: ``R.`` + the DRF exactly as the INIT sent it."""
    return _REPLY_PREFIX + drf


def setting_key(init_drf: str) -> str:
    """Routing key of a SETTING: ``S.`` + the write session's INIT string."""
    return _SETTING_PREFIX + init_drf


def reply_drf(routing_key: str) -> str | None:
    """The DRF of an ``R.<drf>`` key; None for other keys (``R``, ``Q``, ...)."""
    return routing_key[len(_REPLY_PREFIX) :] if routing_key.startswith(_REPLY_PREFIX) else None


def setting_drf(routing_key: str) -> str | None:
    """The INIT string of an ``S.<drf>`` key; None for other keys."""
    return routing_key[len(_SETTING_PREFIX) :] if routing_key.startswith(_SETTING_PREFIX) else None
