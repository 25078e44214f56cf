"""Device index -> device name for the emulated front ends (RETDAT, GETS32, FTPMAN)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class DeviceIndex:
    """Names by DI: explicit ``devices`` first, then the simulator's catalogue (if any)."""

    def __init__(self, backend: Any, devices: Mapping[int, str] | None = None) -> None:
        self._explicit = dict(devices or {})
        catalogue = getattr(backend, "catalogue", None)
        self._listed = {d.index: name for name, d in getattr(catalogue, "devices", {}).items()}
        self._families = list(getattr(catalogue, "families", []))

    def name(self, di: int) -> str | None:
        name = self._explicit.get(di) or self._listed.get(di)
        if name is not None:
            return name
        for family in self._families:
            n = di - family.first_index
            if 0 <= n < family.count:
                return f"{family.prefix}{n:0{family.digits}d}"
        return None
