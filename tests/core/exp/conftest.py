"""pacsys.exp tests run against the simulator on a ManualClock: deterministic, no sleeping."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pacsys import DispatchMode
from pacsys.sim import ManualClock, SimBackend


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sim(clock: ManualClock) -> Iterator[SimBackend]:
    """A simulator on ``clock`` with callbacks run inline (waits advance simulated time)."""
    with SimBackend(clock=clock, dispatch_mode=DispatchMode.DIRECT) as backend:
        yield backend


@pytest.fixture
def no_module(monkeypatch: pytest.MonkeyPatch):
    """``no_module("pandas")``: make an optional library look uninstalled."""
    import sys

    def hide(name: str) -> None:
        for key in [k for k in sys.modules if k == name or k.startswith(name + ".")]:
            monkeypatch.delitem(sys.modules, key)
        monkeypatch.setitem(sys.modules, name, None)

    return hide
