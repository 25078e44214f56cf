"""DPM server adapter: expose any pacsys Backend to DPM clients over TCP."""

from __future__ import annotations

from .server import DPMServer

__all__ = ["DPMServer"]
