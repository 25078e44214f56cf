"""A script written against the public API of pacsys 0.3.0, kept exactly as such a script is.

It reads (simple API and a Device), writes with a Device, streams a subscription, looks
device metadata up in DevDB, and runs the supervised gRPC server with a read-only policy in
front of a FakeBackend. It names no backend: ``tests/integration/test_reference_script.py``
runs it unchanged with the simulator as the global backend. Prints one JSON line of results.
"""

import json
import socket

import pacsys
from pacsys import Device, ScalarDevice
from pacsys.supervised import ReadOnlyPolicy, SupervisedServer
from pacsys.testing import FakeBackend


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


results = {}

# Reads
temperature = pacsys.read("M:OUTTMP")
reading = pacsys.get("M:OUTTMP")
results["read"] = isinstance(temperature, float)
results["get"] = [reading.ok, reading.is_error, reading.name, reading.units is not None]
readings = pacsys.get_many(["M:OUTTMP", "G:AMANDA", "Z:NOSUCH"])
results["get_many"] = [r.ok for r in readings]
try:
    pacsys.read("Z:NOSUCH")
except pacsys.DeviceError as exc:
    results["device_error"] = [exc.drf, exc.error_code < 0]

# Writes with a Device
device = Device("Z:ACLTST")
result = device.write(45.5)
results["write"] = [result.ok, device.setting()]
results["scalar_device"] = isinstance(ScalarDevice("M:OUTTMP").read(), float)

# A subscription, iterator mode
values = []
with pacsys.subscribe(["M:OUTTMP@p,100"]) as sub:
    for streamed, _handle in sub.readings(timeout=10):
        values.append(streamed.value)
        if len(values) == 3:
            sub.stop()
results["subscription"] = [len(values), sub.stopped]

# DevDB lookup
with pacsys.devdb() as db:
    info = db.get_device_info(["M:OUTTMP"])
results["devdb"] = info["M:OUTTMP"].description
results["device_info"] = Device("M:OUTTMP").info().description

# The supervised server with a policy
fb = FakeBackend()
fb.set_reading("M:OUTTMP", 72.5)
port = free_port()
token = "site-token"
with SupervisedServer(fb, port=port, host="127.0.0.1", policies=[ReadOnlyPolicy()], token=token):
    with pacsys.grpc(host="127.0.0.1", port=port, auth=pacsys.JWTAuth(token=token)) as client:
        proxied = client.read("M:OUTTMP")
        try:
            denied = client.write("M:OUTTMP", 1.0)
            results["supervised_write"] = [denied.ok, denied.message]
        except (pacsys.DeviceError, pacsys.AuthenticationError) as exc:
            results["supervised_write"] = [False, str(exc)]
results["supervised_read"] = proxied
results["backend_writes"] = len(fb.writes)

pacsys.shutdown()
print(json.dumps(results))
