"""DMQBackend.close() leaves no thread or socket, against DMQServer on the real broker."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from pacsys.testing.resources import leaves_nothing

pytestmark = pytest.mark.rabbitmq


def test_close_leaves_nothing(
    dmq_server: Any, module_vhost: str, dmq_user: str, make_backend: Callable[..., Any]
) -> None:
    def session() -> None:
        backend = make_backend(module_vhost)
        assert backend.read("M:OUTTMP") == 72.5
        assert backend.write("Z:ACLTST", 2.0).ok
        with backend.subscribe(["M:OUTTMP@p,100"]) as handle:
            assert handle is not None
        backend.close()

    session()  # the server's own threads start on first use and stay
    for _ in range(2):
        with leaves_nothing():
            session()
