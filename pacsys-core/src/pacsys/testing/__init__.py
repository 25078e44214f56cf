"""Test doubles for code that uses pacsys: FakeBackend, AsyncFakeBackend, pytest fixtures.

In a conftest.py: ``from pacsys.testing import fake_backend, mock_pacsys`` (needs pytest).
"""

from __future__ import annotations

from collections.abc import Iterator

from pacsys.testing.async_fake import AsyncFakeBackend
from pacsys.testing.fake_backend import FakeBackend, FakeSubscriptionHandle

__all__ = ["AsyncFakeBackend", "FakeBackend", "FakeSubscriptionHandle"]

try:
    import pytest
except ImportError:  # pragma: no cover - pytest is optional
    pass
else:

    @pytest.fixture
    def fake_backend() -> Iterator[FakeBackend]:
        """A fresh FakeBackend, closed after the test."""
        backend = FakeBackend()
        yield backend
        backend.close()

    @pytest.fixture
    def mock_pacsys(fake_backend: FakeBackend) -> Iterator[FakeBackend]:
        """Route the simple API and unbound Devices to ``fake_backend`` for one test."""
        from pacsys import _simple

        previous = _simple.set_global_backend(fake_backend)
        try:
            yield fake_backend
        finally:
            _simple.set_global_backend(previous)

    __all__ += ["fake_backend", "mock_pacsys"]
