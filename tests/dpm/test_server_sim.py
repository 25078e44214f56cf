"""DPMServer in front of the simulator (pacsys.sim.SimBackend) over loopback."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pacsys_dpm.codec import (
    AddToListRequest,
    AnalogAlarmReply,
    ApplySettingsReply,
    ApplySettingsRequest,
    ClearListRequest,
    DeviceInfoReply,
    ScalarReply,
    ScaledSetting,
    StartListReply,
    StartListRequest,
    StatusReply,
    StopListRequest,
)
from pacsys_dpm.server import DPMServer

from .raw_client import RawClient

sim = pytest.importorskip("pacsys.sim")


@pytest.fixture
def sim_backend() -> Iterator[object]:
    backend = sim.SimBackend()
    yield backend
    backend.close()


@pytest.fixture
def sim_server(sim_backend: object) -> Iterator[DPMServer]:
    with DPMServer(sim_backend, port=0) as srv:  # type: ignore[arg-type]
        yield srv


def test_sim_oneshot_batch(sim_server: DPMServer) -> None:
    c = RawClient(sim_server.port).open()
    try:
        c.send(
            AddToListRequest(c.list_id, 1, "M:OUTTMP.READING@I"),
            AddToListRequest(c.list_id, 2, "Z:NOSUCH.READING@I"),
            AddToListRequest(c.list_id, 3, "Z:ACLTST.ANALOG@I"),
            StartListRequest(c.list_id),
        )
        info1, missing, info3, start, data1, data3 = c.recv_n(6)
        assert isinstance(info1, DeviceInfoReply)
        assert (info1.ref_id, info1.di, info1.name, info1.units) == (1, 27235, "M:OUTTMP", "DegF")
        assert isinstance(missing, StatusReply) and missing.ref_id == 2 and missing.status < 0
        assert isinstance(info3, DeviceInfoReply) and info3.name == "Z:ACLTST"
        assert start == StartListReply(c.list_id, 0)
        assert isinstance(data1, ScalarReply) and data1.ref_id == 1 and data1.timestamp > 0
        assert isinstance(data3, AnalogAlarmReply) and data3.ref_id == 3
        assert data3.minimum < data3.maximum
    finally:
        c.close()


def test_sim_periodic_stream(sim_server: DPMServer) -> None:
    c = RawClient(sim_server.port).open()
    try:
        c.send(AddToListRequest(c.list_id, 1, "M:OUTTMP@p,100"), StartListRequest(c.list_id))
        assert c.recv() == StartListReply(c.list_id, 0)
        info = c.recv()
        assert isinstance(info, DeviceInfoReply) and info.name == "M:OUTTMP"
        values = [c.recv() for _ in range(3)]
        assert all(isinstance(v, ScalarReply) and v.ref_id == 1 for v in values)
        stamps = [v.timestamp for v in values]  # type: ignore[attr-defined]
        assert stamps == sorted(stamps) and stamps[0] < stamps[-1]
        c.send(StopListRequest(c.list_id))
        c.sync()
    finally:
        c.close()


def test_sim_write_with_kerberos(
    sim_backend: object, service_keytab: Callable[[str], Path], kerberos_user: str
) -> None:
    from .raw_client import authenticate as _authenticate

    keytab = service_keytab("daeset/bd/localhost")
    roles = {"testing": ["Z:ACLTST"]}
    with DPMServer(sim_backend, port=0, keytab=keytab, roles=roles) as srv:  # type: ignore[arg-type]
        c = RawClient(srv.port).open()
        try:
            _authenticate(c)
            c.send(StopListRequest(c.list_id), ClearListRequest(c.list_id))
            c.send(AddToListRequest(c.list_id, 0, "#ROLE:testing"))
            c.send(
                AddToListRequest(c.list_id, 1, "Z:ACLTST.SETTING@N"), StartListRequest(c.list_id)
            )
            info, start = c.recv_n(2)
            assert isinstance(info, DeviceInfoReply) and info.di == 283911
            assert isinstance(start, StartListReply)
            c.send(ApplySettingsRequest("", c.list_id, scaled_array=[ScaledSetting(1, [12.5])]))
            reply = c.recv()
            assert isinstance(reply, ApplySettingsReply)
            assert [(s.ref_id, s.status) for s in reply.status] == [(1, 0)]
            c.send(StopListRequest(c.list_id), ClearListRequest(c.list_id))
            c.send(
                AddToListRequest(c.list_id, 1, "Z:ACLTST.SETTING@I"), StartListRequest(c.list_id)
            )
            *_, value = c.recv_n(3)
            assert isinstance(value, ScalarReply) and value.data == 12.5
        finally:
            c.close()
