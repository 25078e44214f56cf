"""Every use of paramiko's internals in pacsys-ssh, in one place.

paramiko's public API lacks what pacsys-ssh needs to keep a shared connection alive while
its channels come and go, to bound waits, and to authenticate with Kerberos:

* ``Transport``: never sends a channel's data or EOF after that channel's CLOSE;
* ``ChannelWatch``: waits on a channel without ``Channel.fileno()``;
* ``start_exec``: starts a command with a deadline (``exec_command`` waits without one);
* ``authenticate_gssapi``: Kerberos user authentication (paramiko 5 dropped GSS-API).

They rely on attributes paramiko does not document, read in the versions that pacsys-ssh's
dependency range allows (a test pins the installed version to it); widen that range only
after re-reading paramiko's ``transport.py``, ``channel.py``, ``buffered_pipe.py`` and
``auth_handler.py``.
"""

from __future__ import annotations

import select
import socket
import sys
import threading
from typing import Any

import paramiko
from paramiko.auth_handler import AuthHandler
from paramiko.common import (
    MSG_CHANNEL_DATA,
    MSG_CHANNEL_EOF,
    MSG_CHANNEL_EXTENDED_DATA,
    MSG_CHANNEL_REQUEST,
    MSG_USERAUTH_GSSAPI_ERROR,
    MSG_USERAUTH_GSSAPI_ERRTOK,
    MSG_USERAUTH_GSSAPI_RESPONSE,
    MSG_USERAUTH_GSSAPI_TOKEN,
    cMSG_CHANNEL_REQUEST,
    cMSG_USERAUTH_GSSAPI_MIC,
    cMSG_USERAUTH_GSSAPI_TOKEN,
    cMSG_USERAUTH_REQUEST,
)
from paramiko.message import Message

