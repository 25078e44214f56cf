"""DPMHTTPBackend.close() leaves no thread or socket, against DPMServer on loopback."""

from __future__ import annotations

from pacsys.sim import SimBackend
from pacsys.testing.resources import leaves_nothing
from pacsys_dpm.client import DPMHTTPBackend
from pacsys_dpm.server import DPMServer


def _session(host: str, port: int) -> None:
    backend = DPMHTTPBackend(host, port, timeout=5)
    assert backend.read("M:OUTTMP") is not None
    assert all(r.ok for r in backend.get_many(["M:OUTTMP", "G:AMANDA"]))
    with backend.subscribe(["M:OUTTMP@p,100"]) as handle:
        next(iter(handle.readings(timeout=5)))
    backend.close()


def test_close_leaves_nothing() -> None:
    with SimBackend() as sim, DPMServer(sim, port=0) as server:
        host, port = server.address.rsplit(":", 1)
        _session(host, int(port))  # the server's own threads start on first use and stay
        for _ in range(3):
            with leaves_nothing():
                _session(host, int(port))
