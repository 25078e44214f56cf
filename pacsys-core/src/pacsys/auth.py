"""Credentials for writes: Kerberos (GSS-API) and JWT bearer tokens.

Secrets never appear in ``repr``, ``str``, logs or exception messages.
"""

from __future__ import annotations

import abc
import base64
import binascii
import dataclasses
import json
import os
from typing import Any, ClassVar

from pacsys.errors import AuthenticationError, MissingPackageError

__all__ = ["Auth", "JWTAuth", "KerberosAuth", "jwt_from_environment", "missing_gssapi"]


def missing_gssapi(feature: str = "Kerberos authentication") -> MissingPackageError:
    """The error for Kerberos without gssapi, naming the extra of an installed distribution.

    pacsys-dpm and pacsys-core both have a ``kerberos`` extra; DPM is where a new user
    first needs Kerberos, so its extra is named when pacsys-dpm is installed.
    """
    from pacsys._provided import distribution_version

    dist = "pacsys-dpm" if distribution_version("pacsys-dpm") is not None else "pacsys-core"
    return MissingPackageError("gssapi", feature, f"'{dist}[kerberos]'")


class Auth(abc.ABC):
    """Base of authentication methods; ``kind`` matches ``BackendSpec.auth_kinds``."""

    kind: ClassVar[str]

    @property
    def auth_type(self) -> str:
        """The method's name (``"kerberos"``, ``"jwt"``): ``kind``, as pacsys 0.3.0 calls it."""
        return self.kind

    @property
    @abc.abstractmethod
    def principal(self) -> str:
        """Who these credentials identify."""


@dataclasses.dataclass(frozen=True)
class JWTAuth(Auth):
    """A JWT bearer token, sent as-is; the server validates it. Never shown in ``repr``."""

    token: str = dataclasses.field(repr=False)
    kind: ClassVar[str] = "jwt"

    def __post_init__(self) -> None:
        if not isinstance(self.token, str) or not self.token.strip():
            raise ValueError("JWT token must be a non-empty string")

    def __repr__(self) -> str:
        return "JWTAuth(token=<redacted>)"

    __str__ = __repr__

    @classmethod
    def from_env(cls, var: str = "PACSYS_JWT_TOKEN") -> JWTAuth | None:
        """JWTAuth from an environment variable, or None when it is unset or empty."""
        token = os.environ.get(var, "").strip()
        return cls(token=token) if token else None

    @property
    def claims(self) -> dict[str, Any]:
        """The token's payload, decoded without verification."""
        parts = self.token.split(".")
        if len(parts) != 3:
            raise ValueError("Invalid JWT format: expected three dot-separated parts")
        payload = parts[1] + "=" * (-len(parts[1]) % 4)
        try:
            claims = json.loads(base64.urlsafe_b64decode(payload))
        except (binascii.Error, ValueError, UnicodeDecodeError):
            raise ValueError("Invalid JWT format: payload is not base64url JSON") from None
        if not isinstance(claims, dict):
            raise ValueError("Invalid JWT format: payload is not a JSON object")
        return claims

    @property
    def principal(self) -> str:
        """The token's ``sub`` claim."""
        subject = self.claims.get("sub")
        if not isinstance(subject, str):
            raise ValueError("Invalid JWT: no 'sub' claim")
        return subject


def jwt_from_environment() -> JWTAuth:
    """JWTAuth from ``PACSYS_JWT_TOKEN`` (what ``configure(auth="jwt")`` uses)."""
    auth = JWTAuth.from_env()
    if auth is None:
        raise AuthenticationError("PACSYS_JWT_TOKEN is not set; pass JWTAuth(token=...) instead")
    return auth


@dataclasses.dataclass(frozen=True)
class KerberosAuth(Auth):
    """Kerberos credentials from the system ticket cache (run ``kinit`` first).

    ``name`` picks a principal (``"user@FNAL.GOV"``), else the cache's default one.
    gssapi is imported only here, and the credentials are checked at construction so a
    missing or expired ticket fails fast with :class:`AuthenticationError`. Equality,
    ``repr`` and pickling use ``name`` only; an unpickled copy acquires its own
    credentials.
    """

    name: str | None = None
    kind: ClassVar[str] = "kerberos"

    def __post_init__(self) -> None:
        if self.name is not None and (not isinstance(self.name, str) or not self.name.strip()):
            raise ValueError("Kerberos principal name must be a non-empty string or None")
        object.__setattr__(self, "_credentials", self._acquire())

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.name,))

    def _acquire(self) -> Any:
        try:
            import gssapi
        except ImportError as exc:
            absent = isinstance(exc, ModuleNotFoundError) and exc.name == "gssapi"
            raise missing_gssapi() from (None if absent else exc)
        try:
            desired = (
                gssapi.Name(self.name, gssapi.NameType.kerberos_principal) if self.name else None
            )
            credentials = gssapi.Credentials(name=desired, usage="initiate")
            lifetime = credentials.lifetime
        except gssapi.exceptions.GSSError as exc:
            raise AuthenticationError(
                f"No valid Kerberos ticket{f' for {self.name}' if self.name else ''}: run kinit "
                f"({exc.gen_message()})"
            ) from None
        if lifetime is not None and lifetime <= 0:
            raise AuthenticationError("Kerberos ticket has expired: run kinit")
        return credentials

    @property
    def credentials(self) -> Any:
        """The gssapi.Credentials, re-acquired if the ticket has since expired."""
        try:
            if self._held().lifetime > 0:
                return self._held()
        except Exception:  # expired credentials raise on lifetime
            pass
        object.__setattr__(self, "_credentials", self._acquire())
        return self._held()

    def _held(self) -> Any:
        """The credentials stored by ``__post_init__`` (kept out of the dataclass fields)."""
        return vars(self)["_credentials"]

    @property
    def principal(self) -> str:
        return str(self._held().name)
