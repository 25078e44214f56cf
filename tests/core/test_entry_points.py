"""The entry-point reader behind plugin discovery agrees with importlib.metadata."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pytest

from pacsys._entry_points import EntryPoint, entry_points


@pytest.mark.parametrize("group", ["pacsys", "console_scripts", "pytest11"])
def test_same_entry_points_as_importlib_metadata(group: str) -> None:
    ours = {(ep.name, ep.value, ep.distribution, ep.version) for ep in entry_points(group)}
    theirs = {
        (ep.name, ep.value, ep.dist.metadata["Name"], ep.dist.version)
        for ep in importlib.metadata.entry_points(group=group)
    }
    assert ours == theirs


@pytest.mark.parametrize("transport", ["dpm", "grpc", "dmq", "acl", "ssh", "acnet"])
def test_each_installed_transport_registers_one_pacsys_entry_point(transport: str) -> None:
    """Present exactly when its distribution is installed (not in an isolated core venv)."""
    distribution = f"pacsys-{transport}"
    try:
        version: str | None = importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        version = None
    found = [ep for ep in entry_points("pacsys") if ep.distribution == distribution]
    if version is None:
        assert found == []
    else:
        assert found == [
            EntryPoint(transport, f"pacsys_{transport}.plugin", "pacsys", distribution, version)
        ]


def _dist(root: Path, folder: str, entry_points_txt: str | None, name: str) -> None:
    meta = root / folder
    meta.mkdir(parents=True)
    (meta / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 9.9\n\nbody\n")
    if entry_points_txt is not None:
        (meta / "entry_points.txt").write_text(entry_points_txt)


def test_reads_sections_extras_comments_and_first_distribution_wins(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    _dist(
        first,
        "my_plugin-1.0.dist-info",
        "# comment\n[console_scripts]\ntool = x:main\n\n[pacsys]\n"
        "mine = my_plugin.plugin [extra]\n; other comment\nattr = my_plugin:hooks.obj\n",
        "My.Plugin",
    )
    _dist(second, "my_plugin-2.0.dist-info", "[pacsys]\nshadowed = nope\n", "my-plugin")
    _dist(second, "other-1.0.egg-info", "[pacsys]\nold = other.plugin\n", "other")
    _dist(second, "no_eps-1.0.dist-info", None, "no-eps")
    (second / "not-a-dir.txt").write_text("")
    found = entry_points("pacsys", [str(first), str(second), str(tmp_path / "missing")])
    assert found == [
        EntryPoint("mine", "my_plugin.plugin", "pacsys", "My.Plugin", "9.9"),
        EntryPoint("attr", "my_plugin:hooks.obj", "pacsys", "My.Plugin", "9.9"),
        EntryPoint("old", "other.plugin", "pacsys", "other", "9.9"),
    ]


def test_load_imports_module_and_attribute() -> None:
    assert EntryPoint("x", "pacsys.auth:JWTAuth.from_env", "g", "d", None).load().__name__ == (
        "from_env"
    )
    import pacsys.auth

    assert EntryPoint("x", "pacsys.auth", "g", "d", None).load() is pacsys.auth
