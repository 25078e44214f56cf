"""The exceptions pacsys raises; all derive from :class:`PacsysError`.

The ACNET protocol exceptions live in :mod:`pacsys.acnet.errors` (they subclass PacsysError)
and are re-exported here as lazy names, looked up by module name on first use: this module
sits below pacsys.acnet and imports nothing of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pacsys.types import Reading

# Lazy names (see __getattr__): the ACNET exceptions of pacsys.acnet.errors.
_ACNET_ERRORS = (
    "AcnetError",
    "AcnetNodeError",
    "AcnetRequestRejectedError",
    "AcnetTaskError",
    "AcnetTimeoutError",
    "AcnetUnavailableError",
)

__all__ = [
    "ACLError",
    "AuthenticationError",
    "DeviceError",
    "MissingPackageError",
    "PacsysError",
    "ReadError",
    "ScalingError",
]
__all__.extend(_ACNET_ERRORS)


class PacsysError(Exception):
    """Base of every error pacsys raises on purpose."""


class MissingPackageError(PacsysError, ImportError):
    """An optional package a feature needs is not installed; the message says what to install.

    ``package`` is the import name (``"gssapi"``), ``install`` the pip argument that brings
    it (``"'pacsys-dpm[kerberos]'"``). It is an ImportError too, so ``except ImportError``
    still catches it.
    """

    def __init__(self, package: str, feature: str, install: str) -> None:
        self.package = package
        self.feature = feature
        self.install = install
        message = f"{feature} needs the {package} package: pip install {install}"
        super().__init__(message, name=package)

    def __str__(self) -> str:
        return str(self.args[0])

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.package, self.feature, self.install))


class DeviceError(PacsysError):
    """A single device read produced no usable data."""

    def __init__(
        self, drf: str, facility_code: int, error_code: int, message: str | None = None
    ) -> None:
        self.drf = drf
        self.facility_code = facility_code
        self.error_code = error_code
        self.message = message
        super().__init__(drf, facility_code, error_code, message)

    def __str__(self) -> str:
        """``drf: message (facility=F, error=E)``, without repeating what the message holds.

        Status texts already end with the codes, and some backends start them with the DRF.
        """
        text = self.message if self.message else "error"
        if self.drf and not text.startswith(self.drf):
            text = f"{self.drf}: {text}"
        codes = f"(facility={self.facility_code}, error={self.error_code})"
        return text if codes in text else f"{text} {codes}"

    def __repr__(self) -> str:
        return (
            f"DeviceError(drf={self.drf!r}, facility_code={self.facility_code}, "
            f"error_code={self.error_code}, message={self.message!r})"
        )


class ReadError(PacsysError):
    """A batch read failed; ``readings`` holds the complete, ordered results."""

    def __init__(self, readings: Sequence[Reading], message: str) -> None:
        self.readings = list(readings)
        self.message = message
        super().__init__(self.readings, message)

    def __str__(self) -> str:
        failed = [r.drf for r in self.readings if not r.ok]
        if not failed or any(drf in self.message for drf in failed):
            return self.message
        return f"{self.message} (failed: {', '.join(failed)})"

    def __repr__(self) -> str:
        ok = sum(1 for r in self.readings if r.ok)
        return f"ReadError({ok}/{len(self.readings)} ok, {self.message!r})"


class AuthenticationError(PacsysError):
    """Credentials are missing, expired or refused."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)

    def __repr__(self) -> str:
        return f"AuthenticationError({self.message!r})"


class ACLError(PacsysError):
    """An ACL command failed."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class ScalingError(PacsysError, ValueError):
    """A value could not be converted between raw and engineering units.

    ``reason`` is ACNET's text (``"Overflow"``, ``"Out of valid range"``...); when known,
    ``transform`` names the transform (``"primary transform 2 inverse"``), ``stage`` the
    pipeline step (``primary``, ``common``, ``common_inverse``, ``primary_inverse``) and
    ``value`` the input it refused. It is a ValueError too: the input was out of range.
    """

    def __init__(
        self,
        reason: str,
        *,
        transform: str | None = None,
        stage: str | None = None,
        value: object = None,
    ) -> None:
        self.reason = reason
        self.transform = transform
        self.stage = stage
        self.value = value
        super().__init__(reason)

    def __str__(self) -> str:
        if self.transform is None:
            return self.reason
        return f"{self.reason} ({self.transform}, input {self.value!r})"


def __getattr__(name: str) -> type[PacsysError]:
    """Resolve the re-exported ACNET exceptions on first use."""
    if name in _ACNET_ERRORS:
        import importlib

        acnet_errors = importlib.import_module("pacsys.acnet.errors")
        return getattr(acnet_errors, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
