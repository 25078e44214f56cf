"""AsyncFakeBackend: FakeBackend with awaitable I/O methods, for asyncio code under test."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pacsys.testing.fake_backend import FakeBackend
from pacsys.types import (
    DispatchMode,
    ErrorCallback,
    Reading,
    ReadingCallback,
    SubscriptionHandle,
    Value,
    WriteResult,
)

__all__ = ["AsyncFakeBackend"]


class AsyncFakeBackend:
    """Wraps a DIRECT-mode FakeBackend; configuration and inspection stay synchronous."""

    def __init__(self) -> None:
        self.sync = FakeBackend(dispatch_mode=DispatchMode.DIRECT)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sync, name)

    async def read(self, drf: str, timeout: float | None = None) -> Value:
        return self.sync.read(drf, timeout)

    async def get(self, drf: str, timeout: float | None = None) -> Reading:
        return self.sync.get(drf, timeout)

    async def get_many(self, drfs: Iterable[str], timeout: float | None = None) -> list[Reading]:
        return self.sync.get_many(drfs, timeout)

    async def read_many(self, drfs: list[str], timeout: float | None = None) -> list[Value]:
        return self.sync.read_many(drfs, timeout)

    async def write(self, drf: str, value: Value, timeout: float | None = None) -> WriteResult:
        return self.sync.write(drf, value, timeout)

    async def write_many(
        self, settings: Iterable[tuple[str, Value]], timeout: float | None = None
    ) -> list[WriteResult]:
        return self.sync.write_many(settings, timeout)

    async def subscribe(
        self,
        drfs: list[str],
        callback: ReadingCallback | None = None,
        on_error: ErrorCallback | None = None,
    ) -> SubscriptionHandle:
        return self.sync.subscribe(drfs, callback, on_error)

    async def close(self) -> None:
        self.sync.close()

    async def __aenter__(self) -> AsyncFakeBackend:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.sync.close()
