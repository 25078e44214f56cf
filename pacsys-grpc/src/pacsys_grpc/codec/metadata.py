"""Call metadata: the JWT a client sends and what a server reads from it
(docs/protocols/grpc.md §5.2 and §7.3)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["bearer_metadata", "split_metadata"]


def bearer_metadata(token: str | None) -> tuple[tuple[str, str], ...]:
    """Call metadata carrying a JWT (``authorization: Bearer <token>``); empty without one."""
    if not token:
        return ()
    return (("authorization", f"Bearer {token}"),)


def split_metadata(pairs: Iterable[tuple[str, Any]] | None) -> tuple[dict[str, str], list[str]]:
    """(last value per key, every ``authorization`` value) of the call's metadata.

    Binary (``-bin``) values are skipped: policies and the token check read text only.
    """
    latest: dict[str, str] = {}
    authorizations: list[str] = []
    for key, value in pairs or ():
        if isinstance(value, bytes):
            continue
        latest[key] = value
        if key == "authorization":
            authorizations.append(value)
    return latest, authorizations
