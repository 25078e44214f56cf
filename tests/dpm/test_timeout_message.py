"""A timed-out DPM call states its timeout as the user wrote it (``0.5 s``, not ``0.49999 s``)."""

from __future__ import annotations

import socket

import pytest

from pacsys.errors import ReadError
from pacsys_dpm.client import DPMHTTPBackend


def test_silent_server_timeout_reads_as_the_given_timeout() -> None:
    # A listener that accepts (the kernel does) but never answers the DPM handshake.
    with socket.create_server(("127.0.0.1", 0)) as silent:
        port = silent.getsockname()[1]
        with DPMHTTPBackend(host="127.0.0.1", port=port) as backend:
            with pytest.raises(ReadError) as info:
                backend.read("M:OUTTMP", timeout=0.5)
    assert "sent no OpenList reply within 0.5 s" in str(info.value), str(info.value)
