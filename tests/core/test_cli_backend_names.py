"""The ac* tools find backends as ``configure`` does: any case, with a hint for a near miss."""

from __future__ import annotations

import argparse

import pytest

from pacsys.cli import acget
from pacsys.cli._options import UsageError, backend_takes, open_backend


def _args(backend: str) -> argparse.Namespace:
    return argparse.Namespace(
        backend=backend, auth=None, host=None, port=None, role=None, timeout=None
    )


@pytest.mark.parametrize("name", ["SIM", "Sim", "SIMULATOR"])
def test_backend_name_in_any_case(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert acget.main(["-b", name, "-t", "M:OUTTMP"]) == 0
    captured = capsys.readouterr()
    assert float(captured.out) > 0 and "unknown backend" not in captured.err


def test_grpc_in_capitals_opens_the_grpc_backend() -> None:
    pytest.importorskip("pacsys_grpc")
    with open_backend(_args("GRPC")) as backend:  # before the fix: "unknown backend 'GRPC'"
        assert type(backend).__qualname__ == "GRPCBackend"


def test_unknown_backend_names_the_near_miss(capsys: pytest.CaptureFixture[str]) -> None:
    assert acget.main(["-b", "simm", "M:OUTTMP"]) == 2
    err = capsys.readouterr().err
    assert "unknown backend 'simm'; installed backends: " in err
    assert "(did you mean 'sim'?)" in err
    with pytest.raises(UsageError, match=r"unknown backend 'zzzz'; installed backends: [^(]*$"):
        open_backend(_args("zzzz"))


def test_backend_takes_reads_the_factory_signature() -> None:
    assert not backend_takes(_args("sim"), "reconnect")  # the simulator never loses a stream
    assert backend_takes(_args("SIM"), "catalogue") and not backend_takes(_args("sim"), "nosuch")
    pytest.importorskip("pacsys_dpm")
    assert backend_takes(_args("DPM"), "reconnect")
