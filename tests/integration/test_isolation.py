"""Each distribution's tests need only that distribution (and pacsys-core) installed.

For every folder, a venv holds pacsys-core and the folder's distribution (wheels of this
checkout), their locked dependencies and the test tools: nothing else of the workspace. By
default the folder is only collected there, a cheap guard against a module-level import of
another distribution; with ``--isolated-run`` (scripts/test-isolated) its tests run there
and a table of the results ends the report.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Each tests/<folder> with a pacsys-<folder> distribution; beside pacsys-core and the "test"
# dependency group, some need extras of their distribution or other dependency groups.
FOLDERS = sorted(p.name for p in (ROOT / "tests").iterdir() if (ROOT / f"pacsys-{p.name}").is_dir())
EXTRAS = {"core": ("kerberos",), "dpm": ("kerberos",)}
GROUPS = {"grpc": ("protos",)}


def _workspace_dependencies(distribution: str) -> list[str]:
    """The pacsys distributions ``distribution`` itself depends on (pacsys-acnet: pacsys-dpm)."""
    import tomllib

    project = tomllib.loads((ROOT / distribution / "pyproject.toml").read_text())["project"]
    names = (re.match(r"[A-Za-z0-9_.-]+", spec) for spec in project.get("dependencies", []))
    return [m.group(0) for m in names if m and m.group(0).startswith("pacsys-")]


@pytest.fixture(scope="module")
def folder_venv(
    tmp_path_factory: pytest.TempPathFactory, build_wheel, core_venv
) -> Callable[[str], Path]:
    """Factory: ``folder_venv("dpm")`` -> the venv for tests/dpm, each built once."""
    base = tmp_path_factory.mktemp("isolated")
    wheels: dict[str, Path] = {}
    venvs: dict[str, Path] = {}

    def wheel(distribution: str) -> Path:
        if distribution not in wheels:
            wheels[distribution] = build_wheel(ROOT / distribution, base / "wheels")
        return wheels[distribution]

    def make(folder: str) -> Path:
        if folder not in venvs:
            distribution = f"pacsys-{folder}"
            names = ("pacsys-core", *_workspace_dependencies(distribution), distribution)
            built = [wheel(name) for name in dict.fromkeys(names)]
            extras, groups = EXTRAS.get(folder, ()), ("test", *GROUPS.get(folder, ()))
            venvs[folder] = core_venv(base / folder, built, distribution, extras, groups)
        return venvs[folder]

    return make


def _counts(report: Path) -> tuple[int, int]:
    """(passed, failed or errored) from a JUnit XML report."""
    suite = ET.parse(report).getroot()
    suite = suite if suite.tag == "testsuite" else suite[0]
    bad = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
    return int(suite.get("tests", 0)) - bad - int(suite.get("skipped", 0)), bad


def test_every_distribution_has_a_test_folder() -> None:
    distributions = sorted(p.name for p in ROOT.glob("pacsys-*") if (p / "pyproject.toml").exists())
    assert [f"pacsys-{folder}" for folder in FOLDERS] == distributions


@pytest.mark.slow
@pytest.mark.parametrize("folder", FOLDERS)
def test_folder_needs_only_its_distribution(
    folder: str,
    folder_venv: Callable[[str], Path],
    isolated_results: dict[str, tuple[int, int, float]],
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> None:
    python = folder_venv(folder) / "bin" / "python"
    run = request.config.getoption("--isolated-run")
    report = tmp_path / "report.xml"
    mode = [f"--junit-xml={report}"] if run else ["--collect-only"]
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    started = time.monotonic()
    done = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", *mode, f"tests/{folder}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=None if run else 120,
    )
    if run and report.exists():
        isolated_results[folder] = (*_counts(report), time.monotonic() - started)
    assert done.returncode == 0, (
        f"tests/{folder} alone:\n{done.stdout[-6000:]}{done.stderr[-3000:]}"
    )
