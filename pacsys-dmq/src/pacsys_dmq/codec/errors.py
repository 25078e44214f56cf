"""The single exception the DMQ codec raises for malformed wire data."""

from __future__ import annotations

__all__ = ["DMQProtocolError"]


class DMQProtocolError(Exception):
    """Bytes that are not a valid SDD message of the DMQ protocol.

    The text starts with the problem class used by the reference decoder (e.g.
    ``"unexpected end of input"``, ``"unknown reply type"``) followed by details.
    """
