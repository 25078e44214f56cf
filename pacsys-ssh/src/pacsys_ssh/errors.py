"""SSH exceptions; all derive from :class:`pacsys.errors.PacsysError`.

``ACLError`` and ``AuthenticationError`` live in :mod:`pacsys.errors` and are re-exported
here for convenience (``ACLError`` is deliberately *not* an ``SSHError``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pacsys.errors import ACLError, AuthenticationError, PacsysError

if TYPE_CHECKING:
    from pacsys_ssh.hops import SSHHop

__all__ = [
    "ACLError",
    "AuthenticationError",
    "SSHCommandError",
    "SSHConnectionError",
    "SSHError",
    "SSHTimeoutError",
]


class SSHError(PacsysError):
    """Base of every SSH failure (also raised itself when a remote process ends early)."""


class SSHConnectionError(SSHError):
    """A hop could not be reached or authenticated, or the transport is gone.

    ``hop`` is the failing :class:`SSHHop` when known; it never contains the password in
    its repr.
    """

    def __init__(self, message: str, hop: SSHHop | None = None) -> None:
        self.message = message
        self.hop = hop
        text = f"{message} (hop: {hop.hostname}:{hop.port})" if hop is not None else message
        super().__init__(text)

    def __reduce__(self) -> tuple[type, tuple[str, SSHHop | None]]:
        return (type(self), (self.message, self.hop))


class SSHCommandError(SSHError):
    """A streamed command exited with a non-zero status."""

    def __init__(self, command: str, exit_code: int, stderr: str) -> None:
        self.command = command
        self.exit_code = exit_code
        self.stderr = stderr
        super().__init__(f"Command '{command}' failed (exit={exit_code}): {stderr.strip()}")

    def __reduce__(self) -> tuple[type, tuple[str, int, str]]:
        return (type(self), (self.command, self.exit_code, self.stderr))


class SSHTimeoutError(SSHError):
    """An SSH operation did not finish within its timeout."""