__all__ = [
    "KRB5_OID_DER",
    "ChannelWatch",
    "GSSAPIAuthFailed",
    "Transport",
    "authenticate_gssapi",
    "start_exec",
]

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
    releasing it. When the server closes a channel, the transport thread marks it closed and
    answers with CLOSE; a data or EOF message that a user thread had prepared just before
    could leave after that CLOSE, when the server has forgotten the channel (it then drops
    the whole connection) or given its number to a new channel (which would get the data).
    Here sending happens under one lock, and the data, EOF or request of a channel that is
    closed by then is dropped (the closed channel would discard it anyway). The channel is
    the ``Channel`` method's ``self`` that sends the message: paramiko's channels send
    their messages only from their own methods.
    """

    def __init__(self, sock: Any) -> None:
        super().__init__(sock)
        self._wire_lock = threading.Lock()

    def _send_user_message(self, data: Message) -> None:
        sender = sys._getframe(1).f_locals.get("self")
        with self._wire_lock:
            if (
                isinstance(sender, paramiko.Channel)
                and sender.closed
                and data.asbytes()[0] in _AFTER_CLOSE_FATAL
            ):
                return
            super()._send_user_message(data)


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


# -- exec with a deadline ----------------------------------------------------------------


def start_exec(channel: paramiko.Channel, command: str, timeout: float | None) -> bool:
    """Send an exec request and wait for the server's answer; False after ``timeout`` s.

    ``timeout`` None waits as long as it takes. A server refusal raises paramiko's own
    exception (or SSHException "Channel closed.").
    """
    message = Message()
    message.add_byte(cMSG_CHANNEL_REQUEST)
    message.add_int(channel.remote_chanid)
    message.add_string("exec")
    message.add_boolean(True)
    message.add_string(command)
    channel._event_pending()
    channel.transport._send_user_message(message)
    if not channel.event.wait(timeout):
        return False
    if channel.event_ready:
        return True
    exc = channel.transport.get_exception()
    raise exc if exc is not None else paramiko.SSHException("Channel closed.")


# -- Kerberos user authentication (RFC 4462 gssapi-with-mic, client side) ------------------
# paramiko 5 dropped its GSS-API support: this drives the exchange with python-gssapi
# (request -> mechanism chosen -> token round trips -> MIC over the session), offering only
# the Kerberos 5 mechanism.

METHOD = "gssapi-with-mic"
SERVICE = "ssh-connection"
# DER encoding of the Kerberos 5 mechanism OID 1.2.840.113554.1.2.2
KRB5_OID_DER = b"\x06\x09\x2a\x86\x48\x86\xf7\x12\x01\x02\x02"


class GSSAPIAuthFailed(paramiko.AuthenticationException):
    """The GSS-API exchange failed locally or the server reported a GSS error."""


class _GSSAuthHandler(AuthHandler):
    """paramiko AuthHandler that adds the client half of ``gssapi-with-mic``."""

    def __init__(self, transport: paramiko.Transport) -> None:
        super().__init__(transport)
        self._gss_host = ""
        self._delegate = True
        self._context: Any = None

    def start(self, username: str, gss_host: str, delegate: bool, event: threading.Event) -> None:
        with self.transport.lock:
            self.auth_event = event
            self.auth_method = METHOD
            self.username = username
            self._gss_host = gss_host
            self._delegate = delegate
            self._request_auth()

    def _fail(self, message: str) -> None:
        """Record a GSS failure for wait_for_response and wake the waiting caller."""
        self.transport.saved_exception = GSSAPIAuthFailed(message)
        self.authenticated = False
        if self.auth_event is not None:
            self.auth_event.set()

    def _parse_service_accept(self, m: Message) -> None:
        if self.auth_method != METHOD:
            super()._parse_service_accept(m)
            return
        if m.get_text() != "ssh-userauth":
            return
        request = Message()
        request.add_byte(cMSG_USERAUTH_REQUEST)
        request.add_string(self.username)
        request.add_string(SERVICE)
        request.add_string(METHOD)
        request.add_int(1)
        request.add_string(KRB5_OID_DER)
        self.transport._send_message(request)

    def _send_token(self, token: bytes | None) -> None:
        if token:
            reply = Message()
            reply.add_byte(cMSG_USERAUTH_GSSAPI_TOKEN)
            reply.add_string(token)
            self.transport._send_message(reply)

    def _send_mic_if_complete(self) -> None:
        if not self._context.complete:
            return
        data = Message()
        data.add_string(self.transport.session_id)
        data.add_byte(cMSG_USERAUTH_REQUEST)
        data.add_string(self.username)
        data.add_string(SERVICE)
        data.add_string(METHOD)
        mic = self._context.get_signature(data.asbytes())
        reply = Message()
        reply.add_byte(cMSG_USERAUTH_GSSAPI_MIC)
        reply.add_string(mic)
        self.transport._send_message(reply)

    def _parse_gssapi_response(self, m: Message) -> None:
        import gssapi

        if m.get_binary() != KRB5_OID_DER:
            self._fail("server selected a GSS-API mechanism other than Kerberos 5")
            return
        flags = gssapi.RequirementFlag.mutual_authentication | gssapi.RequirementFlag.integrity
        if self._delegate:
            flags |= gssapi.RequirementFlag.delegate_to_peer
        try:
            target = gssapi.Name(f"host@{self._gss_host}", gssapi.NameType.hostbased_service)
            self._context = gssapi.SecurityContext(
                name=target, usage="initiate", mech=gssapi.MechType.kerberos, flags=flags
            )
            self._send_token(self._context.step(None))
            self._send_mic_if_complete()
        except gssapi.exceptions.GSSError as exc:
            self._fail(exc.gen_message())

    def _parse_gssapi_token(self, m: Message) -> None:
        import gssapi

        if self._context is None:
            self._fail("server sent a GSS-API token before choosing a mechanism")
            return
        try:
            self._send_token(self._context.step(m.get_binary()))
            self._send_mic_if_complete()
        except gssapi.exceptions.GSSError as exc:
            self._fail(exc.gen_message())

    def _parse_gssapi_errtok(self, m: Message) -> None:
        import gssapi

        try:
            if self._context is not None:
                self._context.step(m.get_binary())
        except gssapi.exceptions.GSSError as exc:
            self.transport.saved_exception = GSSAPIAuthFailed(exc.gen_message())

    def _parse_gssapi_error(self, m: Message) -> None:
        m.get_int()  # major status
        m.get_int()  # minor status
        message = m.get_text()
        self.transport.saved_exception = GSSAPIAuthFailed(f"server GSS-API error: {message}")

    @property
    def _client_handler_table(self) -> dict[int, Any]:
        table = dict(super()._client_handler_table)
        if self.auth_method == METHOD:
            table[MSG_USERAUTH_GSSAPI_RESPONSE] = self._parse_gssapi_response
            table[MSG_USERAUTH_GSSAPI_TOKEN] = self._parse_gssapi_token
            table[MSG_USERAUTH_GSSAPI_ERRTOK] = self._parse_gssapi_errtok
            table[MSG_USERAUTH_GSSAPI_ERROR] = self._parse_gssapi_error
        return table


def authenticate_gssapi(
    transport: paramiko.Transport, username: str, gss_host: str, delegate: bool
) -> None:
    """Authenticate ``username`` on ``transport`` with Kerberos; raises on refusal.

    Raises :class:`GSSAPIAuthFailed` for GSS errors and paramiko's authentication
    exceptions when the server refuses the method or the user.
    """
    if not transport.is_active() or not transport.initial_kex_done:
        raise paramiko.SSHException("No existing session")
    event = threading.Event()
    handler = _GSSAuthHandler(transport)
    transport.auth_handler = handler
    handler.start(username, gss_host, delegate, event)
    try:
        handler.wait_for_response(event)
    except paramiko.BadAuthenticationType as exc:
        raise paramiko.BadAuthenticationType(
            f"server does not offer {METHOD}", exc.allowed_types
        ) from None
