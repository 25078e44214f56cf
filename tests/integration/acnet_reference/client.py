"""Run by the reference pacsys 0.3.0 (in its own venv) against the acnetd emulator.

``python client.py HOST PORT``: exercises the reference's ``pacsys.acnet`` API unchanged
and prints one JSON object of what it got; the test compares it with the simulator.
"""

import itertools
import json
import sys
import threading

from pacsys.acnet import (
    AcnetConnectionTCP,
    AcnetConnectionUDP,
    DPMAcnet,
    FTPClient,
    FTPDevice,
    Gets32Client,
    ReadDevice,
    RetdatClient,
)

HOST, PORT = sys.argv[1], int(sys.argv[2])
SSDN = bytes(8)
OUTTMP, SIMFTP = 27235, 283940
out = {}

with AcnetConnectionTCP(HOST, PORT, "REFTST") as conn:
    out["handle"] = conn.handle
    out["dpm06"] = conn.get_node("DPM06")
    out["local"] = conn.get_local_node()
    out["name"] = conn.get_name(conn.get_local_node())
    devices = [ReadDevice(OUTTMP, 12, SSDN, 2), ReadDevice(1, 12, SSDN, 2)]
    reply = RetdatClient(conn).read(0, devices, timeout=3.0)
    out["retdat"] = [[v.status, v.data.hex()] for v in reply.values]
    with RetdatClient(conn).stream(0, devices[:1], ftd=6) as stream:
        batches = list(itertools.islice(stream.readings(timeout=5.0), 3))
    out["retdat_stream"] = len(batches)
    g = Gets32Client(conn).read(0, devices[:1], timeout=3.0)
    out["gets32"] = [g.header.type_code, g.values[0].status, len(g.values[0].data)]
    with Gets32Client(conn).stream(0, devices[:1], event="P,100") as stream:
        batches = list(itertools.islice(stream.readings(timeout=3.0), 3))
        out["gets32_stream"] = [b.header.sequence for b in batches]

    ftp = FTPClient(conn)
    device = FTPDevice(SIMFTP, 12, SSDN)
    code = ftp.get_class_codes(0, device)
    out["class_codes"] = [code.ftp, code.snap, code.error]
    points = []
    stream = ftp.start_continuous(0, [device], 1440)
    out["setup_statuses"] = stream.setup_statuses
    for batch in stream.readings(timeout=1.0):
        points.extend(batch[0])
        if len(points) >= 720:
            break
    stream.stop()
    out["continuous"] = [[p.timestamp_us, p.raw_value] for p in points[:720]]
    with ftp.start_snapshot(0, [device], 1440, num_points=2048, snap_class_code=12) as snap:
        out["snapshot_ready"] = snap.wait(10.0)
        got = []
        while page := snap.retrieve(0, timeout=3.0):
            got.extend(page)
        out["snapshot"] = [[p.timestamp_us, p.raw_value] for p in got]

    # a task of ours answers requests and USMs routed by the emulator
    with AcnetConnectionTCP(HOST, PORT, "REFECH") as echo:
        messages = []

        def answer(request):  # the reference refuses sync calls on its reactor thread
            reply = bytes(reversed(request.data))
            threading.Thread(target=echo.send_reply, args=(request, reply, 0)).start()

        echo.handle_requests(answer)
        echo.handle_messages(lambda m: messages.append(m.data.hex()))
        done = threading.Event()
        replies = []

        def on_reply(r):
            replies.append([r.status, r.last, r.data.hex()])
            done.set()

        conn.request_single(0, "REFECH", b"\x01\x02", on_reply)
        done.wait(5.0)
        conn.send_message(0, "REFECH", b"\x03\x04")
        out["echo"] = replies
    out["usm"] = messages

with AcnetConnectionUDP("127.0.0.1", PORT) as udp:
    out["udp_handle"] = udp.handle
    reply = RetdatClient(udp).read(0, [ReadDevice(OUTTMP, 12, SSDN, 2)], timeout=3.0)
    out["udp_retdat"] = reply.values[0].status

with DPMAcnet(HOST, PORT) as dpm:
    r = dpm.read("M:OUTTMP", timeout=5.0)
    out["dpm_read"] = [r.status, type(r.data).__name__, r.meta["name"], r.meta["units"]]
    dpm.add_entry(1, "M:OUTTMP@p,100")
    dpm.start()
    out["dpm_stream"] = [x.ref_id for x in itertools.islice(dpm.readings(timeout=5.0), 3)]
    dpm.stop()

print(json.dumps(out))
