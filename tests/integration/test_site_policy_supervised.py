"""A site policy installed from a wheel, named in a policy file, enforced by SupervisedServer.

Everything real: wheels of pacsys-core, pacsys-grpc and the site plugin in a fresh venv, the
policy found through its entry point by name, a gRPC client writing over loopback.
"""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

ROOT = Path(__file__).resolve().parents[2]
PLUGINS = Path(__file__).resolve().parent / "plugins"

SCRIPT = textwrap.dedent(
    """
    import json, sys
    import pacsys
    from pacsys.testing import FakeBackend
    from pacsys.supervised import SupervisedServer
    from pacsys_grpc.supervised import load_policies

    policies = load_policies(sys.argv[1])
    backend = FakeBackend()
    backend.set_reading("Z:ACLTST", 1.0)
    backend.set_reading("Z:OTHER", 1.0)
    with SupervisedServer(backend, port=0, host="127.0.0.1", policies=policies, token="t0k") as srv:
        auth = pacsys.JWTAuth(token="t0k")
        with pacsys.grpc(host="127.0.0.1", port=srv.port, auth=auth) as client:
            frozen = client.write("Z:ACLTST", 2.0)
            allowed = client.write("Z:OTHER", 3.0)
    print(json.dumps({
        "policies": [type(p).__module__ + "." + type(p).__name__ for p in policies],
        "frozen": [frozen.ok, frozen.message],
        "allowed": [allowed.ok, allowed.message],
        "backend_writes": [[drf, value] for drf, value in backend.writes],
    }))
    """
)


def test_wheel_installed_site_policy_is_named_in_config_and_enforced(
    tmp_path: Path, build_wheel, core_venv
) -> None:
    wheels = tmp_path / "wheels"
    built = [
        build_wheel(project, wheels)
        for project in (ROOT / "pacsys-core", ROOT / "pacsys-grpc", PLUGINS / "pacsys-site-policy")
    ]
    venv = core_venv(tmp_path / "venv", built, package="pacsys-grpc")
    config = tmp_path / "policies.json"
    config.write_text(
        json.dumps(
            [
                {"name": "device_access", "options": {"patterns": ["Z:*"], "action": "set"}},
                {"name": "site_freeze", "options": {"devices": ["Z:ACLTST"]}},
            ]
        )
    )
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-c", SCRIPT, str(config)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["policies"] == [
        "pacsys.policies.access.DeviceAccessPolicy",
        "pacsys_site_policy.freeze.FreezePolicy",
    ]
    assert result["frozen"][0] is False
    assert "Z:ACLTST is frozen by the site" in result["frozen"][1]
    assert result["allowed"] == [True, None]
    assert [drf for drf, _ in result["backend_writes"]] == ["Z:OTHER.SETTING@N"]
