"""The README's pip lines name distributions and extras that exist, and each line stands alone.

A ``pip install`` from a clone must list every pacsys distribution the named ones depend on
(pip cannot find them on PyPI): ``./pacsys-dpm`` without ``./pacsys-core`` fails.
"""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

import pytest

if sys.version_info < (3, 11):
    pytest.skip("tomllib needs Python 3.11", allow_module_level=True)
import tomllib

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
REQUIREMENT = re.compile(r"^(?P<path>\./)?(?P<name>[A-Za-z0-9_.-]+)(?:\[(?P<extras>[^\]]*)\])?$")


def _projects() -> dict[str, dict]:
    """Every workspace distribution's ``[project]`` table, by name."""
    found = {}
    for pyproject in ROOT.glob("pacsys-*/pyproject.toml"):
        project = tomllib.loads(pyproject.read_text())["project"]
        project["_dir"] = pyproject.parent.name
        found[project["name"]] = project
    return found


def _pacsys_dependencies(project: dict) -> set[str]:
    names = {re.split(r"[\[<>=!~ ;]", d, maxsplit=1)[0] for d in project["dependencies"]}
    return {n for n in names if n.startswith("pacsys-")}


def _install_section() -> str:
    text = README.read_text()
    start = text.index("## Install only what you use")
    return text[start : text.index("\n## ", start + 1)]


def _pip_lines() -> list[list[str]]:
    lines = []
    for raw in _install_section().splitlines():
        command = raw.split("#", 1)[0].strip()
        if command.startswith("pip install "):
            lines.append(shlex.split(command)[2:])
    return lines


def test_the_section_has_clone_and_published_lines() -> None:
    lines = _pip_lines()
    assert any(all(arg.startswith("./") for arg in args) for args in lines)
    assert any(not any(arg.startswith("./") for arg in args) for args in lines)
    assert "No matching distribution found for pacsys-core" in " ".join(_install_section().split())


@pytest.mark.parametrize("args", _pip_lines(), ids=" ".join)
def test_pip_line_names_real_distributions_and_extras(args: list[str]) -> None:
    projects = _projects()
    named = set()
    for arg in args:
        match = REQUIREMENT.match(arg)
        assert match, f"cannot read requirement {arg!r}"
        name = match["name"]
        assert name in projects, f"{arg}: no distribution {name!r}"
        if match["path"]:
            assert projects[name]["_dir"] == name, f"{arg}: ./{name} is not its directory"
        extras = [e.strip() for e in (match["extras"] or "").split(",") if e.strip()]
        offered = projects[name].get("optional-dependencies", {})
        for extra in extras:
            assert extra in offered, f"{arg}: {name} has no extra {extra!r} ({sorted(offered)})"
        named.add(name)
    if all(arg.startswith("./") for arg in args):  # from a clone: nothing may come from PyPI
        needed = set().union(*(_pacsys_dependencies(projects[n]) for n in named))
        assert needed <= named, f"{' '.join(args)}: also name {sorted(needed - named)}"


def test_the_quoted_missing_gssapi_message_is_the_real_one() -> None:
    from pacsys.auth import missing_gssapi

    assert str(missing_gssapi()) in _install_section()
