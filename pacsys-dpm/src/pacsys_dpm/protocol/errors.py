"""Exceptions of the DPM protocol engine beyond the codec's :class:`DPMProtocolError`."""

from __future__ import annotations

__all__ = ["DPMConnectionError"]


class DPMConnectionError(Exception):
    """The connection to DPM failed, was closed, or was rejected by the proxy."""
