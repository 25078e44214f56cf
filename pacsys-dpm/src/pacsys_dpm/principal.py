"""The Kerberos names DPM settings use (docs/protocols/dpm.md §4.7.1), for client and server."""

from __future__ import annotations

from typing import Final

__all__ = ["REALM", "service_principal"]

REALM: Final = "FNAL.GOV"
"""Realm the reference hard-codes for the user and the DPM service principal."""


def service_principal(service_name: str) -> str:
    """DPM's Java ``service@host`` name -> Kerberos principal (``@``->``/``, ``\\`` removed)."""
    return service_name.replace("@", "/").replace("\\", "") + "@" + REALM
