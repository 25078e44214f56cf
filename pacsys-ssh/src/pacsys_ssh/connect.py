"""Building (and tearing down) a chain of paramiko transports through jump hosts.

Hop 0 is a TCP socket; each later hop runs over a ``direct-tcpip`` channel of the previous
transport. Failures clean up everything built so far and surface as SSHConnectionError.

Host keys: with a ``known_hosts`` file every hop's key must be listed there
(``host`` for port 22, ``[host]:port`` otherwise) and match, else the hop fails with
SSHConnectionError("Host key verification failed: ..."). Without one, keys are accepted
unverified (as the reference does) and their fingerprints are logged at DEBUG level.
"""

from __future__ import annotations

import base64
import dataclasses
import getpass
import hashlib
import logging
import os
import socket
from pathlib import Path
from typing import Any

import paramiko

from pacsys.errors import AuthenticationError
from pacsys_ssh._paramiko import GSSAPIAuthFailed, Transport, authenticate_gssapi
from pacsys_ssh.errors import SSHConnectionError, SSHError
from pacsys_ssh.hops import SSHHop, default_principal

__all__ = ["KEEPALIVE_INTERVAL", "Chain", "connect_chain", "fingerprint", "load_private_key"]

logger = logging.getLogger("pacsys_ssh.connect")

KEEPALIVE_INTERVAL = 30


@dataclasses.dataclass
class Chain:
    """The transports of a connected chain (oldest first) and the channels joining them."""

    transports: list[paramiko.Transport] = dataclasses.field(default_factory=list)
    channels: list[paramiko.Channel] = dataclasses.field(default_factory=list)

    @property
    def final(self) -> paramiko.Transport:
        return self.transports[-1]

    def close(self) -> None:
        """Close every transport newest-first, then the intermediate channels."""
        for transport in reversed(self.transports):
            _shutdown_stream(transport)
            _quiet_close(transport)
        for channel in reversed(self.channels):
            _quiet_close(channel)
        for transport in reversed(self.transports):
            if transport.is_alive():
                transport.join(timeout=5.0)
        self.transports.clear()
        self.channels.clear()


def _shutdown_stream(transport: paramiko.Transport) -> None:
    """End the transport's byte stream first so its thread exits on EOF, not on a closed fd."""
    stream = transport.sock
    try:
        if isinstance(stream, socket.socket):
            stream.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _quiet_close(obj: Any) -> None:
    try:
        obj.close()
    except Exception:  # closing is best effort
        logger.debug("error while closing %r", obj, exc_info=True)


