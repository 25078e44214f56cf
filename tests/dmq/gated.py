"""A FakeBackend that holds reads and writes until the test opens a gate."""

from __future__ import annotations

import threading
from collections.abc import Iterable

from pacsys.testing import FakeBackend
from pacsys.types import Reading, Value, WriteResult


class GatedBackend(FakeBackend):
    """Reads and writes of DRFs starting with ``only`` (all by default) wait for ``gate``.

    ``entered`` is set when one such call began, so a test knows the server is busy with it.
    """

    def __init__(self, only: str = "") -> None:
        super().__init__()
        self.only = only
        self.gate = threading.Event()
        self.entered = threading.Event()

    def _hold(self, drfs: list[str]) -> None:
        if any(d.startswith(self.only) for d in drfs):
            self.entered.set()
            assert self.gate.wait(30), "test never opened the gate"

    def get_many(self, drfs: Iterable[str], timeout: float | None = None) -> list[Reading]:
        drfs = list(drfs)
        self._hold(drfs)
        return super().get_many(drfs, timeout)

    def write(self, drf: str, value: Value, timeout: float | None = None) -> WriteResult:
        self._hold([drf])
        return super().write(drf, value, timeout)
