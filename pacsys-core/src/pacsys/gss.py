"""Kerberos GSS-API security contexts shared by the DPM, DMQ and SSH transports.

``ClientContext`` (initiator, from a :class:`~pacsys.auth.KerberosAuth`) and ``ServerContext``
(acceptor, from a keytab) exchange context tokens and MICs. Every GSS failure becomes
:class:`~pacsys.errors.AuthenticationError` with the library's reason. gssapi is imported
inside functions only, so ``import pacsys`` never loads it. Each context is guarded by a
lock, so one context may be used from several threads (MIC sequence numbers stay ordered).
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from pacsys.errors import AuthenticationError

if TYPE_CHECKING:
    from pathlib import Path

    import gssapi

    from pacsys.auth import KerberosAuth

__all__ = ["ClientContext", "ServerContext", "krb5_principal"]

log = logging.getLogger("pacsys.gss")


def _gssapi() -> Any:
    try:
        import gssapi
    except ImportError as exc:
        from pacsys.auth import missing_gssapi

        raise missing_gssapi() from exc
    return gssapi


def _reason(exc: Exception) -> str:
    """The GSS library's own description of a failure (major and minor status)."""
    gen = getattr(exc, "gen_message", None)
    return gen() if callable(gen) else str(exc)


def _check_bytes(value: object, what: str) -> bytes:
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise TypeError(f"{what} must be bytes, got {type(value).__name__}")
    return bytes(value)


