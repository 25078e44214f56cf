"""pacsys-dpm: pacsys transport: DPM over TCP (PC encoding), client backend and server adapter.

``DPMHTTPBackend`` is imported on first access, so ``import pacsys_dpm`` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pacsys_dpm.client import DPMHTTPBackend

__all__ = ["DPMHTTPBackend"]


def __getattr__(name: str) -> Any:
    if name == "DPMHTTPBackend":
        from pacsys_dpm.client import DPMHTTPBackend

        return DPMHTTPBackend
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
