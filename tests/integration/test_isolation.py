"""Each distribution's tests need only that distribution (and pacsys-core) installed.

Always (cheap, no venvs): a static check of every file under ``tests/<folder>``: it imports
no pacsys distribution its ``pacsys-<folder>`` does not depend on (directly, or through a
core module that re-exports one), no test module imports another (shared code lives in
helper modules), and nothing is imported through a ``tests.`` package path.

Opt-in with ``--isolated-run`` (``scripts/test-isolated``): for every folder, a venv holds
pacsys-core and the folder's distribution (wheels of this checkout), their locked
dependencies and the test tools, nothing else of the workspace; the folder's tests run there
and a table of the results ends the report.
"""

from __future__ import annotations

import ast
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
EXTRAS = {"core": ("kerberos", "exp"), "dpm": ("kerberos",)}
CORE = ROOT / "pacsys-core" / "src" / "pacsys"
GROUPS = {"grpc": ("protos",)}


def _workspace_dependencies(distribution: str) -> list[str]:
    """The pacsys distributions ``distribution`` itself depends on (pacsys-acnet: pacsys-dpm)."""
    import tomllib

    project = tomllib.loads((ROOT / distribution / "pyproject.toml").read_text())["project"]
    names = (re.match(r"[A-Za-z0-9_.-]+", spec) for spec in project.get("dependencies", []))
    return [m.group(0) for m in names if m and m.group(0).startswith("pacsys-")]


def _needed_distributions(distribution: str) -> set[str]:
    """``distribution`` and every pacsys distribution it needs, transitively, with pacsys-core."""
    needed: set[str] = set()
    todo = [distribution, "pacsys-core"]
    while todo:
        name = todo.pop()
        if name not in needed:
            needed.add(name)
            todo += _workspace_dependencies(name)
    return needed


# -- the static check ------------------------------------------------------------------------


def _reexporting_core_modules(core: Path = CORE) -> dict[str, str]:
    """Core module -> the distribution it re-exports when imported (``reexport(...)`` at top)."""
    found: dict[str, str] = {}
    for path in core.rglob("*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            call = node.value if isinstance(node, ast.Expr) else None
            if (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Name)
                and call.func.id == "reexport"
                and len(call.args) == 3
                and isinstance(call.args[2], ast.Constant)
            ):
                parts = path.relative_to(core.parent).with_suffix("").parts
                found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = str(
                    call.args[2].value
                )
    return found


def _imports(path: Path) -> list[tuple[int, str, int]]:
    """(line, module, relative level) of every import in ``path``, also inside functions.

    ``from pacsys import ssh`` yields ``pacsys.ssh`` besides ``pacsys``; the level is that of
    a relative import (``from .helpers import x``: 1, module ``helpers``).
    """
    found: list[tuple[int, str, int]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, 0) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if module:
                found.append((node.lineno, module, node.level))
            found += [
                (node.lineno, f"{module}.{alias.name}".lstrip("."), node.level)
                for alias in node.names
            ]
    return sorted(found)


def _distribution_of(module: str, reexporting: dict[str, str], provided: dict[str, str]) -> str:
    """The pacsys distribution importing ``module`` needs ('' when it is no pacsys module)."""
    top = module.split(".", maxsplit=1)[0]
    if top.startswith("pacsys_"):
        return top.replace("_", "-")
    if top != "pacsys":
        return ""
    for core_module, distribution in reexporting.items():
        if module == core_module or module.startswith(core_module + "."):
            return distribution
    return provided.get(module.removeprefix("pacsys."), "pacsys-core")


def isolation_problems(
    tests: Path, folders: list[str], needs: Callable[[str], set[str]]
) -> list[str]:
    """``file:line: what`` for each import that breaks a folder's isolation."""
    import pacsys

    reexporting = _reexporting_core_modules()
    provided = {name: dist for name, (_, dist) in pacsys._PROVIDED_NAMES.items()}
    problems: list[str] = []
    for folder in folders:
        allowed = needs(f"pacsys-{folder}")
        for path in sorted((tests / folder).rglob("*.py")):
            where = path.relative_to(tests.parent)
            for line, module, level in _imports(path):
                top = module.split(".", maxsplit=1)[0]
                if level == 0 and top in ("tests", "conftest"):
                    problems.append(f"{where}:{line}: imports {module} (a tests. package path)")
                elif any(part.startswith("test_") for part in module.split(".")):
                    problems.append(
                        f"{where}:{line}: imports {module} (a test module: put what tests "
                        "share in a helper module or a conftest fixture)"
                    )
                distribution = "" if level else _distribution_of(module, reexporting, provided)
                if distribution and distribution not in allowed:
                    problems.append(
                        f"{where}:{line}: imports {module}, which needs {distribution}; "
                        f"pacsys-{folder} depends on {', '.join(sorted(allowed))} only"
                    )
    return problems


def test_no_folder_imports_a_distribution_it_does_not_depend_on() -> None:
    problems = isolation_problems(ROOT / "tests", FOLDERS, _needed_distributions)
    assert not problems, "\n".join(problems)


def test_no_test_imports_another_or_through_the_tests_package() -> None:
    everything = [p.name for p in (ROOT / "tests").iterdir() if p.is_dir()]
    problems = [
        problem
        for problem in isolation_problems(ROOT / "tests", everything, lambda _: {"*"})
        if "tests. package path" in problem or "a test module" in problem
    ]
    assert not problems, "\n".join(problems)


def test_the_static_check_finds_each_kind_of_breach(tmp_path: Path) -> None:
    folder = tmp_path / "tests" / "core"
    folder.mkdir(parents=True)
    (folder / "test_x.py").write_text(
        "import pacsys\nfrom pacsys.sim import SimBackend\nfrom .helpers import h\n"
        "def test_a():\n    import pacsys_dpm.client\n"
        "from pacsys import ssh\nfrom pacsys.devdb import DevDBClient\n"
        "from pacsys import SSHClient\nfrom tests.core import helpers\nimport conftest\n"
        "from .test_y import z\nfrom . import test_z\n"
    )
    problems = isolation_problems(tmp_path / "tests", ["core"], lambda _: {"pacsys-core"})
    assert [p.split(": ", 1)[1].split(",")[0] for p in problems] == [
        "imports pacsys_dpm.client",
        "imports pacsys.ssh",
        "imports pacsys.devdb",
        "imports pacsys.devdb.DevDBClient",
        "imports pacsys.SSHClient",
        "imports tests.core (a tests. package path)",
        "imports tests.core.helpers (a tests. package path)",
        "imports conftest (a tests. package path)",
        "imports test_y (a test module: put what tests share in a helper module or a conftest "
        "fixture)",
        "imports test_y.z (a test module: put what tests share in a helper module or a conftest "
        "fixture)",
        "imports test_z (a test module: put what tests share in a helper module or a conftest "
        "fixture)",
    ]


def test_pacsys_acnet_needs_pacsys_dpm() -> None:
    assert _needed_distributions("pacsys-acnet") == {"pacsys-core", "pacsys-dpm", "pacsys-acnet"}
    assert _needed_distributions("pacsys-ssh") == {"pacsys-core", "pacsys-ssh"}


# -- the isolated run (opt-in) ---------------------------------------------------------------


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
    run = request.config.getoption("--isolated-run")
    if not run:
        pytest.skip("builds a venv per folder: opt-in with --isolated-run (scripts/test-isolated)")
    python = folder_venv(folder) / "bin" / "python"
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
