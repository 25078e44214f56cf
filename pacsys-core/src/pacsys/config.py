"""Global settings of the simple API: ``configure()`` values over environment over defaults.

The ``PACSYS_*`` variables below are read once, when ``pacsys`` is imported
(:func:`load_environment`). Kept free of heavy imports: ``import pacsys`` loads it.
"""

from __future__ import annotations

import math
import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any, Final

__all__ = [
    "DEFAULTS",
    "ENV_VARS",
    "UNSET",
    "Settings",
    "environment_at_import",
    "load_environment",
    "read_environment",
]


class _Unset:
    """Marker for "argument not passed" (None means "clear")."""

    _instance: _Unset | None = None

    def __new__(cls) -> _Unset:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET: Final = _Unset()

DEFAULTS: Final[Mapping[str, Any]] = {
    "dpm_host": "acsys-proxy.fnal.gov",
    "dpm_port": 6802,
    "pool_size": 4,
    "default_timeout": 5.0,
    "devdb_host": "ad-services.fnal.gov",
    "devdb_port": 443,
    "backend": "dpm",
    "auth": None,
    "role": None,
}

ENV_VARS: Final[Mapping[str, str]] = {
    "dpm_host": "PACSYS_DPM_HOST",
    "dpm_port": "PACSYS_DPM_PORT",
    "pool_size": "PACSYS_POOL_SIZE",
    "default_timeout": "PACSYS_TIMEOUT",
    "devdb_host": "PACSYS_DEVDB_HOST",
    "devdb_port": "PACSYS_DEVDB_PORT",
}


def read_environment(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Parse the ``PACSYS_*`` settings variables; malformed numbers raise ValueError."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for setting, var in ENV_VARS.items():
        raw = environ.get(var)
        if raw is None or raw == "":
            continue
        kind = type(DEFAULTS[setting])
        if kind is int:
            try:
                values[setting] = int(raw)
            except ValueError:
                raise ValueError(
                    f"Environment variable {var} must be an integer, got {raw!r}"
                ) from None
        elif kind is float:
            try:
                values[setting] = float(raw)
            except ValueError:
                raise ValueError(
                    f"Environment variable {var} must be a number, got {raw!r}"
                ) from None
        else:
            values[setting] = raw
    return values


_environment: dict[str, Any] | None = None


def load_environment() -> None:
    """Read the ``PACSYS_*`` settings once (``import pacsys`` does); bad numbers raise."""
    global _environment
    if _environment is None:
        _environment = read_environment()


def environment_at_import() -> dict[str, Any]:
    """A copy of the settings :func:`load_environment` read."""
    load_environment()
    assert _environment is not None
    return dict(_environment)


# --- validation of configure() arguments ----------------------------------------------


def _check_host(name: str, value: Any) -> None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise ValueError(f"{name} must be a non-empty string or None")


def _check_port(name: str, value: Any) -> None:
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535
    ):
        raise ValueError(f"{name} must be an integer from 1 to 65535 or None")


def _check_pool_size(name: str, value: Any) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value <= 0):
        raise ValueError("pool_size must be a positive integer or None")


def _check_timeout(name: str, value: Any) -> None:
    if value is None:
        return
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ValueError("default_timeout must be a positive finite number or None")


def _check_role(name: str, value: Any) -> None:
    if value is not None and not isinstance(value, str):
        raise ValueError("role must be a string or None")


VALIDATORS: Final = {
    "dpm_host": _check_host,
    "devdb_host": _check_host,
    "dpm_port": _check_port,
    "devdb_port": _check_port,
    "pool_size": _check_pool_size,
    "default_timeout": _check_timeout,
    "role": _check_role,
}


class Settings:
    """The current configuration; ``value(name)`` resolves configured > environment > default."""

    __slots__ = ("configured", "environment")

    def __init__(
        self,
        environment: dict[str, Any] | None = None,
        configured: dict[str, Any] | None = None,
    ) -> None:
        self.environment = environment_at_import() if environment is None else environment
        self.configured = {} if configured is None else configured

    def __repr__(self) -> str:
        return f"Settings(environment={self.environment!r}, configured={self.configured!r})"

    def value(self, name: str) -> Any:
        if name in self.configured:
            return self.configured[name]
        if name in self.environment:
            return self.environment[name]
        return DEFAULTS[name]

    def merged(self, changes: Mapping[str, Any]) -> Settings:
        """A copy with ``changes`` applied (None clears a setting)."""
        configured = dict(self.configured)
        for name, value in changes.items():
            if value is None:
                configured.pop(name, None)
            else:
                configured[name] = value
        return Settings(environment=self.environment, configured=configured)
