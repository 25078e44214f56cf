"""RemoteProcess: a long-running remote command used as a bidirectional byte pipe."""

from __future__ import annotations

from typing import TYPE_CHECKING

import paramiko

from pacsys.deadline import Deadline
from pacsys_ssh._closing import Closing
from pacsys_ssh._paramiko import ChannelWatch
from pacsys_ssh.errors import SSHError, SSHTimeoutError

if TYPE_CHECKING:
    from pacsys_ssh.client import SSHClient

__all__ = ["BUFFER_CAP", "RemoteProcess"]

BUFFER_CAP = 16 * 1024 * 1024
CHUNK = 65536
POLL = 0.05
TAIL = 200


class RemoteProcess(Closing):
    """Persistent interactive process over SSH (no pty). Not thread-safe; does not own ``ssh``.

    ``timeout`` opens the command and is the default for :meth:`read_until`.
    """

    def __init__(self, ssh: SSHClient, command: str, *, timeout: float = 30.0) -> None:
        self._command = command
        self._timeout = timeout
        self._buffer = bytearray()
        self._closed = False
        self._watch = ChannelWatch(ssh.open_channel(command, timeout=timeout))
        self._channel = self._watch.channel

    @property
    def channel(self) -> paramiko.Channel:
        """The underlying paramiko channel."""
        return self._channel

    @property
    def alive(self) -> bool:
        """True while not closed locally, the channel is open and no exit status arrived."""
        channel = self._channel
        return not self._closed and not channel.closed and not channel.exit_status_ready()

    def send_line(self, line: str) -> None:
        """Send ``line`` plus a newline, UTF-8 encoded."""
        self._channel.sendall((line + "\n").encode("utf-8"))

    def send_bytes(self, data: bytes) -> None:
        """Send raw bytes."""
        self._channel.sendall(data)

    def _drain_stderr(self) -> None:
        while self._channel.recv_stderr_ready():
            self._channel.recv_stderr(CHUNK)

    def _ended(self) -> bool:
        """True once no more output will come (end of file, or closed).

        Check it before draining the buffers, so that output which arrived before the end is
        in them. The exit status alone is no end: the server may send it while output still
        waits for window space.
        """
        return self._channel.eof_received or self._channel.closed

    def _tail(self) -> bytes:
        return bytes(self._buffer[-TAIL:])

    def _receive(self, marker: bytes | None) -> bool:
        """Move pending stdout into the buffer; False on end of file."""
        data = self._channel.recv(CHUNK)
        if not data:
            return False
        self._buffer += data
        if len(self._buffer) > BUFFER_CAP:
            what = f" waiting for marker {marker!r}" if marker is not None else ""
            raise SSHError(f"Buffer exceeded {BUFFER_CAP} bytes{what}")
        return True

    def read_until(self, marker: bytes, timeout: float | None = None) -> bytes:
        """Return the bytes before the first ``marker``; the marker is consumed.

        Raises SSHTimeoutError when the marker does not arrive in time, SSHError when the
        channel closes or the process exits first.
        """
        if not marker:
            raise ValueError("marker must be non-empty bytes")
        limit = self._timeout if timeout is None else timeout
        deadline = Deadline.after(limit)
        while True:
            index = self._buffer.find(marker)
            if index >= 0:
                result = bytes(self._buffer[:index])
                del self._buffer[: index + len(marker)]
                return result
            remaining = deadline.remaining()
            if remaining <= 0:
                raise SSHTimeoutError(
                    f"Timed out waiting for marker {marker!r} after {limit}s "
                    f"(buffer tail: {self._tail()!r})"
                )
            ended = self._ended()
            self._drain_stderr()
            if self._channel.recv_ready():
                if not self._receive(marker):
                    raise SSHError(f"Channel closed while waiting for marker {marker!r}")
                continue
            if ended:
                raise SSHError(
                    f"Process exited while waiting for marker {marker!r} "
                    f"(buffer tail: {self._tail()!r})"
                )
            self._watch.wait(min(POLL, remaining))

    def read_for(self, seconds: float) -> bytes:
        """Collect output for ``seconds`` (less if the process ends) and return the buffer."""
        deadline = Deadline.after(seconds)
        while True:
            ended = self._ended()
            self._drain_stderr()
            if self._channel.recv_ready():
                if not self._receive(None):
                    break
                continue
            if ended:
                break
            remaining = deadline.remaining()
            if remaining <= 0:
                break
            self._watch.wait(min(POLL, remaining))
        result = bytes(self._buffer)
        self._buffer.clear()
        return result

    def close(self) -> None:
        """Close the channel (idempotent; errors are swallowed)."""
        if self._closed:
            return
        self._closed = True
        try:
            self._watch.close()
        except Exception:
            pass

    def __repr__(self) -> str:
        return f"RemoteProcess({'alive' if self.alive else 'closed'})"
