"""DPM server adapter: any pacsys Backend served to DPM clients (docs/protocols/dpm.md §7)."""

from __future__ import annotations

from .server import DPMServer

__all__ = ["DPMServer"]