def fingerprint(key: paramiko.PKey) -> str:
    """OpenSSH-style SHA256 fingerprint of a public key."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")


def _known_hosts_name(hop: SSHHop) -> str:
    return hop.hostname if hop.port == 22 else f"[{hop.hostname}]:{hop.port}"


def _expected_keys(known_hosts: paramiko.HostKeys | None, hop: SSHHop) -> dict[str, Any] | None:
    if known_hosts is None:
        return None
    entry = known_hosts.lookup(_known_hosts_name(hop))
    if entry is None:
        raise SSHConnectionError(
            f"Host key verification failed: {_known_hosts_name(hop)} is not in known_hosts", hop
        )
    return dict(entry)


def _verify_host_key(transport: paramiko.Transport, hop: SSHHop, expected: Any) -> None:
    key = transport.get_remote_server_key()
    if expected is None:
        logger.debug(
            "accepting unverified host key %s %s for %s",
            key.get_name(),
            fingerprint(key),
            _known_hosts_name(hop),
        )
        return
    known = expected.get(key.get_name())
    if known is None or known.asbytes() != key.asbytes():
        raise SSHConnectionError(
            f"Host key verification failed: {key.get_name()} key {fingerprint(key)} of "
            f"{_known_hosts_name(hop)} does not match known_hosts",
            hop,
        )


def _prefer_known_key_types(transport: paramiko.Transport, expected: dict[str, Any]) -> None:
    """Negotiate a host key algorithm whose key known_hosts actually lists."""
    options = transport.get_security_options()
    wanted = [
        name
        for name in options.key_types
        if name in expected or (name.startswith("rsa-sha2-") and "ssh-rsa" in expected)
    ]
    if wanted:
        options.key_types = wanted


def load_private_key(hop: SSHHop) -> paramiko.PKey:
    """Load an unencrypted RSA, ECDSA or Ed25519 private key named by ``hop.key_filename``."""
    path = Path(os.path.expanduser(str(hop.key_filename)))
    if not path.is_file():
        raise SSHConnectionError(f"Key file not found: {path}", hop)
    try:
        return paramiko.PKey.from_path(path)
    except OSError as exc:
        raise SSHConnectionError(f"Cannot read key file {path}: {exc}", hop) from None
    except paramiko.PasswordRequiredException:
        raise SSHConnectionError(
            f"Key file {path} is encrypted; passphrase-protected keys are not supported", hop
        ) from None
    except paramiko.UnknownKeyType:
        raise SSHConnectionError(
            f"Unsupported key type in {path} (expected RSA, ECDSA or Ed25519)", hop
        ) from None
    except (paramiko.SSHException, ValueError, TypeError) as exc:
        if "encrypt" in str(exc).lower() or "password" in str(exc).lower():
            raise SSHConnectionError(
                f"Key file {path} is encrypted; passphrase-protected keys are not supported",
                hop,
            ) from None
        raise SSHConnectionError(f"Invalid private key file {path}: {exc}", hop) from None


def _username(hop: SSHHop, auth: Any) -> str:
    if hop.username:
        return hop.username
    if hop.auth_method != "gssapi":
        return getpass.getuser()
    principal = getattr(auth, "principal", None) if auth is not None else None
    try:
        principal = principal or default_principal()
    except AuthenticationError as exc:
        raise SSHConnectionError(f"GSSAPI authentication failed: {exc}", hop) from None
    return str(principal).split("@", 1)[0]


def _authenticate(transport: paramiko.Transport, hop: SSHHop, auth: Any) -> None:
    user = _username(hop, auth)
    if hop.auth_method == "password":
        transport.auth_password(user, hop.password or "", fallback=False)
    elif hop.auth_method == "key":
        transport.auth_publickey(user, load_private_key(hop))
    else:
        try:
            authenticate_gssapi(transport, user, hop.hostname, hop.delegate_credentials)
        except GSSAPIAuthFailed as exc:
            raise SSHConnectionError(f"GSSAPI authentication failed: {exc}", hop) from None
        except paramiko.BadAuthenticationType:
            raise
        except paramiko.AuthenticationException as exc:
            raise SSHConnectionError(f"GSSAPI authentication failed: {exc}", hop) from None


def _open_hop(
    chain: Chain,
    index: int,
    hop: SSHHop,
    auth: Any,
    connect_timeout: float,
    known_hosts: paramiko.HostKeys | None,
) -> None:
    """Build, verify and authenticate the transport for one hop and append it to ``chain``."""
    expected = _expected_keys(known_hosts, hop)
    if index == 0:
        stream: Any = socket.create_connection((hop.hostname, hop.port), timeout=connect_timeout)
    else:
        stream = chain.final.open_channel(
            "direct-tcpip", (hop.hostname, hop.port), ("127.0.0.1", 0), timeout=connect_timeout
        )
        chain.channels.append(stream)
    try:
        transport = Transport(stream)
    except BaseException:
        stream.close()
        raise
    transport.name = f"pacsys-ssh-transport-{hop.hostname}:{hop.port}"
    transport.daemon = True
    chain.transports.append(transport)
    if expected:
        _prefer_known_key_types(transport, expected)
    transport.start_client(timeout=connect_timeout)
    _verify_host_key(transport, hop, expected)
    _authenticate(transport, hop, auth)
    transport.set_keepalive(KEEPALIVE_INTERVAL)
    logger.debug("connected hop %d %s:%d", index, hop.hostname, hop.port)


def connect_chain(
    hops: list[SSHHop],
    auth: Any,
    connect_timeout: float,
    known_hosts: paramiko.HostKeys | None = None,
) -> Chain:
    """Connect every hop in order; on failure close all that was built and raise."""
    chain = Chain()
    for index, hop in enumerate(hops):
        try:
            _open_hop(chain, index, hop, auth, connect_timeout, known_hosts)
        except BaseException as exc:
            chain.close()
            if isinstance(exc, SSHError):
                raise
            if isinstance(exc, paramiko.AuthenticationException):
                raise SSHConnectionError(f"Authentication failed: {_describe(exc)}", hop) from exc
            if isinstance(exc, (paramiko.SSHException, OSError, EOFError)):
                raise SSHConnectionError(f"Connection failed: {_describe(exc)}", hop) from exc
            raise
    return chain


def _describe(exc: BaseException) -> str:
    text = str(exc)
    if isinstance(exc, paramiko.BadAuthenticationType):
        allowed = ", ".join(exc.allowed_types)
        text = f"{exc.args[0] if exc.args else 'Bad authentication type'} (allowed: {allowed})"
    elif isinstance(exc, paramiko.ChannelException):
        text = f"channel open refused: {exc.text} (code {exc.code})"
    return text or type(exc).__name__
