"""Client side of RFC 4462 ``gssapi-with-mic`` user authentication on a paramiko Transport.

paramiko 5 dropped its GSS-API support, so this module drives the exchange itself with
python-gssapi: request -> mechanism chosen -> token round trips -> MIC over the session.
Only the Kerberos 5 mechanism is offered.
"""

from __future__ import annotations

import threading
from typing import Any

import paramiko
from paramiko.auth_handler import AuthHandler
from paramiko.common import (
    MSG_USERAUTH_GSSAPI_ERROR,
    MSG_USERAUTH_GSSAPI_ERRTOK,
    MSG_USERAUTH_GSSAPI_RESPONSE,
    MSG_USERAUTH_GSSAPI_TOKEN,
    cMSG_USERAUTH_GSSAPI_MIC,
    cMSG_USERAUTH_GSSAPI_TOKEN,
    cMSG_USERAUTH_REQUEST,
)
from paramiko.message import Message

__all__ = ["KRB5_OID_DER", "GSSAPIAuthFailed", "authenticate_gssapi"]

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
        flags = [gssapi.RequirementFlag.mutual_authentication, gssapi.RequirementFlag.integrity]
        if self._delegate:
            flags.append(gssapi.RequirementFlag.delegate_to_peer)
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
