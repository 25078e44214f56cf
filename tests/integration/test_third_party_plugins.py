"""Real entry points: wheels of third-party plugins installed beside pacsys-core in a new venv."""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

ROOT = Path(__file__).resolve().parents[2]
PLUGINS = Path(__file__).resolve().parent / "plugins"


@pytest.fixture(scope="module")
def plugin_venv(tmp_path_factory: pytest.TempPathFactory, build_wheel, core_venv) -> Path:
    """A throw-away venv with pacsys-core and three third-party plugin wheels, nothing else."""
    base = tmp_path_factory.mktemp("plugins")
    wheels = base / "wheels"
    projects = [
        ROOT / "pacsys-core",
        PLUGINS / "pacsys-example-backend",
        PLUGINS / "pacsys-site-policy",
        PLUGINS / "pacsys-broken-plugin",
    ]
    built = [build_wheel(project, wheels) for project in projects]
    venv = base / "venv"
    core_venv(venv, built)
    return venv


def run_in(venv: Path, code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(venv / "bin" / "python"), "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
    )


def test_third_party_backend_is_used_by_configure_and_read(plugin_venv: Path) -> None:
    done = run_in(
        plugin_venv,
        """
        import pacsys
        pacsys.configure(backend="example")
        print(pacsys.read("M:OUTTMP"), pacsys.get("G:AMANDA").value)
        """,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["42.0", "42.0"]
    assert "'broken'" in done.stderr  # the broken plugin is reported by name, then skipped


def test_site_policy_is_found_by_name(plugin_venv: Path) -> None:
    done = run_in(
        plugin_venv,
        """
        from pacsys.registry import get_registry
        from pacsys.policies import RequestContext, evaluate_policies
        policy = get_registry().create_policy("site_freeze", devices=["Z:ACLTST"])
        write = RequestContext(drfs=["z_acltst"], rpc_method="Set", values=[("z_acltst", 1.0)])
        denied = evaluate_policies([policy], write)
        allowed = evaluate_policies([policy], RequestContext(drfs=["z_acltst"], rpc_method="Read"))
        print(denied.allowed, denied.reason, "|", allowed.allowed)
        """,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False Z:ACLTST is frozen by the site | True"


def test_pacsys_plugins_lists_every_plugin(plugin_venv: Path) -> None:
    done = subprocess.run(
        [str(plugin_venv / "bin" / "pacsys"), "plugins", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    plugins = {p["name"]: p for p in json.loads(done.stdout)}
    assert set(plugins) == {"pacsys.builtins", "example", "site", "broken"}
    example = plugins["example"]
    assert example["distribution"] == "pacsys-example-backend"
    assert example["version"] == "1.2.3"
    assert example["hooks"] == ["pacsys_backends"]
    assert example["backends"] == [
        {
            "name": "example",
            "aliases": [],
            "capabilities": ["READ", "BATCH"],
            "description": "answers every read with 42.0",
        }
    ]
    assert plugins["site"]["policies"] == ["site_freeze"]
    assert "this plugin is broken on purpose" in plugins["broken"]["error"]


def test_plugin_selection_by_environment(plugin_venv: Path) -> None:
    done = run_in(
        plugin_venv,
        """
        import pacsys
        try:
            pacsys.configure(backend="example")
        except ValueError as exc:
            print("refused:", exc)
        """,
        PACSYS_PLUGINS="site",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("refused: Invalid backend 'example'")
    assert "broken" not in done.stderr  # not even attempted


def test_known_transport_not_installed_names_distribution(plugin_venv: Path) -> None:
    done = run_in(
        plugin_venv,
        """
        import pacsys
        for name in ("dpm", "grpc", "dmq", "acl"):
            try:
                pacsys.configure(backend=name)
            except ImportError as exc:
                print(exc)
        try:
            pacsys.grpc()
        except ImportError as exc:
            print(exc)
        """,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert [line.rsplit(" ", 1)[-1] for line in lines] == [
        "pacsys-dpm",
        "pacsys-grpc",
        "pacsys-dmq",
        "pacsys-acl",
        "pacsys-grpc",
    ]
    assert all("is not installed" in line for line in lines)
