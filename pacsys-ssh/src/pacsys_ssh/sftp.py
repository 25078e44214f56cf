"""SFTPSession: a thin single-owner wrapper around paramiko's SFTP client."""

from __future__ import annotations

from typing import Any

import paramiko

from pacsys_ssh._closing import Closing

__all__ = ["SFTPSession"]


class SFTPSession(Closing):
    """File transfer on the remote host; paramiko's file errors propagate unchanged."""

    def __init__(self, client: paramiko.SFTPClient) -> None:
        self._client = client

    def get(self, remote: str, local: str) -> None:
        """Copy remote file ``remote`` to local path ``local``."""
        self._client.get(remote, local)

    def put(self, local: str, remote: str) -> None:
        """Copy local file ``local`` to remote path ``remote``."""
        self._client.put(local, remote)

    def listdir(self, path: str = ".") -> list[str]:
        """Names in a remote directory."""
        return self._client.listdir(path)

    def stat(self, path: str) -> paramiko.SFTPAttributes:
        """Remote file attributes (``st_size``, ``st_mode``, ...)."""
        return self._client.stat(path)

    def mkdir(self, path: str, mode: int = 0o755) -> None:
        """Create a remote directory."""
        self._client.mkdir(path, mode)

    def remove(self, path: str) -> None:
        """Delete a remote file."""
        self._client.remove(path)

    def close(self) -> None:
        """Close the SFTP channel (idempotent)."""
        self._client.close()

    @property
    def client(self) -> paramiko.SFTPClient:
        """The underlying paramiko client, for operations not wrapped here."""
        return self._client

    def __repr__(self) -> str:
        channel: Any = self._client.get_channel()
        state = "open" if channel is not None and not channel.closed else "closed"
        return f"SFTPSession({state})"
