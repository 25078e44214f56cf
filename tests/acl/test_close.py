"""ACLBackend.close() leaves no thread or socket, against the CGI emulator on loopback."""

from __future__ import annotations

from pacsys.sim import SimBackend
from pacsys.testing.resources import leaves_nothing
from pacsys_acl.backend import ACLBackend
from pacsys_acl.server import ACLServer


def test_close_leaves_nothing() -> None:
    with SimBackend() as sim, ACLServer(sim) as server:
        with leaves_nothing():
            backend = ACLBackend(server.client_env()["PACSYS_ACL_URL"], timeout=5)
            assert backend.read("M:OUTTMP") is not None
            assert all(r.ok for r in backend.get_many(["M:OUTTMP", "G:AMANDA"]))
            backend.close()
