"""``pacsys demo``: a read, a stream, a verified write, a control command and a status.

With pacsys-dpm installed the tour runs over the DPM wire protocol: the simulator is served
by a ``DPMServer`` on a loopback port and read through the DPM client. Writes travel with
Kerberos as on site, so when gssapi and MIT Kerberos' KDC tools are present the demo starts
a throw-away KDC (realm FNAL.GOV) with a demo user and a service keytab. Without any of
these it runs against the in-process simulator. :func:`run_demo` takes any Backend.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, TextIO

from pacsys.backends import Backend

STREAM_DRF = "M:OUTTMP@p,200"

#: The one-line summary ``pacsys --help`` shows (its command list and examples).
HELP = "read, stream, write and control the simulator, over DPM when it can"
#: What ``pacsys demo --help`` says; the conditions match :func:`_over_dpm`.
DESCRIPTION = (
    "Read, stream, write and control devices through the pacsys API: the simulator served "
    "over DPM/TCP on loopback, writes authenticated by a throw-away Kerberos KDC. Without "
    "pacsys-dpm, the gssapi package (pacsys-dpm[kerberos]) or the MIT KDC tools, or with "
    "--in-process, it uses the in-process simulator instead."
)


def _number(value: object) -> str:
    """A reading's value to two decimals (a non-number, which the demo never expects, as repr)."""
    return f"{value:.2f}" if isinstance(value, int | float) else repr(value)


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "demo",
        help=HELP,
        description=DESCRIPTION,
        epilog="example:\n  pacsys demo --seconds 2",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--seconds", type=float, default=5.0, help="length of the stream (default 5.0)"
    )
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="use the simulator directly instead of over the DPM wire protocol",
    )
    parser.set_defaults(run=run)


def run_demo(backend: Backend, seconds: float, out: TextIO | None = None) -> None:
    """The tour: each step prints one readable line (the stream one per reading)."""
    # pacsys.Device and pacsys.Verify, from their modules (the lazy names type as ``object``)
    from pacsys.device import Device
    from pacsys.verify import Verify

    out = out if out is not None else sys.stdout
    quick = Verify(initial_delay=0.05, retry_delay=0.1)

    reading = backend.get("M:OUTTMP")
    what = reading.meta.description if reading.meta else ""
    print(f"read    {reading.name} = {_number(reading.value)} {reading.units}  ({what})", file=out)

    print(f"stream  {STREAM_DRF} for {seconds:g} s:", file=out)
    with backend.subscribe([STREAM_DRF]) as sub:
        for reading, _ in sub.readings(timeout=seconds):
            when = f"{reading.timestamp:%H:%M:%S.%f}"[:-3]
            print(
                f"        {when}  cycle {reading.cycle:>6}  "
                f"{_number(reading.value)} {reading.units}",
                file=out,
            )

    device = Device("Z:ACLTST", backend=backend)
    result = device.write(45.0, verify=quick)
    print(
        f"write   {result.drf} = 45.0 -> ok={result.ok} verified={result.verified} "
        f"readback={result.readback!s}",
        file=out,
    )

    supply = Device("Z:SIMPS", backend=backend)
    result = supply.on(verify=quick)
    print(
        f"control {supply.name} ON -> ok={result.ok} verified={result.verified}; "
        f"current now {supply.read():.2f} A",
        file=out,
    )

    status = supply.digital_status()
    bits = ", ".join(f"{bit.name}={bit.value}" for bit in status.bits)
    print(f"status  {supply.name} 0x{status.raw_value:02X}: {bits}", file=out)


DEMO_ROLE = "demo"
DEMO_DEVICES = ("Z:ACLTST", "Z:SIMPS")
# The principal DPMServer accepts by default (its service name is "daeset/bd@localhost").
DPM_SERVICE = "daeset/bd/localhost"


def _kerberos_realm(stack: contextlib.ExitStack, workdir: Path) -> Path | None:
    """A throw-away KDC with a demo user holding a ticket; returns the service keytab.

    None when the KDC tools are missing. Points this process' Kerberos at the KDC.
    """
    from pacsys.testing.kerberos import MiniKDC

    try:
        kdc = stack.enter_context(MiniKDC(workdir / "kdc"))
    except RuntimeError as exc:
        print(f"(no throw-away KDC for DPM writes: {exc})", file=sys.stderr)
        return None
    user = kdc.add_principal("demo")
    ccache = kdc.kinit(user, workdir / "ccache", keytab=kdc.keytab(user))
    os.environ.update(kdc.env(ccache))
    kdc.add_principal(DPM_SERVICE)
    return kdc.keytab(DPM_SERVICE)


def _over_dpm(stack: contextlib.ExitStack, sim: Backend, out: TextIO) -> Backend | None:
    """The simulator behind a DPMServer on loopback and a Kerberos DPM client to it.

    None (the caller then uses the simulator directly) without pacsys-dpm or KDC tools:
    DPM writes need Kerberos.
    """
    from pacsys.auth import KerberosAuth
    from pacsys.registry import get_registry

    registry = get_registry()
    servers = registry.servers()
    if "dpm" not in servers or "dpm" not in registry.backend_names():
        return None
    try:
        import gssapi  # noqa: F401 - only checks that Kerberos can be used
    except ImportError:
        from pacsys.auth import missing_gssapi

        print(f"(no Kerberos for DPM writes: {missing_gssapi()})", file=sys.stderr)
        return None
    workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pacsys-demo-")))
    keytab = _kerberos_realm(stack, workdir)
    if keytab is None:
        return None
    roles = {DEMO_ROLE: DEMO_DEVICES}
    server = stack.enter_context(servers["dpm"].load()(sim, port=0, keytab=keytab, roles=roles))
    host, _, port = server.address.rpartition(":")
    auth = KerberosAuth()
    client = registry.create_backend("dpm", host=host, port=int(port), auth=auth, role=DEMO_ROLE)
    print(
        f"over    DPM/TCP at {server.address} (Kerberos as {auth.principal}, role {DEMO_ROLE!r})",
        file=out,
    )
    return stack.enter_context(client)


def run(args: argparse.Namespace) -> int:
    from pacsys.sim import SimBackend

    with contextlib.ExitStack() as stack:
        sim = stack.enter_context(SimBackend())
        backend = None if args.in_process else _over_dpm(stack, sim, sys.stdout)
        if backend is None:
            print("over    the in-process simulator", file=sys.stdout)
        run_demo(backend or sim, args.seconds)
    return 0
