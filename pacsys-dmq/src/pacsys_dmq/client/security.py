"""Per-job Kerberos security of the DMQ client: token, MICs, host address.

Every read, subscription and write session gets a fresh GSS context: one
``init_sec_context`` step without mutual authentication, whose output is the INIT's
``gss-token`` header; the same context then signs the job's messages.
"""

from __future__ import annotations

import socket
from typing import Any

from pacsys.auth import KerberosAuth
from pacsys.errors import AuthenticationError
from pacsys_dmq.codec.signing import select_host_address

__all__ = [
    "DEFAULT_SERVICE",
    "REQUIRED_REALM",
    "JobSigner",
    "check_credentials",
    "local_host_address",
    "new_context",
]

DEFAULT_SERVICE = "daeset/bd/dmq.fnal.gov@FNAL.GOV"
REQUIRED_REALM = "FNAL.GOV"


def local_host_address() -> bytes:
    """The 4 ``host-address`` bytes: our outbound IPv4 address if at Fermilab, else fixed.

    Connecting a UDP socket only picks a route; no packet is sent.
    """
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("8.8.8.8", 80))
            address = probe.getsockname()[0]
    except OSError:
        address = None
    return select_host_address(address)


def check_credentials(auth: KerberosAuth) -> str:
    """The principal of ``auth`` if it can be used for DMQ; else AuthenticationError."""
    auth.credentials  # noqa: B018 - re-acquires, raising AuthenticationError when expired
    principal = auth.principal
    if principal.count("@") != 1:
        raise AuthenticationError(f"No valid Kerberos credentials: bad principal {principal!r}")
    if principal.rpartition("@")[2] != REQUIRED_REALM:
        raise AuthenticationError(f"Kerberos principal {principal} is not from FNAL.GOV realm")
    return principal


def new_context(auth: KerberosAuth, service: str) -> Any:
    """A fresh initiator context for ``service`` (AuthenticationError if it cannot be made)."""
    from pacsys.gss import ClientContext

    check_credentials(auth)
    try:
        return ClientContext(service, auth, mutual=False)
    except AuthenticationError as exc:
        raise AuthenticationError(f"Failed to create GSS context: {exc.message}") from None
    except ValueError as exc:
        raise AuthenticationError(f"Failed to create GSS context: {exc}") from None


class JobSigner:
    """A job's established context: the INIT token and a MIC for each signed message."""

    def __init__(self, context: Any) -> None:
        self._context = context
        self.token = context.step()

    def sign(self, signing_body: bytes) -> bytes:
        return self._context.get_mic(signing_body)

    def __repr__(self) -> str:
        return f"JobSigner({self._context!r})"
