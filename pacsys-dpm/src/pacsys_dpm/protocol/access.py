"""Settings authorisation of one DPM list (server side): Kerberos context and role allow-lists.

A list may write only after its client has established a GSS context (``Authenticate``
rounds) and proved it with a MIC (``EnableSettings``); the context's initiator then becomes
the list's user. Each setting is further checked against the role the list declared with
``#ROLE:<role>``. Without a keytab no context can be established, so every write is refused.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Protocol

from pacsys.drf3 import parse_request
from pacsys_dpm.codec import AuthenticateReply, Reply, StatusReply

from .replies import DPM_PRIV

__all__ = ["AcceptorContext", "ContextFactory", "ListAuth", "RolePolicy"]

log = logging.getLogger("pacsys_dpm.server.auth")


class AcceptorContext(Protocol):
    """What the server needs from a GSS acceptor (``pacsys.gss.ServerContext``)."""

    @property
    def complete(self) -> bool: ...

    @property
    def initiator(self) -> str: ...

    def step(self, token: bytes) -> bytes: ...

    def verify_mic(self, message: bytes, mic: bytes) -> None: ...


ContextFactory = Callable[[], AcceptorContext]


def _device_key(name: str) -> str:
    """Canonical upper-case device name for allow-list comparison."""
    try:
        return parse_request(name).device.upper()
    except (ValueError, TypeError):
        return name.strip().upper()


class RolePolicy:
    """role -> devices that role may set (device names case-insensitive, ``"*"`` = all)."""

    def __init__(self, roles: Mapping[str, Iterable[str]] | None) -> None:
        self._roles: dict[str, frozenset[str]] = {}
        for role, devices in (roles or {}).items():
            if not isinstance(role, str) or not role:
                raise ValueError(f"role names must be non-empty strings, got {role!r}")
            if isinstance(devices, str):
                raise ValueError(f"devices of role {role!r} must be a list of names, not a str")
            self._roles[role] = frozenset(d if d == "*" else _device_key(d) for d in devices)

    def allows(self, role: str | None, device: str) -> bool:
        """True when ``role`` exists and lists ``device`` (or ``"*"``)."""
        if role is None:
            return False
        allowed = self._roles.get(role)
        if allowed is None:
            return False
        return "*" in allowed or _device_key(device) in allowed

    def __repr__(self) -> str:
        return f"RolePolicy(roles={sorted(self._roles)})"


class ListAuth:
    """Authentication state of one list (one connection)."""

    def __init__(self, service_name: str, context_factory: ContextFactory | None) -> None:
        self._service_name = service_name
        self._factory = context_factory
        self._context: AcceptorContext | None = None
        self.user: str | None = None

    def authenticate(self, token: bytes, now_ms: int) -> Reply:
        """One Authenticate round: service name, continuation token, or DPM_PRIV.

        ``now_ms`` stamps the Status of a refusal.
        """
        if not token:
            return AuthenticateReply(self._service_name)
        if self._factory is None:
            log.warning("Authenticate refused: server has no keytab")
            return StatusReply(0, now_ms, 0, DPM_PRIV)
        try:
            if self._context is None or self._context.complete:
                self._context = self._factory()
                self.user = None
            output = self._context.step(token)
        except Exception as exc:  # GSS failures of any kind refuse the client, never the server
            log.warning("Authenticate failed: %s", exc)
            self._context = None
            return StatusReply(0, now_ms, 0, DPM_PRIV)
        if self._context.complete:
            return AuthenticateReply(self._service_name)
        return AuthenticateReply(self._service_name, output or None)

    def enable_settings(self, mic: bytes, message: bytes) -> Reply:
        """EnableSettings: verify the MIC and adopt the initiator as the list's user."""
        context = self._context
        if context is None or not context.complete:
            log.warning("EnableSettings refused: no established context")
            return StatusReply(0, 0, -1, DPM_PRIV)
        try:
            context.verify_mic(message, mic)
        except Exception as exc:
            log.warning("EnableSettings refused: %s", exc)
            return StatusReply(0, 0, -1, DPM_PRIV)
        self.user = context.initiator
        log.info("settings enabled for %s", self.user)
        return StatusReply(0, 0, -1, 0)
