"""pacsys.exp once over a real wire: the simulator behind DPMServer, reached with the DPM client.

Writes (the scan) are Kerberos-authenticated through the test KDC, as on site.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest

from pacsys.auth import KerberosAuth
from pacsys.exp import CombinedStream, CsvWriter, DataLogger, Monitor, read_fresh, scan, watch
from pacsys.sim import SimBackend
from pacsys.verify import Verify

pytest.importorskip("pacsys_dpm")
from pacsys_dpm.client import DPMHTTPBackend
from pacsys_dpm.server import DPMServer


@pytest.fixture
def client(service_keytab, kerberos_user) -> Iterator[tuple[DPMHTTPBackend, SimBackend]]:
    sim = SimBackend()
    keytab: Path = service_keytab("daeset/bd/localhost")
    try:
        with DPMServer(sim, port=0, keytab=keytab, roles={"testing": ["Z:ACLTST"]}) as server:
            with DPMHTTPBackend(
                "127.0.0.1", server.port, auth=KerberosAuth(), role="testing"
            ) as backend:
                yield backend, sim
    finally:
        sim.close()


def test_exp_helpers_over_dpm(client, tmp_path: Path) -> None:
    dpm, sim = client

    result = Monitor(["M:OUTTMP@p,100", "Z:SIMWAV@p,100"], backend=dpm).collect(count=3, timeout=10)
    assert result.counts["M:OUTTMP@p,100"] >= 3
    assert 0 < result.mean("M:OUTTMP@p,100") < 120
    assert result.to_numpy("Z:SIMWAV@p,100")[1].shape[1] == 1024
    assert result.to_dataframe("M:OUTTMP@p,100")["units"].iloc[0] == "DegF"

    (fresh,) = read_fresh(["G:AMANDA"], count=2, default_event="p,100", timeout=10, backend=dpm)
    assert fresh.drf == "G:AMANDA.READING@p,100" and fresh.length == 2

    seen = watch("M:OUTTMP@p,100", lambda r: r.ok, timeout=10, backend=dpm)
    assert seen.units == "DegF"

    before = sim.read("Z:ACLTST.SETTING")
    verify = Verify(initial_delay=0.05, retry_delay=0.05, tolerance=1e-9)
    res = scan("Z:ACLTST", ["Z:ACLTST"], values=[11, 12], settle=0.05, verify=verify, backend=dpm)
    assert [step["Z:ACLTST"].value for step in res.readings] == [11.0, 12.0]
    assert res.restored and sim.read("Z:ACLTST.SETTING") == before

    path = tmp_path / "outtmp.csv"
    with DataLogger(["M:OUTTMP@p,100"], CsvWriter(path), flush_interval=0.1, backend=dpm) as dl:
        count = iter(range(5))
        watch("M:OUTTMP@p,100", lambda r: next(count, None) is None, timeout=10, backend=dpm)
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == dl.written_count >= 5
    assert {row["units"] for row in rows} == {"DegF"}

    subs = [dpm.subscribe(["M:OUTTMP@p,100"]), dpm.subscribe(["G:AMANDA@p,100"])]
    drfs: set[str] = set()
    with CombinedStream(subs) as both:
        for reading, _ in both.readings(timeout=10):
            drfs.add(reading.drf)
            if len(drfs) == 2:
                break
    assert drfs == {"M:OUTTMP@p,100", "G:AMANDA@p,100"}