def krb5_principal(name: str) -> gssapi.Name:
    """``name`` as a GSS name of type KRB5_NT_PRINCIPAL_NAME (OID 1.2.840.113554.1.2.2.1).

    Without ``@REALM`` the default realm of the krb5.conf in use applies.
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"Kerberos principal name must be a non-empty string, got {name!r}")
    gssapi = _gssapi()
    try:
        return gssapi.Name(name, gssapi.NameType.kerberos_principal)
    except gssapi.exceptions.GSSError as exc:
        raise ValueError(f"Not a valid Kerberos principal name {name!r}: {_reason(exc)}") from None


class _Context:
    """What initiator and acceptor share: the wrapped context, its lock, MICs."""

    _ctx: Any
    _lock: threading.Lock

    @property
    def complete(self) -> bool:
        """True once the context is established (MICs may be made and checked)."""
        try:
            return bool(self._ctx.complete)
        except _gssapi().exceptions.GSSError:  # a failed step: never established
            return False

    def get_mic(self, message: bytes) -> bytes:
        """A MIC (GSS_GetMIC, default QOP) over ``message``."""
        message = _check_bytes(message, "message")
        gssapi = _gssapi()
        with self._lock:
            self._require_complete("get_mic")
            try:
                return bytes(self._ctx.get_signature(message))
            except gssapi.exceptions.GSSError as exc:
                raise AuthenticationError(f"GSS get_mic failed: {_reason(exc)}") from None

    def verify_mic(self, message: bytes, mic: bytes) -> None:
        """Check ``mic`` over ``message``; AuthenticationError when it does not verify.

        With replay/sequence detection on, a repeated or out-of-order MIC is also refused.
        """
        message = _check_bytes(message, "message")
        mic = _check_bytes(mic, "mic")
        gssapi = _gssapi()
        with self._lock:
            self._require_complete("verify_mic")
            try:
                self._ctx.verify_signature(message, mic)
            except gssapi.exceptions.GSSError as exc:
                raise AuthenticationError(f"MIC verification failed: {_reason(exc)}") from None

    def _step(self, token: bytes | None, operation: str) -> tuple[bytes, bool]:
        """One context-establishment round: the token for the peer (b"" if none), and
        whether the context is now established."""
        gssapi = _gssapi()
        with self._lock:
            if self._ctx.complete:
                raise AuthenticationError("GSS context is already established")
            try:
                output = self._ctx.step(token)
                # gssapi may keep a failure to answer it with an error token (mutual
                # authentication) and raise it on the next use: reading ``complete`` does.
                established = bool(self._ctx.complete)
            except gssapi.exceptions.GSSError as exc:
                raise AuthenticationError(f"{operation} failed: {_reason(exc)}") from None
        return (bytes(output) if output else b""), established

    def _require_complete(self, operation: str) -> None:
        if not self.complete:
            raise AuthenticationError(f"GSS {operation} needs an established context")


class ClientContext(_Context):
    """Initiator side: a Kerberos context to ``target`` with the user's credentials.

    Requested flags: integrity, replay and out-of-sequence detection (what the ACNET
    services expect), plus mutual authentication when ``mutual`` is true.
    """

    def __init__(self, target: str, auth: KerberosAuth | None = None, *, mutual: bool = False):
        from pacsys.auth import KerberosAuth

        if auth is None:
            auth = KerberosAuth()
        if not isinstance(auth, KerberosAuth):
            raise TypeError(f"ClientContext needs KerberosAuth, got {type(auth).__name__}")
        self.target = target
        self._lock = threading.Lock()
        name = krb5_principal(target)
        credentials = auth.credentials  # AuthenticationError if missing or expired
        gssapi = _gssapi()
        flags = (
            gssapi.RequirementFlag.integrity
            | gssapi.RequirementFlag.replay_detection
            | gssapi.RequirementFlag.out_of_sequence_detection
        )
        if mutual:
            flags |= gssapi.RequirementFlag.mutual_authentication
        try:
            self._ctx = gssapi.SecurityContext(
                name=name,
                creds=credentials,
                usage="initiate",
                mech=gssapi.MechType.kerberos,
                flags=flags,
            )
        except gssapi.exceptions.GSSError as exc:
            raise AuthenticationError(
                f"Failed to create GSS context for {target}: {_reason(exc)}"
            ) from None

    def __repr__(self) -> str:
        return f"ClientContext(target={self.target!r}, complete={self.complete})"

    def step(self, token: bytes | None = None) -> bytes:
        """One init_sec_context round: the output token for the server (b"" if none)."""
        if token is not None:
            token = _check_bytes(token, "token")
        output, established = self._step(token, f"GSS init_sec_context for {self.target}")
        if established:
            log.debug("GSS context to %s established", self.target)
        return output


class ServerContext(_Context):
    """Acceptor side: accepts initiators' tokens with keys from ``keytab``.

    ``principal`` restricts which service key is used; None accepts any key in the keytab.
    """

    def __init__(self, keytab: str | Path, principal: str | None = None) -> None:
        from pathlib import Path  # the acceptor only: a client's write skips pathlib

        path = Path(keytab)
        if not path.is_file():
            raise FileNotFoundError(f"Kerberos keytab not found: {path}")
        self.keytab = path
        self.principal = principal
        self._lock = threading.Lock()
        name = krb5_principal(principal) if principal is not None else None
        gssapi = _gssapi()
        try:
            credentials = gssapi.Credentials(name=name, usage="accept", store={"keytab": str(path)})
            self._ctx = gssapi.SecurityContext(creds=credentials, usage="accept")
        except gssapi.exceptions.GSSError as exc:
            who = f" for {principal}" if principal else ""
            raise AuthenticationError(
                f"Cannot use keytab {path}{who} as acceptor: {_reason(exc)}"
            ) from None

    def __repr__(self) -> str:
        return (
            f"ServerContext(keytab={str(self.keytab)!r}, principal={self.principal!r}, "
            f"complete={self.complete})"
        )

    def step(self, token: bytes) -> bytes:
        """One accept_sec_context round: the reply token for the client (b"" if none)."""
        token = _check_bytes(token, "token")
        if not token:
            raise AuthenticationError("GSS accept_sec_context: empty token from the client")
        output, established = self._step(token, "GSS accept_sec_context")
        if established:
            log.debug("GSS context from %s accepted", self.initiator)
        return output

    @property
    def initiator(self) -> str:
        """The authenticated client principal, e.g. ``"testuser@FNAL.GOV"``."""
        if not self.complete:
            raise AuthenticationError("GSS context is not established: no initiator yet")
        return str(self._ctx.initiator_name)
