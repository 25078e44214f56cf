"""paramiko internals that keep a shared SSH connection alive while its channels come and go.

* ``Transport``: never sends a channel's data or EOF after that channel's CLOSE;
* ``ChannelWatch``: waits on a channel without ``Channel.fileno()``.

Both rely on attributes paramiko does not document (``transport.py``, ``channel.py``,
``buffered_pipe.py``).
"""

from __future__ import annotations

import select
import socket
import threading
from typing import Any

import paramiko
from paramiko.common import (
    MSG_CHANNEL_DATA,
    MSG_CHANNEL_EOF,
    MSG_CHANNEL_EXTENDED_DATA,
    MSG_CHANNEL_REQUEST,
)
from paramiko.message import Message

__all__ = ["ChannelWatch", "Transport"]

# -- no channel message after the channel's CLOSE ------------------------------------------

# Messages that an SSH server refuses for a channel it has forgotten, by dropping the whole
# connection (OpenSSH: "ieof packet referred to nonexistent channel 3").
_AFTER_CLOSE_FATAL = {
    MSG_CHANNEL_DATA,
    MSG_CHANNEL_EXTENDED_DATA,
    MSG_CHANNEL_EOF,
    MSG_CHANNEL_REQUEST,
}


class Transport(paramiko.Transport):
    """A paramiko Transport that never sends a channel's data or EOF after its CLOSE.

    paramiko decides what a channel sends under the channel's lock but sends it after
    releasing it. When the server closes a channel, the transport thread answers with CLOSE,
    and a data or EOF message that a user thread had prepared just before can leave after
    that CLOSE; the server has then forgotten the channel and drops the whole connection.
    Here deciding and sending happen under one lock, and a channel's data, EOF or request
    prepared after it was closed is dropped (the closed channel would discard it anyway).
    """

    def __init__(self, sock: Any) -> None:
        super().__init__(sock)
        self._wire_lock = threading.Lock()

    def _send_user_message(self, data: Message) -> None:
        head = data.asbytes()[:5]
        kind, channel_id = head[0], int.from_bytes(head[1:5], "big")
        with self._wire_lock:
            if kind in _AFTER_CLOSE_FATAL and not self._is_open(channel_id):
                return
            super()._send_user_message(data)

    def _is_open(self, remote_id: int) -> bool:
        """Is a channel with this server-side id open (not closed by either side)?"""
        return any(
            channel.remote_chanid == remote_id and not channel.closed
            for channel in self._channels.values()
        )


# -- waiting on a channel ----------------------------------------------------------------


class ChannelWatch:
    """A channel plus a descriptor that turns readable when it has stdout, stderr or EOF.

    Why not ``Channel.fileno()``: paramiko's ``Channel.close()`` closes the pipe behind it
    while the transport thread may be writing its wake-up byte for newly arrived data. That
    write then fails (EBADF or EPIPE, which the transport thread takes for a broken socket:
    "Socket exception: Bad file descriptor", and the whole connection dies) or lands in an
    unrelated descriptor that reused the number. Here the transport's wake-ups and ``close``
    exclude each other under a lock, so closing one channel never touches the connection.

    ``wait`` (or a selector on ``fileno()`` followed by ``reset()``) wakes on every change;
    re-check the channel after it and before waiting again.
    """

    def __init__(self, channel: paramiko.Channel) -> None:
        self.channel = channel
        self._lock = threading.Lock()
        try:
            self._reader, self._writer = socket.socketpair()
        except BaseException:
            channel.close()
            raise
        self._reader.setblocking(False)
        self._signalled = False
        self._closed = False
        # paramiko calls set() on new data, EOF and close, and at once if data is waiting.
        channel.in_buffer.set_event(self)
        channel.in_stderr_buffer.set_event(self)

    def set(self) -> None:
        """Called by paramiko (transport thread): something changed on the channel."""
        with self._lock:
            if self._signalled or self._closed:
                return
            self._signalled = True
            self._writer.send(b"!")

    def clear(self) -> None:
        """Called by paramiko when a buffer runs empty: ignored, ``reset`` clears instead."""

    def fileno(self) -> int:
        return self._reader.fileno()

    def reset(self) -> None:
        """Consume the wake-up (after a selector reported ``fileno()`` readable)."""
        with self._lock:
            if self._signalled and not self._closed:
                self._reader.recv(1)
                self._signalled = False

    def wait(self, timeout: float) -> None:
        """Block until something changes on the channel or ``timeout`` seconds pass."""
        if timeout > 0 and not self._closed:
            select.select([self._reader], [], [], timeout)
        self.reset()

    def close(self) -> None:
        """Close the channel, then the wake-up descriptors (idempotent)."""
        try:
            self.channel.close()
        finally:
            with self._lock:
                if not self._closed:
                    self._closed = True
                    self._reader.close()
                    self._writer.close()
