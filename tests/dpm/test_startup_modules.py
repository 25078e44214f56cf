"""A scalar read or write over DPM loads only the client: no server role, numpy or attrs.

Each check runs in a fresh interpreter (``sys.modules`` of the test process holds everything)
and lists the modules the work loaded. Scripts and the command-line tools pay for every
module here at each start, so a new entry is a cost: import the new dependency where it is
used instead, or, when it belongs on this path, add it to the pinned set.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import pytest

from pacsys.sim import SimBackend
from pacsys_dpm.codec import ApplySettingsRequest, encode_message
from pacsys_dpm.protocol import make_setting
from pacsys_dpm.server import DPMServer

#: Every module of this project (and any third-party one) that a ``DPMHTTPBackend`` read of
#: one scalar may load, besides the standard library.
DPM_READ_PATH_LOADS = frozenset(
    {
        "pacsys",
        "pacsys._arrays",
        "pacsys._display",
        "pacsys._provided",
        "pacsys.acnet",
        "pacsys.acnet.errors",
        "pacsys.acnet.status",
        "pacsys.auth",
        "pacsys.backends",
        "pacsys.backends.dispatch",
        "pacsys.backends.params",
        "pacsys.backends.reconnect",
        "pacsys.backends.streams",
        "pacsys.backends.subscription",
        "pacsys.config",
        "pacsys.deadline",
        "pacsys.drf3",
        "pacsys.drf3._frozen",
        "pacsys.drf3._lazyre",
        "pacsys.drf3.events",
        "pacsys.drf3.extras",
        "pacsys.drf3.names",
        "pacsys.drf3.parser",
        "pacsys.drf3.properties",
        "pacsys.drf3.ranges",
        "pacsys.drf3.request",
        "pacsys.drf_utils",
        "pacsys.errors",
        "pacsys.types",
        "pacsys.wire",
        "pacsys.wire.fields",
        "pacsys.wire.frozen",
        "pacsys.wire.layout",
        "pacsys.wire.registry",
        "pacsys_dpm",
        "pacsys_dpm.client",
        "pacsys_dpm.client.backend",
        "pacsys_dpm.client.connection",
        "pacsys_dpm.client.pool",
        "pacsys_dpm.client.stream",
        "pacsys_dpm.client.writes",
        "pacsys_dpm.codec",
        "pacsys_dpm.codec.codec",
        "pacsys_dpm.codec.errors",
        "pacsys_dpm.codec.fastpath",
        "pacsys_dpm.codec.fastwrite",
        "pacsys_dpm.codec.framing",
        "pacsys_dpm.codec.frozen",
        "pacsys_dpm.codec.handshake",
        "pacsys_dpm.codec.ids",
        "pacsys_dpm.codec.jsonform",
        "pacsys_dpm.codec.message_base",
        "pacsys_dpm.codec.messages",
        "pacsys_dpm.codec.reply_messages",
        "pacsys_dpm.codec.request_messages",
        "pacsys_dpm.codec.schema",
        "pacsys_dpm.codec.wire",
        "pacsys_dpm.principal",
        "pacsys_dpm.protocol",
        "pacsys_dpm.protocol.client",
        "pacsys_dpm.protocol.endpoint",
        "pacsys_dpm.protocol.errors",
        "pacsys_dpm.protocol.reads",
        "pacsys_dpm.protocol.settings",
        "pacsys_dpm.protocol.values",
    }
)

#: Never on the client's scalar path, whatever else changes.
NEVER_LOADED = ("numpy", "attrs", "attr", "pacsys_dpm.server", "pacsys_dpm.protocol.server")

_LIST_LOADED = """
import json, sys
before = set(sys.modules)
{work}
loaded = sorted(set(sys.modules) - before)
print(json.dumps([m for m in loaded if m.partition(".")[0] not in sys.stdlib_module_names]))
"""


def loaded_by(work: str) -> set[str]:
    """Non-standard-library modules a fresh interpreter loads while running ``work``."""
    done = subprocess.run(
        [sys.executable, "-c", _LIST_LOADED.format(work=work)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.splitlines()[-1]))


@pytest.fixture(scope="module")
def address() -> Iterator[str]:
    with SimBackend() as sim, DPMServer(sim, port=0) as server:
        yield server.address


def test_scalar_read_loads_only_the_pinned_modules(address: str) -> None:
    host, _, port = address.rpartition(":")
    loaded = loaded_by(
        "from pacsys_dpm.client import DPMHTTPBackend\n"
        f"with DPMHTTPBackend(host={host!r}, port={port}, timeout=30) as backend:\n"
        "    value = backend.read('M:OUTTMP')\n"
        "assert isinstance(value, float), value\n"
    )
    heavy = [name for name in NEVER_LOADED if name in loaded]
    assert not heavy, f"a DPM scalar read loaded {', '.join(heavy)}"
    new = sorted(loaded - DPM_READ_PATH_LOADS)
    assert not new, f"a DPM scalar read now also loads: {', '.join(new)}"


def test_scalar_setting_encodes_without_numpy() -> None:
    """The ApplySettings of a scalar write is built and encoded before numpy is ever loaded,
    to the same bytes as with numpy."""
    request = ApplySettingsRequest(
        user_name="someone", list_id=7, scaled_array=[make_setting(1, 45.5)]
    )
    expected = encode_message(request).hex()
    loaded = loaded_by(
        "from pacsys_dpm.codec import ApplySettingsRequest, encode_message\n"
        "from pacsys_dpm.protocol import make_setting\n"
        "request = ApplySettingsRequest(\n"
        "    user_name='someone', list_id=7, scaled_array=[make_setting(1, 45.5)]\n"
        ")\n"
        f"assert encode_message(request).hex() == {expected!r}\n"
    )
    assert "numpy" not in loaded


def test_setting_doubles_without_numpy_compare_like_arrays() -> None:
    """A setting built before numpy was loaded (a tuple) equals the same one built after."""
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from pacsys_dpm.codec import ScaledSetting\n"
            "early = ScaledSetting(1, [1.0, float('nan')])\n"
            "import numpy\n"
            "late = ScaledSetting(1, [1.0, float('nan')])\n"
            "print(type(early.data).__name__, type(late.data).__name__, early == late,"
            " early == ScaledSetting(1, [2.0, float('nan')]))\n",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["tuple", "ndarray", "True", "False"]
