"""SSHHop: one link of an SSH chain, and normalisation of user-given hop specs."""

from __future__ import annotations

import dataclasses
import getpass
from typing import Any

from pacsys.backends.params import check_host, check_port
from pacsys.errors import AuthenticationError

__all__ = ["AUTH_METHODS", "HopSpec", "SSHHop", "default_principal", "normalize_hops"]

AUTH_METHODS = ("gssapi", "key", "password")
KERBEROS_REALM = "FNAL.GOV"


@dataclasses.dataclass(frozen=True)
class SSHHop:
    """Configuration for a single SSH hop (host, port, login and how to authenticate).

    ``password`` is excluded from ``repr`` so it never reaches logs or tracebacks.
    """

    hostname: str
    port: int = 22
    username: str | None = None
    auth_method: str = "gssapi"
    key_filename: str | None = None
    password: str | None = dataclasses.field(default=None, repr=False)
    delegate_credentials: bool = True

    def __post_init__(self) -> None:
        check_host(self.hostname, "hostname")
        check_port(self.port)
        if self.auth_method not in AUTH_METHODS:
            raise ValueError(
                f"auth_method must be 'gssapi', 'key', or 'password', got '{self.auth_method}'"
            )
        if self.auth_method == "key" and not self.key_filename:
            raise ValueError("key_filename required when auth_method='key'")
        if self.auth_method == "password" and not self.password:
            raise ValueError("password required when auth_method='password'")
        if self.username is not None and (
            not isinstance(self.username, str) or not self.username.strip()
        ):
            raise ValueError("username must be a non-empty string or None")

    @property
    def effective_username(self) -> str:
        """The login name: ``username``, else the Kerberos principal's user, else the OS user."""
        if self.username:
            return self.username
        if self.auth_method == "gssapi":
            return default_principal().split("@", 1)[0]
        return getpass.getuser()


HopSpec = str | SSHHop


def normalize_hops(hops: Any) -> list[SSHHop]:
    """Turn a hostname, an SSHHop or a list of either into a non-empty list of SSHHop."""
    items = list(hops) if isinstance(hops, (list, tuple)) else [hops]
    if not items:
        raise ValueError("At least one hop is required")
    result: list[SSHHop] = []
    for item in items:
        if isinstance(item, SSHHop):
            result.append(item)
        elif isinstance(item, str):
            result.append(SSHHop(item))
        else:
            raise TypeError(f"Expected str or SSHHop, got {type(item).__name__}")
    return result


def default_principal() -> str:
    """The default credential cache's principal; it must hold a valid FNAL.GOV ticket."""
    try:
        import gssapi
    except ImportError as exc:
        raise ImportError("GSSAPI hops need the gssapi package: pip install gssapi") from exc
    try:
        credentials = gssapi.Credentials(usage="initiate")
        lifetime = credentials.lifetime
        principal = str(credentials.name)
    except gssapi.exceptions.GSSError as exc:
        raise AuthenticationError(
            f"No valid Kerberos ticket: run kinit ({exc.gen_message()})"
        ) from None
    if lifetime is not None and lifetime <= 0:
        raise AuthenticationError("Kerberos ticket has expired: run kinit")
    if not principal.endswith("@" + KERBEROS_REALM):
        raise AuthenticationError(
            f"Default Kerberos principal {principal} is not in realm {KERBEROS_REALM}: "
            "run kinit user@FNAL.GOV"
        )
    return principal
